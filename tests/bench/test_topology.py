"""The per-county topology section of the bench (bench/topology.py) at a tiny size, on
SQLite: the three hubs are served over their maps, one county node as a process, and
the section has a line per query with the three hubs' numbers; the loopback hub's
answers went through the node's HTTP API (its node-call counter moved). No time is
asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.backends import SQLiteBackend
from bench.topology import (
    NODE_ALONE,
    QUERIES,
    TOPOLOGIES,
    TopologyLoad,
    node_map,
    run_topology,
)
from bench.topology_report import topology_section
from tests.conftest import BACKEND


def test_the_per_county_map_names_every_county_and_its_address() -> None:
    text = node_map({"county-140702": "http://127.0.0.1:9"}, {})
    assert text.count("[[nodes]]") == 12
    assert 'id = "jinzhong"' in text and 'levels = ["CITY"]' in text
    assert text.count("address = ") == 1
    assert 'address = "http://127.0.0.1:9"' in text


@pytest.mark.skipif(
    BACKEND == "postgres", reason="SQLite stores of its own: the SQLite pass runs it"
)
def test_the_section_runs_at_a_tiny_size_and_gives_its_rows(tmp_path: Path) -> None:
    load = TopologyLoad(
        seconds=0.2,
        levels=(1,),
        warmup=0.0,
        slice_seconds=0.2,
        audit_seconds=0.2,
        counties=("county-140702",),
    )
    said: list[str] = []
    run = run_topology(load, said.append, SQLiteBackend(folder=tmp_path / "sqlite"), tmp_path)
    assert run.served_nodes == 1
    for query in QUERIES:
        for topology in TOPOLOGIES:
            outcome = run.runs[(query.key, 1, topology)].outcome
            assert outcome.requests >= 1
            assert outcome.failures == 0, outcome.samples
        # the loopback hub reached 榆次区's node over HTTP for every query
        assert run.calls[(query.key, "loopback")] >= 1
    assert not [n for n in run.notes if "differs" in n], run.notes
    # the node answered the hub's own question directly, with the hub's token
    alone = run.runs[("division", 1, NODE_ALONE)].outcome
    assert alone.requests >= 1
    assert alone.failures == 0, alone.samples
    text = topology_section(run, load)
    assert text.startswith("## Per-county topology")
    for query in QUERIES:
        assert query.name in text
    assert "PostgreSQL only" in text  # the audit chains are not measured on SQLite
