"""``govhub report monthly``: the 月报表 of an org's division as CSV and PNG, with the
figures of the hand-counted dataset of ``tests/levels/test_supervision_figures.py``."""

from __future__ import annotations

import csv
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib import image

from gateway.cli import main
from gateway.settings import Settings
from levels.common.codes import make_uscc
from levels.common.enums import Level
from tests.conftest import BACKEND, make_registry
from tests.levels.test_supervision_figures import (
    ORG_T,
    ORG_V,
    ORG_Y,
    TOTALS,
    county_rows,
    town_rows,
    village_rows,
)
from tests.support import pg

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
async def dataset(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Settings]:
    if BACKEND == "postgres":
        await pg.require_services()
    settings, nodes, created = await make_registry(
        tmp_path_factory.mktemp("report"), "rp" + uuid.uuid4().hex[:8]
    )
    rows = {Level.COUNTY: county_rows(), Level.TOWN: town_rows(), Level.VILLAGE: village_rows()}
    for level, objects in rows.items():
        async with nodes[level].sessions.begin() as session:
            for row in objects:
                session.add(row)
                await session.flush()
    await nodes.dispose()
    try:
        yield settings
    finally:
        for name in created:
            await pg.drop_database(name)


@pytest.fixture
def env(dataset: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for store in ("city", "county", "town", "village", "identity"):
        monkeypatch.setenv(f"GOVHUB_{store.upper()}_DB_URL", dataset.db_url(store))
    monkeypatch.setenv("GOVHUB_CLOCK_OVERRIDE", "2026-11-20T10:00:00+08:00")
    monkeypatch.setenv("GOVHUB_SECRET_KEY", "report-test-secret")


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_monthly_report_writes_the_figures_as_csv_and_a_chart(env: None, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["report", "monthly", "--org", ORG_Y, "--month", "2026-10", "-o", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "8 received, 6 completed, 3 orgs" in result.output

    rows = read_csv(tmp_path / "yuebao-140702000000-2026-10.csv")
    title, header, body = rows[0], rows[1], rows[2:]
    assert title == ["月报表", "榆次区", "140702000000", "2026-10-01", "2026-10-31"]
    assert header[:4] == ["范围(scope)", "层级(level)", "机构代码(orgCode)", "机构名称(orgName)"]
    assert "即办件占比(immediateShare)" in header and "差评率(negativeRate)" in header
    # three orgs, then the three levels, then the total
    assert [(r[0], r[1], r[2]) for r in body] == [
        *sorted([("机构", "县级", ORG_Y), ("机构", "乡镇级", ORG_T), ("机构", "村级", ORG_V)],
                key=lambda r: r[2]),
        ("层级", "县级", ""), ("层级", "乡镇级", ""), ("层级", "村级", ""),
        ("合计", "", ""),
    ]  # fmt: skip
    total = dict(zip(header, body[-1], strict=True))
    assert total["机构名称(orgName)"] == "榆次区"
    assert int(total["收件数(received)"]) == TOTALS["received"] == 8
    assert int(total["受理数(accepted)"]) == TOTALS["accepted"] == 7
    assert int(total["办结数(completed)"]) == TOTALS["completed"] == 6
    assert float(total["按时办结率(onTimeRate)"]) == TOTALS["on_time_rate"] == 0.8333
    assert float(total["即办件占比(immediateShare)"]) == 0.3333
    assert total["即办件占比达标(≥70%)(immediateTargetMet)"] == "否"
    assert float(total["承诺时限压缩比(compressionRate)"]) == 0.4
    assert int(total["最多跑一次件数(atMostOneVisit)"]) == 6
    assert (total["黄牌数(yellowCards)"], total["红牌数(redCards)"]) == ("1", "1")
    assert (total["评价总数(ratings)"], float(total["差评率(negativeRate)"])) == ("4", 0.25)
    assert (total["投诉数(complaints)"], total["投诉超期数(complaintsOverdue)"]) == ("4", "2")
    town = dict(zip(header, body[[r[2] for r in body].index(ORG_T)], strict=True))
    assert town["收件数(received)"] == "0" and town["按时办结率(onTimeRate)"] == ""

    png = tmp_path / "yuebao-140702000000-2026-10.png"
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    pixels = image.imread(png)[:, :, :3]
    assert pixels.shape[0] > 300 and pixels.shape[1] > 600
    # the bars: matplotlib's first colour (#1f77b4) covers a visible area
    first_colour = np.all(np.abs(pixels - np.array([0x1F, 0x77, 0xB4]) / 255) < 0.02, axis=2)
    assert first_colour.sum() > 500


def test_bad_month_org_and_unknown_org_are_refused(env: None, tmp_path: Path) -> None:
    runner = CliRunner()
    for args, code in [
        (["--org", ORG_Y, "--month", "2026-13"], "INVALID_MONTH"),
        (["--org", "not-a-code", "--month", "2026-10"], "INVALID_ORG_CODE"),
        (["--org", make_uscc("91140700MA0000000"), "--month", "2026-10"], "ORG_NOT_FOUND"),
        (["--org", "140702999000", "--month", "2026-10"], "ORG_NOT_FOUND"),
    ]:
        result = runner.invoke(main, ["report", "monthly", *args, "-o", str(tmp_path)])
        assert result.exit_code != 0
        assert code in result.output, result.output
    assert list(tmp_path.iterdir()) == []


def test_the_org_may_be_named_by_its_division_code(env: None, tmp_path: Path) -> None:
    by_code = tmp_path / "by-code"
    by_division = tmp_path / "by-division"
    for org, out in ((ORG_Y, by_code), ("140702000000", by_division)):
        args = ["report", "monthly", "--org", org, "--month", "2026-10", "-o", str(out)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
    name = "yuebao-140702000000-2026-10.csv"
    assert read_csv(by_division / name) == read_csv(by_code / name)
