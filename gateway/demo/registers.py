"""The registers' licences of the demo residents (信息共享 instead of certificates): each
of 张明, 李华, 王芳 and 赵磊 — born in 榆次区 — has a 居民户口簿, a 结婚证, the 出生医学证明
of a child and a 不动产权证书 in the library, entered from 榆次区's registers
(``levels/licences/registers.py``) years before the demo's cases. With their verified
identity standing for the 居民身份证, the demo's journeys ask a resident for no paper
the system could share."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from auth.enums import AccountKind
from auth.models import Account
from gateway.demo.plan import org_code_for
from gateway.nodes import NodeRegistry
from levels.common.clock import CHINA
from levels.common.codes import parse_division
from levels.licences.keys import OrgSigner
from levels.licences.registers import RegisterEntry, issue_from_register
from levels.licences.service import _System

YUCI = parse_division("140702000000")  # 榆次区: the registers of the residents born there
ENTERED = dt.datetime(2025, 6, 2, 9, tzinfo=CHINA)
# per type: the register's prefix, and the entry's own fields
REGISTERS = {
    "HKB": ("HJ", {"kind": "家庭户", "address": "晋中市榆次区修文镇修文村"}),
    "JHZ": ("JH", {}),
    "CSYXZM": ("CS", {"institution": "榆次区人民医院"}),
    "BDCQZ": ("BDC", {"location": "晋中市榆次区修文镇修文村", "use": "宅基地"}),
}


async def load_demo_registers(nodes: NodeRegistry, *, secret: bytes) -> dict[str, int]:
    async with nodes.identity.sessions() as session:
        residents = (
            await session.scalars(
                select(Account)
                .where(Account.kind == AccountKind.PERSON, Account.username.like("resident%"))
                .order_by(Account.username)
            )
        ).all()
    signer = OrgSigner(secret)
    who = _System(id="demo-registers")
    issued = 0
    async with nodes.owner(YUCI).sessions() as session, session.begin():
        for n, person in enumerate(residents, 1):
            for k, (type_code, (prefix, fields)) in enumerate(REGISTERS.items()):
                entry = RegisterEntry(
                    type_code=type_code,
                    register_number=f"{prefix}-{YUCI.code[:6]}-{n:06d}",
                    holder_id=person.id,
                    holder_name=person.display_name,
                    holder_id_masked=person.id_number_masked or "",
                    fields=fields,
                )
                await issue_from_register(
                    session,
                    entry,
                    org_code=org_code_for(YUCI),
                    signer=signer,
                    who=who,
                    now=ENTERED + dt.timedelta(minutes=10 * k + n),
                )
                issued += 1
    return {"register_licences": issued}
