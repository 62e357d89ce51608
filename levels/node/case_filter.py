"""The conditions of a list of cases that a row's own columns decide, given the day they
are judged on: when it was handed in and accepted, its clock and its referral clock
by colour, the overdue flags and the applicant's account. One rule, as SQL, for the
hub's list over a store and for a node's lists (``cases``, ``casesOf``), where the hub
sends them as JSON (``encode``/``decode``): the same cases either way, and each of a
node's pages one statement."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Select

from levels.cases import referral_clock
from levels.cases import service as case_service
from levels.cases.enums import CaseStatus, ClockState
from levels.cases.models import Case
from levels.common.reads import table
from levels.node.conditions import decoding, optional_account

_case = table(Case)
_DAYS = ("submitted_from", "submitted_to", "accepted_from", "accepted_to")
_FLAGS = ("pre_review_overdue", "push_overdue", "archive_overdue")
_CLOCKS = ("clock_state", "referral_clock_state")


@dataclass(frozen=True)
class CaseConditions:
    """What the list keeps beyond its scope, status, level, division and org; ``today``
    is the day the clocks are judged on (the hub's). ``by_applicant``: only the cases
    of ``applicant_id`` (none at all when it is None: nobody applies under the number
    asked for)."""

    today: dt.date
    submitted_from: dt.date | None = None
    submitted_to: dt.date | None = None
    accepted_from: dt.date | None = None
    accepted_to: dt.date | None = None
    clock_state: ClockState | None = None
    referral_clock_state: ClockState | None = None
    pre_review_overdue: bool | None = None
    push_overdue: bool | None = None
    archive_overdue: bool | None = None
    by_applicant: bool = False
    applicant_id: str | None = None

    @property
    def given(self) -> bool:
        """Whether any condition is set (else the list keeps every case it holds)."""
        return self.by_applicant or any(
            getattr(self, f.name) is not None
            for f in fields(self)
            if f.name not in ("today", "by_applicant", "applicant_id")
        )

    def where(self, stmt: Select[Any]) -> Select[Any]:
        c = _case.c
        if self.submitted_from is not None:
            start = case_service.start_of_day_after(self.submitted_from - dt.timedelta(days=1))
            stmt = stmt.where(c.submitted_at >= start)
        if self.accepted_from is not None:
            stmt = stmt.where(c.accepted_on >= self.accepted_from)
        if self.accepted_to is not None:
            stmt = stmt.where(c.accepted_on <= self.accepted_to)
        if self.push_overdue is not None:
            stmt = stmt.where(c.push_overdue.is_(self.push_overdue))
        if self.archive_overdue is not None:
            stmt = stmt.where(c.archive_overdue.is_(self.archive_overdue))
        if self.pre_review_overdue is not None:
            stmt = stmt.where(c.prereview_overdue.is_(self.pre_review_overdue))
        if self.submitted_to is not None:
            stmt = stmt.where(c.submitted_at < case_service.start_of_day_after(self.submitted_to))
        today = self.today
        if self.referral_clock_state is not None:
            stmt = stmt.where(referral_clock.where(self.referral_clock_state, today))
        if self.clock_state is not None:
            running = c.status.in_([CaseStatus.ACCEPTED, CaseStatus.UNDER_REVIEW])
            if self.clock_state is ClockState.RED:
                stmt = stmt.where(running, c.due_on < today)
            elif self.clock_state is ClockState.YELLOW:
                stmt = stmt.where(running, c.due_on >= today, c.yellow_on <= today)
            elif self.clock_state is ClockState.GREEN:
                stmt = stmt.where(running, c.yellow_on > today)
            else:
                stmt = stmt.where(~running)
        if self.by_applicant:
            stmt = stmt.where(c.applicant_id == self.applicant_id)
        return stmt

    def encode(self) -> dict[str, Any]:
        """As JSON: the conditions set, days in ISO 8601, colours by name."""
        out: dict[str, Any] = {"today": self.today.isoformat()}
        for name in _DAYS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat()
        for name in _CLOCKS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value.name
        for name in _FLAGS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.by_applicant:
            out["applicant_id"] = self.applicant_id
        return out

    @classmethod
    def decode(cls, given: Any) -> CaseConditions:
        """``encode``'s JSON back; BAD_USER_INPUT for anything else."""
        with decoding("a case filter"):
            if not isinstance(given, dict) or set(given) - {
                "today",
                "applicant_id",
                *_DAYS,
                *_CLOCKS,
                *_FLAGS,
            }:
                raise ValueError("unknown conditions")
            values: dict[str, Any] = {"today": dt.date.fromisoformat(given["today"])}
            for name in _DAYS:
                if given.get(name) is not None:
                    values[name] = dt.date.fromisoformat(given[name])
            for name in _CLOCKS:
                if given.get(name) is not None:
                    values[name] = ClockState[given[name]]
            for name in _FLAGS:
                if given.get(name) is not None:
                    if not isinstance(given[name], bool):
                        raise ValueError(name)
                    values[name] = given[name]
            values.update(optional_account(given, "applicant_id", "by_applicant"))
            return cls(**values)
