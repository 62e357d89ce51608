"""Rows of the demo city, per level store: divisions, service orgs with their
departments and windows, and the city's matter catalogue. Read from the data files next
to this module; no randomness, no clock."""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.nodes import POLICIES
from levels.city.models import CataloguePublication, Matter
from levels.city.publication import snapshot
from levels.common.clock import CHINA
from levels.common.codes import (
    DivisionCode,
    make_uscc,
    parse_division,
    validate_basic_code,
    validate_uscc,
)
from levels.common.enums import (
    LEVELS,
    Level,
    MatterStatus,
    MatterType,
    OrgKind,
    WindowKind,
)
from levels.common.models import (
    Department,
    Division,
    ImplementationMaterial,
    LevelBase,
    MatterImplementation,
    ServiceOrg,
    Window,
)
from levels.county.models import Delegation, DelegationTarget
from levels.licences.enums import FieldType
from levels.licences.fields import valid_key
from levels.licences.models import LicenceType

DATA_DIR = Path(__file__).resolve().parent
CITY_CODE = "140700000000"
PUBLISHED_BATCH = "2026-06"
PUBLISHED_ON = dt.date(2026, 6, 30)
UPDATED_AT = dt.datetime(2026, 6, 30, 0, 0, tzinfo=CHINA)
CREATED_AT = dt.datetime(2025, 12, 20, 9, 0, tzinfo=CHINA)

# insertion order within a store follows the foreign keys
TABLES: tuple[type[LevelBase], ...] = (
    LicenceType,
    Division,
    ServiceOrg,
    Department,
    Window,
    Matter,
    CataloguePublication,
    MatterImplementation,
    ImplementationMaterial,
    Delegation,
    DelegationTarget,
)

Row = dict[str, Any]


class DemoDataError(ValueError):
    """The bundled demo data contradicts a rule of the domain (a bug in the data files)."""


@dataclass
class OrgRef:
    code: str
    departments: dict[str, str]  # department name -> id


@dataclass
class DemoPlan:
    """Every row of the demo city, per level store and table (insertion order)."""

    rows: dict[Level, dict[type[LevelBase], list[Row]]] = field(
        default_factory=lambda: {level: {model: [] for model in TABLES} for level in LEVELS}
    )
    _keys: set[tuple[Level, str, str]] = field(default_factory=set)

    def add(self, level: Level, model: type[LevelBase], row: Row, key: str | None = None) -> None:
        if key is not None:
            if (level, model.__tablename__, key) in self._keys:
                raise DemoDataError(f"duplicate {model.__tablename__} row {key} in {level.value}")
            self._keys.add((level, model.__tablename__, key))
        self.rows[level][model].append(row)

    def counts(self) -> dict[str, int]:
        return {
            model.__tablename__: sum(len(self.rows[level][model]) for level in LEVELS)
            for model in TABLES
        }


def read_json(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def org_code_for(division: DivisionCode) -> str:
    """The service org's unified social credit code: 1 (机构编制) 2 (事业单位), the
    registering county's six digits, a GB 11714 organisation code ``MB`` + the lower six
    digits of the division code + its check character, then the USCC check character.
    Unique because the division code is spelled out in full across the two parts."""
    body = "MB" + division.code[6:12]
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    total = sum(alphabet.index(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    organisation = body + {10: "X", 11: "0"}.get(check, str(check))
    return validate_uscc(make_uscc("12" + division.code[:6] + organisation))


def _phone(division: DivisionCode) -> str:
    c = division.code
    return f"0354-6{c[4:6]}{c[7:9]}{c[10:12]}"


def load_divisions() -> list[tuple[DivisionCode, str]]:
    """``divisions.csv``: code, name, level, parent — checked against the code rules."""
    out: list[tuple[DivisionCode, str]] = []
    with (DATA_DIR / "divisions.csv").open(encoding="utf-8", newline="") as f:
        for rec in csv.DictReader(f):
            div = parse_division(rec["code"], field="code")
            parent = div.parent.code if div.parent else ""
            if rec["level"] != div.level.value or rec["parent"] != parent:
                raise DemoDataError(f"division {div.code}: level/parent do not follow its code")
            out.append((div, rec["name"]))
    if not out or out[0][0].code != CITY_CODE:
        raise DemoDataError("divisions.csv must start with the city")
    known = {d.code for d, _ in out}
    for div, _ in out:
        if div.parent is not None and div.parent.code not in known:
            raise DemoDataError(f"division {div.code}: parent {div.parent.code} is missing")
    return out


def add_orgs(plan: DemoPlan, divisions: list[tuple[DivisionCode, str]]) -> dict[str, OrgRef]:
    specs = read_json("orgs.json")
    names = {d.code: name for d, name in divisions}
    orgs: dict[str, OrgRef] = {}
    for div, name in divisions:
        level, spec = div.level, specs[div.level.value]
        fmt = {
            "name": name,
            "county": names.get(div.code[:6] + "000000", "") if level.depth >= 2 else "",
            "town": names.get(div.code[:9] + "000", "") if level is Level.VILLAGE else "",
        }
        code = org_code_for(div)
        kind = OrgKind(spec["kind"])
        if kind not in POLICIES[level].org_kinds:
            raise DemoDataError(f"{kind.value} is not an org kind of {level.value}")
        plan.add(
            level,
            ServiceOrg,
            {
                "code": code,
                "division_code": div.code,
                "name": spec["name"].format(**fmt),
                "level": level,
                "kind": kind,
                "address": spec["address"].format(**fmt),
                "phone": _phone(div),
                "opening_hours": spec["openingHours"],
            },
            key=code,
        )
        departments = {d: f"{div.code}D{i:02d}" for i, d in enumerate(spec["departments"], 1)}
        for dept_name, dept_id in departments.items():
            plan.add(level, Department, {"id": dept_id, "org_code": code, "name": dept_name})
        for i, w in enumerate(spec["windows"], 1):
            served = list(departments) if w["departments"] == ["*"] else w["departments"]
            plan.add(
                level,
                Window,
                {
                    "id": f"{div.code}W{i:02d}",
                    "org_code": code,
                    "number": w["number"],
                    "name": w["name"],
                    "kind": WindowKind(w["kind"]),
                    "department_ids": [departments[d] for d in served],
                },
            )
        orgs[div.code] = OrgRef(code, departments)
    return orgs


def add_matters(plan: DemoPlan) -> dict[str, Row]:
    matters: dict[str, Row] = {}
    for m in read_json("matters.json"):
        basic = validate_basic_code(m["basicCode"])
        if m["name"] in matters or any(x["basicCode"] == basic for x in matters.values()):
            raise DemoDataError(f"duplicate matter {m['name']} / {basic}")
        matters[m["name"]] = m
        plan.add(
            Level.CITY,
            Matter,
            {
                "basic_code": basic,
                "name": m["name"],
                "type": MatterType(m["type"]),
                "department": m["department"],
                "legal_basis": m["legalBasis"],
                "legal_time_limit_days": int(m["legalTimeLimitDays"]),
                "status": MatterStatus.PUBLISHED,
                "version": 1,
                "published_batch": PUBLISHED_BATCH,
                "published_on": PUBLISHED_ON,
                "published_version": 1,
            },
            key=basic,
        )
    # the June batch, the catalogue's first published version (清单公布)
    listed = sorted(plan.rows[Level.CITY][Matter], key=lambda r: r["basic_code"])
    plan.add(
        Level.CITY,
        CataloguePublication,
        {
            "version": 1,
            "batch": PUBLISHED_BATCH,
            "published_at": UPDATED_AT,
            "published_by": "demo",
            "urgent": False,
            "reason": None,
            "matters": [snapshot(Matter(**r)) for r in listed],
        },
        key="1",
    )
    return matters


def add_licence_types(plan: DemoPlan) -> dict[str, Row]:
    """``licence_types.json``: the kinds of e-licence the demo's items issue, in every
    level store (an org issues from its own store; the library reads them at the city)."""
    types: dict[str, Row] = {}
    for t in read_json("licence_types.json"):
        keys = [f["key"] for f in t["fields"]]
        if t["code"] in types or len(set(keys)) != len(keys) or not all(map(valid_key, keys)):
            raise DemoDataError(f"licence type {t['code']}: duplicate type or bad field keys")
        for f in t["fields"]:
            kind = FieldType(f.get("type", "TEXT"))
            if (kind is FieldType.CHOICE) != bool(f.get("choices")):
                raise DemoDataError(f"licence type {t['code']}: {f['key']} choices")
        types[t["code"]] = t
        for level in LEVELS:
            plan.add(
                level,
                LicenceType,
                {
                    "code": t["code"],
                    "name": t["name"],
                    "fields": t["fields"],
                    "validity_years": t["validityYears"],
                },
                key=t["code"],
            )
    return types
