"""A row as JSON and back (``levels/common/rowcodec.py``): what a node's ``columns``
carries to the hub — enums, dates, aware timestamps, JSON columns and nulls come back
as the values the store would have given."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import inspect

from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from levels.common.clock import CHINA
from levels.common.enums import Level
from levels.common.reads import table
from levels.common.rowcodec import decode_row, encode_row


def _case() -> Case:
    return Case(
        number="140702101201-20261120-00007",
        level=Level.VILLAGE,
        status=CaseStatus.ACCEPTED,
        submitted_at=dt.datetime(2026, 11, 20, 9, 30, tzinfo=CHINA),
        due_on=dt.date(2026, 12, 4),
        review_opinions=[{"by": "审核人", "opinion": "同意"}],
        version=3,
        decision=None,
    )


def test_every_column_comes_back_as_the_store_gave_it() -> None:
    sent = _case()

    wire = json.loads(json.dumps(encode_row(table(Case), sent)))
    got = decode_row(Case, wire)

    for column in table(Case).columns:
        assert getattr(got, column.key) == getattr(sent, column.key), column.key
    assert got.status is CaseStatus.ACCEPTED and got.level is Level.VILLAGE
    assert got.submitted_at.utcoffset() == dt.timedelta(hours=8)
    assert wire["status"] == "ACCEPTED" and wire["due_on"] == "2026-12-04"


def test_a_decoded_row_is_a_copy_no_session_holds() -> None:
    got = decode_row(Case, {"number": "140702000000-20261120-00001"})
    assert inspect(got).transient
    assert got.decision is None and got.version is None
