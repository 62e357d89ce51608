"""A page of implementation items loads, for all its items at once, the relations the
operation selects on them — materials, matter, org, division, department, delegation,
the county item a delegated one comes from — and keeps them on each item as ready
values (``schema/execution.py``): graphql-core completes them without a resolver call
or an awaitable per item, so a page of 50 costs as many awaitables as a page of 5.

Each relation is read as its field's resolver reads it: the same loader (its cache
answers what the request has already loaded; one statement per node for the rest), the
same object or null. An item whose relation's node did not answer, or whose non-null
relation is missing, keeps the value unset: its resolver runs and reports it as it
always did (the loader keeps the failure, as ``load`` does: the node is not asked
twice). One object per key, shared by the page's items; the READ guard decides on each
where graphql-core completes it (``schema/execution.py``), as it did on the resolver's
answer: a county item the viewer may not read is a null ``delegatedFrom``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from schema.divisions import Department, Division, ServiceOrg
from schema.info import Info
from schema.matters import Delegation, Material, Matter, MatterImplementation
from schema.selection import item_fields

Items = Sequence[MatterImplementation]


async def _materials(info: Info, items: Items) -> None:
    loaded = await info.context.loaders.materials_by_implementation.load_page(
        [item.implementation_code for item in items]
    )
    loader = info.context.loaders.materials_by_implementation
    for item, rows in zip(items, loaded, strict=True):
        if not isinstance(rows, BaseException):
            item.ready_materials = [Material.from_row(r) for r in rows]
        elif isinstance(rows, Exception):
            # kept as ``load`` keeps it: the item's resolver reports it, not asking again
            loader.prime(item.implementation_code, rows)


async def _objects(
    items: Items,
    key: Callable[[MatterImplementation], Any],
    load: Callable[[list[Any]], Awaitable[list[Any]]],
    shape: Callable[[Any], Any],
    attribute: str,
    *,
    nullable: bool,
) -> None:
    """Set ``attribute`` of each item to its shaped row: null for a nullable relation
    whose key is None or whose row is missing; unset where the node did not answer."""
    keys = [key(item) for item in items]
    asked = list(dict.fromkeys(k for k in keys if k is not None))
    rows = await load(asked) if asked else []
    shaped: dict[Any, Any] = {}
    for k, row in zip(asked, rows, strict=True):
        if isinstance(row, BaseException) or (row is None and not nullable):
            continue  # its resolver reports it
        shaped[k] = None if row is None else shape(row)
    for item, k in zip(items, keys, strict=True):
        if k is None:
            if nullable:
                setattr(item, attribute, None)
        elif k in shaped:
            setattr(item, attribute, shaped[k])


# each one-object relation: the field, its key on an item, the loader that reads it (as
# the field's resolver does), how a row is shaped, the item's ready attribute, and
# whether the relation may be null
_RELATIONS: tuple[
    tuple[str, Callable[[MatterImplementation], Any], str, Callable[[Any], Any], str, bool],
    ...,
] = (
    ("matter", lambda i: i.basic_code, "matter_by_code", Matter.from_row, "ready_matter", True),
    (
        "org",
        lambda i: (i.level, i.org_code),
        "service_org_by_code",
        ServiceOrg.from_row,
        "ready_org",
        False,
    ),
    (
        "division",
        lambda i: i.division_code,
        "division_by_code",
        Division.from_row,
        "ready_division",
        False,
    ),
    (
        "department",
        lambda i: i.department_id,
        "department_by_id",
        Department.from_row,
        "ready_department",
        True,
    ),
    (
        "delegation",
        lambda i: i.delegation_id,
        "delegation_by_id",
        Delegation.from_view,
        "ready_delegation",
        True,
    ),
    (
        "delegatedFrom",
        lambda i: i.delegated_from_code,
        "implementation_by_code",
        MatterImplementation.from_row,
        "ready_delegated_from",
        True,
    ),
)


async def ready_items(info: Info, items: Items, *path: str) -> None:
    """Load what the operation selects on a page's items (``path``: where the items
    sit below a connection's node, e.g. a route's ``implementation``) and keep it on
    them. Nothing selected, nothing loaded."""
    if not items:
        return
    asked = item_fields(info, *path)
    loaders = info.context.loaders
    work: list[Awaitable[None]] = []
    if "materials" in asked:
        work.append(_materials(info, items))
    for field, key, loader, shape, attribute, nullable in _RELATIONS:
        if field in asked:
            load = getattr(loaders, loader).load_page_cached
            work.append(_objects(items, key, load, shape, attribute, nullable=nullable))
    if len(work) == 1:
        await work[0]
    elif work:
        await asyncio.gather(*work)
