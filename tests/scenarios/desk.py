"""The people of a case scenario at the 榆次区 service centre (``Desk``), signed in on
their own channels over HTTP, and the queries they run."""

from __future__ import annotations

import datetime as dt
from typing import Any

import chinese_calendar

from gateway.nodes import NodeRegistry
from levels.calendar.workdays import load_calendar
from levels.cases.timers import fire_due_timers
from levels.common.clock import CHINA
from levels.common.enums import Level
from tests.auth.conftest import OwnHub, bearer, signed_in

YUCI_ORG = "12140702MB00000006"
DISABILITY_CARD = f"{YUCI_ORG}2000700400100"  # 残疾人证: promised 10 days, APPRAISAL 10
BIRTH_REGISTRATION = f"{YUCI_ORG}2000700800200"  # an immediate matter
# what a 残疾人证 (CJRZ) approval must say that the case cannot: its category and grade
DISABILITY_LICENCE = [
    {"key": "category", "value": "肢体"},
    {"key": "grade", "value": "三级"},
]

CASE_FIELDS = """
  number status version level matterName applicantName applicantIdMasked
  decision decisionReasons remedy rejectionReason rejectionAuthority rejectionPending
  supplementDeadline
  deliveryMethod deliveryReference
  clock { state acceptedOn dueOn workingDaysLeft promisedLimitDays provisional deemedAccepted }
  materials { name state source reference note }
  timeline { action before after actorKind role }
  applicantKind joint pushDueOn pushOverdue department { name }
  receivedAtWindow { number kind } deliveredAtWindow { number kind }
  parts { implementationCode matterName lead decision reasons department { name } }
"""
SUBMIT = f"""
mutation($input: SubmitCaseInput!) {{
  submitCase(input: $input) {{ case {{ {CASE_FIELDS} }} errors {{ code field message }} }}
}}"""
MATERIALS = """
query($code: String!, $division: String!, $level: Level!) {
  matterImplementations(filter: {basicCode: $code, divisionCode: $division, level: $level}) {
    edges { node { implementationCode materials { name tolerable } } }
  }
}"""
CASE = f"query($number: String!) {{ case(number: $number) {{ {CASE_FIELDS} }} }}"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=CHINA)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The reference: chinesecalendar's own working days, counted by hand."""
    day = start
    while n:
        day += dt.timedelta(days=1)
        if chinese_calendar.is_workday(day):
            n -= 1
    return day


class Desk:
    """The people of one scenario, each signed in on their own channel."""

    def __init__(self, hub: OwnHub) -> None:
        self.hub = hub
        self.tokens: dict[str, str] = {}
        self.viewers: dict[str, Any] = {}

    async def sign_in(self, *usernames: str) -> None:
        identity = self.hub.app.state.identity
        for name in usernames:
            channel = (
                "MOBILE"
                if name.startswith("resident")
                else "WEB"
                if name.startswith("firm")
                else "COUNTER"
            )
            token = (await signed_in(self.hub.gql, name, channel))["accessToken"]
            self.tokens[name] = token
            self.viewers[name] = await identity.authenticate(token)

    async def ask(self, who: str, query: str, **variables: Any) -> dict[str, Any]:
        """The whole response body (data and errors) of ``who``'s query."""
        if who not in self.tokens:
            await self.sign_in(who)
        body: dict[str, Any] = await self.hub.gql(query, variables, **bearer(self.tokens[who]))
        return body

    async def run(self, who: str, query: str, **variables: Any) -> dict[str, Any]:
        body = await self.ask(who, query, **variables)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def act(self, who: str, mutation: str, **input: Any) -> dict[str, Any]:
        names = {
            "acceptCase": "CaseActionInput",
            "completeCase": "CaseActionInput",
            "startReview": "CaseActionInput",
            "finishSpecialProcedure": "CaseActionInput",
            "archiveCase": "CaseActionInput",
            "withdrawCase": "CaseActionInput",
            "issueSupplementNotice": "SupplementNoticeInput",
            "supplementMaterials": "SupplementInput",
            "rejectCase": "RejectCaseInput",
            "correctMaterials": "CorrectMaterialsInput",
            "approveRejection": "CaseActionInput",
            "declineRejection": "CaseActionInput",
            "startSpecialProcedure": "SpecialProcedureInput",
            "decideCase": "DecideCaseInput",
            "deliverCase": "DeliverCaseInput",
            "recordPartDecision": "PartDecisionInput",
        }
        query = f"""mutation($input: {names[mutation]}!) {{
          {mutation}(input: $input) {{ case {{ {CASE_FIELDS} }} errors {{ code field }} }}
        }}"""
        payload: dict[str, Any] = (await self.run(who, query, input=input))[mutation]
        return payload

    async def travel(self, when: dt.datetime) -> None:
        """Move the hub's clock; everyone's session carries on (fresh access tokens
        for the same sessions, as a refresh would give them)."""
        self.hub.clock.instant = when
        identity = self.hub.app.state.identity
        for name, viewer in self.viewers.items():
            self.tokens[name] = (await identity.issue(viewer)).token

    async def materials(
        self, basic_code: str, division: str = "140702000000", level: str = "COUNTY"
    ) -> list[str]:
        """The guide's materials of a matter's item at one org (榆次区 by default)."""
        variables = {"code": basic_code, "division": division, "level": level}
        data = await self.hub.gql(MATERIALS, variables)
        node = data["data"]["matterImplementations"]["edges"][0]["node"]
        return [m["name"] for m in node["materials"]]

    async def submit(
        self, who: str, implementation: str, materials: list[str], **extra: Any
    ) -> dict[str, Any]:
        given = [
            {"name": m, "source": "FILE", "reference": f"file-{i}"} for i, m in enumerate(materials)
        ]
        input = {"implementationCode": implementation, "channel": "MOBILE", "materials": given}
        data = await self.run(who, SUBMIT, input={**input, **extra})
        payload: dict[str, Any] = data["submitCase"]
        return payload


STAFF = ("yuci.receptionist", "yuci.reviewer", "yuci.director", "yuci.output")


async def fire_timers(nodes: NodeRegistry, now: dt.datetime) -> int:
    async def calendar(session: Any) -> Any:
        return await load_calendar(session=session)

    return await fire_due_timers(nodes[Level.COUNTY].sessions, now=now, calendar=calendar)


def actions(case: dict[str, Any]) -> list[str]:
    return [e["action"] for e in case["timeline"]]
