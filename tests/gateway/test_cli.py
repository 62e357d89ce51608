"""The ``govhub`` command as ``make run`` uses it: init, demo (once), export-schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main


def test_init_then_demo_twice_loads_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the embedded default: SQLite files under GOVHUB_VAR_DIR
    monkeypatch.setenv("GOVHUB_VAR_DIR", str(tmp_path / "var"))
    runner = CliRunner()
    first = runner.invoke(main, ["init"])
    assert first.exit_code == 0, first.output
    assert sorted(p.name for p in (tmp_path / "var").glob("*.sqlite3")) == [
        "city.sqlite3",
        "county.sqlite3",
        "identity.sqlite3",
        "town.sqlite3",
        "village.sqlite3",
    ]
    loaded = runner.invoke(main, ["demo"])
    assert loaded.exit_code == 0, loaded.output
    assert "demo city loaded" in loaded.output and "matters 34" in loaded.output
    again = runner.invoke(main, ["demo", "--if-empty"])
    assert again.exit_code == 0 and "already loaded" in again.output
    refused = runner.invoke(main, ["demo", "--always"])
    assert refused.exit_code != 0


def test_export_schema_prints_the_sdl() -> None:
    result = CliRunner().invoke(main, ["export-schema"])
    assert result.exit_code == 0
    assert "serviceRoutes(divisionCode: String!" in result.output


def test_timers_run_fires_due_deadlines_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    monkeypatch.setenv("GOVHUB_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GOVHUB_SECRET_KEY", "cli-test-secret")
    runner = CliRunner()
    assert runner.invoke(main, ["demo"]).exit_code == 0
    # the demo's "now" is 2026-11-20; a fortnight later every notice deadline has passed
    monkeypatch.setenv("GOVHUB_CLOCK_OVERRIDE", "2026-12-04T10:00:00+08:00")
    first = runner.invoke(main, ["timers", "run"])
    assert first.exit_code == 0, first.output
    fired = dict(part.split() for part in first.output.split(" timers fired")[0].split(", "))
    assert int(fired["county"]) >= 2
    cards = dict(
        part.split()
        for part in first.output.split("; ")[1].split(" supervision cards")[0].split(", ")
    )
    assert int(cards["county"]) >= 2
    again = runner.invoke(main, ["timers", "run"])
    assert again.output.strip() == (
        "city 0, county 0, town 0, village 0 timers fired; "
        "city 0, county 0, town 0, village 0 supervision cards issued; "
        "city 0, county 0, town 0, village 0 licences expired"
    )
    db = sqlite3.connect(tmp_path / "var" / "county.sqlite3")
    statuses = dict(db.execute("select number, status from cases").fetchall())
    issued = db.execute("select case_number, color from supervision_cards").fetchall()
    db.close()
    # the demo's overdue case has its red card (and the yellow one before it), once
    red = "140702000000-20261026-00001"
    assert sorted(c for n, c in issued if n == red) == ["RED", "YELLOW"]
    # received 11-19 with no notice: deemed accepted; the notice of 11-18 ran out
    assert statuses["140702000000-20261119-00001"] == "ACCEPTED"
    assert statuses["140702000000-20261118-00001"] == "CLOSED_UNSUPPLEMENTED"


def test_licence_kit_and_key_rotation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An offline verifier's kit on disk verifies a demo licence; after a rotation the
    old licences still verify and the status list is signed with the new key."""
    import base64
    import datetime as dt
    import json
    import sqlite3

    from levels.common.clock import CHINA
    from levels.licences.offline import Kit, verify_offline

    monkeypatch.setenv("GOVHUB_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GOVHUB_SECRET_KEY", "cli-test-secret")
    runner = CliRunner()
    assert runner.invoke(main, ["demo"]).exit_code == 0
    town = sqlite3.connect(tmp_path / "var" / "town.sqlite3")
    ((org, token),) = town.execute(
        "select issuer_org_code, token from licences where status = 'VALID'"
    ).fetchall()
    now = dt.datetime(2026, 11, 20, 12, tzinfo=CHINA)  # the demo's day

    written = runner.invoke(main, ["licences", "kit", "-o", str(tmp_path / "kit.json")])
    assert written.exit_code == 0 and "status lists" in written.output, written.output
    kit = json.loads((tmp_path / "kit.json").read_text(encoding="utf-8"))
    assert verify_offline(token, Kit(kit), now).outcome.value == "VALID"

    rotated = runner.invoke(main, ["licences", "rotate-key", org])
    assert rotated.exit_code == 0, rotated.output
    new_kid = rotated.output.split(": ", 1)[1].split()[0]
    assert "retired" in rotated.output
    after = json.loads(runner.invoke(main, ["licences", "kit"]).output)
    assert new_kid in {k["kid"] for k in after["jwks"]["keys"]}
    assert verify_offline(token, Kit(after), now).outcome.value == "VALID"
    header = after["statusLists"][org].split(".")[0]
    status_kid = json.loads(base64.urlsafe_b64decode(header + "=="))["kid"]
    assert status_kid == new_kid
    unknown = runner.invoke(main, ["licences", "rotate-key", "91110000600037341L"])
    assert unknown.exit_code != 0 and "no service org" in unknown.output


def test_a_node_s_own_relay_needs_nats_and_the_hub_s_node_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVHUB_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GOVHUB_MESSAGE_TRANSPORT", "inprocess")
    runner = CliRunner()
    unknown = runner.invoke(main, ["relay", "--once", "--node", "nowhere"])
    assert unknown.exit_code == 1 and "no node 'nowhere' in the node map" in unknown.output
    alone = runner.invoke(main, ["relay", "--once", "--node", "county"])
    assert alone.exit_code == 1
    assert "--node needs GOVHUB_MESSAGE_TRANSPORT=nats and GOVHUB_NODE_KEYS_URL" in alone.output
    # nothing was opened: no store file was made
    assert not (tmp_path / "var").exists() or not list((tmp_path / "var").glob("*.sqlite3"))
