"""The hub's client call of the node mutation that files a town centre's monthly report
(``schema/node/report_mutation.py``): ``fileMonthlyReport``, one GraphQL call through
``NodeClient`` (``nodewrites._outcome``): the report as filed (``columns``, None:
refused, nothing written) and the refusal ``error``, or the node's typed error raised.
Not retried: a node that does not answer may have filed it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from levels.node.monthly_reports import FilingAsk
from resolvers.nodeclient import NodeClient
from resolvers.nodewrites import _outcome

_FILE_MONTHLY_REPORT = """
mutation FileMonthlyReport(
  $orgCode: String!, $divisionCode: String!, $month: String!, $figures: JSON!,
  $filedBy: String!, $filedByName: String!, $workday: Int!, $actor: ActorInput!,
  $now: DateTime!
) {
  fileMonthlyReport(
    orgCode: $orgCode, divisionCode: $divisionCode, month: $month, figures: $figures,
    filedBy: $filedBy, filedByName: $filedByName, workday: $workday, actor: $actor,
    now: $now
  ) { columns error { code field message detail } }
}
"""


async def file_monthly_report(
    client: NodeClient,
    ask: FilingAsk,
    *,
    workday: int,
    actor: Mapping[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    """Have the node keeping the town centre of ``ask`` file its monthly report, due
    on the ``workday``th working day of the next month by the node's calendar."""
    return await _outcome(
        client,
        "fileMonthlyReport",
        _FILE_MONTHLY_REPORT,
        actor,
        now,
        {
            "orgCode": ask.org_code,
            "divisionCode": ask.division_code,
            "month": ask.month,
            "figures": ask.figures,
            "filedBy": ask.filed_by,
            "filedByName": ask.filed_by_name,
            "workday": workday,
        },
    )
