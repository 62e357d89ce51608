"""Faults between separate hosts: rounds of cross-node journeys while links are cut,
workers are killed at the worst steps, NATS restarts and deliveries come doubled and
reordered (``tests/faults/rounds.py``); nothing lost, doubled or out of order, every
audit chain intact.

``GOVHUB_FAULT_ROUNDS`` sets the rounds (3 by default; 100 by hand). It needs root,
iproute2 and ``/usr/sbin/nats-server``: skipped without them, failed under CI=true."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import BACKEND
from tests.faults.harness import HOSTS, Cluster, Figures, missing
from tests.faults.rounds import messages_of_round, one_round
from tests.support.served import unavailable

ROUNDS = int(os.environ.get("GOVHUB_FAULT_ROUNDS", "3"))


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    if BACKEND != "sqlite":
        pytest.skip("the hosts keep their stores in SQLite files (see tests/faults/harness.py)")
    if reason := missing():
        unavailable(reason, "run as root with iproute2 and nats-server installed")
    made = Cluster(tmp_path)
    try:
        await made.start()
        yield made
    finally:
        await made.close()


async def test_messages_between_hosts_survive_every_fault(cluster: Cluster) -> None:
    figures = Figures()
    for number in range(ROUNDS):
        await one_round(cluster, number, figures)
        print(f"round {number + 1}: {figures}", flush=True)
    print(f"faults between hosts: {figures}")
    assert figures.rounds == ROUNDS
    assert figures.messages == sum(messages_of_round(n) for n in range(ROUNDS))
    logs = "\n".join(f"--- {n}\n{cluster.tail(n)}" for n in HOSTS)
    problems = f"{figures}\n" + "\n".join(figures.notes) + "\n" + logs
    assert (figures.lost, figures.doubled, figures.out_of_order) == (0, 0, 0), problems
    assert figures.broken_chains == 0, str(figures)
