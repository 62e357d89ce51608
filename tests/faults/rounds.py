"""One round of journeys across the hosts, the faults dealt to it, and what is checked.

Each round 榆次区 suspends and reinstates one of its licences twice (4 messages to the
city's library, one entity), delegates 建设工程竣工验收备案 to 修文镇 and revokes it
(2 messages to 修文镇's node, one entity); 修文镇 refers a case up to 榆次区 (转报, 1
message to the county node), which its applicant withdraws on its way every other
round (a 2nd message of the same entity, ``tests/faults/referrals.py``); 太谷区, the
second county host, enters a licence from its register and suspends and reinstates it
(3 messages to the city's library, one entity, ``tests/faults/taigu.py``). Meanwhile:

* 榆次区's and 太谷区's workers — and 修文镇's, on the rounds it is not the receiver below — is
  killed (``kill -9``) between the commit of the signed envelopes and their publish
  (``GOVHUB_MESSAGE_HALT_AT=signed``); before it dies, the envelopes it signed are
  published by hand in reverse order, each twice — deliveries reordered and
  duplicated (a withdrawal before the referral it follows);
* its link is cut (``ip link set … down``) while its new worker starts publishing, and
  mended two seconds later;
* a receiving node's worker (the city's, or 修文镇's every other round) is killed between
  the apply and the ack (``GOVHUB_MESSAGE_HALT_AT=applied``);
* the NATS server is killed and started again on its store.

Then every message of the round must be acknowledged at its source and in its target's
inbox (else lost), applied once (a handler's audit event naming it once, else doubled),
each entity's in sequence (else out of order), the library's copies at their masters'
revision, 修文镇's item abolished by the round's delegation, the referred case held at
榆次区 once (WITHDRAWN after its referral, when withdrawn), and every node's audit
chains intact."""

from __future__ import annotations

import asyncio
import random
import signal
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise

from sqlalchemy import literal_column, select

from levels.audit.chain import verify_chain
from levels.audit.models import AuditEvent
from levels.cases.service import Actor, china_date
from levels.common.enums import Level, MatterStatus
from levels.common.models import MatterImplementation
from levels.county.delegation import DelegationDraft, delegate_matter, revoke_delegation
from levels.licences.enums import LicenceStatus
from levels.licences.models import ELicence
from levels.licences.service import change_status
from levels.outbox.models import InboxMessage, MessageState, OutboxMessage
from levels.outbox.ownership import owner
from levels.outbox.service import target_division
from tests.faults.harness import CITY, COUNTY, TAIGU, TOWN, Cluster, Figures, wait_until
from tests.faults.referrals import Referred, check_referral, refer_up
from tests.faults.taigu import MESSAGES as TAIGU_MESSAGES
from tests.faults.taigu import register_and_toggle
from tests.gateway.test_message_order import ADMIN as YUCI_ADMIN
from tests.gateway.test_message_order import COUNTY_ITEM, TOWN_ITEM, XIUWEN

DELEGATION_ACTIONS = ("RECEIVE_DELEGATION", "REVOKE_DELEGATION")
LINK_DOWN = 2.0  # seconds


@dataclass
class Sent:
    """The messages of a round: id → (source node, target node, entity)."""

    messages: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    topics: Counter[str] = field(default_factory=Counter)
    licences: list[tuple[str, str]] = field(default_factory=list)  # (issuing node, id)
    delegation: str = ""
    referred: Referred | None = None


def messages_of_round(number: int) -> int:
    """4 licence changes, 2 delegation messages, the referral and (on even rounds) its
    withdrawal, 太谷区's licence issued and changed twice."""
    return 4 + 2 + 1 + (1 if withdrawn_in(number) else 0) + TAIGU_MESSAGES


def withdrawn_in(number: int) -> bool:
    return number % 2 == 0


async def _new_messages(
    cluster: Cluster, node: str, entity: str, before: set[str], sent: Sent
) -> None:
    assert cluster.nodes is not None and cluster.settings is not None
    nodemap = cluster.settings.node_map()
    async with cluster.nodes[node].sessions() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.entity == entity))
        for row in rows:
            if row.id not in before:
                target = owner(nodemap, target_division(row), row.target_level)
                sent.messages[row.id] = (node, target, entity)
                sent.topics[row.topic] += 1


async def _ids(cluster: Cluster, node: str) -> set[str]:
    assert cluster.nodes is not None
    async with cluster.nodes[node].sessions() as session:
        return set(await session.scalars(select(OutboxMessage.id)))


async def toggle_licence(
    cluster: Cluster, node: str, level: Level, who: Actor, times: int, sent: Sent
) -> None:
    """Suspend and reinstate the node's first valid licence ``times`` times each."""
    assert cluster.nodes is not None
    sessions = cluster.nodes[node].sessions
    async with sessions() as session:
        licence = await session.scalar(
            select(ELicence.id)
            .where(ELicence.issuer_level == level, ELicence.status == LicenceStatus.VALID)
            .order_by(ELicence.id)
            .limit(1)
        )
    assert licence is not None, f"{node} holds no valid licence of its own"
    before = await _ids(cluster, node)
    for _ in range(times):
        for action, reason in (("SUSPEND_LICENCE", "停业整顿"), ("REINSTATE_LICENCE", None)):
            async with sessions.begin() as session:
                await change_status(session, licence, action, reason, who, cluster.now())
    await _new_messages(cluster, node, f"licence:{licence}", before, sent)
    sent.licences.append((node, licence))


async def delegate_and_revoke(cluster: Cluster, sent: Sent) -> None:
    assert cluster.nodes is not None
    sessions = cluster.nodes[COUNTY].sessions
    before = await _ids(cluster, COUNTY)
    now = cluster.now()
    async with sessions.begin() as session:
        draft = DelegationDraft(
            # today where the county is: from 16:00 UTC it is already tomorrow there
            COUNTY_ITEM,
            [XIUWEN],
            "《委托决定》（榆政发〔2026〕1号）",
            china_date(now),
        )
        view, _ = await delegate_matter(
            draft, towns_of_county=None, session=session, actor=YUCI_ADMIN, now=now
        )
    async with sessions.begin() as session:
        await revoke_delegation(
            view.row.id,
            "委托期满",
            towns_of_county=None,
            session=session,
            actor=YUCI_ADMIN,
            now=now,
        )
    sent.delegation = view.row.id
    await _new_messages(cluster, COUNTY, f"delegation:{view.row.id}:{XIUWEN}", before, sent)


async def refer_and_withdraw(cluster: Cluster, withdrawn: bool, sent: Sent) -> None:
    before = await _ids(cluster, TOWN)
    sent.referred = await refer_up(cluster, withdrawn)
    await _new_messages(cluster, TOWN, f"case:{sent.referred.number}", before, sent)


async def taigu_licence(cluster: Cluster, number: int, sent: Sent) -> None:
    before = await _ids(cluster, TAIGU)
    licence = await register_and_toggle(cluster, number)
    await _new_messages(cluster, TAIGU, f"licence:{licence}", before, sent)
    sent.licences.append((TAIGU, licence))


async def signed_batch(cluster: Cluster, node: str) -> list[tuple[str, str, bytes]]:
    """The envelopes ``node``'s halted worker committed and has not published:
    (target node, message id, envelope) in the order it would send them."""
    assert cluster.nodes is not None and cluster.settings is not None
    nodemap = cluster.settings.node_map()
    async with cluster.nodes[node].sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.state == MessageState.PENDING, OutboxMessage.envelope.is_not(None))
            .order_by(OutboxMessage.created_at, OutboxMessage.entity_seq, OutboxMessage.id)
        )
        return [
            (
                owner(nodemap, target_division(r), r.target_level),
                r.id,
                (r.envelope or "").encode(),
            )
            for r in rows
        ]


async def one_round(cluster: Cluster, number: int, figures: Figures) -> None:
    receiver = CITY if number % 2 == 0 else TOWN
    # the senders halted at the signing: 榆次区, 太谷区, and 修文镇 when it is not the
    # receiver
    senders = [COUNTY, TAIGU] if receiver == TOWN else [COUNTY, TAIGU, TOWN]
    # their workers of the last round go; the round's messages are written while no
    # worker of theirs is there, so each next one signs them in one batch
    for node in senders:
        cluster.kill_worker(node)
    cluster.kill_worker(receiver)
    cluster.start_worker(receiver, halt_at="applied")
    sent = Sent()
    await toggle_licence(cluster, COUNTY, Level.COUNTY, YUCI_ADMIN, 2, sent)
    await delegate_and_revoke(cluster, sent)
    await refer_and_withdraw(cluster, withdrawn_in(number), sent)
    await taigu_licence(cluster, number, sent)
    for node in senders:
        cluster.start_worker(node, halt_at="signed")

    # killed between the commit and the publish; its batch delivered reversed, twice
    for node in senders:
        assert await cluster.halted(node), f"{node} never halted: {cluster.tail(node)}"
        batch = await signed_batch(cluster, node)
        for copy in (1, 2):
            for target, mid, envelope in reversed(batch):
                await cluster.publish(target, f"fault.{mid}.{copy}", envelope)
        figures.faults["duplicated"] += 2 * len(batch)
        figures.faults["reordered batches"] += 1
        cluster.kill_worker(node)
        figures.faults["kill -9 after commit, before publish"] += 1
        cluster.start_worker(node)

    # its link cut while the new worker starts and publishes
    await asyncio.sleep(random.uniform(0.0, 1.5))
    cluster.lab.link(COUNTY, up=False)
    assert not cluster.reaches_nats(COUNTY), "the cut link still carries"
    figures.faults["link cut"] += 1
    cut_at = asyncio.get_running_loop().time()

    # the receiver killed between the apply and the ack
    assert await cluster.halted(receiver), f"{receiver} never halted: {cluster.tail(receiver)}"
    cluster.kill_worker(receiver)
    figures.faults["kill -9 after apply, before ack"] += 1
    cluster.start_worker(receiver)

    # every other round a crash of the server rather than a stop
    how = signal.SIGKILL if number % 2 else signal.SIGTERM
    await cluster.restart_nats(how)
    figures.faults[f"NATS restart ({how.name})"] += 1
    await asyncio.sleep(max(0.0, cut_at + LINK_DOWN - asyncio.get_running_loop().time()))
    cluster.lab.link(COUNTY, up=True)
    # (the NATS just started again may take a moment to listen)
    await wait_until(lambda: asyncio.to_thread(cluster.reaches_nats, COUNTY), "the mended link")

    await settle(cluster, sent)
    await check(cluster, sent, figures)
    figures.rounds += 1
    figures.messages += len(sent.messages)
    figures.kinds.update(sent.topics)


async def _states(cluster: Cluster, sent: Sent) -> dict[str, MessageState]:
    assert cluster.nodes is not None
    found: dict[str, MessageState] = {}
    for node in {source for source, _, _ in sent.messages.values()}:
        async with cluster.nodes[node].sessions() as session:
            rows = await session.execute(
                select(OutboxMessage.id, OutboxMessage.state).where(
                    OutboxMessage.id.in_(list(sent.messages))
                )
            )
            found.update({mid: state for mid, state in rows})
    return found


async def settle(cluster: Cluster, sent: Sent, patience: float = 90.0) -> None:
    """Until every message of the round is acknowledged (or ``patience`` runs out:
    what is not is counted lost)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while loop.time() < deadline:
        states = await _states(cluster, sent)
        if set(states.values()) == {MessageState.ACKNOWLEDGED}:
            return
        await asyncio.sleep(0.2)


async def check(cluster: Cluster, sent: Sent, figures: Figures) -> None:
    assert cluster.nodes is not None
    nodes = cluster.nodes
    states = await _states(cluster, sent)
    entities: dict[tuple[str, str], list[str]] = {}
    for mid, (_source, target, entity) in sent.messages.items():
        entities.setdefault((target, entity), []).append(mid)
    for (target, entity), mids in entities.items():
        async with nodes[target].sessions() as session:
            # the inbox in the order the messages were applied
            inbox = (
                await session.execute(
                    select(InboxMessage.id, InboxMessage.entity_seq)
                    .where(InboxMessage.entity == entity)
                    .order_by(literal_column("rowid"))
                )
            ).all()
        held = [mid for mid, _ in inbox]
        for m in mids:
            if m not in held or states.get(m) is not MessageState.ACKNOWLEDGED:
                figures.lost += 1
                figures.notes.append(
                    f"{m} ({entity} to {target}): {states.get(m)}, in its inbox: {m in held}"
                )
        seqs = [seq for _, seq in inbox]
        figures.out_of_order += sum(1 for a, b in pairwise(seqs) if b <= a)
    # 修文镇 took each delegation message once, the grant before the revocation
    async with nodes[TOWN].sessions() as session:
        trail = (
            await session.execute(
                select(AuditEvent.action, AuditEvent.detail)
                .where(AuditEvent.action.in_(DELEGATION_ACTIONS))
                .order_by(AuditEvent.seq)
            )
        ).all()
        item = await session.get(MatterImplementation, TOWN_ITEM)
    ours = [(a, d.get("message")) for a, d in trail if d.get("message") in sent.messages]
    seen = Counter(m for _, m in ours)
    figures.doubled += sum(n - 1 for n in seen.values())
    if [a for a, _ in dict.fromkeys(ours)] != list(DELEGATION_ACTIONS):
        figures.out_of_order += 1
        figures.notes.append(f"修文镇's trail of delegation {sent.delegation}: {ours}")
    got = None if item is None else (item.delegation_id, item.status)
    if got != (sent.delegation, MatterStatus.ABOLISHED):
        figures.out_of_order += 1
        figures.notes.append(f"修文镇's item after delegation {sent.delegation}: {got}")
    # the library's copies at their masters' revision and status
    for issuer, licence in sent.licences:
        async with nodes[issuer].sessions() as session:
            master = await session.get(ELicence, licence)
        async with nodes[CITY].sessions() as session:
            copy = await session.get(ELicence, licence)
        assert master is not None
        if copy is None or (copy.revision, copy.status) != (master.revision, master.status):
            figures.lost += 1
    # the referred case at 榆次区 once, withdrawn after it arrived (when withdrawn)
    assert sent.referred is not None
    await check_referral(cluster, sent.referred, figures)
    for node in nodes:
        async with node.sessions() as session:
            report = await verify_chain(session=session, level=node.levels[0].value)
        figures.broken_chains += 0 if report.valid else 1
