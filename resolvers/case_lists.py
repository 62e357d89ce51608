"""The list of cases (``cases``) over nodes reached through their API: which cases a
viewer may list (``CaseScope``, from the policy table's READ grants — as SQL for a
store, as a test of a row for a node), and the pages of a node's key-range list of
cases (``cases(under:)``, number order, its cursor) the hub asks for until it holds a
page of the cases that pass the filter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_

from auth.enums import AccountKind
from auth.policy import Action, Resource, Target, allows, jurisdiction_prefix, served_village
from auth.viewer import Viewer
from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from levels.cases.numbers import held_within
from levels.common.codes import parse_division
from levels.common.enums import LEVELS
from levels.common.ranges import within
from levels.common.reads import table
from levels.node.case_filter import CaseConditions
from resolvers import remote
from resolvers.nodeclient import NodeClient
from resolvers.registry import Node, NodeRegistry
from schema.case_inputs import CaseFilter

_case = table(Case)


@dataclass(frozen=True)
class CaseScope:
    """The cases a viewer may list (the policy table's READ grants): their own
    (``subject``), every case received at their station's village (``received_in``), or
    the cases held within their jurisdiction (``held_in``, a division-code prefix) —
    as SQL for a store, as a test of a row for a node's range list."""

    subject: str | None = None
    received_in: str | None = None
    held_in: str = ""

    def sql(self, stmt: Select[Any]) -> Select[Any]:
        c = _case.c
        if self.subject is not None:
            return stmt.where(or_(c.applicant_id == self.subject, c.submitted_by == self.subject))
        if self.received_in is not None:
            return stmt.where(within(c.number, self.received_in))
        return stmt.where(held_within(c.number, c.division_code, self.held_in))

    def keeps(self, row: Case) -> bool:
        if self.subject is not None:
            return self.subject in (row.applicant_id, row.submitted_by)
        if self.received_in is not None:
            return row.number.startswith(self.received_in)
        return row.number.startswith(self.held_in) and row.division_code.startswith(self.held_in)


def case_scope(viewer: Viewer) -> CaseScope | None:
    if viewer.kind in (AccountKind.PERSON, AccountKind.ENTERPRISE):
        # their own, and what they handed in for an enterprise they represent
        return CaseScope(subject=viewer.subject)
    if viewer.kind is AccountKind.AGENT:
        # every case handed in at their station: its number names their village
        village = served_village(viewer)
        return CaseScope(received_in=village) if village else None
    probe = Target(Resource.CASE, division_code=viewer.jurisdiction)
    if viewer.kind is not None and allows(viewer, Action.READ, probe):
        return CaseScope(held_in=jurisdiction_prefix(viewer) or "")
    return None


def _keeps(f: CaseFilter, scope: CaseScope) -> Callable[[Case], bool]:
    below = None
    if f.division_code is not None:
        below = parse_division(f.division_code, field=("filter", "divisionCode")).prefix

    def keep(row: Case) -> bool:
        if f.status is None and row.status is CaseStatus.REFERRED:
            return False  # a referred case is listed once, where it is now
        if f.status is not None and row.status is not f.status:
            return False
        if f.level is not None and row.level is not f.level:
            return False
        if f.org_code is not None and row.org_code != f.org_code:
            return False
        if below is not None and not (
            row.number.startswith(below) and row.division_code.startswith(below)
        ):
            return False
        return scope.keeps(row)

    return keep


def own_lister(
    f: CaseFilter,
    conditions: CaseConditions,
    scope: CaseScope,
    start: Mapping[str, str],
    size: int,
    max_page: int,
) -> Callable[[Node, NodeClient], Awaitable[list[Case]]]:
    """What the fan-out asks a node reached through its API for a viewer's own cases
    (``scope.subject``): up to ``size + 1`` of the account's cases the filter keeps
    (its ``conditions`` kept by the node, the rest tested here on each row),
    after the node's position in the hub's cursor — the node's pages of ``casesOf``
    in turn, narrowed to the filter's division when there is one."""
    subject = scope.subject
    if subject is None:
        raise ValueError("a scope of one's own cases has a subject")
    keep = _keeps(f, scope)
    under = None
    if f.division_code is not None:
        division = parse_division(f.division_code, field=("filter", "divisionCode"))
        under = division.code

    async def listed(node: Node, client: NodeClient) -> list[Case]:
        kept: list[Case] = []
        position = start.get(node.id)
        while True:
            page = await remote.cases_of(
                client,
                subject,
                under=under,
                after=position,
                first=min(size + 1, max_page),
                conditions=conditions,
            )
            kept.extend(r for r in page.rows if keep(r))
            if len(kept) > size or not page.has_next or not page.rows:
                return kept[: size + 1]
            position = page.rows[-1].number

    return listed


def _narrowest(*prefixes: str) -> str | None:
    """The narrowest of nested key ranges (by their prefixes); None when two of them
    have nothing in common."""
    longest = max(prefixes, key=len)
    return longest if all(longest.startswith(p) for p in prefixes) else None


def remote_lister(
    nodes: NodeRegistry,
    f: CaseFilter,
    conditions: CaseConditions,
    scope: CaseScope,
    under: str,
    start: Mapping[str, str],
    size: int,
    max_page: int,
) -> Callable[[Node, NodeClient], Awaitable[list[Case]]]:
    """What the fan-out asks a node reached through its API: up to ``size + 1`` cases
    received under ``under`` that the viewer may list and the filter keeps (its
    ``conditions`` kept by the node, the rest tested here on each row), after the
    node's position in the hub's cursor — the node's pages of ``cases`` in turn. The
    node is asked for the narrower of ``under`` and the viewer's own range, and not at
    all when it holds nothing there (so a filter outside the viewer's jurisdiction
    costs no node a scan)."""
    keep = _keeps(f, scope)
    narrowest = _narrowest(
        parse_division(under, field=("filter", "divisionCode")).prefix,
        scope.received_in or scope.held_in,
    )
    asked = None if narrowest is None else narrowest.ljust(12, "0")
    serving = set() if asked is None else {n.id for n in nodes.covering(LEVELS, asked)}

    async def listed(node: Node, client: NodeClient) -> list[Case]:
        kept: list[Case] = []
        if asked is None or node.id not in serving:
            return kept
        position = start.get(node.id)
        while True:
            page = await remote.cases_under(
                client, asked, after=position, first=min(size + 1, max_page), conditions=conditions
            )
            kept.extend(r for r in page.rows if keep(r))
            if len(kept) > size or not page.has_next or not page.rows:
                return kept[: size + 1]
            position = page.rows[-1].number

    return listed
