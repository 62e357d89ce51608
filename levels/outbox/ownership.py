"""Who may send and who may receive a cross-node message, by the node map.

A message belongs to a division (``div``: its case's, or the one its source named).
Its source node is the node owning that division's ancestor at the source level, its
target the node owning the ancestor at the target level (``NodeMap.owner``). A
receiver refuses a message signed by any other node than the source's owner, and one
addressed to a target it does not own; a source takes a receipt only from the owner of
its message's target."""

from __future__ import annotations

from levels.common.codes import DivisionCode, level_of_division
from levels.common.enums import Level
from levels.common.nodemap import NodeMap


class NotOwned(Exception):
    """The division or its node could not be found: why, for the incident."""


def division_at(code: str, level: Level) -> DivisionCode:
    """The division at ``level`` that ``code`` lies in (itself, or an ancestor)."""
    own = level_of_division(code)
    if own is None:
        raise NotOwned(f"{code!r} is not a division code")
    division = DivisionCode(code, own).at(level)
    if division is None:
        raise NotOwned(f"division {code} has no {level.value} division above it")
    return division


def owner(nodemap: NodeMap, code: str | None, level: Level | str | None) -> str:
    """The id of the node owning the division ``code`` lies in, at ``level``."""
    if not code or level is None:
        raise NotOwned("the message names no division or level")
    try:
        at = Level(level) if isinstance(level, str) else level
    except ValueError:
        raise NotOwned(f"unknown level {level!r}") from None
    if level_of_division(code) is None:
        # rows written before every message named its division (a licence's made-up
        # case number): the one node holding the level, when there is one
        single = nodemap.single(at)
        if single is None:
            raise NotOwned(f"{code!r} is not a division code")
        return single.id
    division = division_at(code, at)
    # the one rule of the node map: the owner of the division's ancestor at ``at``
    found = nodemap.owner_or_none(division.code, division.level)
    if found is None:
        raise NotOwned(f"no node owns division {division.code}")
    return found.id
