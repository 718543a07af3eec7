"""The hunt pack lints itself: ATT&CK pairs, unique ids, inline tests present and passing, coverage."""

from hunts import attack
from hunts.selftest import run_inline_tests
from hunts.loader import RULES_DIR

ARTICLE_AND_BEYOND = {
    "T1078.004", "T1136.003", "T1098", "T1098.002", "T1098.003", "T1114.002", "T1114.003", "T1564.008",
    "T1562.001", "T1562.008", "T1070.008", "T1556.006", "T1528", "T1098.001", "T1110.001", "T1110.003",
    "T1530", "T1213.002", "T1534", "T1539", "T1567",
}


def test_pack_has_at_least_fifty_hunts_one_per_file(pack):
    files = sorted(path.stem for path in RULES_DIR.glob("*.toml"))
    assert len(pack) >= 50
    assert sorted(hunt.id for hunt in pack) == files


def test_hunt_ids_are_unique(pack):
    seen, offenders = set(), []
    for hunt in pack:
        if hunt.id in seen:
            offenders.append(hunt.id)
        seen.add(hunt.id)
    assert offenders == []


def test_every_technique_belongs_to_its_tactic_in_the_pinned_matrix(pack):
    offenders = [
        f"{hunt.id}: {pair.tactic}:{pair.technique_id}"
        for hunt in pack for pair in hunt.attack
        if attack.matrix_technique_id(pair.tactic, pair.technique_id) != pair.matrix_id
        or pair.matrix_id not in {t.id for t in attack.techniques(pair.tactic)}
        or attack.tactic(pair.tactic).id != pair.tactic_id
    ]
    assert offenders == []


def test_every_hunt_has_positive_and_negative_inline_tests(pack):
    offenders = [
        f"{hunt.id}: {'no positive test' if not any(t.positive for t in hunt.tests) else 'no negative test'}"
        for hunt in pack
        if not any(t.positive for t in hunt.tests) or all(t.positive for t in hunt.tests)
    ]
    assert offenders == []


def test_every_inline_test_passes(pack):
    failures = [failure for hunt in pack for failure in run_inline_tests(hunt)]
    assert failures == []


def test_every_inline_test_passes_on_only_the_columns_the_hunt_is_said_to_read(pack):
    """`workbench hunt` reads only the events' columns `columns_read` names: a column a hunt reads that it does not
    name (through a decoded helper, the actor test) would fail here."""
    failures = [failure for hunt in pack for failure in run_inline_tests(hunt, narrow=True)]
    assert failures == []


def test_every_hunt_has_runbook_fields_and_references(pack):
    offenders = [hunt.id for hunt in pack if not (hunt.runbook and hunt.fields and hunt.references and hunt.description)]
    assert offenders == []


def test_pack_covers_the_article_and_beyond(pack):
    covered = {pair.technique_id for hunt in pack for pair in hunt.attack}
    assert ARTICLE_AND_BEYOND - covered == set()
