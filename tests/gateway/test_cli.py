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
