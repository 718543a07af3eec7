"""Provides the incident report as Markdown or as one self-contained HTML file (inline CSS, no external
resources). Log text is attacker-controlled: control characters are shown as visible escapes, and
Markdown punctuation or HTML is escaped so that nothing in a log can format or script the report.
"""

import html
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path

from workbench.core.attribution import RULE
from workbench.core.exposure import SECTIONS
from workbench.core.inert import visible
from workbench.core.report import OTHER_EVIDENCE, Report, ReportEvent

EVENT_HEADERS = ("Time (UTC)", "User", "Operation", "Object", "Client IP", "Detail", "Record ID")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")
CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #1b1b1b; line-height: 1.4; }
h1 { border-bottom: 2px solid #444; } h2 { border-bottom: 1px solid #aaa; margin-top: 2em; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; } td { overflow-wrap: anywhere; }
pre { background: #f4f4f4; padding: 0.5em; overflow-x: auto; white-space: pre-wrap; }
.note { color: #333; } .muted { color: #666; }
"""


def _heading(name: str, identifier: str) -> str:
    """`Name (T1234)`, without repeating an id the name already carries."""
    return name if f"({identifier})" in name else f"{name} ({identifier})"


def _time(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def _event_cells(event: ReportEvent) -> list[str]:
    return [_time(event.time), event.user, event.operation, event.object, event.client_ip, event.detail, event.record_id]


def _account_rows(report: Report) -> list[list[str]]:
    return [[row["user"] or "", _time(row["first"]), _time(row["last"]), str(row["events"]), ", ".join(row["operations"])]
            for row in report.accounts]


def _cell(value: object) -> str:
    """A value as a report cell: nothing for null, yes/no, times to the second, lists joined with `; `."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(value)
    return _time(value) if isinstance(value, datetime) else str(value)


def _enrichment_rows(report: Report) -> list[list[str]]:
    keys = ("ip", "asn", "org", "country", "abuse_score", "hosting", "reasons")
    return [[_cell(row.get(key)) for key in keys] for row in report.enrichment]


def _indicator_rows(report: Report) -> list[list[str]]:
    return [[row["kind"], row["value"], str(row["events"]), ", ".join(row["shared_with"] or [])] for row in report.indicators]


INPUTS_TITLE = "Evidence: the input files as loaded"
INPUT_HEADERS = ("File", "Format", "Bytes", "Modified (UTC)", "SHA-256")


def _input_rows(report: Report) -> list[list[str]]:
    return [[row["path"], row["format"], f"{row['size']:,}" if row["size"] is not None else "",
             row["modified"] or "", row["sha256"] or "not recorded (loaded before hashes were kept)"]
            for row in report.inputs]


EXPOSURE_TITLE = "Exposure: what the attacker read, searched, sent and deleted"


def _exposure_parts(report: Report) -> tuple[list[str], list[tuple[str, list[str], list[list[str]]]]]:
    """The exposure as paragraphs (attribution, rule, window, what is unknown) and tables (title, headers, rows):
    the counts per mailbox, then each kind of exposure."""
    found = report.exposure
    window = ("no attacker activity" if found.start is None
              else f"{_time(found.start)} to {_time(found.end)} UTC")
    paragraphs = [f"Attribution: {found.attribution.describe()}.", f"Rule: {RULE}.", f"Window: {window}."]
    paragraphs += [f"Unknown: {note}." for note in found.notes]
    summary = found.summary()
    tables = [("Per mailbox", summary.columns, [[_cell(value) for value in row] for row in summary.iter_rows()])]
    for kind, (title, columns) in SECTIONS.items():
        rows = found.rows.filter(found.rows["kind"] == kind)
        if rows.height:
            cells = [[_cell(value) for value in row] for row in rows.select(*columns, "attribution").iter_rows()]
            tables.append((title[0].upper() + title[1:], [*columns, "attribution"], cells))
    return paragraphs, tables


def _ioc_rows(report: Report) -> list[list[str]]:
    return [[row["indicator"], row["type"], ", ".join(row["fields"]), str(row["events"])] for row in report.ioc_hits]


def _summary(report: Report) -> str:
    if not report.marked:
        return "No events are marked in this case."
    techniques = sum(len(t.techniques) for t in report.tactics)
    other = (f" Marked events no hunt maps to a technique: {len(report.other)} (under {OTHER_EVIDENCE})."
             if report.other else "")
    return (f"{report.marked} marked events from {_time(report.first)} to {_time(report.last)} UTC, "
            f"{len(report.accounts)} accounts, {techniques} ATT&CK techniques under {len(report.tactics)} tactics."
            + other)


# Markdown


def md(text: str) -> str:
    """Log text as inert Markdown: control characters visible, Markdown punctuation and pipes escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", visible(text))


NO_QUERIES = "No queries were saved in this case (save one with `workbench sql --save NAME` or in the SQL mode)."


def _md_table(headers: tuple[str, ...] | list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def _md_events(events: list[ReportEvent]) -> list[str]:
    lines = _md_table(EVENT_HEADERS, [_event_cells(event) for event in events])
    for event in events:
        if event.note or event.tags:
            tags = f" (tags: {md(', '.join(event.tags))})" if event.tags else ""
            lines.append(f"- Note on {_time(event.time)} {md(event.operation)} by {md(event.user)}: {md(event.note)}{tags}")
    return lines + ([""] if lines[-1] else [])


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def to_markdown(report: Report) -> str:
    """The report as Markdown (GitHub flavour tables)."""
    lines = [f"# Incident report: case {md(report.case)}", ""]
    if report.generated:
        lines += [f"Generated {md(report.generated)}.", ""]
    lines += [_summary(report), ""]
    lines += ["## Attacker activity per account", ""]
    lines += _md_table(("Account", "First (UTC)", "Last (UTC)", "Events", "Operations"), _account_rows(report))
    for tactic in report.tactics:
        lines += [f"## {md(tactic.name)}: {tactic.id}", ""]
        for technique in tactic.techniques:
            lines += [f"### {md(_heading(technique.name, technique.id))}", ""]
            lines += _md_events(technique.events)
    if report.other:
        lines += [f"## {OTHER_EVIDENCE}", ""] + _md_events(report.other)
    lines += ["## Enrichment (cached)", ""]
    headers = ("IP", "ASN", "Organisation", "Country", "Abuse score", "Hosting", "Reasons")
    lines += _md_table(headers, _enrichment_rows(report)) if report.enrichment else ["No cached enrichment for these IPs.", ""]
    lines += ["## Indicators", ""]
    lines += _md_table(("Kind", "Value", "Marked events", "Also seen in"), _indicator_rows(report))
    if report.ioc_hits:
        lines += ["### IOC matches", ""] + _md_table(("Indicator", "Type", "Fields", "Marked events"), _ioc_rows(report))
    if report.exposure is not None:
        paragraphs, tables = _exposure_parts(report)
        lines += [f"## {EXPOSURE_TITLE}", ""] + [f"- {md(text)}" for text in paragraphs] + [""]
        for title, headers, rows in tables:
            lines += [f"### {md(title)}", ""] + _md_table(headers, rows)
    lines += ["## Queries used", ""]
    if not report.queries:
        lines += [NO_QUERIES, ""]
    for query in report.queries:
        text = visible(query, keep_newlines=True)
        fence = _fence(text)
        lines += [f"{fence}sql", text, fence, ""]
    if report.inputs:
        lines += [f"## {INPUTS_TITLE}", ""] + _md_table(INPUT_HEADERS, _input_rows(report))
        lines += [f"- Warning: {md(problem)}" for problem in report.changed_inputs]
    return "\n".join(lines).rstrip("\n") + "\n"


# HTML


def h(text: str) -> str:
    """Log text as inert HTML: control characters visible, markup escaped."""
    return html.escape(visible(text), quote=True)


def _html_table(headers: tuple[str, ...] | list[str], rows: list[list[str]]) -> list[str]:
    lines = ["<table>", "<tr>" + "".join(f"<th>{h(name)}</th>" for name in headers) + "</tr>"]
    lines += ["<tr>" + "".join(f"<td>{h(cell)}</td>" for cell in row) + "</tr>" for row in rows]
    return lines + ["</table>"]


def _html_events(events: list[ReportEvent]) -> list[str]:
    lines = _html_table(EVENT_HEADERS, [_event_cells(event) for event in events])
    notes = [event for event in events if event.note or event.tags]
    if notes:
        lines.append("<ul class=\"note\">")
        for event in notes:
            tags = f" <span class=\"muted\">(tags: {h(', '.join(event.tags))})</span>" if event.tags else ""
            lines.append(f"<li>Note on {_time(event.time)} {h(event.operation)} by {h(event.user)}: {h(event.note)}{tags}</li>")
        lines.append("</ul>")
    return lines


def to_html(report: Report) -> str:
    """The report as one self-contained HTML document."""
    title = f"Incident report: case {h(report.case)}"
    lines = ["<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\">",
             f"<title>{title}</title>", f"<style>{CSS}</style>", "</head>", "<body>", f"<h1>{title}</h1>"]
    if report.generated:
        lines.append(f"<p class=\"muted\">Generated {h(report.generated)}.</p>")
    lines += [f"<p>{h(_summary(report))}</p>", "<h2>Attacker activity per account</h2>"]
    lines += _html_table(("Account", "First (UTC)", "Last (UTC)", "Events", "Operations"), _account_rows(report))
    for tactic in report.tactics:
        lines.append(f"<h2>{h(tactic.name)}: {h(tactic.id)}</h2>")
        for technique in tactic.techniques:
            lines.append(f"<h3>{h(_heading(technique.name, technique.id))}</h3>")
            lines += _html_events(technique.events)
    if report.other:
        lines += [f"<h2>{OTHER_EVIDENCE}</h2>"] + _html_events(report.other)
    lines.append("<h2>Enrichment (cached)</h2>")
    headers = ("IP", "ASN", "Organisation", "Country", "Abuse score", "Hosting", "Reasons")
    lines += _html_table(headers, _enrichment_rows(report)) if report.enrichment else ["<p>No cached enrichment for these IPs.</p>"]
    lines.append("<h2>Indicators</h2>")
    lines += _html_table(("Kind", "Value", "Marked events", "Also seen in"), _indicator_rows(report))
    if report.ioc_hits:
        lines += ["<h3>IOC matches</h3>"] + _html_table(("Indicator", "Type", "Fields", "Marked events"), _ioc_rows(report))
    if report.exposure is not None:
        paragraphs, tables = _exposure_parts(report)
        lines += [f"<h2>{h(EXPOSURE_TITLE)}</h2>"] + [f"<p class=\"note\">{h(text)}</p>" for text in paragraphs]
        for title, headers, rows in tables:
            lines += [f"<h3>{h(title)}</h3>"] + _html_table(headers, rows)
    lines.append("<h2>Queries used</h2>")
    if not report.queries:
        lines.append(f"<p>{NO_QUERIES}</p>")
    lines += [f"<pre>{html.escape(visible(query, keep_newlines=True))}</pre>" for query in report.queries]
    if report.inputs:
        lines += [f"<h2>{INPUTS_TITLE}</h2>"] + _html_table(INPUT_HEADERS, _input_rows(report))
        lines += [f"<p class=\"note\">Warning: {h(problem)}</p>" for problem in report.changed_inputs]
    lines += ["</body>", "</html>"]
    return "\n".join(lines) + "\n"


def format_for_report(path: Path) -> str:
    """`markdown` for .md/.markdown, `html` for .html/.htm; ValueError otherwise."""
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        return "markdown"
    if suffix in (".html", ".htm"):
        return "html"
    raise ValueError(f"{path}: write the report to a .md or .html file")


def write_report(report: Report, path: Path) -> Path:
    """Write the report to `path` (format by suffix) atomically: a temp file in the same folder, then rename."""
    text = to_html(report) if format_for_report(path) == "html" else to_markdown(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
