"""The settings of the workers ``govhub node serve`` runs beside a node's API (DESIGN
§2: a node is one deployment with its own timers): a mixin of ``gateway.settings``'s
``Settings``, whose fields they are (``GOVHUB_`` prefix, in the configuration
reference like every other)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings


class NodeWorkerSettings(BaseSettings):
    node_calls: Literal["sql", "api"] = Field(
        default="sql",
        description="How the hub reaches a node the map gives no address (the embedded "
        "default's `city`, `county`, `town`, `village`): `sql`, by SQL over its store in "
        "the hub's process; `api`, through the same node API as a node with an address, "
        "served in the hub's process over an ASGI transport (no sockets). The hub's timers "
        "and message relay serve those stores either way",
    )
    node_timer_interval_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How often `govhub node serve` runs the timer pass over its own store "
        "(deadlines, cards, licence expiry, overdue 整改 and 投诉, its audit heads signed "
        "with its own key); 0: not in that process",
    )
    node_relay_interval_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How often `govhub node serve` carries its own outbox to the target "
        "nodes' inboxes (their `/inbox` at the map's address) and takes their receipts; "
        "0: not in that process",
    )
