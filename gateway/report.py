"""The monthly report (月报表) of a service org's division: the supervision figures of
the month per org, per level and in total, as a CSV file (UTF-8 with a BOM, so Excel
reads the Chinese headers) and a PNG chart. It calls the same ``collect`` as the
``supervision`` query: one implementation of the figures.

``govhub report monthly --org ORGCODE --month YYYY-MM [-o DIR]``"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from gateway.nodes import NodeRegistry
from levels.common.codes import DivisionCode, level_of_division, validate_uscc
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import ServiceOrg
from levels.supervision.combine import Figures, Report
from levels.supervision.period import month_period
from levels.supervision.targets import IMMEDIATE_SHARE
from resolvers.fanout import NodeUnavailable
from resolvers.sessions import RequestSessions
from resolvers.supervision import collect, find_division

LEVEL_NAMES = {
    Level.CITY: "市级",
    Level.COUNTY: "县级",
    Level.TOWN: "乡镇级",
    Level.VILLAGE: "村级",
}

# (key in the API, Chinese header, value)
Column = tuple[str, str, Callable[[Figures], object]]
COLUMNS: list[Column] = [
    ("received", "收件数", lambda f: f.counts.received),
    ("accepted", "受理数", lambda f: f.counts.accepted),
    ("completed", "办结数", lambda f: f.counts.completed),
    ("completedOnTime", "按时办结数", lambda f: f.counts.completed_on_time),
    ("onTimeRate", "按时办结率", lambda f: f.on_time_rate),
    ("immediate", "即办件数", lambda f: f.counts.immediate),
    ("immediateShare", "即办件占比", lambda f: f.immediate_share),
    ("immediateTargetMet", "即办件占比达标(≥70%)", lambda f: f.immediate_target_met),
    ("promisedDays", "承诺时限合计(工作日)", lambda f: f.counts.promised_days),
    ("legalDays", "法定时限合计(工作日)", lambda f: f.counts.legal_days),
    ("compressionRate", "承诺时限压缩比", lambda f: f.compression_rate),
    ("online", "网上收件数", lambda f: f.counts.online),
    ("onlineRate", "网上收件率", lambda f: f.online_rate),
    ("onSite", "当场办结数", lambda f: f.counts.on_site),
    ("onSiteCompletionRate", "现场办结率", lambda f: f.on_site_completion_rate),
    ("atMostOneVisit", "最多跑一次件数", lambda f: f.counts.at_most_one_visit),
    ("atMostOneVisitShare", "最多跑一次占比", lambda f: f.at_most_one_visit_share),
    ("matters", "事项数", lambda f: f.counts.matters),
    ("oneVisitMatters", "最多跑一趟事项数", lambda f: f.counts.one_visit_matters),
    ("zeroVisitMatters", "一趟不用跑事项数", lambda f: f.counts.zero_visit_matters),
    ("oneVisitMatterShare", "最多跑一趟事项占比(目标>80%)", lambda f: f.one_visit_matter_share),
    ("zeroVisitConversion", "转化为一趟不用跑占比(目标≥50%)", lambda f: f.zero_visit_conversion),
    ("delivered", "出件数", lambda f: f.counts.delivered),
    ("archiveOverdue", "归档逾期数", lambda f: f.counts.archive_overdue),
    ("yellowCards", "黄牌数", lambda f: f.counts.yellow_cards),
    ("redCards", "红牌数", lambda f: f.counts.red_cards),
    ("proceduresOverdue", "特殊环节超时数", lambda f: f.counts.procedures_overdue),
    ("preReviewsOverdue", "网上预审超时数", lambda f: f.counts.pre_reviews_overdue),
    ("verySatisfied", "非常满意", lambda f: f.counts.very_satisfied),
    ("satisfied", "满意", lambda f: f.counts.satisfied),
    ("basic", "基本满意", lambda f: f.counts.basic),
    ("dissatisfied", "不满意", lambda f: f.counts.dissatisfied),
    ("veryDissatisfied", "非常不满意", lambda f: f.counts.very_dissatisfied),
    ("ratings", "评价总数", lambda f: f.rated),
    ("negativeRate", "差评率", lambda f: f.negative_rate),
    ("complaints", "投诉数", lambda f: f.counts.complaints),
    ("complaintsHandled", "投诉已处理数", lambda f: f.counts.complaints_handled),
    ("complaintsOverdue", "投诉超期数", lambda f: f.counts.complaints_overdue),
]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def write_csv(report: Report, path: Path) -> None:
    """One row per org, then one per level, then the total; headers 中文(key)."""
    header = ["范围(scope)", "层级(level)", "机构代码(orgCode)", "机构名称(orgName)"]
    header += [f"{zh}({key})" for key, zh, _ in COLUMNS]
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        w = csv.writer(out)
        w.writerow(["月报表", report.division_name, report.division_code,
                    report.period.start.isoformat(), report.period.end.isoformat()])  # fmt: skip
        w.writerow(header)
        for row in report.by_org:
            o = row.org
            w.writerow(["机构", LEVEL_NAMES[o.level], o.code, o.name, *_values(row.figures)])
        for lv in report.by_level:
            w.writerow(["层级", LEVEL_NAMES[lv.level], "", "", *_values(lv.figures)])
        w.writerow(["合计", "", "", report.division_name, *_values(report.totals)])
        if report.unavailable:
            missing = "、".join(LEVEL_NAMES[lv] for lv in report.unavailable)
            w.writerow([f"注：{missing}节点未响应，数据不完整"])


def _values(f: Figures) -> list[str]:
    return [_cell(value(f)) for _, _, value in COLUMNS]


def cjk_font() -> Path | None:
    """A font file that covers Chinese (``fc-list :lang=zh``), if one is installed."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        listed = subprocess.run(
            [fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(line.split(":")[0].strip() for line in listed.splitlines() if line.strip())
    return Path(files[0]) if files else None


def write_chart(report: Report, path: Path) -> None:
    """Bars of the counts per level, and the rates of the whole division against the
    即办 target. Chinese labels when a CJK font is installed, English otherwise."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.font_manager import FontProperties

    font_file = cjk_font()
    zh = font_file is not None
    font = FontProperties(fname=str(font_file)) if font_file else FontProperties()

    def label(chinese: str, english: str) -> str:
        return chinese if zh else english

    counts = [
        (label("收件", "received"), lambda f: f.counts.received),
        (label("受理", "accepted"), lambda f: f.counts.accepted),
        (label("办结", "completed"), lambda f: f.counts.completed),
        (label("即办", "immediate"), lambda f: f.counts.immediate),
        (label("当场办结", "on site"), lambda f: f.counts.on_site),
    ]
    rates: list[tuple[str, float | None]] = [
        (label("按时办结率", "on time"), report.totals.on_time_rate),
        (label("即办件占比", "immediate"), report.totals.immediate_share),
        (label("压缩比", "promised/legal"), report.totals.compression_rate),
        (label("网上收件率", "online"), report.totals.online_rate),
        (label("现场办结率", "on site"), report.totals.on_site_completion_rate),
        (label("最多跑一次", "<=1 visit"), report.totals.at_most_one_visit_share),
        (label("差评率", "negative"), report.totals.negative_rate),
    ]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5), dpi=100)
    levels = report.by_level
    width = 0.8 / max(len(levels), 1)
    for i, lv in enumerate(levels):
        xs = [j + i * width for j in range(len(counts))]
        name = LEVEL_NAMES[lv.level] if zh else lv.level.value.lower()
        left.bar(xs, [value(lv.figures) for _, value in counts], width, label=name)
    left.set_xticks([j + width * (len(levels) - 1) / 2 for j in range(len(counts))])
    left.set_xticklabels([name for name, _ in counts], fontproperties=font)
    left.set_title(label("办件数（按层级）", "cases per level"), fontproperties=font)
    left.legend(prop=font)
    right.barh([name for name, _ in rates], [value or 0 for _, value in rates], color="#4c72b0")
    right.axvline(IMMEDIATE_SHARE.threshold, color="#c44e52", linestyle="--")
    right.text(
        IMMEDIATE_SHARE.threshold,
        1.0,
        label(" 即办目标 70%", " immediate target 70%"),
        transform=right.get_xaxis_transform(),
        color="#c44e52",
        fontproperties=font,
        va="bottom",
    )
    right.set_xlim(0, 1)
    for tick in right.get_yticklabels():
        tick.set_fontproperties(font)
    right.set_title(label("比率（合计）", "rates (total)"), fontproperties=font)
    period = f"{report.period.start.isoformat()} – {report.period.end.isoformat()}"
    title = report.division_name if zh else report.division_code
    fig.suptitle(f"{label('月报表', 'Monthly report')} {title} {period}", fontproperties=font)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


async def find_org(nodes: NodeRegistry, org_code: str) -> ServiceOrg:
    """An org by its division code (12 digits, as `windows(orgCode)` takes it) or its
    credit code (18 characters)."""
    level = level_of_division(org_code.strip())
    if level is not None:
        async with nodes.owner(org_code.strip()).sessions() as session:
            found = await session.scalar(
                select(ServiceOrg).where(ServiceOrg.division_code == org_code.strip())
            )
        if found is None:
            raise DomainError(ErrorCode.ORG_NOT_FOUND, field=["org"])
        return found
    code = validate_uscc(org_code.strip(), field="org")
    for node in nodes:
        async with node.sessions() as session:
            org = await session.get(ServiceOrg, code)
        if org is not None:
            return org
    raise DomainError(ErrorCode.ORG_NOT_FOUND, field=["org"])


async def month_figures(
    nodes: NodeRegistry, org_code: str, month: str, *, today: dt.date, timeout: float
) -> tuple[ServiceOrg, Report, list[NodeUnavailable]]:
    """The month's figures of the org's division and everything below it."""
    period = month_period(month.strip())
    org = await find_org(nodes, org_code)
    sessions = RequestSessions(nodes)
    try:
        code = DivisionCode(org.division_code, org.level)
        division = await find_division(sessions, code, timeout=timeout)
        report, failures = await collect(sessions, division, period, today=today, timeout=timeout)
    finally:
        await sessions.close()
    return org, report, failures


CHART_MISSING = (
    "the monthly chart needs matplotlib: pip install 'govhub[reports]' "
    "(or --no-chart for the CSV alone)"
)


def chart_available() -> bool:
    """Whether matplotlib (the optional extra ``govhub[reports]``) is installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def monthly_paths(report: Report, out_dir: Path) -> tuple[Path, Path]:
    """``yuebao-<division>-<YYYY-MM>.csv`` and ``.png`` in ``out_dir``."""
    stem = f"yuebao-{report.division_code}-{report.period.start:%Y-%m}"
    return out_dir / f"{stem}.csv", out_dir / f"{stem}.png"
