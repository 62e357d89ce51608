"""Which step issues which notice, and what each says (000 四.三.1–2, 001 收件, 002
村级便民服务点 受理告知书). A notice is written with the step, in the caller's
transaction, as a row holding the content the document prints; it is signed then when
the caller gives the signer (every API step), otherwise — a timer's deemed acceptance,
a referral received from below — when it is first served.

* 收件 → 收件通知书 (a promised matter received at a centre, or at a town that refers it
  up: 000 (6), (10); 001 "出具《收件通知书》"); received at a village station → the
  two-part 受理告知书 (002: 受理事项的时间、名称、申办人、收件人; one part for the
  resident, one kept as the stub);
* 一次性告知 → 一次性告知通知书 naming every material to bring, and by when;
* 受理, 补正, 当场更正, deemed acceptance, a referral received by the decider →
  决定受理通知书 with the day the clock counts from;
* 不予受理 → 不予受理通知书 with the reason (and where to apply instead);
* 特殊环节 → 特殊环节通知书 with the procedure and its limit;
* 不予许可 → 不予许可决定书 with the reasons and the right to 行政复议 / 行政诉讼."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.cases.enums import Decision, RejectionReason
from levels.cases.machine import Step
from levels.cases.models import Case, CaseMaterial
from levels.cases.remedy import REMEDY
from levels.common.clock import CHINA
from levels.common.enums import HandlingKind, Level
from levels.common.models import ServiceOrg
from levels.licences.keys import OrgSigner, current_key
from levels.notices.enums import TITLES, NoticeKind
from levels.notices.models import CaseNotice
from levels.notices.tokens import seal, seal_by

# one statement, built once: each notice only binds its values
_INSERT_NOTICE = insert(cast(Table, CaseNotice.__table__))

PROCEDURES = {
    "HEARING": "听证",
    "TENDER": "招标",
    "AUCTION": "拍卖",
    "INSPECTION": "检验",
    "TESTING": "检测",
    "QUARANTINE": "检疫",
    "APPRAISAL": "鉴定",
    "EXPERT_REVIEW": "专家评审",
    "PUBLICITY": "公示",
    "SITE_SURVEY": "现场勘察",
}
MATERIAL_STATES = {
    "PROVIDED": "已提交",
    "MISSING": "未提交",
    "INCORRECT": "需补正",
    "TOLERATED": "容缺后补",
}
RECEIPT_TEXT = (
    "本机关已收到您的申请材料。材料齐全、符合法定形式的，予以受理；需要补正的，"
    "将于三个工作日内一次性告知需要补正的全部内容；逾期不告知的，"
    "自收到申请材料之日起即为受理。"
)
REFER_TEXT = (
    "本申请由本机关代办转报，将在上级行政机关规定期限内报送；上级行政机关收到转报"
    "材料后即出具决定受理通知书，不再要求您重复提供申请材料。"
)
SUPPLEMENT_TEXT = (
    "您的申请材料不齐全或者不符合法定形式，现一次性告知需要补正的全部材料（见下）。"
    "请于{deadline}前补齐补正；补齐全部材料之日起受理。逾期未补齐的，"
    "视为自动放弃本次申请，作自动办结处理。"
)
ACCEPTANCE_TEXT = {
    Step.ACCEPT: "您的申请材料齐全、符合法定形式，本机关决定受理，受理时间自收件之日起算。",
    Step.CORRECT_ON_SPOT: "申请材料的错误已当场更正，本机关决定受理，受理时间自收件之日起算。",
    Step.SUPPLEMENT: "您已按一次性告知通知书补齐全部材料，本机关决定受理，受理时间自补齐之日起算。",
    Step.DEEM_ACCEPTED: (
        "本机关未在三个工作日内一次性告知补正，依规定自收到申请材料之日起即为受理。"
    ),
}
REFERRAL_ACCEPTANCE_TEXT = (
    "本机关已收到下级行政机关代办转报的申请材料，即予受理，不再要求您重复提供材料。"
)
REJECTION_TEXT = {
    RejectionReason.NOT_REQUIRED: "申请事项依法不需要取得行政许可，本机关决定不予受理。",
    RejectionReason.NOT_OUR_JURISDICTION: (
        "申请事项依法不属于本行政机关职权范围，本机关决定不予受理，请向{authority}申请。"
    ),
}
SPECIAL_TEXT = (
    "您的申请依法需要进行{procedure}，现告知如下：参与人员为本机关组织的{procedure}人员、"
    "申请人及利害关系人；{procedure}自{start}起，时限为{days}个工作日。"
    "特殊环节所需时间不计入承诺办理时限。"
)
DENIAL_TEXT = "经审查，您的申请不符合法定条件和标准，本机关决定不予许可。"

__all__ = [
    "NoticeId",
    "notice_id",
    "notices_by_case",
    "on_referral_received",
    "on_step",
    "on_submit",
    "parse_notice_id",
]


_NOTICE_ID = re.compile(r"^(\d{12}-\d{8}-\d{5})-(CITY|COUNTY|TOWN|VILLAGE)-(\d{1,4})$")


@dataclass(frozen=True, slots=True)
class NoticeId:
    value: str
    case_number: str
    level: Level  # the store that keeps it: the level of the org that issued it


def notice_id(case: Case, seq: int) -> str:
    return f"{case.number}-{case.level.value}-{seq}"


def parse_notice_id(value: str) -> NoticeId | None:
    match = _NOTICE_ID.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    return NoticeId(match.group(0), match.group(1), Level(match.group(2)))


def _day(at: dt.datetime) -> str:
    return at.astimezone(CHINA).date().isoformat()


@dataclass(frozen=True)
class _Issuing:
    """What a notice's first statement reads: its number, the holding org's name and,
    when it is sealed, the org's current signing key (None: the org has none yet)."""

    seq: int
    org_name: str
    kid: str | None
    private_pem: str | None


def _issuing_statement(*, key: bool) -> Select[Any]:
    """The number of a case's notices (``number``), the name of the org that holds it
    (``org``) and, with ``key``, the org's current signing key: one statement."""
    issued = select(func.count()).where(CaseNotice.case_number == bindparam("number"))
    name = select(ServiceOrg.name).where(ServiceOrg.code == bindparam("org"))
    columns: list[Any] = [issued.scalar_subquery(), name.scalar_subquery()]
    if key:
        current = current_key(bindparam("org")).subquery()
        columns += [select(current.c.kid).scalar_subquery()]
        columns += [select(current.c.private_pem).scalar_subquery()]
    return select(*columns)


# built once, with the key and without: each notice binds its case and org
_ISSUING = {key: _issuing_statement(key=key) for key in (False, True)}


async def _issuing_read(session: AsyncSession, case: Case, *, key: bool) -> _Issuing:
    """The number of the case's next notice, the name of the org that holds it and
    (``key``) the org's current signing key, in one statement."""
    bound = {"number": case.number, "org": case.org_code}
    row = (await session.execute(_ISSUING[key], bound)).one()
    org_name = row[1] if row[1] is not None else case.org_code
    kid, pem = (row[2], row[3]) if key else (None, None)
    return _Issuing(1 + (row[0] or 0), org_name, kid, pem)


async def issue(
    session: AsyncSession,
    case: Case,
    kind: NoticeKind,
    said: dict[str, Any],
    now: dt.datetime,
    signer: OrgSigner | None,
) -> CaseNotice:
    """Write one notice of ``case`` by the org that holds it now, in this store."""
    issuing = await _issuing_read(session, case, key=signer is not None)
    seq, org_name = issuing.seq, issuing.org_name
    content: dict[str, Any] = {
        "v": 1,
        "kind": kind.value,
        "title": TITLES[kind],
        "org": {"code": case.org_code, "name": org_name},
        "case": case.number,
        "matter": case.matter_name,
        "applicant": {"name": case.applicant_name, "idMasked": case.applicant_id_masked},
        "issuedOn": _day(now),
        **said,
    }
    row = CaseNotice(
        id=notice_id(case, seq),
        case_number=case.number,
        seq=seq,
        kind=kind,
        org_code=case.org_code,
        issued_at=now,
        content=content,
    )
    if signer is not None:
        # the claims are the row's own fields: sealed before it is written, one INSERT
        if issuing.kid is not None and issuing.private_pem is not None:
            seal_by(row, issuing.kid, signer.key_of(issuing.kid, issuing.private_pem))
        else:
            await seal(session, row, signer, now)  # the org's first key, made here
    # what is pending is written first, as the session's flush of the row did; then the
    # row by one Core INSERT, without the unit of work's bookkeeping for it (nothing
    # else in the transaction changes it; it is returned as written, not in the session)
    await session.flush()
    connection = await session.connection()
    await connection.execute(
        _INSERT_NOTICE,
        {
            "id": row.id,
            "case_number": row.case_number,
            "seq": row.seq,
            "kind": row.kind,
            "org_code": row.org_code,
            "issued_at": row.issued_at,
            "content": row.content,
            "kid": row.kid,
            "token": row.token,
        },
    )
    return row


async def on_submit(
    session: AsyncSession,
    case: Case,
    clerk: str | None,
    implementing_level: Level,
    now: dt.datetime,
    signer: OrgSigner | None,
) -> CaseNotice | None:
    """收件: the village station's two-part 受理告知书, or a centre's 收件通知书 for a
    matter not completed on the spot (000 (1): 当场办结 needs no notice)."""
    materials = (
        await session.scalars(
            select(CaseMaterial)
            .where(CaseMaterial.case_number == case.number)
            .order_by(CaseMaterial.id)
        )
    ).all()
    received = [
        {"name": m.name, "state": MATERIAL_STATES.get(m.state.value, m.state.value)}
        for m in materials
    ]
    referred = implementing_level is not case.level
    if case.level is Level.VILLAGE:
        route = "代办转报上级办理" if referred else "本站办理"
        slip = {
            "receivedAt": case.submitted_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
            "receiver": clerk or "代办员",
            "phone": case.applicant_phone or "",
            "route": route,
        }
        parts = [{"part": "第一联 申办人联", **slip}, {"part": "第二联 存根联", **slip}]
        slips: dict[str, Any] = {"parts": parts, "materials": received}
        return await issue(session, case, NoticeKind.VILLAGE_RECEIPT, slips, now, signer)
    if case.handling_kind is HandlingKind.IMMEDIATE:
        return None
    said: dict[str, Any] = {
        "receivedOn": _day(case.submitted_at),
        "materials": received,
        "text": REFER_TEXT if referred else RECEIPT_TEXT,
    }
    return await issue(session, case, NoticeKind.RECEIPT, said, now, signer)


def _acceptance(case: Case, text: str) -> dict[str, Any]:
    return {
        "text": text,
        "acceptedOn": case.accepted_on.isoformat() if case.accepted_on else None,
        "promisedLimitDays": case.promised_limit_days,
        "dueOn": case.due_on.isoformat() if case.due_on else None,
    }


async def on_step(
    session: AsyncSession,
    case: Case,
    step: Step,
    detail: dict[str, Any],
    now: dt.datetime,
    signer: OrgSigner | None,
) -> CaseNotice | None:
    """The notice ``step`` (just taken on ``case``) produces, if any."""
    if step is Step.NOTIFY_SUPPLEMENT:
        deadline = case.supplement_deadline.isoformat() if case.supplement_deadline else ""
        said: dict[str, Any] = {
            "text": SUPPLEMENT_TEXT.format(deadline=deadline),
            "deadline": deadline,
            "missing": [{"name": m["name"], "note": m.get("note")} for m in detail["notice"]],
        }
        return await issue(session, case, NoticeKind.SUPPLEMENT, said, now, signer)
    if step in ACCEPTANCE_TEXT:
        said = _acceptance(case, ACCEPTANCE_TEXT[step])
        return await issue(session, case, NoticeKind.ACCEPTANCE, said, now, signer)
    if step is Step.REJECT and case.rejection_reason is not None:
        authority = case.rejection_authority or "有关行政机关"
        said = {
            "text": REJECTION_TEXT[case.rejection_reason].format(authority=authority),
            "reason": case.rejection_reason.value,
            "authority": case.rejection_authority,
            "remedy": REMEDY,
        }
        return await issue(session, case, NoticeKind.REJECTION, said, now, signer)
    if step is Step.START_SPECIAL:
        kind = str(detail.get("procedure") or "")
        name = PROCEDURES.get(kind, kind)
        start = now.astimezone(CHINA).date().isoformat()
        days = detail.get("limitDays")
        said = {
            "text": SPECIAL_TEXT.format(procedure=name, start=start, days=days),
            "procedure": kind,
            "procedureName": name,
            "startedOn": start,
            "limitDays": days,
        }
        return await issue(session, case, NoticeKind.SPECIAL_PROCEDURE, said, now, signer)
    if step is Step.DECIDE and case.decision is Decision.DENIED:
        said = {
            "text": DENIAL_TEXT,
            "reasons": case.decision_reasons or "",
            "remedy": case.remedy or REMEDY,
        }
        return await issue(session, case, NoticeKind.DENIAL, said, now, signer)
    return None


async def on_referral_received(session: AsyncSession, case: Case, now: dt.datetime) -> CaseNotice:
    """000 (10): "上级行政机关收到转报材料后,应当即出具决定受理通知书" — sealed when
    first served (the relay holds no signing key)."""
    return await issue(
        session, case, NoticeKind.ACCEPTANCE, _acceptance(case, REFERRAL_ACCEPTANCE_TEXT), now, None
    )


async def notices_by_case(numbers: Sequence[str], *, session: AsyncSession) -> Sequence[CaseNotice]:
    return (
        await session.scalars(
            select(CaseNotice)
            .where(CaseNotice.case_number.in_(numbers))
            .order_by(CaseNotice.case_number, CaseNotice.seq)
        )
    ).all()
