"""The messages an applicant reads about their case, in the language the case records
(003 "藏汉双语"): each has a Chinese text and, where written, a Tibetan variant. A message
without a variant in the asked language is given in Chinese and says so (``fallback``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from levels.cases.enums import CaseStatus
from levels.cases.models import Case
from levels.common.languages import CHINESE, TIBETAN


@dataclass(frozen=True)
class ApplicantMessage:
    """What the applicant reads about their case, in ``language``; ``fallback``: the
    asked language has no variant of it, so it is the Chinese text."""

    language: str
    text: str
    fallback: bool


# the status of a case as its applicant reads it (zh, bo)
_STATUS_MESSAGES: dict[CaseStatus, dict[str, str]] = {
    CaseStatus.SUBMITTED: {
        CHINESE: "您的申请已收件，正在审核材料。",
        TIBETAN: "ཁྱེད་ཀྱི་ཞུ་ཡིག་ལེན་ཟིན། ཡིག་ཆ་ཞིབ་བཤེར་བྱེད་བཞིན་ཡོད།",
    },
    CaseStatus.AWAITING_SUPPLEMENT: {
        CHINESE: "您的申请材料需要补正，请按一次性告知补齐材料。",
        TIBETAN: "ཁྱེད་ཀྱི་ཡིག་ཆ་ཁ་སྐོང་དགོས། བརྡ་ཐོ་ལྟར་ཡིག་ཆ་ཚང་མ་སྤྲོད་རོགས།",
    },
    CaseStatus.ACCEPTED: {
        CHINESE: "您的申请已受理，将在承诺时限内办结。",
        TIBETAN: "ཁྱེད་ཀྱི་ཞུ་ཡིག་ངོས་ལེན་བྱས་ཟིན། ཁས་བླངས་པའི་དུས་ཚོད་ནང་གྲུབ་རྒྱུ་ཡིན།",
    },
    CaseStatus.REFERRED: {
        CHINESE: "您的申请已转报上级机关办理。",
        TIBETAN: "ཁྱེད་ཀྱི་ཞུ་ཡིག་གོང་རིམ་ལས་ཁུངས་ལ་སྤྲོད་ཟིན།",
    },
    CaseStatus.UNDER_REVIEW: {
        CHINESE: "您的申请正在审查。",
        TIBETAN: "ཁྱེད་ཀྱི་ཞུ་ཡིག་ཞིབ་བཤེར་བྱེད་བཞིན་ཡོད།",
    },
    CaseStatus.APPROVED: {
        CHINESE: "您的申请已准予许可。",
        TIBETAN: "ཁྱེད་ཀྱི་ཞུ་ཡིག་ལ་ཆོག་མཆན་སྤྲད་ཟིན།",
    },
    CaseStatus.DENIED: {
        CHINESE: "您的申请不予许可，理由及救济途径见决定书。",
        TIBETAN: "ཁྱེད་ཀྱི་ཞུ་ཡིག་ལ་ཆོག་མཆན་མ་སྤྲད། རྒྱུ་མཚན་ཐག་གཅོད་ཡི་གེར་གསལ།",
    },
    CaseStatus.COMPLETED: {
        CHINESE: "您的申请已办结。",
        TIBETAN: "ཁྱེད་ཀྱི་ཞུ་ཡིག་གྲུབ་ཟིན།",
    },
    # no Tibetan variant written yet: given in Chinese, marked as a fallback
    CaseStatus.SPECIAL_PROCEDURE: {CHINESE: "您的申请进入特殊环节，期间不计入办理时限。"},
    CaseStatus.ISSUED: {CHINESE: "您的证照已制发，可在电子证照中查看。"},
    CaseStatus.DELIVERED: {CHINESE: "办理结果已送达。"},
    CaseStatus.ARCHIVED: {CHINESE: "您的申请已办结归档。"},
    CaseStatus.REJECTED: {CHINESE: "您的申请不予受理，请查看理由及应向哪个机关申请。"},
    CaseStatus.CLOSED_UNSUPPLEMENTED: {CHINESE: "逾期未补正材料，申请已自动办结。"},
    CaseStatus.WITHDRAWN: {CHINESE: "您已撤回申请。"},
}


def status_message(status: CaseStatus, language: str | None) -> ApplicantMessage:
    """The status of a case as its applicant reads it: in their language when it has a
    variant, else in Chinese with ``fallback`` set."""
    asked = language or CHINESE
    variants = _STATUS_MESSAGES[status]
    if asked in variants:
        return ApplicantMessage(asked, variants[asked], False)
    return ApplicantMessage(CHINESE, variants[CHINESE], True)


async def record_applicant_language(
    case: Case, language: str | None, *, session: AsyncSession
) -> None:
    """Record the language the applicant reads on a case just received, in the same
    transaction, without counting as a change of the case (its version stays)."""
    if language is None:
        return
    await session.execute(
        update(Case).where(Case.number == case.number).values(applicant_language=language)
    )
    set_committed_value(case, "applicant_language", language)
