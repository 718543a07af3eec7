"""Provides the attribution marks as the views show and change them: the IPs, sessions and user agents the analyst
marked in the case store as the attacker's (or as not the attacker's), what the workbench proposes until anything
is marked, the one-character flag of each, and the `A` / `X` keys every view shares (`AttributionKeys`).

`A` toggles the attacker's ↔ not marked, `X` toggles not the attacker's ↔ not marked (a proposal then leaves the
value out). Each change is committed to the case store at once (store.py); the views read the marks again when
they are shown.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl
from rich.text import Text
from textual.app import App
from textual.binding import Binding

from workbench.core.attribution import ATTACKER, KINDS, NOT_ATTACKER, Attribution, marked, propose
from workbench.core.indicators import normalised_user_agent
from workbench.core.inert import visible

PROPOSED = "proposed"
#: The flag of each state (a value neither marked nor proposed shows a space).
FLAGS = {ATTACKER: "A", PROPOSED: "a", NOT_ATTACKER: "-"}
STYLES = {ATTACKER: "bold red", PROPOSED: "red", NOT_ATTACKER: "dim"}
LEGEND = "A the attacker's · a proposed as the attacker's (not accepted) · - not the attacker's"
KIND_NAMES = {"ip": "IP", "session": "session", "user_agent": "user agent"}
STATE_NAMES = {ATTACKER: "the attacker's", PROPOSED: "proposed as the attacker's", NOT_ATTACKER: "not the attacker's",
               None: "not attributed"}

#: The same two keys in every view that shows IPs, sessions or user agents.
ATTRIBUTION_BINDINGS = [
    Binding("A", "attribute('attacker')", "Attacker's", id="attribution.attacker",
            tooltip="Mark the IP, session or user agent under the cursor as the attacker's (again: unmark it)"),
    Binding("X", "attribute('not_attacker')", "Not attacker's", id="attribution.not_attacker", show=False,
            tooltip="Say the IP, session or user agent under the cursor is not the attacker's (a proposal drops it)"),
]


@dataclass(frozen=True)
class Choice:
    """Something the analyst can attribute: a kind (`ip`, `session`, `user_agent`), the values stored for it (a
    normalised user agent stands for every raw string seen) and how it is shown."""

    kind: str
    values: tuple[str, ...]
    label: str = ""

    @property
    def shown(self) -> str:
        """The value as shown (inert)."""
        return visible(self.label or self.values[0])


def choice(kind: str, value: str) -> Choice:
    """One value of one kind."""
    return Choice(kind, (value,), value)


@dataclass(frozen=True)
class Marks:
    """What the case store says (kind, value) -> verdict, and the proposal in force while nothing is marked."""

    verdicts: dict[tuple[str, str], str] = field(default_factory=dict)
    proposal: Attribution | None = None

    def state(self, kind: str, values: Iterable[str]) -> str | None:
        """`attacker`, `not_attacker`, `proposed` or None for these values of `kind` (the attacker's wins)."""
        values = [value for value in values if value]
        stored = {self.verdicts.get((kind, value)) for value in values}
        if ATTACKER in stored:
            return ATTACKER
        if self.proposal is not None and any(value in self.proposal.values(kind) for value in values):
            return PROPOSED
        return NOT_ATTACKER if NOT_ATTACKER in stored else None

    def flag(self, kind: str, values: Iterable[str]) -> Text:
        """The one-character flag of these values (a space when there is none)."""
        state = self.state(kind, values)
        return Text(FLAGS[state], style=STYLES[state]) if state else Text(" ")

    def values(self, kind: str, state: str) -> set[str]:
        """The values of `kind` in `state`."""
        if state == PROPOSED:
            return set() if self.proposal is None else set(self.proposal.values(kind))
        return {value for (k, value), verdict in self.verdicts.items() if k == kind and verdict == state}

    def agent_flag(self, normalised: str) -> Text:
        """The flag of a user agent shown without Exchange's `Client=…;` prefix (correlate, timeline)."""
        for state in (ATTACKER, PROPOSED, NOT_ATTACKER):
            if normalised in _normalised(self.values("user_agent", state)):
                return Text(FLAGS[state], style=STYLES[state])
        return Text(" ")

    def records(self, events: pl.DataFrame) -> tuple[set[str], set[str]]:
        """The record ids of `events` carrying an IP, session or user agent marked as the attacker's, and those
        carrying one only proposed."""
        return (_carrying(events, {kind: self.values(kind, ATTACKER) for kind in KINDS}),
                _carrying(events, {kind: self.values(kind, PROPOSED) for kind in KINDS}))

    @property
    def empty(self) -> bool:
        return not self.verdicts and (self.proposal is None or self.proposal.empty)


def _normalised(agents: set[str]) -> set[str]:
    if not agents:
        return set()
    return set(pl.DataFrame({"user_agent": sorted(agents)}).select(normalised_user_agent())["user_agent"].drop_nulls())


def _carrying(events: pl.DataFrame, wanted: dict[str, set[str]]) -> set[str]:
    conditions = [pl.col(KINDS[kind]).is_in(sorted(values)).fill_null(False)
                  for kind, values in wanted.items() if values and KINDS[kind] in events.columns]
    if not conditions:
        return set()
    return set(events.filter(pl.any_horizontal(conditions))["record_id"].to_list())


def _loaded(app: App):
    return getattr(app, "loaded", None)


def read_marks(app: App) -> Marks:
    """The marks of the app's case, and the proposal (from the loader's hunt hits and the cached enrichment) while
    nothing is marked as the attacker's."""
    loaded = _loaded(app)
    if loaded is None:
        return Marks()
    pairs = loaded.case.store.attribution()
    verdicts = {(kind, value): verdict for kind, value, verdict in pairs}
    proposal = None
    if marked(pairs).empty and loaded.hits is not None:
        proposal = propose(loaded.events, loaded.hits, loaded.enrichment, pairs)
    return Marks(verdicts, proposal)


def toggle(app: App, chosen: Choice, verdict: str) -> str:
    """Give `chosen` the `verdict` (attacker or not_attacker), or forget it when it has that verdict already;
    committed at once. Returns what the status line says."""
    before = read_marks(app)
    stored = {before.verdicts.get((chosen.kind, value)) for value in chosen.values}
    new = None if stored == {verdict} else verdict
    _loaded(app).case.store.set_attribution(chosen.kind, list(chosen.values), new)
    what = f"{KIND_NAMES[chosen.kind]} {chosen.shown}"
    if new is None:
        return f"{what}: no longer attributed"
    said = f"{what}: {STATE_NAMES[new]} (stored in the case)"
    if new == ATTACKER and before.proposal is not None and not before.proposal.empty:
        said += "; your marks now replace the proposal"
    return said


class AttributionKeys:
    """The `A` and `X` keys of a view (put `ATTRIBUTION_BINDINGS` in its BINDINGS): the view lists what can be
    attributed under its cursor (`attribution_choices`) and shows the marks again (`show_marks`); with several
    choices a menu asks which."""

    def attribution_choices(self) -> list[Choice]:
        """What the cursor is on that can be attributed (IP, session, user agent)."""
        raise NotImplementedError

    def show_marks(self, marks: Marks) -> None:
        """Show the flags of `marks`."""
        raise NotImplementedError

    def action_attribute(self, verdict: str) -> None:
        from workbench.ui.screens.attribution_menu import AttributionMenu

        choices = self.attribution_choices()
        if not choices:
            self.say("nothing under the cursor to attribute (an IP, session or user agent)")
            return
        if len(choices) == 1:
            self._attribute(choices[0], verdict)
            return

        def chosen(picked: Choice | None) -> None:
            if picked is not None:
                self._attribute(picked, verdict)

        self.app.push_screen(AttributionMenu(choices, read_marks(self.app), verdict), chosen)

    def _attribute(self, chosen: Choice, verdict: str) -> None:
        said = toggle(self.app, chosen, verdict)
        self.show_marks(read_marks(self.app))
        self.say(said)
