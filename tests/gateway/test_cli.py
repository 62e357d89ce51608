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
