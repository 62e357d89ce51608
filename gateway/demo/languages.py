"""The demo's bilingual desk (003 "1个综合性藏汉双语咨询服务导办台"): 榆次区's 咨询导办台
(C01) serves in Chinese and Tibetan, so ``windows(orgCode, language: "bo")`` finds it
and a ticket asking for Tibetan goes to it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from auth.models import Account
from gateway.demo.accounts import demo_actor
from gateway.nodes import NodeRegistry
from levels.common.clock import CHINA
from levels.windows import languages
from levels.windows.models import WindowSetup

DESK = "140702000000W04"  # 榆次区 C01 咨询导办台
SET_AT = dt.datetime(2026, 11, 2, 8, 0, tzinfo=CHINA)


async def load_demo_languages(nodes: NodeRegistry) -> dict[str, int]:
    async with nodes.identity.sessions() as session:
        admin = await session.scalar(select(Account).where(Account.username == "yuci.admin"))
    assert admin is not None, "load the demo accounts first"
    async with nodes.owner(DESK[:12]).sessions.begin() as session:
        existed = await session.get(WindowSetup, DESK) is not None
        await languages.set_window_languages(
            DESK, ["zh", "bo"], session=session, actor=demo_actor(admin, "COUNTER"), now=SET_AT
        )
    return {"window_setups": 0 if existed else 1}
