"""``govhub audit|calendar|timers|relay``: the audit chains, the working-day calendar,
the case deadlines (timer rows) and the message worker of cross-level messages."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from gateway.cli.base import (
    CLOCK,
    REDIS,
    RELAY,
    SECRET,
    STORES,
    load_settings,
    main,
    now_of,
    reads,
    require_migrated,
    run_on,
    secret_of,
    with_nodes,
)
from gateway.nodes import LevelNode, NodeRegistry
from levels.common.clock import clock_for
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.outbox.service import Operator

# --- audit: the hash chain of every level store ------------------------------------------


@main.group("audit")
def audit_group() -> None:
    """The audit trail: check each level store's hash chain and signed head."""


LEVEL_CHOICE = click.Choice(["CITY", "COUNTY", "TOWN", "VILLAGE"], case_sensitive=False)


def node_options(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--level`` (the nodes holding that level) and ``--node`` (a node by its id,
    repeatable) choosing the nodes a command walks; every node by default."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn = click.option(
            "--node",
            "node_ids",
            multiple=True,
            metavar="ID",
            help=f"{what} this node only (repeatable; `govhub nodes` lists them).",
        )(fn)
        return click.option(
            "--level",
            "level_name",
            type=LEVEL_CHOICE,
            help=f"{what} the nodes holding this level only. Default: every node.",
        )(fn)

    return decorate


def chosen_nodes(
    nodes: NodeRegistry, level_name: str | None, node_ids: Sequence[str]
) -> list[LevelNode]:
    """The nodes ``--level``/``--node`` choose (both given: the nodes meeting both), in
    map order; a ClickException naming a node id the map does not have."""
    unknown = [i for i in node_ids if i not in nodes]
    if unknown:
        known = ", ".join(n.id for n in nodes)
        raise click.ClickException(f"no node {', '.join(unknown)} in the node map ({known})")
    chosen = list(nodes)
    if level_name:
        holding = {n.id for n in nodes.holding(Level(level_name.upper()))}
        chosen = [n for n in chosen if n.id in holding]
    if node_ids:
        chosen = [n for n in chosen if n.id in node_ids]
    return chosen


def node_label(nodes: NodeRegistry, node: LevelNode) -> str:
    """How a report names a node: its level while it is the one node holding its one
    level (every node of the embedded default), its id otherwise."""
    if len(node.levels) == 1 and nodes.map.single(node.levels[0]) is not None:
        return node.levels[0].value
    return node.id


@reads(STORES, SECRET, CLOCK)
@audit_group.command("verify")
@node_options("Verify")
def audit_verify(level_name: str | None, node_ids: tuple[str, ...]) -> None:
    """Recompute the audit chain of every division of every node's store, check each
    head and its signature, and every cross-link a hand-over recorded (against the
    store of the node owning the sender's division); print each division's count and
    the first failure; exit 1 when a chain or a link is not intact."""
    from auth.keys import KeyRing
    from levels.audit.chain import ChainReport, verify_chain
    from levels.audit.links import LinkReport, claims_in, sender_hash, verify_links
    from levels.common.enums import LEVELS
    from levels.node.timers import head_keys

    settings = load_settings()
    secret = secret_of(settings)

    async def run(
        nodes: NodeRegistry,
    ) -> tuple[list[tuple[str, ChainReport]], list[LinkReport]]:
        await require_migrated(nodes, levels=True)
        ring = KeyRing(nodes.identity, secret=secret, clock=clock_for(settings.clock_override))
        reports, claims = [], []
        for node in chosen_nodes(nodes, level_name, node_ids):
            async with node.sessions() as session:
                # heads are signed with the node's first level (gateway/timers.py)
                # a node serving itself signs with its own key (levels/node/timers.py)
                keys = head_keys(node.sessions, node.id, ring.public_key)
                report = await verify_chain(
                    session=session, level=node.levels[0].value, public_key_for=keys
                )
                claims += await claims_in(session)
            reports.append((node_label(nodes, node), report))

        async def lookup(level: str, division: str, seq: int) -> str | None:
            if level not in {lv.value for lv in LEVELS}:
                return None
            try:
                sender = nodes.owner_or_none(division, Level(level))
            except DomainError:  # not a division code: no such store
                return None
            if sender is None:
                return None
            async with sender.sessions() as session:
                return await sender_hash(session, division, seq)

        return reports, await verify_links(claims, lookup)

    reports, links = run_on(settings, run)
    first: str | None = None
    for label, report in reports:
        count = len(report.divisions)
        click.echo(f"{label}: {report.events} events in {count} division chain(s)")
        for part in report.divisions:
            where = f"{label} {part.division_code}"
            if part.valid:
                signed = f"head signed by {part.head_kid}" if part.head_signed else "head unsigned"
                click.echo(f"  {where}: {part.events} events, chain valid, {signed}")
            else:
                line = f"{where}: {part.problem} at event {part.first_bad_seq}"
                click.echo(f"  {line}")
                first = first or line
    broken_links = [r for r in links if not r.valid]
    click.echo(f"links: {len(links)} cross-link(s), {len(broken_links)} broken")
    for r in broken_links:
        c = r.claim
        line = (
            f"link {c.level} {c.division} event {c.seq} <- "
            f"{c.from_level} {c.from_division} event {c.from_seq}: {r.problem}"
        )
        click.echo(f"  {line}")
        first = first or line
    if first is not None:
        click.echo(f"first failure: {first}")
        sys.exit(1)


# --- calendar: the working-day schedule every level store counts time limits with ---------


@main.group("calendar")
def calendar_group() -> None:
    """The working-day calendar: import a year's holiday schedule, show a year."""


@reads(STORES, CLOCK)
@calendar_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@node_options("Import into")
def calendar_import(file: Path, level_name: str | None, node_ids: tuple[str, ...]) -> None:
    """Import a year's schedule from the State Council's notice (国务院办公厅关于部分节假日
    安排的通知) into every node's store (or those --level/--node choose), so every node
    counts the same due dates. FILE lists the holidays and the make-up working days
    (调休上班):

    \b
    {"year": 2027, "source": "国务院办公厅关于2027年部分节假日安排的通知",
     "days": [{"date": "2027-01-01", "workingDay": false, "name": "元旦"}, ...]}

    Importing a year again replaces its schedule.
    """
    from levels.calendar.workdays import import_year, parse_calendar_file

    try:
        year, source, days = parse_calendar_file(file.read_text(encoding="utf-8-sig"))
    except (ValueError, OSError) as e:  # UnicodeDecodeError is a ValueError
        raise click.ClickException(f"{file}: {e}") from None
    settings = load_settings()
    now = now_of(settings)

    async def run(nodes: NodeRegistry) -> list[str]:
        await require_migrated(nodes, levels=True)
        done: list[str] = []
        for node in chosen_nodes(nodes, level_name, node_ids):  # one transaction per store
            try:
                async with node.sessions.begin() as session:
                    await import_year(session=session, year=year, days=days, source=source, now=now)
            except Exception as e:
                if not done:
                    raise
                raise click.ClickException(
                    f"{year} was imported into {', '.join(done)} but not into {node.name} "
                    f"({type(e).__name__}: {e}); run the import again"
                ) from e
            done.append(node.name)
        return done

    stores = run_on(settings, run)
    holidays = sum(1 for _day, working, _name in days if not working)
    click.echo(
        f"calendar {year} imported into {', '.join(stores)}: {holidays} days off, "
        f"{len(days) - holidays} make-up working days"
    )
    click.echo(f"  source: {source}")


@reads(STORES)
@calendar_group.command("show")
@click.argument("year", type=click.IntRange(1900, 2999))
def calendar_show(year: int) -> None:
    """Print the holidays and make-up working days of YEAR that the level stores count
    with: an imported schedule, else chinesecalendar's, else a provisional Monday to
    Friday."""
    from levels.calendar.workdays import WEEKDAYS, YearSchedule, load_calendar, package_years

    settings = load_settings()

    async def run(nodes: NodeRegistry) -> list[tuple[str, YearSchedule]]:
        await require_migrated(nodes, levels=True)
        schedules = []
        for node in nodes:
            async with node.sessions() as session:
                calendar = await load_calendar(session=session)
            schedules.append((node.name, calendar.schedule(year)))
        return schedules

    groups: dict[YearSchedule, list[str]] = {}
    for name, schedule in run_on(settings, run):
        groups.setdefault(schedule, []).append(name)
    if len(groups) > 1:
        click.echo(
            f"warning: the level stores count {year} differently; "
            "import its schedule again with 'govhub calendar import'",
            err=True,
        )
    for schedule, names in groups.items():
        if len(groups) > 1:
            click.echo(f"[{', '.join(names)}]")
        if schedule.basis == "provisional":
            first, last = package_years()
            click.echo(
                f"{year}: provisional: Mon–Fri (no schedule imported; "
                f"chinesecalendar knows {first}–{last})"
            )
        elif schedule.basis == "imported":
            click.echo(f"{year}: imported: {schedule.source}")
        else:
            click.echo(f"{year}: {schedule.source}")
        for day in schedule.days:
            kind = "working day" if day.is_working_day else "holiday"
            cells = [day.day.isoformat(), WEEKDAYS[day.day.weekday()], f"{kind:<11}", day.name]
            click.echo("  ".join(cells).rstrip())
        if schedule.days:
            off = sum(1 for d in schedule.days if not d.is_working_day)
            click.echo(f"{off} days off, {len(schedule.days) - off} make-up working days")


@main.group("timers")
def timers_group() -> None:
    """Case deadlines (timer rows)."""


@reads(STORES, SECRET, CLOCK, REDIS)
@timers_group.command("run")
@click.option(
    "--node",
    "node_ids",
    multiple=True,
    metavar="ID",
    help="This node's store only (repeatable), even one the map gives an address.",
)
def timers_run(node_ids: tuple[str, ...]) -> None:
    """Fire every due timer once, in the store of every node that does not serve
    itself (a node the map gives an http(s):// address runs its own timers in `govhub
    node serve`), and sign each store's audit head (the gateway also does this every
    GOVHUB_TIMER_INTERVAL_SECONDS). --node: the nodes named, addressed or not."""
    from auth.keys import KeyRing
    from gateway.timers import Pass, fire_all
    from levels.audit.chain import KeyRingSigner
    from resolvers.pubsub import broker_for

    settings = load_settings()
    secret = secret_of(settings)
    clock = clock_for(settings.clock_override)

    async def run(nodes: NodeRegistry) -> Pass:
        ring = KeyRing(nodes.identity, secret=secret, clock=clock)
        # with Redis, the gateways' subscribers hear of the cases a timer moved
        broker = broker_for(settings) if settings.redis_url else None
        only = [n.id for n in chosen_nodes(nodes, None, node_ids)] if node_ids else None
        try:
            return await fire_all(nodes, clock, KeyRingSigner(ring), broker, only=only)
        finally:
            if broker is not None:
                await broker.close()

    fired = asyncio.run(with_nodes(settings, run, check=False))
    click.echo(str(fired))


# --- relay: cross-level messages between the level stores ---------------------------------


@reads(STORES, SECRET, CLOCK, RELAY, REDIS)
@main.group("relay", invoke_without_command=True)
@click.option(
    "--once", is_flag=True, help="One publish and consume pass over its nodes, then exit."
)
@click.option(
    "--node",
    "node_id",
    default=None,
    help="Work for this node of the map alone (its worker on its own host: it opens no "
    "other node's store; needs GOVHUB_MESSAGE_TRANSPORT=nats and GOVHUB_NODE_KEYS_URL).",
)
@click.pass_context
def relay_group(ctx: click.Context, once: bool, node_id: str | None) -> None:
    """The message worker: the publisher and consumer of cross-level messages of every
    node the map gives no address (a node with one relays its own: govhub node serve),
    or of one node with --node, over GOVHUB_MESSAGE_TRANSPORT, every
    GOVHUB_RELAY_INTERVAL_SECONDS until stopped (the gateway does the same in its own
    process unless that is 0). Several may run at once."""
    if ctx.invoked_subcommand is not None:
        return
    from gateway.messaging.factory import NOTHING_TO_RELAY, hub_served, run_messages
    from gateway.messaging.stores import stores_behind
    from resolvers.pubsub import broker_for

    settings = load_settings()
    clock = clock_for(settings.clock_override)
    serves = None if node_id is None else frozenset([node_id])
    if node_id is not None:
        if node_id not in settings.node_map():
            raise click.ClickException(f"no node {node_id!r} in the node map (GOVHUB_NODES)")
        if settings.message_transport != "nats" or not settings.node_keys_url:
            raise click.ClickException(
                "--node needs GOVHUB_MESSAGE_TRANSPORT=nats and GOVHUB_NODE_KEYS_URL (the "
                "hub's JWKS of nodes): a node's worker reads no other node's store"
            )

    async def run(nodes: NodeRegistry) -> object:  # MessagePass, or None when stopped
        served = hub_served(nodes) if serves is None else serves
        if not served:
            return NOTHING_TO_RELAY
        # a store that is down waits, the rest go
        if behind := await stores_behind(nodes, served):
            raise click.ClickException(f"not at this hub's schema: {', '.join(behind)}")
        # with Redis, the gateways' subscribers hear of the cases a message changed
        broker = broker_for(settings) if settings.redis_url else None
        try:
            return await run_messages(
                settings, nodes, clock, once=once, broker=broker, serves=served
            )
        finally:
            if broker is not None:
                await broker.close()

    try:
        done = asyncio.run(with_nodes(settings, run, check=False))
    except KeyboardInterrupt:
        return
    if done is not None:
        click.echo(str(done))


def _operator() -> Operator:
    import getpass

    return Operator(id=f"cli:{getpass.getuser()}", kind="OPERATOR", channel="SYSTEM")


def _retry(message_id: str) -> None:
    """Send a FAILED (or DEAD) message again, audited in its source store."""
    from gateway.messaging.stores import find_message
    from levels.outbox.errors import MessageErrorCode
    from levels.outbox.service import retry

    settings = load_settings()
    now = now_of(settings)
    operator = _operator()

    async def run(nodes: NodeRegistry) -> str:
        await require_migrated(nodes, levels=True)
        node = await find_message(nodes, message_id)
        if node is None:
            raise DomainError(MessageErrorCode.MESSAGE_NOT_FOUND, detail=message_id)
        async with node.sessions.begin() as session:
            message = await retry(session, message_id, now=now, by=operator)
            return f"{message.id}: PENDING again in the {node.name} store ({message.topic})"

    click.echo(run_on(settings, run))


@reads(STORES, CLOCK)
@relay_group.command("retry")
@click.argument("message_id")
def relay_retry(message_id: str) -> None:
    """Send a FAILED message again (the same as ``govhub messages retry``)."""
    _retry(message_id)


@main.group("messages")
def messages_group() -> None:
    """Cross-level messages: what a message says, who signed it and its receipt; the
    incidents (FAILED messages), sending one again or giving it up."""


@reads(STORES, CLOCK)
@messages_group.command("retry")
@click.argument("message_id")
def messages_retry(message_id: str) -> None:
    """Send a FAILED (or DEAD) message again: back to PENDING, its attempts counted
    afresh, signed afresh (audited in its source store as done from this command line)."""
    _retry(message_id)


@reads(STORES, CLOCK)
@messages_group.command("dead")
@click.argument("message_id", required=False)
def messages_dead(message_id: str | None) -> None:
    """Without an id: list the incidents — every FAILED message of every store, one a
    line (id, store, topic, entity#seq, attempts, why). With an id: give that FAILED
    message up (DEAD: no longer an open incident; audited in its source store;
    ``govhub messages retry`` still sends it again)."""
    from gateway.messaging.stores import find_message
    from levels.outbox.errors import MessageErrorCode
    from levels.outbox.service import abandon, incidents

    settings = load_settings()
    now = now_of(settings)

    async def listing(nodes: NodeRegistry) -> str:
        await require_migrated(nodes, levels=True)
        lines: list[str] = []
        for node in nodes:
            async with node.sessions() as session:
                for row in await incidents(session):
                    entity = f"{row.entity}#{row.entity_seq}" if row.entity else "-"
                    why = (row.last_error or "").replace("\n", " ")[:160]
                    lines.append(
                        f"{row.id}  {node.name}  {row.topic}  {entity}  {row.attempts}  {why}"
                    )
        return "\n".join(lines) if lines else "no incidents"

    async def give_up(nodes: NodeRegistry) -> str:
        await require_migrated(nodes, levels=True)
        operator = _operator()
        assert message_id is not None
        node = await find_message(nodes, message_id)
        if node is None:
            raise DomainError(MessageErrorCode.MESSAGE_NOT_FOUND, detail=message_id)
        async with node.sessions.begin() as session:
            message = await abandon(session, message_id, now=now, by=operator)
            return f"{message.id}: DEAD in the {node.name} store ({message.topic})"

    click.echo(run_on(settings, give_up if message_id else listing))


@reads(STORES)
@messages_group.command("show")
@click.argument("message_id")
def messages_show(message_id: str) -> None:
    """Show a message of an outbox (whichever store holds it), its signed envelope and
    the receipt its target signed, each verified against the nodes' keys, as JSON."""
    import orjson

    from gateway.messaging.stores import find_message
    from gateway.messaging.worker import node_keys
    from levels.outbox import signing
    from levels.outbox.errors import MessageErrorCode
    from levels.outbox.models import OutboxMessage

    settings = load_settings()

    async def verified(keys: signing.NodeKeys, token: str | None) -> dict[str, object] | None:
        if token is None:
            return None
        try:
            return {"verified": True, "claims": await keys.open(token)}
        except signing.Refused as exc:
            return {"verified": False, "refusal": exc.reason, "claims": exc.claims}

    async def run(nodes: NodeRegistry) -> dict[str, object]:
        await require_migrated(nodes, levels=True)
        node = await find_message(nodes, message_id)
        if node is None:
            raise DomainError(MessageErrorCode.MESSAGE_NOT_FOUND, detail=message_id)
        async with node.sessions() as session:
            row = await session.get(OutboxMessage, message_id)
        assert row is not None
        keys = node_keys(nodes)
        envelope = await verified(keys, row.envelope)
        receipt = await verified(keys, row.receipt)
        if receipt is not None and row.envelope is not None:
            claims = receipt.get("claims")
            sha = claims.get("sha256") if isinstance(claims, dict) else None
            receipt["matches_envelope"] = sha == signing.digest(row.envelope)
        return {
            "id": row.id,
            "store": node.name,
            "topic": row.topic,
            "state": row.state.value,
            "source": row.source_level.value,
            "target": row.target_level.value,
            "case": row.case_number,
            "entity": row.entity,
            "entity_seq": row.entity_seq,
            "attempts": row.attempts,
            "last_error": row.last_error,
            "envelope": envelope,
            "receipt": receipt,
        }

    shown = run_on(settings, run)
    click.echo(orjson.dumps(shown, option=orjson.OPT_INDENT_2, default=str).decode())
