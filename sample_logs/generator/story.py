"""Provides the planted attack on each tenant, step by step as the article tells it."""

from __future__ import annotations

from .attacker import ATTACKER_IPS, Planted, Story, at
from .records import directory_change, json_in_string, mail_items_accessed, prop
from .tenants import SEED, build_tenant


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
    s.mailbox_abuse("2023-02-22 16:10:04", s.access(ip3, "admin-login-3"),
                    "[BANK NAME REDACTED] Passcode", "Accepted: [BANK NAME REDACTED] Passcode",
                    ("Microsoft 365 security: You have messages in quarantine",
                     "Reset your Online Banking password",
                     "Your account has been locked"))


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
    s.add(mail_items_accessed(t, s.rng, at("2023-02-20 08:20:41"), s.rid("finance-mail-read"),
                              finance, finance, s.access(f"::ffff:{ip2}", "finance-login"),
                              bind_items=6),
          "FinanceUser's own mailbox read from the attacker address", "T1114.002")
    s.sign_in("admin-login-3", "2023-02-21 19:44:50", admin, ip2,
              "CompromisedAdmin signs in from the Azure address")
    s.onedrive_takeover("2023-02-21 19:50:13", s.access(ip2, "admin-login-3"))
    s.mailbox_abuse("2023-02-22 20:05:38", s.access(f"::ffff:{ip2}", "admin-login-3"),
                    "Wire details", "RE: Wire details [bold red]x[/]",
                    ("Microsoft 365 security: You have messages in quarantine",
                     "Reset your Online Banking password",
                     "Your password has been reset"))


def planted_steps(tenant: str, seed: int = SEED) -> list[Planted]:
    """The attacker records of case ``tenant`` (``a`` or ``b``), in time order."""
    story = Story(build_tenant(tenant, seed))
    (_story_a if tenant == "a" else _story_b)(story)
    return sorted(story.steps, key=lambda step: step.record["CreationTime"])
