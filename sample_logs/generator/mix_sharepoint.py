"""Provides the SharePoint mix (``--mix sharepoint``): a month of the benign tenant's SharePoint and OneDrive
as the unified audit log records it. Files opened, previewed, saved, downloaded and uploaded in the browser,
in the Office apps, on phones and through the OneDrive sync app; files copied, moved, renamed, recycled and
folders made; pages and lists viewed and list items edited; files shared with colleagues, guests and by
company, specific-people and anonymous links (and the anonymous links used); searches; a backup app reading
files as ``app@sharepoint``; site admins added; and the people's sign-ins.

Every file lives in a team site's or a member's OneDrive library, so its ids (list, list item, web, site)
stay the same from record to record; each record carries the SharePoint fields of its client (platform,
browser, app, managed device and its name, authentication type), as recent records do.
"""

from __future__ import annotations

import random
import zlib
from datetime import datetime
from functools import lru_cache

from .benign_tenant import Member, Visit
from .entra_net import App, OFFICE_HOME, TEAMS
from .ids import stable_guid
from .mix_day import GEO, MixDay, browser_info, token
from .mix_signin import ONEDRIVE_SYNC, logon
from .records import iso
from .tenants import APP_OFFICE

SPO_WEB = App("SharePoint Online Web Client Extensibility", "08e18876-6177-487e-b8b5-cf950c1e598c")
TEAMS_WEB = App("Microsoft Teams Web Client", "5e3ce6c0-2b1f-4285-8d4b-75ee78787346")
ONEDRIVE_IOS = App("OneDrive iOS App", "af124e86-4e96-495a-b70a-90f90ab96707")
ONEDRIVE_MOBILE = App("OneDrive", "b26aadf8-566f-4478-926f-589f601d9c74")
OFFICE_DESKTOP = App("Microsoft Office", APP_OFFICE)
BACKUP_APP = App("Northwind Backup for Microsoft 365", "6a4f0a1e-3c1b-4c8e-9b0f-2f7d1d4c6b21")
SITES = ("Finance", "Sales", "Operations", "HR", "Marketing", "Legal", "IT", "Projects", "Intranet",
         "ProjectAlder", "ProjectBirch", "CustomerSuccess")
LABELLED_SITES = ("Finance", "HR", "Legal")
CONFIDENTIAL = "f42aa342-8706-4288-bd11-ebb85995028c"      # the tenant's "Confidential" label
GENERAL = "87ba5c36-b7cf-4793-bbc2-bd5b3a9f95ca"           # and its "General" label
TOPICS = ("Budget", "Forecast", "Pipeline", "Price book", "Rota", "Process map", "Handbook", "Contract",
          "Proposal", "Minutes", "Report", "Invoice register", "Supplier list", "Roadmap", "Onboarding plan",
          "Campaign brief", "Risk register", "Board pack", "Timesheet", "Policy")
KINDS_OF_FILE = (("docx", 3), ("xlsx", 3), ("pptx", 2), ("pdf", 2), ("one", 0.3), ("vsdx", 0.2), ("jpg", 0.8),
                 ("png", 0.5), ("mp4", 0.2), ("csv", 0.4), ("txt", 0.2), ("msg", 0.2))
TEAM_FOLDERS = ("Shared Documents", "Shared Documents/General", "Shared Documents/2024", "Shared Documents/2024/Q1",
                "Shared Documents/Contracts", "Shared Documents/Templates", "Shared Documents/Archive")
OWN_FOLDERS = ("Documents", "Documents", "Documents/Work", "Desktop", "Documents/Microsoft Teams Chat Files",
               "Pictures/Camera Roll", "Attachments")
PAGES = ("Home", "News", "Policies", "IT-support", "Holidays-2024", "Org-chart", "Welcome")
LISTS = (("Tasks", "Tasks", 107, 0), ("Issue tracker", "GenericList", 100, 0),
         ("Asset register", "GenericList", 100, 0), ("Events", "Events", 106, 0))
# (browser, version, platform, user agent) of people outside the tenant opening an anonymous link
OUTSIDE_BROWSERS = (
    ("Chrome", "122.0.0.0", "WinDesktop", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
                                          "like Gecko) Chrome/122.0.0.0 Safari/537.36"),
    ("Safari", "17.3", "iOS", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
                              "like Gecko) Version/17.3 Mobile/15E148 Safari/604.1"),
    ("Firefox", "123.0", "MacDesktop", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:123.0) Gecko/20100101 "
                                       "Firefox/123.0"))
WORDS = ("final", "v2", "draft", "2024", "March", "signed", "review", "copy", "old", "notes")


@lru_cache(maxsize=1 << 12)
def library_files(site_url: str, own: bool) -> tuple[tuple[str, str], ...]:
    """(folder, file name) of the files of a site's document library (or a OneDrive's): stable per site."""
    rng = random.Random(f"mix/sharepoint/files/{site_url}")
    kinds = [k for k, _ in KINDS_OF_FILE]
    weights = [w for _, w in KINDS_OF_FILE]
    out = []
    for _ in range(25 if own else 80):
        ext = rng.choices(kinds, weights)[0]
        name = f"{rng.choice(TOPICS)} {rng.choice(WORDS)}" if rng.random() < 0.6 else rng.choice(TOPICS)
        if ext in ("jpg", "png"):
            name = f"IMG_{rng.randrange(1000, 9999)}"
        out.append((rng.choice(OWN_FOLDERS if own else TEAM_FOLDERS), f"{name}.{ext}"))
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=1 << 16)
def item_ids(site_url: str, relative: str) -> tuple[str, str]:
    """(ListId, ListItemUniqueId) of a file, folder, page or list item: stable per path."""
    library = relative.split("/")[0]
    return stable_guid(site_url, "list", library), stable_guid(site_url, "item", relative)


@lru_cache(maxsize=1 << 12)
def site_ids(site_url: str) -> tuple[str, str]:
    """(Site, WebId) of a site."""
    return stable_guid(site_url, "site"), stable_guid(site_url, "web")


class SharePointDay(MixDay):
    """A day of the SharePoint mix."""

    MIX = "sharepoint"

    # -- where -----------------------------------------------------------------------------------

    def team_site(self, m: Member) -> str:
        """The member's team's site, now and then another team's."""
        name = SITES[m.index % (len(SITES) - 3)] if self.rng.random() < 0.7 else self.rng.choice(SITES)
        return self.t.team_site(name)

    def place(self, m: Member) -> tuple[str, str, str, bool]:
        """(site url, folder, file name, whether a OneDrive) of a file the member works on."""
        roll = self.rng.random()
        if roll < 0.3:
            site, own = self.t.onedrive(m.person), True
        elif roll < 0.35:
            site, own = self.t.onedrive(self.colleague(m).person), True     # a file shared with them
        else:
            site, own = self.team_site(m), False
        folder, name = self.rng.choice(library_files(site, own))
        return site, folder, name, own

    def app_of(self, v: Visit, sync: bool = False) -> tuple[App, str, str]:
        """(app, user agent, authentication type) of the client of ``visit``."""
        rng, device = self.rng, v.device
        if sync:
            build = rng.choice(("19045", "22631"))
            os_text = "Mac OS X 14.3.1" if device.os == "MacOs" else f"Windows NT 10.0 ({build})"
            return ONEDRIVE_SYNC, f"Microsoft SkyDriveSync 24.020.0128.0003 ship; {os_text}", "OAuth"
        if not v.desktop:
            if device.os == "Ios":
                return ONEDRIVE_IOS, "OneDrive-iOSApp/15.6 (iPhone; iOS 17.3.1; Scale/3.00)", "OAuth"
            return ONEDRIVE_MOBILE, "OneDrive-Android/7.2 (Linux; Android 14; Pixel 8)", "OAuth"
        if device.app_id == APP_OFFICE:
            if rng.random() < 0.8:
                word = rng.choice(("Word", "Excel", "PowerPoint"))
                return OFFICE_DESKTOP, f"Microsoft Office {word} 2014 (16.0.17328) Windows NT 10.0", "OAuth"
            return TEAMS, device.user_agent, "OAuth"
        return rng.choice((OFFICE_HOME, SPO_WEB, SPO_WEB, TEAMS_WEB)), device.user_agent, "FormsCookie"

    # -- shape -----------------------------------------------------------------------------------

    def base(self, operation: str, record_type: int, m: Member, v: Visit, ts: datetime, site: str,
             relative: str, item_type: str, sync: bool = False) -> dict:
        """A SharePoint or OneDrive record of the member's client on ``site`` (``relative``: the object's
        path inside the site, empty for the site itself)."""
        rng, t, p = self.rng, self.t, m.person
        app, user_agent, auth = self.app_of(v, sync)
        info = browser_info(v.device)
        own = "-my.sharepoint.com" in site
        site_guid, web_id = site_ids(site)
        correlation = self.guid()
        rec = {
            "AppAccessContext": {"AADSessionId": v.session, "CorrelationId": correlation, "UniqueTokenId": token(rng)},
            "CreationTime": iso(ts), "Id": self.rid(), "Operation": operation, "OrganizationId": t.org_id,
            "RecordType": record_type, "UserKey": f"i:0h.f|membership|{p.puid.lower()}@live.com", "UserType": 0,
            "Version": 1, "Workload": "OneDrive" if own else "SharePoint", "ClientIP": v.place.ip,
            "ObjectId": f"{site}/{relative}" if relative else site, "UserId": p.sharepoint_id,
            "ApplicationId": app.id, "AuthenticationType": auth,
        }
        if auth == "FormsCookie" and info.browser:
            rec |= {"BrowserName": info.browser, "BrowserVersion": info.browser_version}
        rec |= {"CorrelationId": correlation, "DoNotDistributeEvent": True, "EventSource": "SharePoint",
                "GeoLocation": GEO, "IsManagedDevice": self.managed(m, v), "ItemType": item_type}
        if relative:
            rec["ListId"], rec["ListItemUniqueId"] = item_ids(site, relative)
        rec |= {"Platform": info.platform, "Site": site_guid, "UserAgent": user_agent,
                "WebId": web_id}
        if rec["IsManagedDevice"]:
            rec["DeviceDisplayName"] = self.device_name(m, v)
        rec["ApplicationDisplayName"] = app.name
        if sync:
            rec |= {"MachineDomainInfo": "ExampleOrg.local" if self.managed(m, v) else "",
                    "MachineId": self.device_id(m, v)}
        if site.rpartition("/")[2] in LABELLED_SITES:
            rec["SiteSensitivityLabelId"] = CONFIDENTIAL
        return rec

    def file_fields(self, rec: dict, site: str, folder: str, name: str) -> dict:
        """The file fields of a file record (library type, names, site URL)."""
        own = "-my.sharepoint.com" in site
        rec |= {"ListBaseType": 1, "ListServerTemplate": 700 if own else 101, "SiteUrl": site + "/",
                "SourceFileExtension": name.rpartition(".")[2], "SourceFileName": name, "SourceRelativeUrl": folder}
        if not own and zlib.crc32(name.encode()) % 5 == 0:     # a fifth of the teams' files carry a label
            rec["SensitivityLabelId"] = CONFIDENTIAL if site.rpartition("/")[2] in LABELLED_SITES else GENERAL
        return rec

    # -- kinds -----------------------------------------------------------------------------------

    def file_op(self, operation: str, m: Member, v: Visit, ts: datetime, sync: bool = False,
                record_type: int = 6) -> dict:
        """A record of one file of the member's."""
        if sync and not v.desktop:
            sync, operation = False, "FileAccessed"
        site, folder, name, _ = self.place(m)
        rec = self.base(operation, record_type, m, v, ts, site, f"{folder}/{name}", "File", sync)
        self.file_fields(rec, site, folder, name)
        if operation in ("FileModified", "FileUploaded", "FileSyncUploadedFull", "FileModifiedExtended"):
            rec["FileSizeBytes"] = int(self.rng.lognormvariate(11.5, 1.3)) + 1_000
            rec["HighPriorityMediaProcessing"] = False
            if operation == "FileSyncUploadedFull":
                rec["FileSyncBytesCommitted"] = rec["FileSizeBytes"]
        return rec

    def accessed(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A file opened."""
        return self.file_op("FileAccessed", m, v, ts)

    def accessed_extended(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A file opened again and again (SharePoint's aggregate record)."""
        return self.file_op("FileAccessedExtended", m, v, ts)

    def previewed(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A file previewed (thumbnail, Teams, the browser's viewer)."""
        return self.file_op("FilePreviewed", m, v, ts)

    def modified(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A file saved."""
        return self.file_op("FileModified", m, v, ts)

    def modified_extended(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A file saved again and again (co-authoring, autosave)."""
        return self.file_op("FileModifiedExtended", m, v, ts)

    def downloaded(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A file downloaded."""
        return self.file_op("FileDownloaded", m, v, ts)

    def uploaded(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A file uploaded."""
        return self.file_op("FileUploaded", m, v, ts)

    def sync_down(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A file synced down by the OneDrive app."""
        return self.file_op("FileSyncDownloadedFull", m, v, ts, sync=True)

    def sync_up(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A file synced up by the OneDrive app."""
        return self.file_op("FileSyncUploadedFull", m, v, ts, sync=True)

    def recycled(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A file sent to the recycle bin."""
        return self.file_op(self.rng.choice(("FileRecycled", "FileRecycled", "FileDeleted")), m, v, ts)

    def relocated(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A file copied, moved or renamed (with its destination)."""
        operation = self.rng.choice(("FileCopied", "FileMoved", "FileRenamed"))
        rec = self.file_op(operation, m, v, ts)
        folder, name = rec["SourceRelativeUrl"], rec["SourceFileName"]
        stem, _, ext = name.rpartition(".")
        dest_folder = folder if operation == "FileRenamed" else self.rng.choice(TEAM_FOLDERS + OWN_FOLDERS[:2])
        dest_name = f"{stem} - Copy.{ext}" if operation == "FileCopied" else (
            f"{stem} {self.rng.choice(WORDS)}.{ext}" if operation == "FileRenamed" else name)
        rec |= {"DestinationFileExtension": ext, "DestinationFileName": dest_name,
                "DestinationRelativeUrl": dest_folder}
        return rec

    def folder_created(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A folder made."""
        site, folder, _, _ = self.place(m)
        name = self.rng.choice(("2024", "Q2", "Drafts", "Scans", "Customer files", "Old"))
        rec = self.base("FolderCreated", 6, m, v, ts, site, f"{folder}/{name}", "Folder")
        rec |= {"ListBaseType": 1, "ListServerTemplate": 101, "SiteUrl": site + "/", "SourceFileExtension": "",
                "SourceFileName": name, "SourceRelativeUrl": folder}
        return rec

    def page_viewed(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A site page viewed (the intranet's mostly)."""
        rng = self.rng
        site = self.t.team_site("Intranet") if rng.random() < 0.6 else self.team_site(m)
        page = f"{rng.choice(PAGES)}.aspx"
        operation = "PageViewed" if rng.random() < 0.9 else "PageViewedExtended"
        rec = self.base(operation, 4, m, v, ts, site, f"SitePages/{page}", "Page")
        rec |= {"ListBaseType": 1, "ListServerTemplate": 119, "SiteUrl": site + "/", "SourceFileExtension": "aspx",
                "SourceFileName": page, "SourceRelativeUrl": "SitePages"}
        return rec

    def list_op(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A list viewed, or one of its items created or updated."""
        rng = self.rng
        site = self.team_site(m)
        title, template_type, template, base_type = rng.choice(LISTS)
        operation = rng.choice(("ListViewed", "ListItemCreated", "ListItemUpdated", "ListItemUpdated"))
        path = f"Lists/{title.replace(' ', '')}"
        if operation == "ListViewed":
            rec = self.base(operation, 36, m, v, ts, site, path, "List")
        else:
            rec = self.base(operation, 54, m, v, ts, site, f"{path}/{rng.randrange(1, 400)}_.000", "ListItem")
            rec["ListId"] = item_ids(site, path)[0]
        rec |= {"ListBaseTemplateType": template_type, "ListBaseType": base_type, "ListServerTemplate": template,
                "ListTitle": title, "ListUrl": f"{site}/{path}", "SiteUrl": site + "/"}
        return rec

    def _sharing(self, operation: str, m: Member, v: Visit, ts: datetime, extra: dict) -> dict:
        site, folder, name, _ = self.place(m)
        rec = self.base(operation, 14, m, v, ts, site, f"{folder}/{name}", "File")
        self.file_fields(rec, site, folder, name)
        return rec | extra

    def shared(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A file shared: with a colleague or group, by a company or specific-people link, with a guest."""
        rng = self.rng
        roll = rng.random()
        sharing_id = self.guid()
        if roll < 0.35:
            colleague = self.colleague(m).person.upn.lower()
            return self._sharing("SharingSet", m, v, ts, {
                "EventData": f"<PermissionsGranted>{rng.choice(('Read', 'Contribute', 'Edit'))}</PermissionsGranted>",
                "TargetUserOrGroupName": colleague, "TargetUserOrGroupType": "Member", "UniqueSharingId": sharing_id})
        if roll < 0.5:
            return self._sharing("SharingSet", m, v, ts, {
                "EventData": "<PermissionsGranted>Contribute</PermissionsGranted>",
                "TargetUserOrGroupName": f"{rng.choice(SITES)} Members", "TargetUserOrGroupType": "SharePointGroup",
                "UniqueSharingId": sharing_id})
        if roll < 0.7:
            return self._sharing("CompanyLinkCreated", m, v, ts, {
                "EventData": "<Type>View</Type>", "Permission": "Read", "SharingLinkScope": "Organization",
                "UniqueSharingId": sharing_id})
        if roll < 0.85:
            return self._sharing("SecureLinkCreated", m, v, ts, {
                "EventData": "<Type>Edit</Type>", "Permission": "Edit", "SharingLinkScope": "SpecificPeople",
                "UniqueSharingId": sharing_id})
        if roll < 0.95:
            colleague = self.colleague(m).person.upn.lower()
            return self._sharing("AddedToSecureLink", m, v, ts, {
                "TargetUserOrGroupName": colleague, "TargetUserOrGroupType": "Member", "UniqueSharingId": sharing_id})
        return self._sharing("SharingInvitationCreated", m, v, ts, {
            "TargetUserOrGroupName": f"partner{rng.randrange(400)}@northwindtraders.com",
            "TargetUserOrGroupType": "Guest", "UniqueSharingId": sharing_id})

    def anonymous_link(self, m: Member, v: Visit, ts: datetime) -> dict:
        """An anonymous link made to a file, or such a link used from outside."""
        rec = self._sharing("AnonymousLinkCreated", m, v, ts, {
            "EventData": "<Type>View</Type>", "Permission": "Read", "SharingLinkScope": "Anyone",
            "UniqueSharingId": self.guid()})
        if self.rng.random() < 0.5:
            return rec
        anonymous = f"urn:spo:anon#{stable_guid(rec['ObjectId'], 'anon').replace('-', '')}"
        outside = f"{self.rng.choice((24, 68, 76, 108))}.{self.rng.randrange(256)}.{self.rng.randrange(256)}." \
                  f"{self.rng.randrange(1, 255)}"
        browser = self.rng.choice(OUTSIDE_BROWSERS)
        rec |= {"Operation": "AnonymousLinkUsed", "UserId": anonymous, "UserKey": anonymous, "ClientIP": outside,
                "AppAccessContext": {}, "ApplicationId": SPO_WEB.id, "AuthenticationType": "Anonymous",
                "BrowserName": browser[0], "BrowserVersion": browser[1], "IsManagedDevice": False,
                "Platform": browser[2], "UserAgent": browser[3], "ApplicationDisplayName": SPO_WEB.name}
        for name in ("DeviceDisplayName", "EventData", "Permission", "SharingLinkScope"):
            rec.pop(name, None)
        return rec

    def search(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A search in SharePoint (``SearchQueryPerformed``)."""
        site = self.t.team_site("Intranet") if self.rng.random() < 0.5 else self.team_site(m)
        rec = self.base("SearchQueryPerformed", 4, m, v, ts, site, "", "Web")
        rec["SiteUrl"] = site + "/"
        return rec

    def backup_read(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A backup app reading a file as ``app@sharepoint`` (from its cloud's addresses, no user session)."""
        rng = self.rng
        site, folder, name, _ = self.place(m)
        rec = self.base(rng.choice(("FileAccessed", "FileDownloaded")), 6, m, v, ts, site, f"{folder}/{name}", "File")
        self.file_fields(rec, site, folder, name)
        rec |= {"UserId": "app@sharepoint", "UserKey": "i:0i.t|00000003-0000-0ff1-ce00-000000000000|app@sharepoint",
                "ClientIP": f"20.{rng.randrange(36, 42)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                "ApplicationId": BACKUP_APP.id, "ApplicationDisplayName": BACKUP_APP.name,
                "AuthenticationType": "OAuth",
                "UserAgent": "NorthwindBackup/3.2", "IsManagedDevice": False, "Platform": "NotSpecified",
                "AppAccessContext": {"ClientAppId": BACKUP_APP.id, "ClientAppName": BACKUP_APP.name,
                                     "CorrelationId": rec["CorrelationId"], "UniqueTokenId": token(rng)}}
        for key in ("BrowserName", "BrowserVersion", "DeviceDisplayName"):
            rec.pop(key, None)
        return rec

    def site_admin(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A site collection admin added by IT (ModifiedProperties naming the new admin)."""
        found = self.admin()
        admin, visit = found if found else (m, v)
        colleague = self.colleague(m)
        target, site = colleague.person, self.team_site(colleague)
        rec = self.base("SiteCollectionAdminAdded", 4, admin, visit, ts, site, "", "Site")
        rec |= {"SiteUrl": site + "/",
                "ModifiedProperties": [{"Name": "SiteAdmin", "NewValue": target.upn.lower(), "OldValue": ""}],
                "TargetUserOrGroupName": target.upn.lower(), "TargetUserOrGroupType": "Member"}
        return rec

    def sign_in(self, m: Member, v: Visit, ts: datetime) -> dict:
        """The member signing in (or being interrupted)."""
        roll = self.rng.random()
        return logon(self, m, v, ts, "0" if roll < 0.85 else "50140" if roll < 0.95 else "50126")

    KINDS = ((accessed, 30.0), (accessed_extended, 3.0), (previewed, 8.0), (modified, 11.0),
             (modified_extended, 2.0), (downloaded, 6.0), (uploaded, 5.0), (sync_down, 5.0), (sync_up, 3.0),
             (recycled, 1.5), (relocated, 1.8), (folder_created, 0.8), (page_viewed, 9.0), (list_op, 2.4),
             (shared, 2.5), (anonymous_link, 0.5), (search, 1.0), (backup_read, 1.0), (site_admin, 0.05),
             (sign_in, 4.0))

