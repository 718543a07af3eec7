"""Provides `ExposureTable` (one row per thing the attacker read, synced, searched, opened, sent or deleted; uncertain
rows flagged `?` and dimmed), `SummaryTable` (the counts per mailbox) and `row_detail` (one row in full); every value
from a log is inert text."""

from datetime import datetime

import polars as pl
from rich.text import Text
from textual.widgets import DataTable

from workbench.core.attribution import ATTACKER
from workbench.core.inert import visible

SCROLLBAR = 2
#: Wide enough for the status and attribution columns and whole times.
WIDE = 120
#: Summary columns: frame column, title when wide, title when narrow.
SUMMARY = (("read", "read", "read"), ("synced", "synced", "sync"), ("searches", "searches", "srch"),
           ("files", "files", "file"), ("sent", "sent", "sent"), ("outside", "outside", "out"),
           ("deleted", "deleted", "del"), ("throttled", "throttled", "thr"))


def what(row: dict) -> str:
    """What was exposed: the subject (else message id) of a message, the folder synced, the search terms, the file,
    how long auditing was throttled."""
    kind = row["kind"]
    if kind == "sync":
        return row["folder"] or ""
    if kind == "search":
        return row["search_terms"] or ""
    if kind == "file":
        return row["file"] or ""
    if kind == "throttled":
        return f"items not recorded until {row['until']:%Y-%m-%d %H:%M}" if row["until"] else "items not recorded"
    return row["subject"] or row["message_id"] or ""


def who(row: dict) -> str:
    """The sender of a message read, the recipient of one sent."""
    return (row["sender"] if row["kind"] == "read" else row["recipient"] if row["kind"] == "sent" else None) or ""


def _cut(text: str, style: str = "") -> Text:
    return Text(visible(text), style=style, overflow="ellipsis", no_wrap=True)


def _time(value: datetime | None, wide: bool) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M" if wide else "%m-%d %H:%M")


def row_detail(row: dict) -> Text:
    """The row under the cursor in full: what, who, when, whose by the rule and why, and where it came from."""
    verdict = row["attribution"] + (f" ({row['reason']})" if row["reason"] else "")
    first = [row["kind"], row["mailbox"] or "?", _time(row["time"], True), what(row)]
    if who(row):
        first.append(("from " if row["kind"] == "read" else "to ") + who(row))
    if row["kind"] == "sent":
        first.append({True: "outside the tenant", False: "inside the tenant", None: "outside: unknown"}[row["outside"]])
        first.append(row["status"] or "")
    second = [verdict, f"IP {row['client_ip'] or '-'}", f"session {row['session_id'] or '-'}"]
    if row["message_id"] and row["message_id"] != what(row):
        second.append(f"message id {row['message_id']}")
    if row["times"] and row["times"] > 1:
        second.append(f"{row['times']} times")
    count = len(row["record_ids"] or [])
    second.append(f"{count} event{'' if count == 1 else 's'} (Enter opens)")
    text = Text(visible(" · ".join(part for part in first if part)) + "\n")
    text.append(visible(" · ".join(second)), style="" if row["attribution"] == ATTACKER else "yellow")
    return text


class ExposureTable(DataTable):
    """The exposure rows shown (one kind, or all), columns fitted to the width; `current` is the row under the
    cursor."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.exposure_rows: list[dict] = []

    def _columns(self, mailboxes: int) -> bool:
        """Lay the columns out for the width (the mailbox only when narrow rows are of several); returns whether the
        wide ones are shown."""
        width = self.size.width or 80
        wide = width >= WIDE
        fixed = {"flag": 1, "kind": 9, "time": 16 if wide else 11, "outside": 3}
        if wide:
            fixed["attribution"] = 9
        flexible = ({"mailbox": 2} if wide or mailboxes > 1 else {}) | {"what": 4, "who": 2} | ({"status": 1} if wide else {})
        count = len(fixed) + len(flexible)
        room = max(len(flexible) * 6, width - sum(fixed.values()) - 2 * count - SCROLLBAR)
        share = room / sum(flexible.values())
        widths = fixed | {key: max(6, int(weight * share)) for key, weight in flexible.items()}
        titles = {"flag": "", "kind": "kind", "time": "time (UTC)", "mailbox": "mailbox", "what": "what",
                  "who": "from / to", "outside": "out", "status": "status", "attribution": "whose"}
        self.clear(columns=True)
        for key in ("flag", "kind", "mailbox", "time", "what", "who", "outside", "status", "attribution"):
            if key in widths:
                self.add_column(Text(titles[key]), key=key, width=widths[key])
        return wide

    def show(self, rows: pl.DataFrame) -> None:
        """List `rows` (the exposure's, in its order)."""
        self.exposure_rows = rows.to_dicts()
        wide = self._columns(len({row["mailbox"] for row in self.exposure_rows}))
        for index, row in enumerate(self.exposure_rows):
            uncertain = row["attribution"] != ATTACKER
            style = "dim" if uncertain else ""
            cells = {
                "flag": Text("?" if uncertain else " ", style="bold yellow"),
                "kind": Text(row["kind"], style=style), "mailbox": _cut(row["mailbox"] or "", style),
                "time": Text(_time(row["time"], wide), style=style), "what": _cut(what(row), style),
                "who": _cut(who(row), style),
                "outside": Text({True: "yes", False: "no", None: ""}[row["outside"]],
                                style="bold" if row["outside"] else style),
                "status": _cut(row["status"] or "", style), "attribution": Text(row["attribution"] or "", style=style),
            }
            self.add_row(*(cells[str(column.key.value)] for column in self.columns.values()), key=str(index))

    @property
    def current(self) -> dict | None:
        """The exposure row under the cursor."""
        if not self.exposure_rows or not 0 <= self.cursor_row < len(self.exposure_rows):
            return None
        return self.exposure_rows[self.cursor_row]


class SummaryTable(DataTable):
    """The attacker's exposure counted per mailbox, then over all of them."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", zebra_stripes=False, show_cursor=False)
        self.can_focus = False

    def show(self, summary: pl.DataFrame) -> None:
        """List `summary` (`Exposure.summary()`)."""
        wide = (self.size.width or 80) >= WIDE
        numbers = sum(max(len(wide_title if wide else narrow), 3) + 2 for _, wide_title, narrow in SUMMARY)
        self.clear(columns=True)
        self.add_column(Text("mailbox"), key="mailbox", width=max(12, (self.size.width or 80) - numbers - 2))
        for key, wide_title, narrow in SUMMARY:
            title = wide_title if wide else narrow
            self.add_column(Text(title, justify="right"), key=key, width=max(len(title), 3))
        for row in summary.iter_rows(named=True):
            total = row["mailbox"] == "all mailboxes"
            self.add_row(_cut(row["mailbox"] or "?", "bold" if total else ""),
                         *(Text(str(row[key]), justify="right", style="bold" if total else "") for key, *_ in SUMMARY))
