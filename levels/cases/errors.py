"""Error codes of cases: payload errors of the case mutations."""

from __future__ import annotations

import enum


class CaseErrorCode(enum.Enum):
    INVALID_CASE_NUMBER = "INVALID_CASE_NUMBER"
    CASE_NOT_FOUND = "CASE_NOT_FOUND"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"
    NOT_AT_THIS_ORG = "NOT_AT_THIS_ORG"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    IMPLEMENTATION_NOT_IN_FORCE = "IMPLEMENTATION_NOT_IN_FORCE"
    MATERIAL_NOT_IN_GUIDE = "MATERIAL_NOT_IN_GUIDE"
    DUPLICATE_MATERIAL = "DUPLICATE_MATERIAL"
    MATERIAL_REFERENCE_REQUIRED = "MATERIAL_REFERENCE_REQUIRED"
    APPLICANT_NOT_FOUND = "APPLICANT_NOT_FOUND"
    NOT_AN_APPLICANT = "NOT_AN_APPLICANT"
    NOT_IMMEDIATE = "NOT_IMMEDIATE"
    NOTHING_TO_SUPPLEMENT = "NOTHING_TO_SUPPLEMENT"
    SUPPLEMENT_INCOMPLETE = "SUPPLEMENT_INCOMPLETE"
    AUTHORITY_REQUIRED = "AUTHORITY_REQUIRED"
    REASONS_REQUIRED = "REASONS_REQUIRED"
    PROCEDURE_NOT_IN_GUIDE = "PROCEDURE_NOT_IN_GUIDE"
    DELIVERY_REFERENCE_REQUIRED = "DELIVERY_REFERENCE_REQUIRED"
    DELIVERY_METHOD_NOT_OFFERED = "DELIVERY_METHOD_NOT_OFFERED"
    INVALID_DEADLINE = "INVALID_DEADLINE"
    TEXT_TOO_LONG = "TEXT_TOO_LONG"
    NOT_THIS_DEPARTMENT = "NOT_THIS_DEPARTMENT"
    JOINT_NOT_SAME_ORG = "JOINT_NOT_SAME_ORG"
    JOINT_SAME_DEPARTMENT = "JOINT_SAME_DEPARTMENT"
    PART_NOT_FOUND = "PART_NOT_FOUND"
    PART_ALREADY_DECIDED = "PART_ALREADY_DECIDED"
    LEAD_DECIDES_LAST = "LEAD_DECIDES_LAST"
    PARTS_UNDECIDED = "PARTS_UNDECIDED"
    JOINT_PART_DENIED = "JOINT_PART_DENIED"
    WINDOW_NOT_AT_THIS_ORG = "WINDOW_NOT_AT_THIS_ORG"
    WINDOW_CANNOT_RECEIVE = "WINDOW_CANNOT_RECEIVE"
    WINDOW_DOES_NOT_SERVE = "WINDOW_DOES_NOT_SERVE"
    WINDOW_CANNOT_DELIVER = "WINDOW_CANNOT_DELIVER"
    OUTPUT_WINDOW_REQUIRED = "OUTPUT_WINDOW_REQUIRED"
    NOT_A_REPRESENTATIVE = "NOT_A_REPRESENTATIVE"
    NOT_REFERABLE = "NOT_REFERABLE"
    REFER_INSTEAD = "REFER_INSTEAD"
    NOT_RECEIVABLE_HERE = "NOT_RECEIVABLE_HERE"
    OPINION_REQUIRED = "OPINION_REQUIRED"
    ALREADY_HERE = "ALREADY_HERE"
    WITHDRAWAL_UNDER_WAY = "WITHDRAWAL_UNDER_WAY"
    NO_SECOND_REQUEST = "NO_SECOND_REQUEST"
    DEEMED_ACCEPTED = "DEEMED_ACCEPTED"
    SUPPLEMENT_DEADLINE_PASSED = "SUPPLEMENT_DEADLINE_PASSED"
    HELD_IN_LIBRARY = "HELD_IN_LIBRARY"
    NOT_CORRECTED_ON_SPOT = "NOT_CORRECTED_ON_SPOT"
    REJECTION_PENDING = "REJECTION_PENDING"
    NO_REJECTION_PROPOSED = "NO_REJECTION_PROPOSED"
    SECOND_PERSON_REQUIRED = "SECOND_PERSON_REQUIRED"
    TOLERANCE_OUTSTANDING = "TOLERANCE_OUTSTANDING"
    TOLERANCE_DEADLINE_PASSED = "TOLERANCE_DEADLINE_PASSED"
    NOT_TOLERATED = "NOT_TOLERATED"
    NO_TOLERANCE_OUTSTANDING = "NO_TOLERANCE_OUTSTANDING"
    TOLERANCE_ALREADY_OVERRIDDEN = "TOLERANCE_ALREADY_OVERRIDDEN"
    TOLERANCE_CONSEQUENCE_FIXED = "TOLERANCE_CONSEQUENCE_FIXED"
    IDENTITY_IS_SHARED = "IDENTITY_IS_SHARED"
    REFERRAL_INCOMPLETE = "REFERRAL_INCOMPLETE"
    STATION_NOTICE_OPEN = "STATION_NOTICE_OPEN"
    PROCEDURE_LIMIT_EXCEEDS_PROMISE = "PROCEDURE_LIMIT_EXCEEDS_PROMISE"
    NO_PROCEDURE_RUNNING = "NO_PROCEDURE_RUNNING"
    NOT_AN_ONLINE_APPLICATION = "NOT_AN_ONLINE_APPLICATION"
    PRE_REVIEW_ALREADY_GIVEN = "PRE_REVIEW_ALREADY_GIVEN"
    PRE_REVIEW_CLOSED = "PRE_REVIEW_CLOSED"
    PRE_REVIEW_LIST_MISMATCH = "PRE_REVIEW_LIST_MISMATCH"

    def messages(self) -> tuple[str, str]:
        return _MESSAGES[self]


_MESSAGES: dict[CaseErrorCode, tuple[str, str]] = {
    CaseErrorCode.INVALID_CASE_NUMBER: (
        "办件编号格式错误（区划代码-日期-序号）",
        "A case number is <division code>-<yyyymmdd>-<sequence>",
    ),
    CaseErrorCode.CASE_NOT_FOUND: ("未找到该办件", "No such case"),
    CaseErrorCode.INVALID_TRANSITION: (
        "办件当前状态不允许此操作",
        "The case's current status does not allow this",
    ),
    CaseErrorCode.ROLE_NOT_ALLOWED: (
        "您的岗位不能办理此环节",
        "Your role cannot take this step",
    ),
    CaseErrorCode.NOT_AT_THIS_ORG: (
        "该办件不在您所在的服务机构",
        "The case is not at your service organisation",
    ),
    CaseErrorCode.VERSION_CONFLICT: (
        "办件已被他人处理，请刷新后重试",
        "Someone else acted on the case first; reload and try again",
    ),
    CaseErrorCode.IMPLEMENTATION_NOT_IN_FORCE: (
        "该实施清单事项未发布或已停止实施",
        "That implementation item is not in force",
    ),
    CaseErrorCode.MATERIAL_NOT_IN_GUIDE: (
        "办事指南中没有该材料",
        "The service guide does not ask for this material",
    ),
    CaseErrorCode.DUPLICATE_MATERIAL: ("材料重复提交", "The same material was given twice"),
    CaseErrorCode.MATERIAL_REFERENCE_REQUIRED: (
        "电子材料和证照须注明文件或证照编号",
        "A file or licence material needs its reference",
    ),
    CaseErrorCode.APPLICANT_NOT_FOUND: ("未找到申请人账号", "No account for that applicant"),
    CaseErrorCode.NOT_AN_APPLICANT: (
        "只有自然人或法人可以作为申请人",
        "Only a resident or an enterprise can apply",
    ),
    CaseErrorCode.NOT_IMMEDIATE: (
        "只有即办件可以当场办结",
        "Only immediate matters can be completed on the spot",
    ),
    CaseErrorCode.NOTHING_TO_SUPPLEMENT: (
        "材料齐全，无需补正",
        "No material is missing or incorrect",
    ),
    CaseErrorCode.SUPPLEMENT_INCOMPLETE: (
        "补正材料不全，请按告知书一次补齐",
        "Not every material in the notice was supplied",
    ),
    CaseErrorCode.AUTHORITY_REQUIRED: (
        "不属于本机关职权范围的，须告知申请人向有关机关申请",
        "Name the authority the applicant should apply to",
    ),
    CaseErrorCode.REASONS_REQUIRED: (
        "不予许可须说明理由",
        "A denial must give its reasons",
    ),
    CaseErrorCode.PROCEDURE_NOT_IN_GUIDE: (
        "办事指南未列明该特殊环节",
        "The service guide lists no such special procedure",
    ),
    CaseErrorCode.DELIVERY_REFERENCE_REQUIRED: (
        "送达须登记领取回执或邮寄单号",
        "Delivery needs a pickup receipt or a mail tracking number",
    ),
    CaseErrorCode.DELIVERY_METHOD_NOT_OFFERED: (
        "该事项不提供此送达方式",
        "This matter does not offer that delivery method",
    ),
    CaseErrorCode.INVALID_DEADLINE: ("期限须为正整数个工作日", "A deadline is whole working days"),
    CaseErrorCode.TEXT_TOO_LONG: ("填写内容过长", "The text is too long"),
    CaseErrorCode.NOT_THIS_DEPARTMENT: (
        "该环节应由承办部门办理",
        "Another department takes this step",
    ),
    CaseErrorCode.JOINT_NOT_SAME_ORG: (
        "联办事项须在同一服务机构办理",
        "Jointly handled items must be of the same service organisation",
    ),
    CaseErrorCode.JOINT_SAME_DEPARTMENT: (
        "联办事项须分属不同部门",
        "Jointly handled items must be of different departments",
    ),
    CaseErrorCode.PART_NOT_FOUND: ("该办件不含此联办事项", "The case has no such part"),
    CaseErrorCode.PART_ALREADY_DECIDED: (
        "该部门已作出决定",
        "That department has already decided",
    ),
    CaseErrorCode.LEAD_DECIDES_LAST: (
        "牵头部门在其他部门决定后作出最终决定",
        "The lead department decides the case last, with decideCase",
    ),
    CaseErrorCode.PARTS_UNDECIDED: (
        "尚有联办部门未作出决定",
        "Some departments have not decided yet",
    ),
    CaseErrorCode.JOINT_PART_DENIED: (
        "有联办部门不予许可，不能准予",
        "A department denied its part; the case cannot be approved",
    ),
    CaseErrorCode.WINDOW_NOT_AT_THIS_ORG: (
        "该窗口不属于办理机构",
        "That window is not at the organisation handling the case",
    ),
    CaseErrorCode.WINDOW_CANNOT_RECEIVE: (
        "该窗口不受理申请",
        "That window does not receive applications",
    ),
    CaseErrorCode.WINDOW_DOES_NOT_SERVE: (
        "该窗口不受理此部门的事项",
        "That window does not serve this department",
    ),
    CaseErrorCode.WINDOW_CANNOT_DELIVER: (
        "该窗口不办理出件",
        "That window does not hand out results",
    ),
    CaseErrorCode.OUTPUT_WINDOW_REQUIRED: (
        "综合窗口受理的办件须在出件窗口领取",
        "A case received at a comprehensive window is picked up at an output window",
    ),
    CaseErrorCode.NOT_REFERABLE: (
        "该办件由本级办理，无需转报",
        "This case is decided here; there is nowhere to refer it",
    ),
    CaseErrorCode.REFER_INSTEAD: (
        "该事项由上级受理，请转报",
        "This matter is taken up by the level above: refer the case",
    ),
    CaseErrorCode.NOT_RECEIVABLE_HERE: (
        "该事项不能在本级收件",
        "This matter cannot be handed in here",
    ),
    CaseErrorCode.OPINION_REQUIRED: (
        "须先填写初审意见再上报",
        "Give the preliminary review opinion before referring the case up",
    ),
    CaseErrorCode.ALREADY_HERE: (
        "该办件已在本级",
        "The case is already held here",
    ),
    CaseErrorCode.WITHDRAWAL_UNDER_WAY: (
        "撤回申请已发出，正随办件送达受理机构",
        "The withdrawal is already on its way to the org the case was referred to",
    ),
    CaseErrorCode.NO_SECOND_REQUEST: (
        "转报的办件不得要求申请人重复提交材料",
        "A referred case may not ask the applicant for materials again",
    ),
    CaseErrorCode.DEEMED_ACCEPTED: (
        "收件后三个工作日内未告知补正，该申请已视为自收件之日起受理",
        "No notice within 3 working days of receipt: the case counts as accepted on receipt",
    ),
    CaseErrorCode.SUPPLEMENT_DEADLINE_PASSED: (
        "补正期限已过，该办件已按未补正办结",
        "The supplement deadline has passed: the case is closed as not supplemented",
    ),
    CaseErrorCode.HELD_IN_LIBRARY: (
        "该材料已从电子证照库调取，不得要求申请人提交纸质证照",
        "This material was filled from the e-licence library: it is never asked for on paper",
    ),
    CaseErrorCode.NOT_CORRECTED_ON_SPOT: (
        "仍有材料缺失或有误；不能当场更正的，请一次性告知需补正的全部内容",
        "Materials are still missing or wrong: what cannot be corrected on the spot goes "
        "on a supplement notice",
    ),
    CaseErrorCode.REJECTION_PENDING: (
        "不予受理意见已提出，正等待负责人审批",
        "A rejection is already proposed and waits for approval",
    ),
    CaseErrorCode.NO_REJECTION_PROPOSED: (
        "该办件没有待审批的不予受理意见",
        "No rejection of this case waits for approval",
    ),
    CaseErrorCode.SECOND_PERSON_REQUIRED: (
        "窗口无否决权：不予受理须经另一人批准，不能批准本人提出的意见",
        "A window may not simply say no: someone other than the proposer approves a rejection",
    ),
    CaseErrorCode.REFERRAL_INCOMPLETE: (
        "申请材料不齐全，须收齐后方可转报，缺少",
        "The file is incomplete: collect what is missing before referring it up; missing",
    ),
    CaseErrorCode.STATION_NOTICE_OPEN: (
        "已一次性告知收件站点补齐材料，须待站点补齐后再作决定",
        "The station was told what the file lacks: decide once the station has supplied it",
    ),
    CaseErrorCode.PROCEDURE_LIMIT_EXCEEDS_PROMISE: (
        "特殊环节时限原则上不超过事项承诺办理时限；确需超过的，须登记例外理由",
        "A special procedure's limit may not exceed the matter's promised limit unless an "
        "exception reason is recorded",
    ),
    CaseErrorCode.NO_PROCEDURE_RUNNING: (
        "该办件没有进行中的特殊环节",
        "No special procedure of this case is running",
    ),
    CaseErrorCode.NOT_AN_ONLINE_APPLICATION: (
        "网上预审仅适用于网上申请的办件",
        "Only an application made online is pre-reviewed",
    ),
    CaseErrorCode.PRE_REVIEW_ALREADY_GIVEN: (
        "该办件的预审结果已告知申请人",
        "The pre-review result of this case was already given",
    ),
    CaseErrorCode.PRE_REVIEW_CLOSED: (
        "该办件已受理或已作出处理，不再预审",
        "The case was taken up already: it is no longer pre-reviewed",
    ),
    CaseErrorCode.PRE_REVIEW_LIST_MISMATCH: (
        "预审通过不列缺项；预审未通过须列明需补充的全部材料",
        "A pass lists nothing; an incomplete result lists everything missing",
    ),
    CaseErrorCode.NOT_A_REPRESENTATIVE: (
        "您不是该企业的法定代表人或授权经办人",
        "You do not represent that enterprise",
    ),
    CaseErrorCode.TOLERANCE_OUTSTANDING: (
        "容缺材料尚未补交，不得作出准予决定（或经负责人说明理由后决定）",
        "A tolerated material is still outstanding: no approval until it is handed in "
        "or a director overrides with a reason",
    ),
    CaseErrorCode.TOLERANCE_DEADLINE_PASSED: (
        "容缺承诺期限已过，已按承诺载明的后果处理",
        "The date promised for the tolerated material has passed: the stated consequence "
        "has taken effect",
    ),
    CaseErrorCode.NOT_TOLERATED: (
        "该材料不是容缺受理、待补交的材料",
        "This material is not a tolerated one waiting to be handed in",
    ),
    CaseErrorCode.NO_TOLERANCE_OUTSTANDING: (
        "该办件没有待补交的容缺材料",
        "No tolerated material of this case is outstanding",
    ),
    CaseErrorCode.TOLERANCE_ALREADY_OVERRIDDEN: (
        "负责人已就该办件的容缺材料作出决定",
        "A director has already overridden the hold of this case",
    ),
    CaseErrorCode.TOLERANCE_CONSEQUENCE_FIXED: (
        "该事项已载明容缺逾期的后果，不得另行约定",
        "The matter states the consequence of a late tolerated material; it is not set per case",
    ),
    CaseErrorCode.IDENTITY_IS_SHARED: (
        "居民身份证由实名核验的身份信息共享获取，无需提交",
        "The identity card comes from the applicant's verified identity: it is not handed in",
    ),
}
