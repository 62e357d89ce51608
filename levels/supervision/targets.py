"""The targets and minimums the seeds set for the supervision figures, each with its
seed: the one place their numbers are written.

* 即办件 share of completions ≥ 70 % — 004 (一)压缩办事时限 "即办件数量要达到总办件量的70%以上".
* "Max one visit" targets — 004 (三) "年内实现'一趟不用跑'和'最多跑一趟'的事项超过80%，
  '最多跑一趟'事项的办件量达到总办件量的70%以上；50%以上的'最多跑一趟'事项转化为
  '一趟不用跑'":
  - ONE_VISIT_MATTERS: published items promising ``max_visits`` ≤ 1 ÷ published items,
    over 80 % (超过: strictly more);
  - ONE_VISIT_VOLUME: received cases of such items ÷ received cases, ≥ 70 %;
  - ZERO_VISIT_CONVERSION: items promising 0 visits ÷ items promising ≤ 1, ≥ 50 %.
* Staffing minimums — 003 "各村（社区）至少明确2名代办员" (agents of each village
  station) and 000 进驻窗口岗位设置 "各个部门原则上不得少于2人" (staff on the windows of
  each department of a city or county centre)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class SupervisionTarget(enum.Enum):
    IMMEDIATE_SHARE = "IMMEDIATE_SHARE"  # 即办件占比
    ONE_VISIT_MATTERS = "ONE_VISIT_MATTERS"  # 一趟不用跑 + 最多跑一趟 事项占比
    ONE_VISIT_VOLUME = "ONE_VISIT_VOLUME"  # 最多跑一趟 办件量占比
    ZERO_VISIT_CONVERSION = "ZERO_VISIT_CONVERSION"  # 最多跑一趟 转化为 一趟不用跑


@dataclass(frozen=True)
class Target:
    kind: SupervisionTarget
    threshold: float
    # True: the value must be over the threshold (超过); False: at least it (以上)
    strictly_over: bool
    seed: str

    def met(self, value: float | None) -> bool | None:
        """Whether ``value`` meets the target (None when there is nothing to measure)."""
        if value is None:
            return None
        return value > self.threshold if self.strictly_over else value >= self.threshold


IMMEDIATE_SHARE = Target(
    SupervisionTarget.IMMEDIATE_SHARE, 0.70, False, "004: 即办件数量要达到总办件量的70%以上"
)
ONE_VISIT_MATTERS = Target(
    SupervisionTarget.ONE_VISIT_MATTERS,
    0.80,
    True,
    "004: “一趟不用跑”和“最多跑一趟”的事项超过80%",
)
ONE_VISIT_VOLUME = Target(
    SupervisionTarget.ONE_VISIT_VOLUME,
    0.70,
    False,
    "004: “最多跑一趟”事项的办件量达到总办件量的70%以上",
)
ZERO_VISIT_CONVERSION = Target(
    SupervisionTarget.ZERO_VISIT_CONVERSION,
    0.50,
    False,
    "004: 50%以上的“最多跑一趟”事项转化为“一趟不用跑”",
)
TARGETS = (IMMEDIATE_SHARE, ONE_VISIT_MATTERS, ONE_VISIT_VOLUME, ZERO_VISIT_CONVERSION)

# 003: 各村（社区）至少明确2名代办员
MIN_VILLAGE_AGENTS = 2
# 000: 进驻部门窗口人员 "各个部门原则上不得少于2人"
MIN_DEPARTMENT_WINDOW_STAFF = 2
