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
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from levels.common.enums import Level


class Mode(enum.Enum):
    DEV = "dev"
    PROD = "prod"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVHUB_", env_file=".env", extra="ignore")

    mode: Mode = Mode.DEV
    var_dir: Path = Path("var")
    city_db_url: str | None = None
    county_db_url: str | None = None
    town_db_url: str | None = None
    village_db_url: str | None = None
    identity_db_url: str | None = None
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("GOVHUB_REDIS_URL", "REDIS_URL")
    )
    # what this deployment's Redis keys and pub/sub channels start with (see
    # ``redis_namespace``): two deployments on one Redis must differ here, since pub/sub
    # ignores the database number
    redis_prefix: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._:/@-]{1,100}$")
    host: str = "127.0.0.1"
    port: int = 8000
    # `govhub serve` worker processes (uvicorn); each has its own pools and caches
    workers: int = Field(default=1, ge=1, le=64)
    # freeze "now" for tests and demos (ISO 8601, with offset); None = the real clock
    clock_override: dt.datetime | None = None
    # a node that does not answer within this many seconds counts as unavailable
    node_timeout_seconds: float = 5.0
    max_page_size: int = 100
    default_page_size: int = 20
    # seconds between passes of the in-process timer worker (0: no worker here)
    timer_interval_seconds: float = Field(default=30.0, ge=0)
    # seconds between passes of the in-process relay of cross-level messages (0: no
    # relay here; run `govhub relay` instead), and how many messages a pass takes per store
    relay_interval_seconds: float = Field(default=1.0, ge=0)
    relay_batch_size: int = Field(default=100, ge=1, le=10_000)
    # a message that keeps failing is tried again after 2, 4, 8… seconds (at most
    # relay_backoff_max_seconds apart) and after relay_max_attempts tries is FAILED
    relay_max_attempts: int = Field(default=8, ge=1)
    relay_backoff_seconds: float = Field(default=2.0, gt=0)
    relay_backoff_max_seconds: float = Field(default=600.0, gt=0)
    # a node's circuit breaker opens after this many failed calls in a row, and lets
    # calls through again (to find out whether the node is back) after this long
    breaker_failures: int = Field(default=5, ge=1)
    breaker_open_seconds: float = Field(default=30.0, gt=0)
    # e-licences: an issuer's signed status list is trusted offline for this long
    # (a verifier past it says UNKNOWN); a purpose-bound copy (加注件) lives at most
    # licence_copy_max_days
    licence_status_ttl_seconds: int = Field(default=86_400, ge=60)
    licence_copy_max_days: int = Field(default=90, ge=1, le=365)
    # 好差评: a 差评's rectification and a complaint are due this many working days on
    rectification_days: int = Field(default=5, ge=1, le=60)
    complaint_days: int = Field(default=5, ge=1, le=60)
    # idempotent retries (gateway/idempotency.py): how long a key's record and response
    # are kept, and how long the in-flight lock of a keyed mutation lives at most
    idempotency_retention_hours: int = Field(default=72, ge=1)
    idempotency_lock_seconds: int = Field(default=60, ge=5)
    # echo every SQL statement to the log (debugging only)
    sql_echo: bool = False
    # PostgreSQL connections the whole hub may hold: every worker process has a pool per
    # store on PostgreSQL, so each pool gets budget ÷ (workers × such stores), half kept
    # open and half opened under load (``db_pool``). The default leaves 20 of
    # PostgreSQL's default max_connections=100 for migrations, psql and the superuser.
    # db_pool_size / db_max_overflow set a pool by hand; it must still fit the budget.
    db_connection_budget: int = Field(default=80, ge=1)
    db_pool_size: int | None = Field(default=None, ge=1)
    db_max_overflow: int | None = Field(default=None, ge=0)
    # observability: log lines as JSON objects or text (default: json in prod, text in
    # dev); spans exported to nothing, the console or OTLP over HTTP (OTEL_EXPORTER_OTLP_*);
    # operation names beyond the schema's root fields that get a metrics label of their own
    log_format: str | None = Field(default=None, pattern="^(json|text)$")
    otel_exporter: str = Field(default="none", pattern="^(none|console|otlp)$")
    metrics_operation_names: int = Field(default=100, ge=0, le=1000)

    # identity (auth/): the public address of the hub is the token issuer
    public_url: str | None = None
    # keys the protected ID-number lookup hash and encrypts signing keys at rest;
    # required in prod, kept in <var_dir>/identity.secret in dev when unset
    secret_key: SecretStr | None = None
    access_token_seconds: int = Field(default=600, ge=60, le=900)
    session_idle_seconds: int = Field(default=1800, ge=60)
    kiosk_idle_seconds: int = Field(default=300, ge=60)
    session_absolute_seconds: int = Field(default=12 * 3600, ge=300)
    handoff_seconds: int = Field(default=300, ge=30, le=300)
    handoffs_per_minute: int = Field(default=10, ge=1)
    # a retired signing key still verifies for this long (>= the access token lifetime)
    key_overlap_seconds: int = Field(default=3600, ge=900)
    # sign-in attempts counted before the password is checked: per account (strict; a
    # success starts its window afresh) and per address (only a spray reaches it)
    login_failures_per_minute: int = Field(default=5, ge=1)
    login_attempts_per_minute_per_ip: int = Field(default=100, ge=1)
    # consecutive failures that lock an account, and for how long
    lockout_failures: int = Field(default=10, ge=3)
    lockout_seconds: int = Field(default=900, ge=60)
    # machine-client assertions may live at most this long (RFC 7523 "short exp")
    assertion_max_seconds: int = Field(default=300, ge=30, le=3600)

    # limits on every GraphQL operation, checked before it runs (gateway/limits.py)
    max_depth: int = Field(default=15, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    max_tokens: int = Field(default=2000, ge=100)
    max_root_fields: int = Field(default=10, ge=1)
    max_body_bytes: int = Field(default=100_000, ge=1024)
    # static cost estimate (see the README's "Limits"): most per operation, and most
    # per client (account or address) per minute
    max_cost: int = Field(default=25_000, ge=1)
    cost_budget_per_minute: int = Field(default=250_000, ge=1)
    # operations in one batched request (a JSON array); 0: batching is refused
    batch_max: int = Field(default=0, ge=0, le=100)
    # persisted queries (gateway/persisted.py): the trusted documents the front-ends
    # ship, APQ entries' lifetime, and the prod switch allowing only persisted operations
    persisted_manifest: Path | None = Path(__file__).parent / "trusted_documents.json"
    apq_ttl_seconds: int = Field(default=86_400, ge=60)
    persisted_only: bool = False
    persisted_only_allows_apq: bool = False
    # requests per minute, per client (account or address) and per address
    requests_per_minute: int = Field(default=600, ge=1)
    requests_per_minute_per_ip: int = Field(default=1200, ge=1)
    # proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated)
    trusted_proxies: str = ""

    # GraphQL over HTTP (gateway/http.py): the exact origins (scheme://host[:port]) whose
    # pages may call the hub from a browser (CORS, and WebSocket handshakes); empty: none.
    # A JSON list or comma-separated.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # a GET to /graphql must carry GraphQL-Require-Preflight or X-GovHub-Client (set it
    # when a proxy in front of the hub adds cookies)
    get_requires_preflight: bool = False

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

    def postgres_stores(self) -> int:
        """How many of the five stores are on PostgreSQL (each has a pool per worker)."""
        names = [*(level.value.lower() for level in Level), "identity"]
        return sum(1 for n in names if self.db_url(n).startswith("postgresql"))

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

    @property
    def is_dev(self) -> bool:
        return self.mode is Mode.DEV

    @property
    def issuer(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def redis_namespace(self) -> str:
        """The prefix of every Redis key and channel of this deployment:
        ``GOVHUB_REDIS_PREFIX``, else ``govhub:<host[:port][/path]>`` of the public URL;
        always ending in ``:``."""
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
            raise RuntimeError("GOVHUB_SECRET_KEY is required in prod mode")
        path = self.var_dir / "identity.secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip().encode()
