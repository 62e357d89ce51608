"""Dates outside the days the hub keeps (2000-01-01 … 2100-12-31): a year 1 or a year
9999 in a filter, a period or a day is INVALID_DATE_RANGE, never a "date value out of
range" from Python or the database, and never any SQL in an error message — in dev
mode (the suite's) as in prod."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError
from sqlalchemy.exc import StatementError

from schema.errors import format_error
from tests.auth.conftest import bearer, signed_in
from tests.conftest import GraphQLClient

CASES = "query($f: CaseFilter) { cases(filter: $f, first: 1) { edges { node { number } } } }"
LEDGER = """query($from: Date, $to: Date) {
  villageLedger(divisionCode: "140702101201", from: $from, to: $to) { edges { node { number } } }
}"""
ROLLUP = """query($f: RatingRollupFilter) {
  ratingRollup(by: ORG, filter: $f) { key total }
}"""
SUPERVISION = """query($from: Date, $to: Date) {
  supervision(divisionCode: "140702000000", from: $from, to: $to) { divisionCode }
}"""
AUDIT = """query($f: AuditFilter) {
  auditEvents(filter: $f, first: 1) { edges { node { seq } } }
}"""
SLOTS = 'query($d: Date!) { appointmentSlots(orgCode: "140702000000", date: $d) { id } }'

EXTREME = [
    (CASES, {"f": {"submittedFrom": "0001-01-01"}}, ["filter", "submittedFrom"]),
    (CASES, {"f": {"submittedTo": "9999-12-31"}}, ["filter", "submittedTo"]),
    (CASES, {"f": {"acceptedFrom": "1999-12-31"}}, ["filter", "acceptedFrom"]),
    (CASES, {"f": {"acceptedTo": "2101-01-01"}}, ["filter", "acceptedTo"]),
    (LEDGER, {"from": "0001-01-01"}, ["from"]),
    (LEDGER, {"to": "9999-12-31"}, ["to"]),
    (ROLLUP, {"f": {"ratedFrom": "0001-01-01"}}, ["filter", "ratedFrom"]),
    (ROLLUP, {"f": {"ratedTo": "9999-12-31"}}, ["filter", "ratedTo"]),
    (SUPERVISION, {"from": "0001-01-01", "to": "0001-01-02"}, ["from"]),
    (SUPERVISION, {"from": "9999-12-30", "to": "9999-12-31"}, ["from"]),
    (AUDIT, {"f": {"from": "0001-01-01T00:00:00+00:00"}}, ["filter", "from"]),
    (AUDIT, {"f": {"to": "9999-12-31T23:59:59+00:00"}}, ["filter", "to"]),
    (SLOTS, {"d": "9999-12-31"}, ["date"]),
]


@pytest.mark.parametrize(("query", "variables", "field"), EXTREME)
async def test_a_date_the_hub_does_not_keep_is_invalid_date_range(
    gql: GraphQLClient, query: str, variables: dict[str, Any], field: list[str]
) -> None:
    token = (await signed_in(gql, "jz.auditor"))["accessToken"]
    body = await gql(query, variables, **bearer(token))
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_DATE_RANGE"], body
    assert body["errors"][0]["extensions"]["field"] == field
    assert "SELECT" not in str(body) and "out of range" not in str(body)


async def test_the_edges_of_the_range_are_kept(gql: GraphQLClient) -> None:
    token = (await signed_in(gql, "jz.auditor"))["accessToken"]
    f = {"submittedFrom": "2000-01-01", "submittedTo": "2100-12-31"}
    body = await gql(CASES, {"f": f}, **bearer(token))
    assert "errors" not in body and body["data"]["cases"]["edges"], body


def test_a_database_error_never_shows_its_sql() -> None:
    driver = OverflowError("date value out of range")
    failed = StatementError("(builtins.OverflowError)", "SELECT secret FROM cases", {}, driver)
    error = GraphQLError(str(failed), original_error=failed)
    for locale in ("zh", "en"):
        shown = format_error(error, locale)
        assert "SELECT" not in shown.message and "secret" not in shown.message
        assert shown.original_error is failed  # the log still gets the whole of it
