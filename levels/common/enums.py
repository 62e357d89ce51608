"""Enumerations of the domain, shared by every level node and exposed in the API."""

from __future__ import annotations

import enum


class Level(enum.Enum):
    """The four levels of the service network, top down. The value is the level digit
    used inside implementation codes and global IDs."""

    CITY = "CITY"
    COUNTY = "COUNTY"
    TOWN = "TOWN"
    VILLAGE = "VILLAGE"

    @property
    def digit(self) -> str:
        return str(LEVELS.index(self) + 1)

    @property
    def depth(self) -> int:
        return LEVELS.index(self)

    @classmethod
    def from_digit(cls, digit: str) -> Level:
        if digit not in {"1", "2", "3", "4"}:
            raise ValueError(f"not a level digit: {digit!r}")
        return LEVELS[int(digit) - 1]

    @property
    def below(self) -> Level | None:
        return LEVELS[self.depth + 1] if self.depth < 3 else None


LEVELS: tuple[Level, ...] = (Level.CITY, Level.COUNTY, Level.TOWN, Level.VILLAGE)


class OrgKind(enum.Enum):
    SERVICE_CENTER = "SERVICE_CENTER"  # 政务服务中心 (city, county)
    BRANCH_CENTER = "BRANCH_CENTER"  # 分中心
    CONVENIENCE_CENTER = "CONVENIENCE_CENTER"  # 便民服务中心 (town)
    CONVENIENCE_STATION = "CONVENIENCE_STATION"  # 便民服务站 (village)


class MatterType(enum.Enum):
    ADMINISTRATIVE_LICENSE = "ADMINISTRATIVE_LICENSE"  # 行政许可
    ADMINISTRATIVE_CONFIRMATION = "ADMINISTRATIVE_CONFIRMATION"  # 行政确认
    ADMINISTRATIVE_PAYMENT = "ADMINISTRATIVE_PAYMENT"  # 行政给付
    ADMINISTRATIVE_LEVY = "ADMINISTRATIVE_LEVY"  # 行政征收
    ADMINISTRATIVE_ADJUDICATION = "ADMINISTRATIVE_ADJUDICATION"  # 行政裁决
    ADMINISTRATIVE_REWARD = "ADMINISTRATIVE_REWARD"  # 行政奖励
    OTHER_POWER = "OTHER_POWER"  # 其他权力
    PUBLIC_SERVICE = "PUBLIC_SERVICE"  # 公共服务


class MatterStatus(enum.Enum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    SUSPENDED = "SUSPENDED"
    ABOLISHED = "ABOLISHED"


class HandlingKind(enum.Enum):
    IMMEDIATE = "IMMEDIATE"  # 即办件
    PROMISED = "PROMISED"  # 承诺件


class MaterialForm(enum.Enum):
    ORIGINAL = "ORIGINAL"
    COPY = "COPY"
    ELECTRONIC = "ELECTRONIC"


class SpecialProcedureKind(enum.Enum):
    HEARING = "HEARING"  # 听证
    INSPECTION = "INSPECTION"  # 检验
    QUARANTINE = "QUARANTINE"  # 检疫
    APPRAISAL = "APPRAISAL"  # 鉴定
    EXPERT_REVIEW = "EXPERT_REVIEW"  # 专家评审
    SITE_SURVEY = "SITE_SURVEY"  # 现场勘察
    TESTING = "TESTING"  # 检测
    PUBLIC_NOTICE = "PUBLIC_NOTICE"  # 公示
    TENDERING = "TENDERING"  # 招标
    AUCTION = "AUCTION"  # 拍卖


class OnlineLevel(enum.Enum):
    FULLY_ONLINE = "FULLY_ONLINE"  # 全程网办
    ONLINE_PREVIEW = "ONLINE_PREVIEW"  # 网上预审
    OFFLINE = "OFFLINE"


class DeliveryMethod(enum.Enum):
    PICKUP = "PICKUP"
    MAIL = "MAIL"
    ELECTRONIC = "ELECTRONIC"


class VillageServiceMode(enum.Enum):
    IMMEDIATE = "IMMEDIATE"  # 即时办理
    FULL_PROXY = "FULL_PROXY"  # 全程代办
    ACCOMPANIED = "ACCOMPANIED"  # 陪同办理
    HOME_VISIT = "HOME_VISIT"  # 上门办理


class WindowKind(enum.Enum):
    COMPREHENSIVE_RECEPTION = "COMPREHENSIVE_RECEPTION"  # 综合受理
    COMPREHENSIVE_OUTPUT = "COMPREHENSIVE_OUTPUT"  # 综合出件
    DEPARTMENT = "DEPARTMENT"  # 部门窗口
    CONSULTATION = "CONSULTATION"  # 咨询导办
    SELF_SERVICE = "SELF_SERVICE"
    PROXY_STATION = "PROXY_STATION"  # 代办点
