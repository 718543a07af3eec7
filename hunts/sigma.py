"""Provides Sigma rules as hunts: the rules of the m365 and azure (sign-in, audit) log sources in folders the user
brings (a SigmaHQ checkout, their own), read with pySigma and translated by hunts/sigma_condition.py.

A rule becomes a hunt `sigma_<rule id>` titled `Sigma: <title>`, its level the severity, its ATT&CK tags
(`attack.t1114.003`, `attack.collection`) the pairs of the Office Suite matrix: a technique under the rule's
tactics that list it (else every tactic that does), a technique the matrix does not list or a rule with tactic
tags only under its tactics' `unmapped` cell, a rule without tags in the `Unmapped` column. Every rule of these
log sources that cannot run is listed in `not_run` with its file, id and reason; rules of other products are
counted per product in `other_sources`, with files that are not Sigma rules.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import yaml
from sigma.collection import SigmaCollection
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule, SigmaStatus

from hunts import attack
from hunts.conditions import check_condition
from hunts.model import AttackPair, Hunt, key_values
from hunts.sigma_condition import Untranslatable, rule_condition

#: The Sigma products whose rules are read (their services: sigma_fields.toml).
PRODUCTS = ("m365", "azure")
_PRODUCT = re.compile(r"^\s+product:\s*['\"]?([\w.-]+)", re.MULTILINE)
_RULE = re.compile(r"^(?:detection|correlation):", re.MULTILINE)
_TECHNIQUE = re.compile(r"^t\d{4}(?:\.\d{3})?$")
#: Statuses of rules their authors retired: listed as not run (a SigmaHQ checkout keeps them beside their successors).
RETIRED = (SigmaStatus.DEPRECATED, SigmaStatus.UNSUPPORTED)
NOT_A_RULE = "(not a Sigma rule)"


@dataclass(frozen=True)
class SigmaProblem:
    """A Sigma rule of an m365 or azure log source that does not run: where it is and why."""

    path: str
    rule_id: str
    title: str
    reason: str


@dataclass(frozen=True)
class SigmaPack:
    """The hunts translated from Sigma rules, the rules that cannot run, and the files left aside per product."""

    hunts: tuple[Hunt, ...] = ()
    not_run: tuple[SigmaProblem, ...] = ()
    other_sources: dict[str, int] = field(default_factory=dict)


def _tactic(tag: str) -> attack.Tactic | None:
    return attack.tactic(tag.replace("_", "-"))


def attack_pairs(tags: Iterable[str]) -> tuple[AttackPair, ...]:
    """The ATT&CK pairs of a rule's `attack.*` tag names (`t1114.003`, `collection`), as the module docstring says."""
    names = [tag.lower() for tag in tags]
    tactics = [found for found in map(_tactic, names) if found is not None]
    pairs = []
    for technique in (name.upper() for name in names if _TECHNIQUE.match(name)):
        listing = [t for t in tactics if attack.matrix_technique_id(t.name, technique)]
        listing = listing or [t for t in attack.tactics() if attack.matrix_technique_id(t.name, technique)]
        pairs += [AttackPair(t.id, t.name, technique, attack.technique_name(t.name, technique),
                             attack.matrix_technique_id(t.name, technique)) for t in listing]
        if not listing:
            for t in tactics or [attack.UNMAPPED_TACTIC]:
                pairs.append(AttackPair(t.id, t.name, technique, f"{technique} (not in the {attack.PLATFORM} matrix)",
                                        attack.UNMAPPED))
    if not pairs:
        pairs = [AttackPair(t.id, t.name, attack.UNMAPPED, "no ATT&CK technique", attack.UNMAPPED)
                 for t in tactics or [attack.UNMAPPED_TACTIC]]
    return tuple(dict.fromkeys(pairs))


def _fields(condition: object) -> list[str]:
    """The columns a condition's predicates name, in order."""
    return key_values(condition, "field", str)


def rule_hunt(rule: SigmaRule, path: Path) -> Hunt:
    """The hunt of one Sigma rule, or Untranslatable with the reason."""
    if rule.status in RETIRED:
        raise Untranslatable(f"status {rule.status.name.lower()}: retired by its authors")
    condition = rule_condition(rule)
    problems = check_condition(condition)
    if problems:
        raise Untranslatable("; ".join(f"{where}: {message}" for where, message in problems))
    rule_id = str(rule.id) if rule.id else path.stem
    level = rule.level.name.lower() if rule.level else "medium"
    tags = [tag.name for tag in rule.tags if tag.namespace == "attack"]
    false_positives = "; ".join(str(item) for item in rule.falsepositives or []) or "none listed"
    runbook = (f"Sigma rule {rule_id} ({rule.status.name.lower() if rule.status else 'no status'}) from {path}. "
               f"False positives: {false_positives}.")
    return Hunt(f"sigma_{rule_id}", f"Sigma: {rule.title}", (rule.description or rule.title).strip(), level,
                attack_pairs(tags), runbook, tuple(dict.fromkeys(_fields(condition))),
                tuple(str(reference) for reference in rule.references or []), condition, (), path)


def _rule_files(directory: Path) -> list[Path]:
    if directory.is_file():
        return [directory]
    files = [path for pattern in ("*.yml", "*.yaml") for path in directory.rglob(pattern)]
    return sorted(path for path in files if not any(part.startswith(".") for part in path.relative_to(directory).parts))


def _product(text: str) -> str | None:
    """The Sigma product a rule file names, "(no product)", or NOT_A_RULE."""
    if not _RULE.search(text):
        return NOT_A_RULE
    found = _PRODUCT.search(text)
    return found.group(1).lower() if found else "(no product)"


def load_sigma(directories: Iterable[Path]) -> SigmaPack:
    """The Sigma rules of the m365 and azure log sources under `directories` (folders, searched recursively, or
    files) as hunts, with the rules that cannot run and the count of other files per product.

    Raises FileNotFoundError naming a folder that does not exist."""
    chosen = [Path(directory) for directory in directories]
    missing = [str(directory) for directory in chosen if not directory.exists()]
    if missing:
        raise FileNotFoundError(f"Sigma rules: no such folder: {', '.join(missing)}")
    hunts: dict[str, Hunt] = {}
    not_run: list[SigmaProblem] = []
    others: dict[str, int] = {}
    for path in (path for directory in chosen for path in _rule_files(directory)):
        text = path.read_text(encoding="utf-8", errors="replace")
        product = _product(text)
        if product not in PRODUCTS:
            others[product] = others.get(product, 0) + 1
            continue
        try:
            rules = SigmaCollection.from_yaml(text, collect_errors=True).rules
        except (SigmaError, yaml.YAMLError) as error:
            not_run.append(SigmaProblem(str(path), "", "", f"not readable: {' '.join(str(error).split())}"))
            continue
        for rule in rules:
            rule_id, title = str(getattr(rule, "id", "") or ""), str(getattr(rule, "title", "") or "")
            if not isinstance(rule, SigmaRule):
                not_run.append(SigmaProblem(str(path), rule_id, title, "correlation rules (counts, sequences of "
                                            "rules) are not supported"))
                continue
            try:
                hunt = rule_hunt(rule, path)
            except Untranslatable as error:
                not_run.append(SigmaProblem(str(path), rule_id, title, str(error)))
                continue
            if hunt.id in hunts:
                not_run.append(SigmaProblem(str(path), rule_id, title, f"duplicate rule id (also in {hunts[hunt.id].path})"))
                continue
            hunts[hunt.id] = hunt
    return SigmaPack(tuple(hunts.values()), tuple(not_run), dict(sorted(others.items())))
