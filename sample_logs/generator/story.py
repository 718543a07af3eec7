"""Provides the planted attack on each tenant, step by step as the article tells it."""

from __future__ import annotations

from functools import lru_cache

from .attacker import ATTACKER_IPS, Planted, Story, at, plus
from .mailflow import BANK, DELIVERED, FAILED, Message
from .records import Access, directory_change, json_in_string, mail_items_accessed, prop
from .tenants import SEED, Person, build_tenant


BLOCK_WORDS = ("Exchange admin privilege;Global Administrator;AddMailboxPermission;"
               "Add Mailbox Permissions;Add-MailboxPermission;User at risk detected;Risky sign-in;"
               "Mailbox Permission Changed;High-severity alert;[REDACTED BANKING SUBJECT LINE]")
SPOOFING_WORDS = ("Exchange admin privilege;A user account has been created or modified;"
                  "Suspicious Inbox Rule;AddMailboxPermission;Add Mailbox Permissions;"
                  "Add-MailboxPermission;High-severity alert;InsightIDR Incident Alert;"
                  "Granted mailbox permission;New-InboxRule;{admin} ")


def _story_a(s: Story) -> None:
    t = s.t
    original, admin, target = t.person("OriginalAdmin"), s.admin, s.target
    ip1, ip2, ip3 = ATTACKER_IPS
    s.create_account("create-admin", "2022-12-05 15:42:18", original, admin,
                     "CompromisedAdmin created by the tenant's original admin account")
    s.grant_global_admin("grant-admin", "2022-12-05 15:44:51", original, admin)
    s.sign_in("original-failed", "2023-01-31 21:07:33", original, ip3,
              "failed sign-in of the original admin account",
              ("50126", "InvalidUserNameOrPassword"), "Failed")
    s.sign_in("original-login", "2023-01-31 21:08:02", original, ip3,
              "original admin account signs in from a shared attacker IP")
    old = json_in_string({"PhoneNumber": "+1 6175550143", "AlternativePhoneNumber": None,
                          "Email": None, "VoiceOnlyPhoneNumber": None})
    new = old.replace("6175550143", "2025550186")
    s.add(directory_change(t, s.rng, at("2023-01-31 21:13:40"), s.rid("phone-change"),
                           "Update user.", original, target,
                           [prop("StrongAuthenticationUserDetails", new, old),
                            prop("MobilePhone", json_in_string("+1 202 555 0186"),
                                 json_in_string("+1 617 555 0143")),
                            prop("Included Updated Properties",
                                 "StrongAuthenticationUserDetails, MobilePhone"),
                            prop("TargetId.UserType", "Member")]),
          "TargetUser's MFA and mobile phone number replaced", "T1098")
    s.sign_in("admin-login-1", "2023-02-20 14:55:09", admin, ip1,
              "first CompromisedAdmin activity, 77 days after its creation")
    s.create_account("create-helpdesk", "2023-02-20 14:58:27", admin, t.person("NewHelpdesk"),
                     "CompromisedAdmin creates NewHelpdesk")
    helpdesk_phone = json_in_string({"PhoneNumber": "+1 2025550186", "AlternativePhoneNumber": None,
                                     "Email": None, "VoiceOnlyPhoneNumber": None})
    s.add(directory_change(t, s.rng, at("2023-02-20 15:00:12"), s.rid("helpdesk-phone"),
                           "Update user.", admin, t.person("NewHelpdesk"),
                           [prop("StrongAuthenticationUserDetails", helpdesk_phone, "[]"),
                            prop("MobilePhone", json_in_string("+1 202 555 0186"), "[]"),
                            prop("Included Updated Properties",
                                 "StrongAuthenticationUserDetails, MobilePhone"),
                            prop("TargetId.UserType", "Member")]),
          "CompromisedAdmin registers the attacker's phone on NewHelpdesk", "T1098")
    s.mailbox_permissions("2023-02-20 15:03:44", f"{ip1}:53211")
    s.add(mail_items_accessed(t, s.rng, at("2023-02-20 15:21:05"), s.rid("mail-sync"), admin,
                              target, s.access(f"{ip1}:53228", "admin-login-1")),
          "CompromisedAdmin syncs TargetUser's Inbox", "T1114.002")
    first = s.access(f"{ip1}:53228", "admin-login-1")
    for n, (clock, text) in enumerate((("15:23:10", "invoice"), ("15:24:02", "bank details"),
                                       ("15:24:50", "wire transfer"))):
        s.search(f"search-{n + 1}", f"2023-02-20 {clock}", admin, target, first, text)
    bind_at = "2023-02-20 15:26:30"
    invoice = s.received(target, "accounts@partner-logistics.example",
                         "Invoice INV-20931 from Partner Logistics", bind_at, 140)
    s.read("finance-read", bind_at, admin, target, first, [
        ("\\Inbox\\Finance", [invoice, s.received(target, "payments@acme-supplies.example",
                                                  "Remittance advice – payment run 14 February",
                                                  bind_at, 120),
                              s.received(target, "finance@acme-supplies.example",
                                         "Change of bank details – please update your records",
                                         bind_at, 210)]),
        ("\\Inbox", [s.received(target, t.person("FinanceUser").upn,
                                "Re: Wire transfer approval – INV-20931", bind_at, 30)])],
        "CompromisedAdmin reads finance mail in TargetUser's Inbox and Finance folder")
    s.spoof_allow("spoof-botasso", "2023-02-20 15:40:00", "botasso.cl", f"{ip1}:53240")
    s.sign_in("admin-login-2", "2023-02-21 13:12:40", admin, ip2,
              "CompromisedAdmin signs in from the Azure address")
    s.onedrive_takeover("2023-02-21 13:15:02", s.access(ip2, "admin-login-2"))
    exo = f"::ffff:{ip2}"
    redirect = ("RedirectMessageTo", admin.upn)
    s.transport_rule("rule-block-phishing", "2023-02-21 13:40:11", "New-TransportRule",
                     "Block Phishing",
                     (("ModerateMessageByUser", admin.upn), ("SubjectOrBodyContainsWords",
                                                            BLOCK_WORDS),
                      ("DeleteMessage", "False")), exo,
                     "alert mail held for moderation by CompromisedAdmin",
                     "T1114.003, T1564.008")
    s.transport_rule("rule-block-phishing-on", "2023-02-21 13:41:02", "Enable-TransportRule",
                     "Block Phishing", (), exo, "rule Block Phishing enabled")
    s.transport_rule("rule-display-name", "2023-02-21 13:52:37", "New-TransportRule",
                     "Display name spoofing",
                     (("SubjectOrBodyContainsWords", SPOOFING_WORDS.format(admin=admin.upn)),
                      ("DeleteMessage", "True"), ("RedirectMessageTo", ""), ("ExceptIfFrom", ""),
                      ("HeaderMatchesMessageHeader", ""), ("HeaderMatchesPatterns", "")), exo,
                     "alerts about the intrusion deleted in transport",
                     "T1114.003, T1070.008, T1564.008")
    s.transport_rule("rule-warn-audit", "2023-02-21 14:05:19", "Set-TransportRule",
                     "WarnAuditHigh-RiskPhishingPatterns",
                     (("SubjectOrBodyContainsWords", "Unusual sign-in activity;Suspicious sign-in;"
                                                     "Password reset"),
                      ("DeleteMessage", "True")), exo,
                     "existing rule edited to delete sign-in alerts",
                     "T1114.003, T1070.008, T1564.008")
    s.transport_rule("rule-copy-warn-audit", "2023-02-21 14:07:48", "New-TransportRule",
                     "Copy of WarnAuditHigh-RiskPhishingPatterns",
                     (("SubjectOrBodyContainsWords", "OnlineBanking;Online Banking;admin"),
                      redirect, ("DeleteMessage", "False")), exo,
                     "banking and admin mail redirected to CompromisedAdmin")
    s.transport_rule("rule-copy-warn-audit-on", "2023-02-21 14:08:30", "Enable-TransportRule",
                     "Copy of WarnAuditHigh-RiskPhishingPatterns", (), exo,
                     "rule Copy of WarnAuditHigh-RiskPhishingPatterns enabled")
    s.transport_rule("rule-banking", "2023-02-21 14:30:55", "New-TransportRule",
                     "[REDACTED // BANKING]",
                     (("HeaderContainsMessageHeader", "Subject"),
                      ("HeaderContainsWords", "OnlineBanking;Online Banking"), redirect), exo,
                     "banking mail redirected to CompromisedAdmin")
    for minute, (key, infra) in enumerate((("spoof-emailsrvr", "iad3a.emailsrvr.com"),
                                           ("spoof-continental", "continental-database.com"),
                                           ("spoof-ip", ip1))):
        s.spoof_allow(key, f"2023-02-21 14:4{5 + minute}:12", infra, exo)
    s.sign_in("admin-failed-1", "2023-02-22 16:02:11", admin, ip3,
              "failed CompromisedAdmin sign-in", ("50126", "InvalidUserNameOrPassword"), "Failed")
    s.sign_in("admin-failed-2", "2023-02-22 16:02:49", admin, ip3,
              "failed CompromisedAdmin sign-in (account locked)", ("50053", "IdsLocked"))
    s.sign_in("admin-login-3", "2023-02-22 16:03:30", admin, ip3,
              "CompromisedAdmin signs in from the leased IPXO address")
    third = s.access(ip3, "admin-login-3")
    when = "2023-02-22 16:10:04"
    s.search("search-4", "2023-02-22 16:07:40", admin, target, third, "passcode")
    passcode = s.received(target, f"alerts@{BANK}", "[BANK NAME REDACTED] Passcode", when, 0.2)
    s.mailbox_abuse(when, third, [
        ("\\Inbox", [passcode, s.received(target, f"no-reply@{BANK}", "Your verification code",
                                          when, 0.1)]),
        ("\\Inbox\\Finance", [s.received(target, f"noreply@{BANK}",
                                         "Payment confirmation – wire transfer ref 88412", when,
                                         50), invoice])],
        "[BANK NAME REDACTED] Passcode", "Accepted: [BANK NAME REDACTED] Passcode",
        [(passcode.sender, DELIVERED)], _deleted(s, target, when, "Your account has been locked"))
    _phishing(s, target, third, "2023-02-22 16:18:30", "SendAs", (
        ('=HYPERLINK("https://remit-portal.test/inv-20931","INV-20931 overdue - pay here")',
         [("ap@partner-logistics.example", DELIVERED),
          ("accounts@partner-logistics.example", DELIVERED),
          ("billing@acme-supplies.example", FAILED), (t.person("FinanceUser").upn, DELIVERED)]),
        ("Updated bank details for February payments",
         [("orders@northwind-freight.test", DELIVERED), ("ap@acme-supplies.example", DELIVERED),
          (t.person("AccountsUser").upn, DELIVERED)])))
    _throttled_burst(s, admin, target, third, "2023-02-22 16:20:05")


def _story_b(s: Story) -> None:
    t = s.t
    original, admin, target = t.person("OriginalAdmin"), s.admin, s.target
    finance = t.person("FinanceUser")
    ip1, ip2, ip3 = ATTACKER_IPS
    s.create_account("create-admin", "2022-12-02 10:14:37", original, admin,
                     "CompromisedAdmin created by the tenant's original admin account")
    s.grant_global_admin("grant-admin", "2022-12-02 10:16:02", original, admin)
    s.sign_in("admin-failed-1", "2023-02-17 09:31:12", admin, ip3,
              "failed CompromisedAdmin sign-in", ("50126", "InvalidUserNameOrPassword"))
    s.sign_in("admin-failed-2", "2023-02-17 09:31:58", admin, ip3,
              "failed CompromisedAdmin sign-in", ("50126", "InvalidUserNameOrPassword"), "Failed")
    s.sign_in("admin-login-1", "2023-02-17 09:32:40", admin, ip3,
              "first CompromisedAdmin activity, 77 days after its creation")
    s.create_account("create-servicedesk", "2023-02-17 09:36:05", admin,
                     t.person("ServiceDesk2"), "CompromisedAdmin creates ServiceDesk2")
    s.mailbox_permissions("2023-02-17 09:41:19", f"{ip3}:49822")
    s.spoof_allow("spoof-botasso", "2023-02-17 09:55:31", "botasso.cl", f"{ip3}:49830")
    s.sign_in("admin-login-2", "2023-02-18 11:03:26", admin, ip1,
              "CompromisedAdmin signs in from the ioflood address")
    s.add(mail_items_accessed(t, s.rng, at("2023-02-18 11:10:44"), s.rid("mail-sync"), admin,
                              target, s.access(f"{ip1}:53211", "admin-login-2")),
          "CompromisedAdmin syncs TargetUser's Inbox", "T1114.002")
    exo = f"{ip1}:53260"
    redirect = ("RedirectMessageTo", admin.upn)
    rules = (
        ("rule-block-spoofing", "11:20:15", "Block Spoofing",
         (("ModerateMessageByUser", admin.upn), ("SubjectOrBodyContainsWords", BLOCK_WORDS),
          ("DeleteMessage", "False")),
         "alert mail held for moderation by CompromisedAdmin", "T1114.003, T1564.008"),
        ("rule-display-name", "11:28:40", "Display name spoofing",
         (("SubjectOrBodyContainsWords", SPOOFING_WORDS.format(admin=admin.upn)),
          ("DeleteMessage", "True"), ("RedirectMessageTo", ""), ("ExceptIfFrom", "")),
         "alerts about the intrusion deleted in transport", "T1114.003, T1070.008, T1564.008"),
        ("rule-bypass-spam", "11:35:02", "Bypass SPAM Filter",
         (("SenderDomainIs", "botasso.cl"), ("SetSCL", "-1"), ("DeleteMessage", "False")),
         "spam filtering switched off for the spoofing infrastructure", "T1114.003, T1562.001"),
        ("rule-compromise", "11:41:27", "[REDACTED] Compromise",
         (("SubjectOrBodyContainsWords", "compromise;compromised;suspicious activity;"
                                         "unusual sign-in"), ("DeleteMessage", "True")),
         "compromise warnings deleted in transport", "T1114.003, T1070.008, T1564.008"),
        ("rule-redirect-dc", "11:50:09", "redirect [REDACTED] email to DC",
         (("SubjectOrBodyContainsWords", "admin;OnlineBanking"), redirect),
         "admin and banking mail redirected to CompromisedAdmin", "T1114.003"),
        ("rule-escape", "11:58:33", "Junk cleanup\x1b[2J",
         (("SubjectOrBodyContainsWords", "Microsoft 365 security;quarantine"),
          ("DeleteMessage", "True")),
         "rule whose name carries a terminal escape (ESC [2J); quarantine notices deleted",
         "T1114.003, T1070.008, T1564.008"),
    )
    for key, clock, name, settings, what, technique in rules:
        s.transport_rule(key, f"2023-02-18 {clock}", "New-TransportRule", name, settings, exo,
                         what, technique)
    s.transport_rule("rule-block-spoofing-on", "2023-02-18 11:21:01", "Enable-TransportRule",
                     "Block Spoofing", (), exo, "rule Block Spoofing enabled")
    s.transport_rule("rule-redirect-dc-on", "2023-02-18 11:50:52", "Enable-TransportRule",
                     "redirect [REDACTED] email to DC", (), exo,
                     "rule redirect [REDACTED] email to DC enabled")
    s.sign_in("finance-failed", "2023-02-20 08:12:03", finance, ip2,
              "failed FinanceUser sign-in from the Azure address",
              ("50126", "InvalidUserNameOrPassword"))
    s.sign_in("finance-login", "2023-02-20 08:13:17", finance, ip2,
              "FinanceUser (second compromised account) signs in from the Azure address")
    own = s.access(f"::ffff:{ip2}", "finance-login")
    for n, (clock, text) in enumerate((("08:16:20", "invoice"), ("08:17:05", "bank details"),
                                       ("08:18:30", "wire"))):
        s.search(f"finance-search-{n + 1}", f"2023-02-20 {clock}", finance, finance, own, text)
    when = "2023-02-20 08:20:41"
    s.read("finance-mail-read", when, finance, finance, own, [
        ("\\Inbox", [s.received(finance, f"no-reply@{BANK}", "Your verification code", when, 0.3),
                     s.received(finance, f"noreply@{BANK}",
                                "Payment confirmation – wire ref 55120", when, 26)]),
        ("\\Inbox\\Finance", [
            s.received(finance, "accounts@partner-logistics.example",
                       "Invoice PL-7731 from Partner Logistics", when, 70),
            s.received(finance, "payments@acme-supplies.example",
                       "Remittance advice – January statement", when, 120),
            s.received(finance, "finance@northwind-freight.test",
                       "Change of bank details – Northwind Freight", when, 200),
            s.received(finance, t.person("PayrollUser").upn,
                       "Re: Supplier payment run 17 February", when, 60)])],
        "FinanceUser's own mailbox read from the attacker address")
    _phishing(s, finance, own, "2023-02-20 08:27:15", "Send", (
        ("+Payment overdue – updated account details",
         [("accounts@partner-logistics.example", DELIVERED), ("ap@acme-supplies.example", DELIVERED),
          ("finance@northwind-freight.test", FAILED), (target.upn, DELIVERED)]),
        ("Invoice PL-7731 – new remittance account",
         [("payables@partner-logistics.example", DELIVERED),
          ("billing@acme-supplies.example", DELIVERED)])))
    _throttled_burst(s, finance, finance, own, "2023-02-20 08:33:05")
    s.sign_in("admin-login-3", "2023-02-21 19:44:50", admin, ip2,
              "CompromisedAdmin signs in from the Azure address")
    s.onedrive_takeover("2023-02-21 19:50:13", s.access(ip2, "admin-login-3"))
    last = s.access(f"::ffff:{ip2}", "admin-login-3")
    when = "2023-02-22 20:05:38"
    s.search("search-1", "2023-02-22 20:03:50", admin, target, last, "wire")
    wire = s.received(target, "accounts@partner-logistics.example", "Wire details", when, 30)
    s.mailbox_abuse(when, last, [
        ("\\Inbox", [wire, s.received(target, f"no-reply@{BANK}", "Your verification code", when,
                                      0.2)]),
        ("\\Inbox\\Finance", [s.received(target, "accounts@partner-logistics.example",
                                         "Invoice PL-7731 from Partner Logistics", when, 100),
                              s.received(target, f"statements@{BANK}",
                                         "Statement of account – February", when, 48)])],
        "Wire details", "RE: Wire details [bold red]x[/]", [(wire.sender, DELIVERED)],
        _deleted(s, target, when, "Your password has been reset"))


BURST = (("\\Inbox\\Finance", ((f"statements@{BANK}", "Statement of account – January"),
                                  ("payments@acme-supplies.example", "Remittance advice – PO 4471"),
                                  ("accounts@partner-logistics.example",
                                   "Re: Invoice INV-20877 query"))),
         ("\\Inbox", (("orders@northwind-freight.test", "Delivery schedule and payment terms"),
                      (f"cards@{BANK}", "Your card statement is ready"))),
         ("\\Archive", (("payments@acme-supplies.example", "Payment run schedule Q1"),
                        ("accounts@partner-logistics.example", "Invoice INV-20544 paid"))))


def _deleted(s: Story, owner: Person, when: str, third: str) -> tuple[Message, Message, Message]:
    """The three security notices the attacker deletes from ``owner``'s Inbox, as received."""
    return (s.received(owner, "quarantine@messaging.microsoft.com",
                       "Microsoft 365 security: You have messages in quarantine", when, 20),
            s.received(owner, f"alerts@{BANK}", "Reset your Online Banking password", when, 30),
            s.received(owner, f"alerts@{BANK}", third, when, 5))


def _phishing(s: Story, owner: Person, access: Access, when: str, operation: str,
              mails: tuple[tuple[str, list[tuple[str, str]]], ...]) -> None:
    """Lures sent from ``owner``'s mailbox to the partner companies (and one colleague)."""
    actor = s.admin if operation == "SendAs" else owner
    for n, (subject, recipients) in enumerate(mails):
        outside = sum(1 for address, _ in recipients if not address.endswith(s.t.spec.domain))
        s.send(f"phish-{n + 1}", plus(when, n * 75), operation, actor, owner, access, subject,
               recipients, f"lure '{subject}' sent from {owner.upn.split('@')[0]}'s mailbox to "
               f"{outside} partner addresses outside the tenant", "T1534", hunted=False)


def _throttled_burst(s: Story, actor: Person, owner: Person, access: Access, when: str) -> None:
    """Binds in quick succession, then the record that says auditing is throttled."""
    short = owner.upn.split("@")[0]
    for n, (path, mails) in enumerate(BURST):
        messages = [s.received(owner, sender, subject, when, 24 * (9 + 11 * n + 5 * k))
                    for k, (sender, subject) in enumerate(mails)]
        s.read(f"burst-{n + 1}", plus(when, n * 45), actor, owner, access, [(path, messages)],
               f"burst: {len(messages)} items of {short}'s {path} read")
    s.read("throttled", plus(when, len(BURST) * 45), actor, owner, access, [("\\Inbox", [])],
           f"MailItemsAccessed throttled for {short}'s mailbox: no items recorded for 24 hours",
           throttled=True)


@lru_cache(maxsize=8)
def _planted_story(tenant: str, seed: int) -> Story:
    story = Story(build_tenant(tenant, seed))
    (_story_a if tenant == "a" else _story_b)(story)
    story.steps.sort(key=lambda step: step.record["CreationTime"])
    return story


def planted_story(tenant: str, seed: int = SEED) -> Story:
    """The story of case ``tenant``: its planted steps and the messages they touch (do not
    modify: shared)."""
    return _planted_story(tenant, seed)


def planted_steps(tenant: str, seed: int = SEED) -> list[Planted]:
    """The attacker records of case ``tenant`` (``a`` or ``b``), in time order."""
    return list(planted_story(tenant, seed).steps)
