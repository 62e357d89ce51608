"""A node's page of cases as the hub reads it (``rows``: each case's columns that are
not null, in one field) and the row codec's Core path: the same values as every
column read one by one, in fewer bytes and without an object per case on the node."""

from __future__ import annotations

import enum
from typing import Any

import orjson
import pytest
from sqlalchemy import inspect, select

from levels.cases.models import Case
from levels.common.models import LevelBase
from levels.common.reads import table
from levels.common.rowcodec import _to_json, decode_row, encode_present, encode_row
from resolvers import remote
from schema.node import types as node_types
from tests.node.conftest import MakeClient, statements
from tests.node.test_api import store_session

BOTH = """
query Both($under: String!, $subject: String!) {
  cases(under: $under, first: 50) { items { columns } rows }
  casesOf(subject: $subject, first: 50) { items { columns } rows }
}
"""


def _attributes(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in table(Case).columns}


async def test_a_pages_rows_are_its_items_columns_without_the_nulls(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    async with store_session(node_apps["county"]) as session:
        subject = await session.scalar(select(Case.applicant_id).order_by(Case.number))
    county = node_client("county")
    data = await county.query(BOTH, {"under": "140700000000", "subject": subject})
    for name in ("cases", "casesOf"):
        page = data[name]
        columns = [item["columns"] for item in page["items"]]
        assert columns, name
        assert page["rows"] == [{k: v for k, v in c.items() if v is not None} for c in columns]
        assert any(None in c.values() for c in columns)  # some left out
        for row, every in zip(page["rows"], columns, strict=True):
            assert _attributes(decode_row(Case, row)) == _attributes(decode_row(Case, every))
        assert len(orjson.dumps(page["rows"])) < 0.8 * len(orjson.dumps(columns))


async def test_the_hubs_page_is_one_statement_and_no_case_object_on_the_node(
    node_client: MakeClient, node_apps: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    made = {"n": 0}
    from_row = node_types.Case.from_row.__func__  # type: ignore[attr-defined]

    def counted(cls: Any, row: Any) -> Any:
        made["n"] += 1
        return from_row(cls, row)

    monkeypatch.setattr(node_types.Case, "from_row", classmethod(counted))
    county = node_client("county")
    with statements(node_apps["county"]) as ran:
        page = await remote.cases_under(county, "140700000000", after=None, first=50)
    assert ran["n"] == 1
    assert made["n"] == 0  # the page's rows encoded as they are, no entity per case
    async with store_session(node_apps["county"]) as session:
        stored = list(
            await session.scalars(
                select(Case)
                .where(Case.number >= "1407", Case.number < "1408")
                .order_by(Case.number)
            )
        )
    assert len(page.rows) == min(50, len(stored)) > 0
    for got, want in zip(page.rows, stored, strict=False):
        assert inspect(got).transient
        assert _attributes(got) == _attributes(want)


async def test_core_rows_of_every_table_encode_as_each_value_read_alone(
    node_apps: dict[str, Any],
) -> None:
    """The Core path converts by column type; the reference converts every value it
    reads by the value's own type (and reads it as an attribute)."""
    seen = 0
    async with store_session(node_apps["county"]) as session:
        conn = await session.connection()
        for t in LevelBase.metadata.sorted_tables:
            for row in (await conn.execute(select(t).limit(40))).all():
                want = {c.key: _to_json(getattr(row, c.key)) for c in t.columns}
                assert encode_row(t, row) == want, t.name
                assert encode_present(t, row) == {k: v for k, v in want.items() if v is not None}, (
                    t.name
                )
                seen += 1
    assert seen > 200


class _Colour(enum.StrEnum):
    RED = "red"


def test_a_mapped_instance_is_encoded_value_by_value() -> None:
    # what code set on an instance may be of another type than its column's: a
    # StrEnum in a string column is sent by name, as before
    case = Case(number="140702000000-20261120-00001", channel=_Colour.RED, version=2)
    assert encode_row(table(Case), case)["channel"] == "RED"
    assert encode_present(table(Case), case) == {
        "number": "140702000000-20261120-00001",
        "channel": "RED",
        "version": 2,
    }


def test_a_key_that_is_no_column_is_left_out_and_a_missing_one_is_null() -> None:
    got = decode_row(Case, {"number": "n", "status": "ACCEPTED", "decide": "x", "__class__": 1})
    assert type(got) is Case
    assert "decide" not in got.__dict__ and got.status.name == "ACCEPTED"
    assert got.decision is None and got.__dict__["decision"] is None
