"""The timer worker: fires due case timers in every level store, in the gateway
process by default (``GOVHUB_TIMER_INTERVAL_SECONDS``, 0 = off) and on demand with
``govhub timers run``. Timers are rows, so a worker that stops (or several that run)
loses and doubles nothing."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from gateway.nodes import NodeRegistry
from levels.calendar.workdays import WorkCalendar, load_calendar
from levels.cases.timers import fire_due_timers
from levels.common.clock import Clock

log = logging.getLogger("govhub.timers")


async def _calendar(session: Any) -> WorkCalendar:
    return await load_calendar(session=session)


async def fire_all(nodes: NodeRegistry, clock: Clock) -> dict[str, int]:
    """One pass over every level store; returns the timers fired per store."""
    fired: dict[str, int] = {}
    for node in nodes:
        fired[node.name] = await fire_due_timers(node.sessions, now=clock.now(), calendar=_calendar)
    return fired


async def run_forever(nodes: NodeRegistry, clock: Clock, interval: float) -> None:
    while True:
        try:
            fired = await fire_all(nodes, clock)
            if any(fired.values()):
                log.info("timers fired: %s", fired)
        except Exception:  # a store that is down now is retried next round
            log.exception("timer pass failed")
        await asyncio.sleep(interval)
