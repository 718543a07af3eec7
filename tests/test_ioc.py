"""The IOC sweep: an indicator list with the article's IPs and domains flags the actor's events, and says
which indicator matched in which field."""

import json

import polars as pl
import pytest

from workbench.cli import main
from workbench.core.cases import plan_case_set
from workbench.core.ioc import IocFileError, classify, ioc_matches, parse_iocs

ARTICLE_IOCS = """\
# Sophos X-Ops, Investigator API yourself: shared addresses (defanged as published)
104.161.20[.]102
20.232.202[.]245
185.241.149[.]122

# infrastructure put on the tenant allow list
iad3a.emailsrvr[.]com
continental-database[.]com
botasso.cl
ioflood.com
"""
ATTACKER_ACCOUNTS = {"compromisedadmin@example.com", "compromisedadmin@example.net", "admin@example.onmicrosoft.com",
                     "financeuser@example.net"}
#: With the Entra sign-ins: TargetUser's stolen session replayed (case A) and case B's original admin account
#: signing in from the shared addresses.
ATTACKER_USED = ATTACKER_ACCOUNTS | {"targetuser@example.com", "admin@examplenet.onmicrosoft.com"}


@pytest.fixture(scope="module")
def events(tmp_path_factory, sample_logs):
    root = tmp_path_factory.mktemp("ioc-cases")
    cases = plan_case_set([sample_logs / "case-a", sample_logs / "case-b"], [], case_dir=root)
    cases.open()
    return cases.activity()


def test_parse_text_with_comments_and_defanged_values():
    iocs = parse_iocs(ARTICLE_IOCS)
    assert [(ioc.value, ioc.type) for ioc in iocs][:4] == [
        ("104.161.20.102", "ip"), ("20.232.202.245", "ip"), ("185.241.149.122", "ip"), ("iad3a.emailsrvr.com", "domain")]
    assert len(iocs) == 7 and iocs[0].line == 2


def test_parse_csv_with_types_and_report_every_bad_line():
    iocs = parse_iocs('indicator,type\n"Block Spoofing",rule_name\n10.0.0.0/8,\nEvil@Example.org,email\n')
    assert [(i.value, i.type, i.key) for i in iocs] == [
        ("Block Spoofing", "rule_name", "block spoofing"), ("10.0.0.0/8", "cidr", "10.0.0.0/8"),
        ("Evil@Example.org", "email", "evil@example.org")]
    with pytest.raises(IocFileError) as error:
        parse_iocs("indicator,type\nx,bogus\n1.2.3,ip\n", source=__import__("pathlib").Path("list.csv"))
    assert str(error.value).splitlines() == [
        "list.csv:2: type 'bogus': expected one of ip, cidr, domain, email, user_agent, session, rule_name",
        "list.csv:3: '1.2.3' is not a valid ip: '1.2.3' does not appear to be an IPv4 or IPv6 address"]


@pytest.mark.parametrize("text, kind", [
    ("2001:db8::1", "ip"), ("192.0.2.0/24", "cidr"), ("a@b.example", "email"), ("mail.example.co.uk", "domain"),
    ("Mozilla/5.0 (X11)", "user_agent"), ("redirect [REDACTED] email to DC", "rule_name"),
])
def test_classify_by_shape(text, kind):
    assert classify(text) == kind


def test_article_indicators_flag_the_actors_events_and_only_those(events):
    matches = ioc_matches(events, parse_iocs(ARTICLE_IOCS))
    flagged = events.filter(pl.col("record_id").is_in(matches["record_id"].implode()))
    assert set(flagged.filter(pl.col("source") == "ual")["user_key"]) <= ATTACKER_ACCOUNTS
    # the message trace names the mailboxes the attacker sent lures from (case B: TargetUser, sent as her)
    assert set(flagged["user_key"]) <= ATTACKER_USED | {"targetuser@example.net"}
    from_shared_ips = events.filter(pl.col("client_ip").is_in(["104.161.20.102", "20.232.202.245", "185.241.149.122"]))
    assert set(from_shared_ips["record_id"]) <= set(matches["record_id"])
    where = {(row["record_id"][:8], row["indicator"], row["field"]) for row in matches.iter_rows(named=True)}
    assert ("9e35b53d", "104.161.20.102", "SendingInfrastructure") in where  # the IP put on the allow list
    assert ("54b73f0b", "botasso.cl", "SendingInfrastructure") in where  # case A spoof item
    assert ("e1e2286f", "botasso.cl", "SendingInfrastructure") in where  # case B spoof item
    assert ("aa7f25a4", "botasso.cl", "parameters") in where  # the "Bypass SPAM Filter" rule's SenderDomainIs
    assert ("554c6276", "iad3a.emailsrvr.com", "SendingInfrastructure") in where
    assert "ioflood.com" not in set(matches["indicator"])  # not in the logs


def test_cidr_email_agent_and_rule_name(events):
    iocs = parse_iocs("104.161.20.0/24\ncompromisedadmin@example.net\nFirefox/110.0\nBlock Spoofing\n")
    matches = ioc_matches(events, iocs)
    by_ip = set(events.filter(pl.col("client_ip") == "104.161.20.102")["record_id"])
    assert set(matches.filter((pl.col("indicator") == "104.161.20.0/24") & (pl.col("field") == "client_ip"))["record_id"]) == by_ip
    email_fields = set(matches.filter(pl.col("indicator") == "compromisedadmin@example.net")["field"])
    assert {"user_id", "ModerateMessageByUser", "RedirectMessageTo"} <= email_fields
    agents = matches.filter(pl.col("type") == "user_agent")
    assert set(events.filter(pl.col("record_id").is_in(agents["record_id"].implode()))["user_key"]) == ATTACKER_USED
    assert agents.height == agents["record_id"].n_unique()  # one row per event even with two spellings of the agent
    rules = matches.filter(pl.col("type") == "rule_name")
    assert sorted(rules["operation"]) == ["Enable-TransportRule", "New-TransportRule"]


def test_cli(tmp_path, sample_logs, capsys):
    iocs = tmp_path / "iocs.txt"
    iocs.write_text(ARTICLE_IOCS)
    args = ["ioc", str(sample_logs / "case-a"), "--case-dir", str(tmp_path / "cases"), "--iocs", str(iocs)]
    assert main([*args, "--format", "json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert {"indicator", "type", "field", "record_id", "creation_time"} <= set(rows[0])
    assert "no match: botasso.cl" not in captured.err and "ioflood.com" in captured.err
    bad = tmp_path / "bad.csv"
    bad.write_text("indicator,type\nx,nonsense\n")
    assert main(["ioc", str(sample_logs / "case-a"), "--case-dir", str(tmp_path / "cases"), "--iocs", str(bad)]) == 2


def test_the_sweep_a_batch_of_events_at_a_time_finds_what_one_batch_finds(events, monkeypatch):
    import workbench.core.memory as memory

    whole = ioc_matches(events, parse_iocs(ARTICLE_IOCS))
    monkeypatch.setattr(memory, "BATCH_ROWS", 500)
    assert events.height > 10 * 500 and whole.height > 20
    assert ioc_matches(events.lazy(), parse_iocs(ARTICLE_IOCS)).equals(whole)
