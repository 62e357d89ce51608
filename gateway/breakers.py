"""The node breakers live with the hub (``resolvers/breakers.py``); re-exported for the
entry points that name them here."""

from resolvers.breakers import BreakerOpen, BreakerState, NodeBreakers, unreachable

__all__ = ["BreakerOpen", "BreakerState", "NodeBreakers", "unreachable"]
