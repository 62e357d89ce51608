"""Implementation lists (实施清单) at every level and the counties' delegations (委托/下放)
to their towns. Every item passes ``check_implementation`` under its level's policy,
which also generates its implementation code; a delegated town item names the county
item it comes from and the delegation."""

from __future__ import annotations

import datetime as dt

from gateway.demo.plan import (
    CREATED_AT,
    PUBLISHED_ON,
    UPDATED_AT,
    DemoDataError,
    DemoPlan,
    OrgRef,
    Row,
    read_json,
)
from gateway.nodes import POLICIES
from levels.common.catalogue import ImplementationDraft, check_implementation
from levels.common.codes import DivisionCode, parse_division
from levels.common.enums import (
    DeliveryMethod,
    HandlingKind,
    Level,
    MaterialForm,
    MatterStatus,
    OnlineLevel,
    SpecialProcedureKind,
    VillageServiceMode,
)
from levels.common.models import ImplementationMaterial, MatterImplementation
from levels.county.models import Delegation, DelegationTarget


def add_implementation(
    plan: DemoPlan,
    matter: Row,
    spec: Row,
    division: DivisionCode,
    org: OrgRef,
    *,
    delegated_from: str | None = None,
    delegation_id: str | None = None,
    status: MatterStatus = MatterStatus.PUBLISHED,
) -> str:
    level = division.level
    kind = HandlingKind(spec["handlingKind"])
    reason = spec.get("exceptionReason")
    draft = ImplementationDraft(
        org_code=org.code,
        level=level,
        basic_code=matter["basicCode"],
        handling_kind=kind,
        promised_time_limit_days=spec["promisedDays"],
        promise_exception_reason=reason,
        max_visits=spec["maxVisits"],
        delegated_from=delegated_from,
    )
    code = check_implementation(
        draft, policy=POLICIES[level], legal_time_limit_days=int(matter["legalTimeLimitDays"])
    )
    receive = [Level(v) for v in spec["receiveLevels"]]
    preliminary = bool(spec.get("preliminaryReview", False))
    if any(r.depth <= level.depth for r in receive) or (preliminary and Level.TOWN not in receive):
        raise DemoDataError(f"{matter['name']} at {level.value}: bad receive levels")
    materials = spec["materials"]
    if not 2 <= len(materials) <= 5:
        raise DemoDataError(f"{matter['name']} at {level.value}: 2–5 materials expected")
    plan.add(
        level,
        MatterImplementation,
        {
            "code": code,
            "basic_code": matter["basicCode"],
            "org_code": org.code,
            "division_code": division.code,
            "level": level,
            "department_id": org.departments[spec["department"]],
            "handling_kind": kind,
            "promised_time_limit_days": spec["promisedDays"],
            "promise_exception_reason": reason,
            "conditions": spec["conditions"],
            "special_procedures": [
                {
                    "kind": SpecialProcedureKind(sp["kind"]).value,
                    "timeLimitDays": int(sp["timeLimitDays"]),
                    **({"basis": sp["basis"]} if sp.get("basis") else {}),
                }
                for sp in spec["specialProcedures"]
            ],
            "fees": [
                {"name": f["name"], "amountYuan": str(f["amountYuan"]), "basis": f["basis"]}
                for f in spec.get("fees", [])
            ],
            "max_visits": spec["maxVisits"],
            "online_level": OnlineLevel(spec["onlineLevel"]),
            "delivery_methods": [DeliveryMethod(v).value for v in spec["deliveryMethods"]],
            "village_modes": [VillageServiceMode(v).value for v in spec["villageModes"]],
            "receive_levels": [r.value for r in receive],
            "preliminary_review": preliminary,
            # 转报时限 of its own (null: the hub's setting)
            "referral_limit_days": spec.get("referralLimitDays"),
            # 出证: the e-licence an approval of this item issues (a delegated town
            # copy issues the same, signed by the town)
            "issues_licence_type": spec.get("issuesLicence"),
            # 容缺承诺: what follows a tolerated material not handed in by the date
            "tolerance_consequence": spec.get("toleranceConsequence"),
            "delegated_from": delegated_from,
            "delegation_id": delegation_id,
            "status": status,
            "version": 1,
            "updated_at": UPDATED_AT,
        },
        key=code,
    )
    for position, m in enumerate(materials, 1):
        plan.add(
            level,
            ImplementationMaterial,
            {
                "implementation_code": code,
                "position": position,
                "name": m["name"],
                "basis": m.get("basis", matter["legalBasis"]),
                "form": MaterialForm(m["form"]),
                "copies": int(m.get("copies", 1)),
                "tolerable": bool(m.get("tolerable", False)),
                "satisfied_by_licence_type": m.get("licence"),
            },
        )
    return code


def add_delegations(
    plan: DemoPlan,
    divisions: list[tuple[DivisionCode, str]],
    orgs: dict[str, OrgRef],
    matters: dict[str, Row],
    county_specs: dict[str, Row],
    county_codes: dict[tuple[str, str], str],
) -> None:
    towns_of: dict[str, list[DivisionCode]] = {}
    for div, _ in divisions:
        if div.level is Level.TOWN and div.parent is not None:
            towns_of.setdefault(div.parent.code, []).append(div)
    for d in read_json("delegations.json"):
        county = parse_division(d["county"])
        if county.level is not Level.COUNTY or not POLICIES[Level.COUNTY].delegates:
            raise DemoDataError(f"delegation from {county.code}: not a county")
        delegation_id = f"{county.code}-G{int(d['seq']):04d}"
        matter, spec = matters[d["matter"]], county_specs[d["matter"]]
        impl_code = county_codes[(county.code, matter["basicCode"])]
        all_towns = bool(d["allTowns"])
        if all_towns:
            towns = towns_of[county.code]
        else:
            towns = [parse_division(t) for t in d["towns"]]
            if not towns or any(t not in towns_of[county.code] for t in towns):
                raise DemoDataError(f"{delegation_id}: targets must be towns of {county.code}")
        effective_from = dt.date.fromisoformat(d["effectiveFrom"])
        revoked_at = dt.datetime.fromisoformat(d["revokedAt"]) if d.get("revokedAt") else None
        plan.add(
            Level.COUNTY,
            Delegation,
            {
                "id": delegation_id,
                "implementation_code": impl_code,
                "basic_code": matter["basicCode"],
                "from_org_code": orgs[county.code].code,
                "from_division_code": county.code,
                "all_towns": all_towns,
                "legal_instrument": d["legalInstrument"],
                "effective_from": effective_from,
                "revoked_at": revoked_at,
                "revoke_reason": d.get("revokeReason"),
                "created_at": CREATED_AT,
            },
            key=delegation_id,
        )
        if not all_towns:
            for town in towns:
                plan.add(
                    Level.COUNTY,
                    DelegationTarget,
                    {"delegation_id": delegation_id, "town_code": town.code},
                )
        # revoked: the towns' items are abolished; not yet in force: drafted for the
        # next publication batch; otherwise published with the June list
        status = (
            MatterStatus.ABOLISHED
            if revoked_at is not None
            else MatterStatus.DRAFT
            if effective_from > PUBLISHED_ON
            else MatterStatus.PUBLISHED
        )
        town_spec = {
            **spec,
            "department": d["townDepartment"],
            "receiveLevels": [v for v in spec["receiveLevels"] if v == Level.VILLAGE.value],
            "preliminaryReview": False,
        }
        for town in towns:
            add_implementation(
                plan,
                matter,
                town_spec,
                town,
                orgs[town.code],
                delegated_from=impl_code,
                delegation_id=delegation_id,
                status=status,
            )
