"""Enumerations of the identity layer, exposed in the API."""

from __future__ import annotations

import enum


class AccountKind(enum.Enum):
    PERSON = "PERSON"  # a resident (自然人), by resident ID number
    ENTERPRISE = "ENTERPRISE"  # a legal person (法人), by unified social credit code
    STAFF = "STAFF"  # a civil servant of a service org, with roles
    AGENT = "AGENT"  # a village agent (代办员) of a convenience service station
    AUDITOR = "AUDITOR"  # reads records within a jurisdiction, never writes
    SERVICE = "SERVICE"  # a machine client (a county system), with scopes


HUMAN_KINDS = frozenset(k for k in AccountKind if k is not AccountKind.SERVICE)


class Role(enum.Enum):
    RECEPTIONIST = "RECEPTIONIST"  # 受理
    REVIEWER = "REVIEWER"  # 审查
    DIRECTOR = "DIRECTOR"  # 决定
    OUTPUT_CLERK = "OUTPUT_CLERK"  # 出件
    SUPERVISOR = "SUPERVISOR"  # 督查
    ADMIN = "ADMIN"  # 管理


class RepresentativeRole(enum.Enum):
    """How a person acts for an enterprise (企业经办)."""

    LEGAL_REPRESENTATIVE = "LEGAL_REPRESENTATIVE"  # 法定代表人
    AUTHORIZED_AGENT = "AUTHORIZED_AGENT"  # 经办人 (by the enterprise's authorization)


class Channel(enum.Enum):
    WEB = "WEB"
    MOBILE = "MOBILE"
    KIOSK = "KIOSK"
    COUNTER = "COUNTER"
    PROXY = "PROXY"
    MAIL = "MAIL"
    SYSTEM = "SYSTEM"


# the channels a person or staff member can log in on; the others name how a case
# arrived (by an agent, by post, from another system)
LOGIN_CHANNELS = frozenset({Channel.WEB, Channel.MOBILE, Channel.KIOSK, Channel.COUNTER})


class HandoffStatus(enum.Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    COMPLETED = "COMPLETED"


class Scope(enum.Enum):
    """What a machine client may do (granted per client, carried in its token)."""

    CATALOGUE_READ = "catalogue:read"
    CASES_READ = "cases:read"
    CASES_REFER = "cases:refer"
