"""``govhub timers run`` leaves a node the map gives an address alone (it runs its own
timers, ``govhub node serve``) and passes over it when told ``--node``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main

# the embedded map, the county node served on its own (nothing needs to listen there:
# the hub's pass does not call a node, it leaves its store alone)
NODES = """
[[nodes]]
id = "city"
prefixes = [""]
levels = ["CITY"]

[[nodes]]
id = "county"
prefixes = [""]
levels = ["COUNTY"]
address = "http://127.0.0.1:9"

[[nodes]]
id = "town"
prefixes = [""]
levels = ["TOWN"]

[[nodes]]
id = "village"
prefixes = [""]
levels = ["VILLAGE"]
"""


def test_timers_run_skips_a_served_node_unless_told_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "nodes.toml").write_text(NODES, encoding="utf-8")
    monkeypatch.setenv("GOVHUB_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GOVHUB_SECRET_KEY", "cli-test-secret")
    monkeypatch.setenv("GOVHUB_NODES", str(tmp_path / "nodes.toml"))
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0

    every = runner.invoke(main, ["timers", "run"])
    assert every.exit_code == 0, every.output
    assert every.output.startswith("city 0, town 0, village 0 timers fired;"), every.output

    told = runner.invoke(main, ["timers", "run", "--node", "county"])
    assert told.exit_code == 0, told.output
    assert told.output.startswith("county 0 timers fired;"), told.output

    unknown = runner.invoke(main, ["timers", "run", "--node", "nowhere"])
    assert unknown.exit_code != 0 and "no node nowhere" in unknown.output
