"""太谷区's journey of the fault rounds: its node (``county-140703``, a host of its own)
holds no licence of the demo, so each round its centre enters one 不动产权证书 from the
register (``levels/licences/registers.py``: issued, 1 ``licence.published`` message to
the city's library) and suspends and reinstates it (``change_status``: 2 more messages
of the same entity) — 3 messages from a second county host to the city's."""

from __future__ import annotations

from sqlalchemy import select

from auth.models import Account
from levels.cases.service import Actor
from levels.licences.registers import RegisterEntry, issue_from_register
from levels.licences.service import change_status
from levels.outbox.signing import OrgSigner
from tests.faults.harness import SECRET, TAIGU, Cluster

TAIGU_ORG = "12140703MB0000000L"  # 太谷区政务服务中心
TAIGU_ADMIN = Actor(id="taigu.admin", kind="STAFF", role="ADMIN", channel="WEB", org_code=TAIGU_ORG)
MESSAGES = 3  # issued, suspended, reinstated


async def register_and_toggle(cluster: Cluster, number: int) -> str:
    """The round's licence of 太谷区: its id (its messages are the entity's)."""
    assert cluster.nodes is not None
    async with cluster.nodes.identity.sessions() as session:
        person = await session.scalar(select(Account).where(Account.username == "resident3"))
    assert person is not None
    entry = RegisterEntry(
        type_code="BDCQZ",
        register_number=f"BDC-140703-{number + 1:06d}",
        holder_id=person.id,
        holder_name=person.display_name,
        holder_id_masked=person.id_number_masked or "",
        fields={"location": "晋中市太谷区胡村镇胡村", "use": "宅基地"},
    )
    sessions = cluster.nodes[TAIGU].sessions
    async with sessions.begin() as session:
        row = await issue_from_register(
            session,
            entry,
            org_code=TAIGU_ORG,
            signer=OrgSigner(SECRET.encode()),
            who=TAIGU_ADMIN,
            now=cluster.now(),
        )
        licence = row.id
    for action, reason in (("SUSPEND_LICENCE", "权属争议"), ("REINSTATE_LICENCE", None)):
        async with sessions.begin() as session:
            await change_status(session, licence, action, reason, TAIGU_ADMIN, cluster.now())
    return licence
