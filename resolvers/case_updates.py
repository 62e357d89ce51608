"""Telling the subscribers of a case that it changed.

Resolvers (with ``info.context.broker``) and the background workers call
``publish_case_updated`` after the transaction that changed a case has committed: it
publishes the case's number on channel ``case:<number>`` — never the case itself. Its
subscribers (``resolvers/case_events.py``) read the case afresh."""

from __future__ import annotations

import asyncio
import logging

from resolvers.pubsub import DELIVERY_ERRORS, Broker

log = logging.getLogger("govhub.case_events")

# a publish that takes longer is given up (the change itself has committed)
PUBLISH_SECONDS = 2.0


def case_channel(number: str) -> str:
    return f"case:{number}"


async def publish_case_updated(broker: Broker, number: str) -> None:
    """Tell the subscribers of case ``number`` that it changed. Call it once the change
    has committed. Best effort: a broker that does not answer is logged, not raised —
    the change stands, and a subscriber sees it at the next one."""
    try:
        async with asyncio.timeout(PUBLISH_SECONDS):
            await broker.publish(case_channel(number), number)
    except DELIVERY_ERRORS as e:
        log.warning("case %s changed, but telling its subscribers failed: %r", number, e)
