"""What every ``govhub`` command shares: the top-level group (``-h``, ``--version``),
settings read once and checked, the stores opened and closed, progress lines, and the
errors an operator can cause turned into one line saying what to do (exit 1, no
traceback)."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.metadata
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import click
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from gateway.breakers import unreachable
from gateway.nodes import Node, NodeRegistry, Store
from gateway.settings import SettingMissing, Settings
from levels.common import migrate
from levels.common.clock import CHINA, clock_for
from levels.common.errors import DomainError, message_for

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

# the settings of the stores (every command that opens them reads these)
STORES = (
    "GOVHUB_VAR_DIR",
    # the node map: which node owns which divisions, and each node's database
    "GOVHUB_NODES",
    # the nodes without an address reached by SQL or through their API in-process
    "GOVHUB_NODE_CALLS",
    "GOVHUB_CITY_DB_URL",
    "GOVHUB_COUNTY_DB_URL",
    "GOVHUB_TOWN_DB_URL",
    "GOVHUB_VILLAGE_DB_URL",
    "GOVHUB_IDENTITY_DB_URL",
    "GOVHUB_DB_POOL_SIZE",
    "GOVHUB_DB_MAX_OVERFLOW",
    # the pools are sized from the budget over the worker processes
    "GOVHUB_DB_CONNECTION_BUDGET",
    "GOVHUB_WORKERS",
    "GOVHUB_SQL_ECHO",
    "GOVHUB_NODE_TIMEOUT_SECONDS",
    "GOVHUB_BREAKER_FAILURES",
    "GOVHUB_BREAKER_OPEN_SECONDS",
)
# the identity store's secret (GOVHUB_VAR_DIR/identity.secret in dev when unset)
SECRET = ("GOVHUB_MODE", "GOVHUB_SECRET_KEY")
CLOCK = ("GOVHUB_CLOCK_OVERRIDE",)
# Redis, whose pub/sub tells the gateways' subscribers of what a command changed; its
# keys are named after the public address unless GOVHUB_REDIS_PREFIX says otherwise
REDIS = (
    "GOVHUB_REDIS_URL",
    "GOVHUB_REDIS_PREFIX",
    "GOVHUB_PUBLIC_URL",
    "GOVHUB_HOST",
    "GOVHUB_PORT",
)
RELAY = (
    "GOVHUB_RELAY_INTERVAL_SECONDS",
    "GOVHUB_RELAY_BATCH_SIZE",
    "GOVHUB_MESSAGE_TRANSPORT",
    "GOVHUB_NATS_URL",
    "GOVHUB_NATS_STREAM",
    "GOVHUB_NATS_SUBJECT_PREFIX",
    "GOVHUB_MESSAGE_NAK_DELAY_SECONDS",
    "GOVHUB_MESSAGE_MAX_DELIVERIES",
    "GOVHUB_MESSAGE_RESEND_SECONDS",
    "GOVHUB_NODE_KEYS_URL",
    "GOVHUB_MESSAGE_ACK_WAIT_SECONDS",
    "GOVHUB_MESSAGE_HALT_AT",
)


def reads(*groups: Iterable[str] | str) -> Callable[[F], F]:
    """Name the settings a command reads at the end of its help."""
    names: list[str] = []
    for group in groups:
        for name in [group] if isinstance(group, str) else group:
            if name not in names:
                names.append(name)

    def name_them(command: F) -> F:
        assert isinstance(command, click.Command)
        command.epilog = (
            f"Settings read (environment or .env): {', '.join(names)}. "
            "See the configuration reference for each."
            if names
            else "Reads no settings."
        )
        command.govhub_settings = tuple(names)  # type: ignore[attr-defined]
        return command

    return name_them


def _setting_name(field: object) -> str:
    return f"GOVHUB_{str(field).upper()}"


def operator_error(exc: BaseException) -> str | None:
    """The one line an operator's mistake deserves (None: a bug, shown in full)."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        name = _setting_name(first["loc"][0]) if first["loc"] else "a setting"
        value = first.get("input")
        shown = f"={value!r}" if isinstance(value, str | int | float) else ""
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"bad setting {name}{shown}: {first['msg']}{more}; fix it in the environment or .env"
    if isinstance(exc, SettingMissing):
        return str(exc)
    if isinstance(exc, ArgumentError):  # an unparsable database URL
        return f"a store's URL is not valid ({exc}); fix GOVHUB_<STORE>_DB_URL"
    if isinstance(exc, DBAPIError | OSError | TimeoutError) and unreachable(exc):
        return (
            f"a store is not reachable ({_reason(exc)}); check GOVHUB_<STORE>_DB_URL and "
            "that the database is running"
        )
    text = str(exc).lower()
    if isinstance(exc, DBAPIError) and ("no such table" in text or "does not exist" in text):
        return "a store is not at this hub's schema: run 'govhub init' first"
    return None


def _reason(exc: BaseException) -> str:
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()[0] if str(inner).strip() else ""
    return f"{type(inner).__name__}: {text}" if text else type(inner).__name__


class GovHubGroup(click.Group):
    """The top-level group: a failure an operator can fix is one line and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            message = operator_error(exc)
            if message is None:
                raise
            raise click.ClickException(message) from None


@click.group("govhub", cls=GovHubGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    importlib.metadata.version("govhub"),
    "--version",
    "-V",
    prog_name="govhub",
    message="%(prog)s %(version)s",
)
def main() -> None:
    """GovHub: the GraphQL hub of a four-level government-service network.

    Settings come from GOVHUB_* environment variables or a .env file in the current
    folder; with none, the stores are SQLite files under ./var. Each command's help
    names the settings it reads. `govhub COMMAND -h` for a command's options.
    """


def load_settings() -> Settings:
    """The settings, checked (a bad value is one line naming it)."""
    try:
        return Settings()
    except ValidationError as e:
        message = operator_error(e)
        assert message is not None
        raise click.ClickException(message) from None


def progress(message: str) -> None:
    """One line of what a long command is doing (on stderr: stdout stays the result)."""
    click.echo(message, err=True)


class Steps:
    """Progress lines of a long command, each with its time, and the total at the end."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()

    def done(self, what: str) -> None:
        now = time.perf_counter()
        progress(f"  {what} ({now - self.last:.1f}s)")
        self.last = now

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def masked(url: str) -> str:
    """A store's or Redis's URL with its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))


def now_of(settings: Settings) -> dt.datetime:
    return clock_for(settings.clock_override).now()


def secret_of(settings: Settings) -> bytes:
    try:
        return settings.identity_secret()
    except SettingMissing as e:  # prod without GOVHUB_SECRET_KEY
        raise click.ClickException(str(e)) from None


def stamp(t: dt.datetime | None) -> str:
    return t.astimezone(CHINA).isoformat(timespec="seconds") if t is not None else "-"


async def reach(nodes: NodeRegistry, timeout: float) -> None:
    """Refuse at once, naming the store and its setting, when a store does not answer."""
    for store in nodes.stores():
        try:
            async with asyncio.timeout(timeout):
                async with store.engine.connect():
                    pass
        except Exception as exc:
            if not unreachable(exc):
                raise
            raise click.ClickException(
                f"the {store.name} store is not reachable at {masked(store.url)} "
                f"({_reason(exc)}); check {_setting_of(store)} and that the database is running"
            ) from None


def _setting_of(store: Store) -> str:
    """The setting that says where a store is: a node of a node map is its ``database``
    there; the embedded default's, and identity's, ``GOVHUB_<STORE>_DB_URL``."""
    settings_name = f"GOVHUB_{store.name.upper()}_DB_URL"
    if isinstance(store, Node) and store.id not in ("city", "county", "town", "village"):
        return f"the database of node {store.id} in GOVHUB_NODES"
    return settings_name


async def with_nodes(
    settings: Settings, fn: Callable[[NodeRegistry], Awaitable[T]], *, check: bool = True
) -> T:
    """``fn`` on the stores, closed afterwards; ``check``: every store must answer."""
    nodes = NodeRegistry.from_settings(settings)
    try:
        if check:
            await reach(nodes, max(settings.node_timeout_seconds, 5.0))
        return await fn(nodes)
    finally:
        await nodes.dispose()


def run_on(settings: Settings, fn: Callable[[NodeRegistry], Awaitable[T]]) -> T:
    """Run ``fn`` against the stores; a domain error becomes a one-line message and
    exit code 1 (its transaction is rolled back: nothing is written)."""
    try:
        return asyncio.run(with_nodes(settings, fn))
    except DomainError as e:
        detail = f" ({e.detail})" if e.detail else ""
        raise click.ClickException(f"{e.code.value}: {message_for(e.code, 'en')}{detail}") from None


async def require_migrated(nodes: NodeRegistry, *, levels: bool = False) -> None:
    """Refuse to work on stores ``govhub init`` has not brought to this hub's schema."""
    stores: list[tuple[Store, migrate.Chain]] = [(nodes.identity, "identity")]
    if levels:
        stores += [(node, "levels") for node in nodes]
    for store, chain in stores:
        if not await migrate.is_current(store.engine, chain):
            raise click.ClickException(
                f"the {store.name} store is not at this hub's schema: run 'govhub init' first"
            )
