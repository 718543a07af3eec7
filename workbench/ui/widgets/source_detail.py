"""Provides the drill-down sections of a sign-in (decoded status, authentication steps, Conditional Access
policies, device, location, risk) and of a directory audit (initiator, modified properties old -> new,
additional details), from the row of its own frame."""

from typing import Any

from rich.text import Text

from workbench.core import decode
from workbench.ui.widgets.detail_lines import pair, section

SIGN_IN_FIELDS = (
    ("Sign-in", (("type", "sign_in_type"), ("status", None), ("failure reason", "failure_reason"),
                 ("details", "additional_details"), ("app", "app_name"), ("app id", "app_id"),
                 ("resource", "resource_name"), ("client app", "client_app"), ("protocol", "auth_protocol"),
                 ("transfer method", "transfer_method"), ("incoming token", "incoming_token_type"),
                 ("token issuer", "token_issuer"), ("session id", "session_id"), ("token id", "unique_token_id"),
                 ("correlation id", "correlation_id"), ("user object id", "user_object_id"),
                 ("service principal", "service_principal"))),
    ("Authentication", (("requirement", "mfa_requirement"), ("MFA method", "mfa_method"), ("MFA result", "mfa_result"))),
    ("Device", (("device id", "device_id"), ("name", "device_name"), ("OS", "device_os"), ("browser", "browser"),
                ("compliant", "compliant"), ("managed", "managed"), ("trust type", "trust_type"))),
    ("Location", (("city", "city"), ("state", "state"), ("country", "country"), ("latitude", "latitude"),
                  ("longitude", "longitude"), ("ASN", "asn"))),
    ("Risk", (("during sign-in", "risk_level"), ("aggregated", "risk_level_aggregated"), ("state", "risk_state"),
              ("event types", "risk_event_types"))),
)
AUDIT_FIELDS = (("activity", "activity"), ("category", "category"), ("operation type", "operation_type"),
                ("result", "result"), ("reason", "result_reason"), ("initiated by user", "initiator_user"),
                ("initiated by app", "initiator_app"), ("initiator IP", "client_ip_raw"),
                ("logged by", "logged_by_service"), ("correlation id", "correlation_id"))


def _pairs(text: Text, fields: dict, names: tuple) -> None:
    for label, column in names:
        shown = fields.get(column)
        if shown is not None and shown != "":
            pair(text, label, "yes" if shown is True else "no" if shown is False else str(shown))


def _list(value: Any) -> list:
    decoded = decode.loads(value) if isinstance(value, str) else value
    return decoded if isinstance(decoded, list) else []


def _sign_in(text: Text, fields: dict) -> None:
    status = fields.get("status_code")
    for title, names in SIGN_IN_FIELDS:
        section(text, title)
        if title == "Sign-in" and status is not None:
            pair(text, "status", f"{status} {fields.get('status_kind') or ''}: {fields.get('status_meaning') or ''}")
        _pairs(text, fields, tuple(name for name in names if name[1] is not None))
        if title == "Authentication":
            for step in _list(fields.get("auth_details")):
                if isinstance(step, dict):
                    outcome = {True: "succeeded", False: "failed"}.get(step.get("succeeded"), "")
                    method = " ".join(str(step.get(key) or "") for key in ("authenticationMethod", "authenticationMethodDetail"))
                    pair(text, f"step {step.get('authenticationStepDateTime') or ''}".strip(),
                         f"{method.strip()} {outcome} {step.get('authenticationStepResultDetail') or ''}".strip())
        if title == "Device":
            _pairs(text, fields, (("user agent", "user_agent"),))
    section(text, "Conditional Access")
    _pairs(text, fields, (("status", "ca_status"),))
    for policy in _list(fields.get("ca_policies")):
        if isinstance(policy, dict):
            controls = [str(control) for key in ("enforcedGrantControls", "enforcedSessionControls")
                        for control in _list(policy.get(key))]
            pair(text, str(policy.get("displayName") or policy.get("id") or "policy"),
                 f"{policy.get('result') or ''}{' (' + ', '.join(controls) + ')' if controls else ''}")


def _directory_audit(text: Text, fields: dict) -> None:
    section(text, "Directory audit")
    _pairs(text, fields, AUDIT_FIELDS)
    changes = [change for change in _list(fields.get("modified_properties")) if isinstance(change, dict)]
    if changes:
        section(text, "Modified properties")
        for change in changes:
            name = f"{change.get('target') or ''}: {change.get('name') or ''}".lstrip(": ")
            pair(text, name, f"{change.get('old') or '(empty)'} -> {change.get('new') or '(empty)'}")
    details = [item for item in _list(fields.get("additional_details")) if isinstance(item, dict)]
    if details:
        section(text, "Additional details")
        for item in details:
            pair(text, str(item.get("key") or ""), str(item.get("value") or ""))


def source_sections(text: Text, source: str, fields: dict) -> None:
    """Append the sections of a row of the `signin` or `audit` source (activity.py) to `text`."""
    if source == "signin":
        _sign_in(text, fields)
    elif source == "audit":
        _directory_audit(text, fields)
