"""``node(id:)``: the division inside the global ID says which store to ask (an ID of
the previous release, its level)."""

from __future__ import annotations

from levels.common.codes import level_of_division
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from resolvers import cases, evaluations, licences
from resolvers.globalid import decode_id
from schema.divisions import Department, Division, ServiceOrg, Window
from schema.info import Info
from schema.matters import Delegation, Matter, MatterImplementation
from schema.relay import Node


def _check(ok: bool) -> None:
    if not ok:
        raise DomainError(ErrorCode.INVALID_ID, field=["id"])


async def node(info: Info, id: str) -> Node | None:
    gid = decode_id(id)
    loaders = info.context.loaders
    key, level = gid.key, gid.level
    if gid.type_name == "Division":
        _check(level_of_division(key) is level)
        row = await loaders.division_by_code.load(key)
        return Division.from_row(row) if row else None
    if gid.type_name == "ServiceOrg":
        org = await loaders.service_org_by_code.load((level, key))
        if org is None or gid.division not in (None, org.division_code):
            return None
        return ServiceOrg.from_row(org)
    if gid.type_name in ("Department", "Window"):
        _check(level_of_division(key[:12]) is level)
        if gid.type_name == "Department":
            dep = await loaders.department_by_id.load(key)
            return Department.from_row(dep) if dep else None
        window = await loaders.window_by_id.load(key)
        return Window.from_row(window) if window else None
    if gid.type_name == "Matter":
        _check(level is Level.CITY)
        matter = await loaders.matter_by_code.load(key)
        return Matter.from_row(matter) if matter else None
    if gid.type_name == "MatterImplementation":
        _check(len(key) == 31 and key[18] == level.digit)
        impl = await loaders.implementation_by_code.load(key)
        return MatterImplementation.from_row(impl) if impl else None
    if gid.type_name == "Case":
        return await cases.case(info, key)
    if gid.type_name in evaluations.NODE_TYPES:
        return await evaluations.node(info, gid)
    if gid.type_name == "ELicence":
        # the issuer's division; an ID of the previous release named the city library
        _check(not gid.legacy or level is Level.CITY)
        return await licences.licence(info, key)
    _check(level is Level.COUNTY)
    view = await loaders.delegation_by_id.load(key)
    return Delegation.from_view(view) if view else None
