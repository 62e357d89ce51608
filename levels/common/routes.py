"""Service routes: "a resident of division D wants matter M — where is it decided, where
can it be handed in, which way does it travel?" (DESIGN §3 ServiceRoute).

A pure computation over the implementation lists of D's chain of divisions (city,
county, town, village) and the county's delegations, so it can be tested without a
database and every caller computes routes the same way."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from levels.common.codes import DivisionCode
from levels.common.enums import Level, VillageServiceMode
from levels.common.models import MatterImplementation
from levels.common.reads import ReadRow
from levels.county.service import DelegationView

# an item as the ORM maps it or as a read path's Core row (same attribute names)
Item = MatterImplementation | ReadRow


@dataclass(frozen=True)
class Route:
    basic_code: str
    decider: Item
    # division codes where the application may be handed in, lowest level first; the
    # last one is the deciding division
    path: tuple[str, ...]
    preliminary_review_at: str | None
    delegation: DelegationView | None
    village_modes: tuple[VillageServiceMode, ...]


def delegation_in_force(
    impl: Item,
    town_code: str,
    delegations: Mapping[str, DelegationView],
    now: dt.datetime,
) -> DelegationView | None:
    """The delegation a town's delegated item decides under, while it is in force and
    names ``town_code``; None otherwise."""
    if impl.delegation_id is None:
        return None
    view = delegations.get(impl.delegation_id)
    if view is None or not view.covers(town_code) or not view.in_force(now):
        return None
    return view


def compute_routes(
    division: DivisionCode,
    implementations: Iterable[Item],
    delegations: Iterable[DelegationView],
    *,
    now: dt.datetime,
) -> list[Route]:
    """Routes for every matter a resident of ``division`` can do, ordered by basic code.

    ``implementations`` are the published items of the orgs of ``division.chain``.
    The deciding item is the lowest-level one in force: a town's delegated item counts
    only while its delegation is in force and names the town; otherwise the county's
    own item decides (cases in flight are unaffected: they carry their route)."""
    chain = {d.level: d.code for d in division.chain}
    by_delegation = {v.row.id: v for v in delegations}
    per_matter: dict[str, list[Item]] = defaultdict(list)
    for impl in implementations:
        if chain.get(impl.level) == impl.division_code:
            per_matter[impl.basic_code].append(impl)

    routes: list[Route] = []
    for basic_code in sorted(per_matter):
        decider: Item | None = None
        delegation: DelegationView | None = None
        for impl in sorted(per_matter[basic_code], key=lambda i: i.level.depth, reverse=True):
            if impl.delegated_from is not None:
                view = delegation_in_force(impl, chain[Level.TOWN], by_delegation, now)
                if view is None:
                    continue
                delegation = view
            decider = impl
            break
        if decider is None:
            continue
        receive = {Level(v) for v in decider.receive_levels}
        below = [
            lv for lv in (Level.VILLAGE, Level.TOWN, Level.COUNTY) if lv.depth > decider.level.depth
        ]
        path = (
            *(chain[lv] for lv in below if lv in receive and lv in chain),
            decider.division_code,
        )
        review = (
            chain[Level.TOWN]
            if decider.preliminary_review
            and Level.TOWN in receive
            and Level.TOWN in chain
            and decider.level.depth < Level.TOWN.depth
            else None
        )
        if decider.level is Level.VILLAGE or (Level.VILLAGE in receive and Level.VILLAGE in chain):
            modes = tuple(VillageServiceMode(m) for m in decider.village_modes)
        else:
            modes = ()
        routes.append(Route(basic_code, decider, path, review, delegation, modes))
    return routes
