"""许可结果公开 (seed 000: "应当将许可结果予以公开，公众有权查阅"): anyone, signed in or
not, lists the decided cases of a division and everything below it — the matter, the
org, the decision and its day, and who applied (an enterprise by name, a person masked)
— and never more: no ID number, account, phone, material or reason, no case still
undecided."""

from __future__ import annotations

import json
from typing import Any

from graphql import GraphQLObjectType, get_named_type
from sqlalchemy import select

from gateway.nodes import NodeRegistry
from levels.cases.enums import ApplicantKind
from levels.cases.models import Case, CaseMaterial
from levels.cases.service import china_date
from levels.common.enums import LEVELS
from schema.build import build_schema
from tests.conftest import GraphQLClient

YUCI = "140702000000"  # 榆次区
DECISIONS = """
query($code: String!, $matter: String, $from: Date, $to: Date, $first: Int, $after: String) {
  publicDecisions(divisionCode: $code, matter: $matter, from: $from, to: $to, first: $first,
                  after: $after) {
    edges { node {
      matterName basicCode implementationCode orgCode orgName level divisionCode decision
      decidedOn applicantKind applicant
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def _decided(nodes: NodeRegistry, prefix: str) -> list[Case]:
    rows: list[Case] = []
    for level in LEVELS:
        async with nodes[level].sessions() as s:
            found = await s.scalars(
                select(Case).where(
                    Case.division_code.startswith(prefix), Case.decision.is_not(None)
                )
            )
            rows += [r for r in found if r.status.value != "REFERRED"]
    return sorted(rows, key=lambda r: r.number)


async def _all(gql: GraphQLClient, variables: dict[str, Any]) -> list[dict[str, Any]]:
    nodes, after = [], None
    while True:
        body = await gql(DECISIONS, {**variables, "after": after})
        assert "errors" not in body, body
        page = body["data"]["publicDecisions"]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def test_decisions_are_public_to_anyone_with_a_masked_person_and_a_named_firm(
    gql: GraphQLClient, nodes: NodeRegistry
) -> None:
    """000 "应当将许可结果予以公开，公众有权查阅": nobody signed in reads every decided
    case of 榆次区 and below (paged two at a time across the stores), with what the law
    makes public."""
    decided = await _decided(nodes, "140702")
    assert {r.applicant_kind for r in decided} == set(ApplicantKind)  # both kinds shown
    listed = await _all(gql, {"code": YUCI, "first": 2})
    assert len(listed) == len(decided)
    for row, shown in zip(decided, listed, strict=True):
        assert shown["matterName"] == row.matter_name
        assert shown["decision"] == row.decision.value if row.decision else False
        assert shown["decidedOn"] == china_date(row.decided_at).isoformat()  # type: ignore[arg-type]
        assert shown["orgCode"] == row.org_code and shown["orgName"]
        if row.applicant_kind is ApplicantKind.ENTERPRISE:
            assert shown["applicant"] == row.applicant_name  # the enterprise's name
        else:
            assert shown["applicant"] != row.applicant_name
            assert shown["applicant"] == row.applicant_name[0] + "*" * (len(row.applicant_name) - 1)


async def test_a_public_decision_shows_no_id_number_account_phone_or_material(
    gql: GraphQLClient, nodes: NodeRegistry
) -> None:
    """000 许可结果公开, never more: nothing of the applicant but the masked name."""
    decided = await _decided(nodes, "1407")
    numbers = [r.number for r in decided]
    secrets: set[str] = set()
    for level in LEVELS:
        async with nodes[level].sessions() as s:
            for r in await s.scalars(select(Case).where(Case.number.in_(numbers))):
                secrets |= {r.applicant_id, r.submitted_by, r.applicant_id_masked}
                secrets |= {r.applicant_phone or "", r.decision_reasons or "", r.number}
                if r.applicant_kind is ApplicantKind.PERSON:
                    secrets.add(r.applicant_name)
            for m in await s.scalars(
                select(CaseMaterial).where(CaseMaterial.case_number.in_(numbers))
            ):
                secrets |= {m.reference or "", m.note or ""}
    secrets.discard("")
    listed = await _all(gql, {"code": "140700000000", "first": 50})
    assert len(listed) == len(decided) > 0
    shown = json.dumps(listed, ensure_ascii=False)
    assert [s for s in secrets if s in shown] == []


def test_the_public_type_leads_nowhere_further() -> None:
    """A public decision has only leaves: no nested object could show a case, an
    applicant or a material."""
    decision = build_schema()._schema.type_map["PublicDecision"]
    assert isinstance(decision, GraphQLObjectType)
    nested = [
        name
        for name, f in decision.fields.items()
        if isinstance(get_named_type(f.type), GraphQLObjectType)
    ]
    assert nested == []
    assert "number" not in decision.fields and "applicantIdMasked" not in decision.fields


async def test_undecided_cases_are_not_public_and_the_filters_narrow(
    gql: GraphQLClient, nodes: NodeRegistry
) -> None:
    decided = await _decided(nodes, "140702")
    every = await _all(gql, {"code": YUCI, "first": 50})
    assert {n["decision"] for n in every} <= {"APPROVED", "DENIED"}
    one = decided[0]
    day = china_date(one.decided_at).isoformat()  # type: ignore[arg-type]
    same_matter = await _all(gql, {"code": YUCI, "matter": one.basic_code})
    assert same_matter and {n["basicCode"] for n in same_matter} == {one.basic_code}
    that_day = await _all(gql, {"code": YUCI, "from": day, "to": day})
    assert that_day and {n["decidedOn"] for n in that_day} == {day}
    assert await _all(gql, {"code": YUCI, "from": day, "to": "2000-01-01"}) == []


async def test_bad_input_is_a_coded_error(gql: GraphQLClient) -> None:
    def code(body: dict[str, Any]) -> list[str]:
        return [e["extensions"]["code"] for e in body["errors"]]

    assert code(await gql(DECISIONS, {"code": "14"})) == ["INVALID_DIVISION_CODE"]
    assert code(await gql(DECISIONS, {"code": "149900000000"})) == ["DIVISION_NOT_FOUND"]
    assert code(await gql(DECISIONS, {"code": YUCI, "from": "0001-01-01"})) == [
        "INVALID_DATE_RANGE"
    ]
    assert code(await gql(DECISIONS, {"code": YUCI, "matter": "x"})) == ["INVALID_BASIC_CODE"]
    assert code(await gql(DECISIONS, {"code": YUCI, "first": 100000})) == ["PAGE_SIZE_TOO_LARGE"]
