"""Settings, read from the environment (``GOVHUB_`` prefix) or a ``.env`` file.

With nothing configured GovHub runs embedded: one SQLite file per store under
``./var/`` and in-process stand-ins for Redis.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import secrets
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from auth.hub_tokens import HubKey
from gateway.settings_node import NodeWorkerSettings
from levels.common.enums import Level
from levels.common.nodemap import NodeMap, NodeSpec


class SettingMissing(RuntimeError):
    """A setting this deployment needs is not set (the message names it)."""


class Mode(enum.Enum):
    DEV = "dev"
    PROD = "prod"


class Settings(NodeWorkerSettings):
    """Every field is one ``GOVHUB_<NAME>`` variable; its ``description`` is what the
    configuration reference of the docs site says about it (generated from this class),
    and ``default_text`` in ``json_schema_extra`` says what an unset one means when the
    default is worked out at run time."""

    model_config = SettingsConfigDict(env_prefix="GOVHUB_", env_file=".env", extra="ignore")

    mode: Mode = Field(
        default=Mode.DEV,
        description="`dev` or `prod`: prod hides GraphiQL, refuses introspection, masks "
        "unexpected errors and requires `GOVHUB_SECRET_KEY`",
    )
    var_dir: Path = Field(
        default=Path("var"),
        description="Where the embedded SQLite stores (and the dev secret) live",
    )
    city_db_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL of the city store, e.g. "
        "`postgresql+asyncpg://user@host/govhub_city`",
        json_schema_extra={"default_text": "SQLite file `var/city.sqlite3`"},
    )
    county_db_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL of the county store",
        json_schema_extra={"default_text": "SQLite file `var/county.sqlite3`"},
    )
    town_db_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL of the town store",
        json_schema_extra={"default_text": "SQLite file `var/town.sqlite3`"},
    )
    village_db_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL of the village store",
        json_schema_extra={"default_text": "SQLite file `var/village.sqlite3`"},
    )
    identity_db_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL of the identity store (accounts, sessions, keys)",
        json_schema_extra={"default_text": "SQLite file `var/identity.sqlite3`"},
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("GOVHUB_REDIS_URL", "REDIS_URL"),
        description="Redis shared by the replicas (denylist, throttles, rate limits, APQ, "
        "idempotency locks, pub/sub); also read from `REDIS_URL`",
        json_schema_extra={"default_text": "none (in-process stand-ins)"},
    )
    redis_prefix: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._:/@-]{1,100}$",
        description="What every Redis key and pub/sub channel of this deployment starts "
        "with; deployments sharing a Redis must differ (pub/sub ignores the database number)",
        json_schema_extra={"default_text": "`govhub:<host[:port][/path] of GOVHUB_PUBLIC_URL>:`"},
    )
    host: str = Field(default="127.0.0.1", description="Where `govhub serve` listens")
    port: int = Field(default=8000, description="The port `govhub serve` listens on")
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="`govhub serve` worker processes (uvicorn with httptools and uvloop); "
        "each has its own pools, document cache and breakers, and freezes its start-up "
        "objects out of the garbage collector's reach (`gc.freeze()`)",
    )
    clock_override: dt.datetime | None = Field(
        default=None,
        description='Freeze "now" (ISO 8601 with offset), for demos and tests',
        json_schema_extra={"default_text": "none (the real clock)"},
    )
    node_timeout_seconds: float = Field(
        default=5.0, description="A node slower than this counts as unavailable"
    )
    max_page_size: int = Field(
        default=100,
        description="The largest `first` a list takes (`PAGE_SIZE_TOO_LARGE` beyond); "
        "also the cost model's largest page",
    )
    default_page_size: int = Field(
        default=20,
        description="The page size of a list asked for without `first`; also what the "
        "cost model assumes then",
    )
    timer_interval_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How often the gateway fires due timers (case deadlines, cards, "
        "licence expiry, overdue 整改 and 投诉); 0: never in this process, run "
        "`govhub timers run`",
    )
    relay_interval_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How often the gateway's message worker carries cross-level messages;"
        " 0: not in this process, run `govhub relay`",
    )
    relay_batch_size: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Messages a message pass publishes from each store, and fetches for"
        " each node, at a time",
    )
    message_transport: str = Field(
        default="inprocess",
        pattern="^(inprocess|nats)$",
        description=(
            "How cross-level messages travel: inprocess (signed envelopes on a bus in this"
            " process; no server) or nats (signed envelopes on NATS JetStream at"
            " GOVHUB_NATS_URL)"
        ),
    )
    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        description="The NATS server (JetStream enabled) of GOVHUB_MESSAGE_TRANSPORT=nats",
    )
    nats_stream: str = Field(
        default="govhub-messages",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="The JetStream stream holding the messages to every node",
    )
    nats_subject_prefix: str = Field(
        default="govhub",
        pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
        description="Messages to a node go to the subject <prefix>.msg.<node>",
    )
    message_nak_delay_seconds: float = Field(
        default=1.0,
        gt=0,
        description="A message that came before its entity's previous one comes again after this",
    )
    message_max_deliveries: int = Field(
        default=20,
        ge=1,
        description="A message delivered this many times without applying is refused: "
        "FAILED at its source, an incident",
    )
    node_keys_url: str | None = Field(
        default=None,
        description="The hub's JWKS of nodes (https://<hub>/.well-known/node-keys.json) a "
        "message worker verifies envelopes and receipts against; unset: each node's public "
        "keys are read from its own store (the embedded topology)",
    )
    message_resend_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A SENT message whose receipt has not come back within this is sent again",
    )
    message_ack_wait_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A delivery neither acked nor nak'ed within this (its worker died) comes again",
    )
    message_halt_at: str | None = Field(
        default=None,
        pattern="^(signed|applied)$",
        description="Fault drills only: a message worker stops itself (SIGSTOP) the first time "
        "it reaches this step of a message, `signed` (envelope committed, not yet published) "
        "or `applied` (applied here, no receipt or ack yet), for the drill to `kill -9` it there",
    )
    breaker_failures: int = Field(
        default=5,
        ge=1,
        description="A node's circuit breaker opens after this many unanswered calls in a row",
    )
    breaker_open_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long an open breaker fails calls fast before one call tries "
        "whether the node is back",
    )
    licence_status_ttl_seconds: int = Field(
        default=86_400,
        ge=60,
        description="How long an issuer's signed status list is trusted offline (a "
        "verifier past it says UNKNOWN, never VALID)",
    )
    licence_copy_max_days: int = Field(
        default=90,
        ge=1,
        le=365,
        description="The longest a purpose-bound licence copy (加注件, "
        "`requestLicenceCopy`) may be valid, in days",
    )
    rectification_days: int = Field(
        default=5,
        ge=1,
        le=60,
        description="Working days a 差评's rectification (整改) is due after the rating",
    )
    complaint_days: int = Field(
        default=5, ge=1, le=60, description="Working days a complaint (投诉) is due after filing"
    )
    referral_limit_days: int = Field(
        default=5,
        ge=1,
        le=60,
        description="转报时限: working days a case received below its deciding level has, from "
        "receipt, to reach it, for items that set none of their own",
    )
    proxy_free_age: int = Field(
        default=70,
        ge=18,
        le=120,
        description="免费代办 (003): a resident this old or older is never charged for 代办",
    )
    monthly_report_workday: int = Field(
        default=5,
        ge=1,
        le=20,
        description="月报表 (002): a town centre files its month's report by this working day "
        "of the next month",
    )
    idempotency_retention_hours: int = Field(
        default=72,
        ge=1,
        description="How long an `Idempotency-Key`'s record and stored answer are kept "
        "(the timer pass purges them)",
    )
    idempotency_lock_seconds: int = Field(
        default=60,
        ge=5,
        description="The longest a keyed mutation holds its in-flight lock (freed at "
        "once when it ends)",
    )
    sql_echo: bool = Field(
        default=False,
        description="Echo every SQL statement to the log (debugging only: the lines hold "
        "the statements' parameters)",
    )
    db_connection_budget: int = Field(
        default=80,
        ge=1,
        description="PostgreSQL connections the whole hub may hold: each worker's pool per "
        "PostgreSQL store gets budget ÷ (workers × such stores), half kept open and half "
        "opened under load; the default leaves 20 of max_connections=100 for migrations, "
        "psql and the superuser",
    )
    db_pool_size: int | None = Field(
        default=None,
        ge=1,
        description="PostgreSQL connections kept open per store and worker, set by hand "
        "(default: from GOVHUB_DB_CONNECTION_BUDGET); must still fit the budget",
    )
    db_max_overflow: int | None = Field(
        default=None,
        ge=0,
        description="PostgreSQL connections opened beyond the pool under load, per store "
        "and worker, set by hand (default: from GOVHUB_DB_CONNECTION_BUDGET)",
    )
    log_format: str | None = Field(
        default=None,
        pattern="^(json|text)$",
        description="Log lines of `govhub serve`: `json` (one object per line with "
        "request id, operation and viewer) or `text`",
        json_schema_extra={"default_text": "`json` in prod, `text` in dev"},
    )
    otel_exporter: str = Field(
        default="none",
        pattern="^(none|console|otlp)$",
        description="OpenTelemetry spans of operations and node calls: `none`, `console`, "
        "or `otlp` (OTLP over HTTP, configured by `OTEL_EXPORTER_OTLP_*`)",
    )
    metrics_operation_names: int = Field(
        default=100,
        ge=0,
        le=1000,
        description="Operation names, besides root fields and trusted documents, that get "
        "a metrics label of their own (later ones are `other`)",
    )

    # identity (auth/)
    public_url: str | None = Field(
        default=None,
        description="The hub's public address: the token issuer and the token endpoint's base",
        json_schema_extra={"default_text": "`http://HOST:PORT`"},
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Keys the ID-number lookup hash and encrypts signing keys at rest; "
        "required in prod, the same on every replica and worker",
        json_schema_extra={"default_text": "`var/identity.secret`, made on first use (dev only)"},
    )
    access_token_seconds: int = Field(
        default=600, ge=60, le=900, description="Access-token lifetime (60–900)"
    )
    session_idle_seconds: int = Field(
        default=1800, ge=60, description="A session ends after this long without a refresh"
    )
    kiosk_idle_seconds: int = Field(
        default=300,
        ge=60,
        description="A session on a public kiosk ends after this long without a refresh",
    )
    session_absolute_seconds: int = Field(
        default=12 * 3600,
        ge=300,
        description="A session ends this long after sign-in, whatever happens",
    )
    handoff_seconds: int = Field(
        default=300, ge=30, le=300, description="Hand-off code lifetime (at most 300)"
    )
    handoffs_per_minute: int = Field(
        default=10,
        ge=1,
        description="Hand-off starts and approvals per minute, per address and per account",
    )
    key_overlap_seconds: int = Field(
        default=3600,
        ge=900,
        description="How long a rotated-out signing key still verifies (at least the "
        "access-token lifetime)",
    )
    login_failures_per_minute: int = Field(
        default=5,
        ge=1,
        description="Sign-in attempts per minute per account, counted before the password "
        "is checked (a success starts afresh)",
    )
    login_attempts_per_minute_per_ip: int = Field(
        default=100,
        ge=1,
        description="Sign-in attempts per minute per client address (only a spray over many "
        "accounts reaches it)",
    )
    lockout_failures: int = Field(
        default=10, ge=3, description="Failures in a row that lock an account"
    )
    lockout_seconds: int = Field(
        default=900, ge=60, description="How long a locked account stays locked"
    )
    assertion_max_seconds: int = Field(
        default=300,
        ge=30,
        le=3600,
        description="The longest a machine client's assertion may live (RFC 7523 short `exp`)",
    )

    # limits on every GraphQL operation, checked before it runs (gateway/limits.py)
    max_depth: int = Field(
        default=15, ge=1, description="Most nested fields of an operation, fragments expanded"
    )
    max_aliases: int = Field(
        default=30, ge=0, description="Most aliases of an operation, fragments expanded"
    )
    max_tokens: int = Field(
        default=2000,
        ge=100,
        description="Most tokens in a GraphQL document (the parser stops there)",
    )
    max_root_fields: int = Field(default=10, ge=1, description="Most root fields of an operation")
    max_body_bytes: int = Field(
        default=100_000, ge=1024, description="Largest request body (413 beyond)"
    )
    max_cost: int = Field(default=25_000, ge=1, description="Highest static cost of one operation")
    cost_budget_per_minute: int = Field(
        default=250_000,
        ge=1,
        description="Cost a client (account, or address when anonymous) may spend per minute",
    )
    batch_max: int = Field(
        default=0,
        ge=0,
        le=100,
        description="Operations in one batched request (a JSON array); 0 refuses batches",
    )
    persisted_manifest: Path | None = Field(
        default=Path(__file__).parent / "trusted_documents.json",
        description="The trusted documents (`{sha256: document}`) the front-ends ship",
        json_schema_extra={"default_text": "`gateway/trusted_documents.json`"},
    )
    apq_ttl_seconds: int = Field(
        default=86_400,
        ge=60,
        description="How long an automatic persisted query is kept (Redis, or an in-process LRU)",
    )
    persisted_only: bool = Field(
        default=False, description="Run only documents of the manifest (the prod switch)"
    )
    persisted_only_allows_apq: bool = Field(
        default=False,
        description="With `GOVHUB_PERSISTED_ONLY`, still let APQ register other documents",
    )
    requests_per_minute: int = Field(
        default=600,
        ge=1,
        description="GraphQL requests per minute per client (account, or address when anonymous)",
    )
    requests_per_minute_per_ip: int = Field(
        default=1200, ge=1, description="Requests per minute per client address"
    )
    trusted_proxies: str = Field(
        default="",
        description="Load balancers (addresses or networks, comma-separated) whose "
        "`X-Forwarded-For` gives the client's address",
        json_schema_extra={"default_text": "none"},
    )

    # nodes as services (`govhub node …`, gateway/node_app.py)
    nodes: str | None = Field(
        default=None,
        description="The node map: TOML text, or the path of a TOML file, of `[[nodes]]` "
        "entries (`id`, `prefixes`, `levels`, `database`, `address`); a division belongs "
        "to the node with its longest matching prefix. A node without `database` gets "
        "SQLite at `<var_dir>/nodes/<id>/store.db`",
        json_schema_extra={
            "default_text": "embedded: one node per level (`city`, `county`, `town`, "
            "`village`) on the level stores"
        },
    )
    hub_key_file: Path | None = Field(
        default=None,
        description="PEM file of the hub's P-256 private key, which signs the hub token "
        "(ES256) of every call the hub makes to a node",
        json_schema_extra={"default_text": "`var/hub-key.pem`, made on first use (dev only)"},
    )
    hub_jwks_url: str | None = Field(
        default=None,
        description="Where a node served on its own reads the hub's public keys, e.g. "
        "`https://hub.example/.well-known/hub-jwks.json`",
        json_schema_extra={"default_text": "the public half of `GOVHUB_HUB_KEY_FILE`"},
    )
    hub_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="Where a node served on its own reaches the hub: a message for a node the "
        "map gives no address goes to the hub's `/nodes/<id>/inbox`, its keys read there",
        json_schema_extra={"default_text": "none: such a message waits (or NATS carries it)"},
    )
    hub_token_seconds: int = Field(
        default=60,
        ge=10,
        le=600,
        description="How long a hub token lives; the hub renews it before its end",
    )

    # GraphQL over HTTP (gateway/http.py)
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Exact origins (`scheme://host[:port]`) whose pages may call the hub and "
        "open its WebSocket (a JSON list or comma-separated)",
        json_schema_extra={"default_text": "none"},
    )
    get_requires_preflight: bool = Field(
        default=False,
        description="A GET to `/graphql` must carry `GraphQL-Require-Preflight` or "
        "`X-GovHub-Client` (for proxies that add cookies)",
    )

    @model_validator(mode="after")
    def _pools_fit_the_budget(self) -> Settings:
        stores = self.postgres_stores()
        if stores:
            size, overflow = self.db_pool()
            wanted = self.workers * stores * (size + overflow)
            if wanted > self.db_connection_budget:
                raise ValueError(
                    f"{self.workers} worker(s) × {stores} PostgreSQL store(s) × a pool of "
                    f"{size} + {overflow} may open {wanted} connections, over "
                    f"GOVHUB_DB_CONNECTION_BUDGET={self.db_connection_budget}: raise the "
                    "budget (and PostgreSQL's max_connections) or run fewer workers"
                )
        return self

    def node_db_url(self, spec: NodeSpec) -> str:
        """The database of a node: its ``database`` in the map; for a node of the
        embedded default its level's store (``GOVHUB_<LEVEL>_DB_URL``); else SQLite at
        ``<var_dir>/nodes/<id>/store.db``."""
        if spec.database:
            return spec.database
        if not self.nodes:
            return self.db_url(spec.id)
        return f"sqlite+aiosqlite:///{(self.var_dir / 'nodes' / spec.id / 'store.db').as_posix()}"

    def postgres_stores(self) -> int:
        """How many stores (one per node, and identity) are on PostgreSQL (each has a
        pool per worker): the connection budget is split over them."""
        urls = [*(self.node_db_url(spec) for spec in self.node_map()), self.db_url("identity")]
        return sum(1 for url in urls if url.startswith("postgresql"))

    def db_pool(self) -> tuple[int, int]:
        """(pool size, max overflow) of each PostgreSQL store's pool in each worker
        process: workers × stores × (size + overflow) stays within the budget."""
        per_pool = self.db_connection_budget // (self.workers * max(1, self.postgres_stores()))
        per_pool = max(1, per_pool)
        size = self.db_pool_size if self.db_pool_size is not None else (per_pool + 1) // 2
        if self.db_max_overflow is not None:
            return size, self.db_max_overflow
        return size, max(0, per_pool - size)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origin_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [origin.strip() for origin in text.split(",") if origin.strip()]
        return value

    def db_url(self, store: Level | str) -> str:
        """The SQLAlchemy URL of a level store (or ``"identity"``)."""
        name = store.value.lower() if isinstance(store, Level) else store
        configured: str | None = getattr(self, f"{name}_db_url")
        if configured:
            return configured
        return f"sqlite+aiosqlite:///{(self.var_dir / f'{name}.sqlite3').as_posix()}"

    def node_map(self) -> NodeMap:
        """The node map of ``GOVHUB_NODES`` (TOML text or a file), else the embedded one."""
        text = (self.nodes or "").strip()
        if not text:
            return NodeMap.embedded()
        return NodeMap.from_toml(text) if "[[nodes]]" in text else NodeMap.from_file(text)

    def hub_key(self) -> HubKey:
        """The hub's token key; a dev hub makes one on first use."""
        if self.hub_key_file is not None:
            return HubKey.from_file(self.hub_key_file)
        if not self.is_dev:
            raise SettingMissing(
                "GOVHUB_HUB_KEY_FILE is required in prod mode: the PEM of the hub's P-256 "
                "key, the same for every hub process (`govhub node` checks tokens with it)"
            )
        return HubKey.from_file(self.var_dir / "hub-key.pem", create=True)

    @property
    def is_dev(self) -> bool:
        return self.mode is Mode.DEV

    @property
    def issuer(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def redis_namespace(self) -> str:
        """The prefix of every Redis key and channel of this deployment, ending in ``:``:
        ``GOVHUB_REDIS_PREFIX``, else ``govhub:<host[:port][/path]>`` of the public URL."""
        if self.redis_prefix:
            base = self.redis_prefix
        else:
            url = urlsplit(self.issuer)
            base = f"govhub:{url.netloc.lower()}{url.path}".rstrip("/")
        return base if base.endswith(":") else base + ":"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/oauth/token"

    def identity_secret(self) -> bytes:
        """The secret of the identity store; a dev hub makes one on first use."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        if not self.is_dev:
            raise SettingMissing(
                "GOVHUB_SECRET_KEY is required in prod mode: set it (the same value for "
                "every hub process and command)"
            )
        path = self.var_dir / "identity.secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip().encode()
