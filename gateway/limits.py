"""Limits on what one request may ask of the hub, checked before anything runs, and the
prod-mode switches of the schema.

* ``BodySizeLimit`` (ASGI): a body over ``max_body_bytes`` is refused with 413 while it
  is read, before any JSON parsing (a ``Content-Length`` over it at once).
* ``OperationChecks`` (one Strawberry extension: ``OperationLimits`` with the token
  limit and the document cache of ``gateway/documents.py`` folded in): the token count
  while parsing (graphql-core's ``max_tokens``, as Strawberry's ``MaxTokensLimiter``
  sets it); then, on
  the parsed document and before the standard validation rules (some of which are
  quadratic in the number of fields), depth, aliases, root fields and the static cost
  (``gateway/cost.py``) of the expanded document; in prod, introspection
  (``__schema``/``__type``; ``__typename`` stays); once the document is valid and
  before it runs, the client's cost budget per minute (``limits``, a sliding-window
  counter in the storage of every rate limit), sent with the request's rate limits and
  denylist look-up in one Redis round trip (``gateway/admission.py``).
* ``ProdErrors`` (prod only): no "Did you mean …" in any message, and unexpected errors
  masked with the request id the log line carries.

Every refusal is a GraphQL error with a typed ``extensions.code`` and, for a limit,
``limit`` and ``value``: QUERY_TOO_DEEP, TOO_MANY_ALIASES, TOO_MANY_ROOT_FIELDS,
TOO_MANY_TOKENS, QUERY_TOO_COSTLY, COST_BUDGET_EXCEEDED (with ``retryAfter`` and a
``Retry-After`` header), INTROSPECTION_DISABLED; BODY_TOO_LARGE (413) before GraphQL.
A page larger than ``max_page_size`` is refused by the resolver, as before
(PAGE_SIZE_TOO_LARGE): the cost model prices it at the largest page."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import orjson
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from limits import RateLimitItemPerMinute
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import MaskErrors, SchemaExtension

from gateway.admission import Budget, Checker, Refusal, pending_of, refused
from gateway.cost import Figures, Measured, Pricing, measure
from gateway.documents import Documents, DocumentSteps
from gateway.settings import Settings

log = logging.getLogger("govhub.errors")

# (zh, en) per code; {limit} and {value} are filled in
MESSAGES: dict[str, tuple[str, str]] = {
    "QUERY_TOO_DEEP": (
        "查询嵌套过深：{value} 层，最多 {limit} 层",
        "the operation is nested {value} levels deep; at most {limit} are allowed",
    ),
    "TOO_MANY_ALIASES": (
        "别名过多：{value} 个（含片段展开），最多 {limit} 个",
        "the operation has {value} aliases (fragments expanded); at most {limit} are allowed",
    ),
    "TOO_MANY_ROOT_FIELDS": (
        "根字段过多：{value} 个，最多 {limit} 个",
        "the operation asks for {value} root fields; at most {limit} are allowed",
    ),
    "TOO_MANY_TOKENS": (
        "查询文本过长：超过 {limit} 个记号",
        "the document has more than {limit} tokens",
    ),
    "QUERY_TOO_COSTLY": (
        "查询代价过高：估算 {value}，上限 {limit}",
        "the operation's estimated cost is {value}; at most {limit} is allowed",
    ),
    "COST_BUDGET_EXCEEDED": (
        "每分钟查询代价已用尽（上限 {limit}），请 {value} 秒后再试",
        "the cost budget of {limit} per minute is spent; try again in {value} s",
    ),
    "INTROSPECTION_DISABLED": (
        "生产环境不提供内省（__schema、__type）",
        "introspection (__schema, __type) is disabled",
    ),
    "BODY_TOO_LARGE": (
        "请求体过大：最多 {limit} 字节",
        "the request body is larger than {limit} bytes",
    ),
}
# graphql-core's parse error when max_tokens is reached
TOKENS_ERROR = re.compile(r"Document contains more than (\d+) tokens")
# graphql-core appends suggestions to validation and coercion messages ("Did you mean
# 'a' or 'b'?"; names hold no "?"), which may be wrapped in a message of the hub's own
SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def message(code: str, locale: str, **figures: object) -> str:
    zh, en = MESSAGES[code]
    return (en if locale == "en" else zh).format(**figures)


def refusal(code: str, locale: str, **figures: int) -> GraphQLError:
    return GraphQLError(message(code, locale, **figures), extensions={"code": code, **figures})


def request_id_of(request: HTTPConnection | None) -> str:
    """The request id the request-id middleware gave the request (one is made and kept
    on the request when there is none, so the log and the client see the same)."""
    if request is None:
        return uuid.uuid4().hex
    rid = getattr(request.state, "request_id", None)
    if not rid:
        rid = request.state.request_id = uuid.uuid4().hex
    return str(rid)


def client_key(context: Any) -> str:
    """Whom a budget or rate limit counts: the signed-in account (or machine client),
    else the address."""
    viewer = getattr(context, "viewer", None)
    subject = getattr(viewer, "subject", "")
    if subject:
        return f"sub:{subject}"
    request = getattr(context, "request", None)
    client = getattr(request, "client", None)
    return f"ip:{client.host if client else 'unknown'}"


class CostBudget:
    """Cost spent per client in a sliding minute: two counters per client (this minute
    and the last, weighted), one atomic increment by the cost per request — never an
    entry per unit of cost, as a moving window's list would keep."""

    def __init__(self, checker: Checker, per_minute: int) -> None:
        self.checker = checker
        self.item = RateLimitItemPerMinute(per_minute)

    def check(self, client: str, cost: int) -> Budget:
        return Budget(self.item, client, max(1, min(cost, self.item.amount)))

    async def charge(self, client: str, cost: int) -> int | None:
        """Spend ``cost``; None when within the budget, else seconds until it is."""
        refusal = await self.checker.run([self.check(client, cost)])
        return None if refusal is None else refusal.retry_after


class OperationLimits(SchemaExtension):
    def __init__(
        self,
        settings: Settings,
        budget: CostBudget | None,
        *,
        prod: bool,
        measured: Measured | None = None,
    ) -> None:
        self.settings = settings
        self.budget = budget
        self.prod = prod
        # the figures of documents seen before (one per schema), else measured afresh
        self.measured = measured
        self.figures: Figures | None = None

    def _locale(self) -> str:
        return str(getattr(self.execution_context.context, "locale", "zh"))

    def on_operation(self) -> Iterator[None]:
        yield
        self.translate()

    def translate(self) -> None:
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [self._translate(e) for e in result.errors]

    def _translate(self, error: GraphQLError) -> GraphQLError:
        if error.original_error is None and (match := TOKENS_ERROR.search(error.message)):
            limit = int(match.group(1))
            return refusal("TOO_MANY_TOKENS", self._locale(), limit=limit)
        return error

    async def on_validate(self) -> AsyncIterator[None]:
        self.price()
        yield

    def price(self) -> None:
        """The document's figures, and its refusals as the validation's errors."""
        execution = self.execution_context
        document = execution.graphql_document
        if document is not None:
            pricing = Pricing(self.settings.default_page_size, self.settings.max_page_size)
            figure = measure if self.measured is None else self.measured.figures
            self.figures = figure(
                execution.schema._schema,
                document,
                execution.operation_name,
                execution.variables,
                pricing,
            )
            errors = self.refusals(self.figures)
            if errors:
                # the standard rules are skipped: the document is refused already
                execution.pre_execution_errors = errors

    async def on_execute(self) -> AsyncIterator[None]:
        # the document is valid: the client pays for it, or it does not run; with the
        # request's other checks when it gathers them (one round trip)
        execution = self.execution_context
        pending = pending_of(getattr(getattr(execution.context, "request", None), "scope", None))
        refused_by: Refusal | None = None
        if self.budget is not None and self.figures is not None and not execution.result:
            check = self.budget.check(client_key(execution.context), self.figures.cost)
            if pending is not None:
                refused_by = await pending.settle(check)
            else:
                refused_by = await self.budget.checker.run([check])
        elif pending is not None and not execution.result:
            refused_by = await pending.settle()
        if refused_by is not None and isinstance(refused_by.check, Budget):
            self._over_budget(refused_by.retry_after)
        elif refused_by is not None:
            refused(execution)
        yield

    def _over_budget(self, retry_after: int) -> None:
        execution = self.execution_context
        assert self.budget is not None
        error = refusal(
            "COST_BUDGET_EXCEEDED",
            self._locale(),
            limit=self.budget.item.amount,
            value=retry_after,
        )
        error.extensions = {**(error.extensions or {}), "retryAfter": retry_after}
        execution.result = GraphQLExecutionResult(data=None, errors=[error])
        response = getattr(execution.context, "response", None)
        if isinstance(response, Response):
            response.headers["Retry-After"] = str(retry_after)

    def refusals(self, figures: Figures) -> list[GraphQLError]:
        s, locale = self.settings, self._locale()
        checks = (
            ("INTROSPECTION_DISABLED", int(self.prod and figures.introspection), 0),
            ("QUERY_TOO_DEEP", figures.depth, s.max_depth),
            ("TOO_MANY_ALIASES", figures.aliases, s.max_aliases),
            ("TOO_MANY_ROOT_FIELDS", figures.fields, s.max_root_fields),
            ("QUERY_TOO_COSTLY", figures.cost, s.max_cost),
        )
        errors = []
        for code, value, limit in checks:
            if value > limit:
                if code == "INTROSPECTION_DISABLED":
                    errors.append(GraphQLError(message(code, locale), extensions={"code": code}))
                else:
                    errors.append(refusal(code, locale, limit=limit, value=value))
        return errors


class ProdErrors(MaskErrors):
    """Prod: unexpected errors become ``内部错误`` with ``extensions.requestId`` (the id
    in the log line of the full error), and no message suggests a field, argument,
    type or enum value of the schema ("Did you mean …")."""

    def __init__(self, should_mask_error: Callable[[GraphQLError], bool]) -> None:
        super().__init__(should_mask_error=should_mask_error, error_message="内部错误")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [strip_suggestions(e) for e in super()._process_errors(errors)]

    def _process_result(self, result: object) -> None:
        # Strawberry's asks ``isinstance(result, <runtime_checkable Protocol with a data
        # member>)``, which inspects the protocol's class on every call (~40 µs a
        # request); the question is only whether the result has errors
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request = getattr(self.execution_context.context, "request", None)
        rid = request_id_of(request)
        # GovHubSchema.process_errors has logged the traceback under the same request id
        log.error("masked error at %s (request %s): %s", error.path, rid, error.message)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_ERROR", "requestId": rid}
        return masked


def strip_suggestions(error: GraphQLError) -> GraphQLError:
    stripped = SUGGESTION.sub("", error.message)
    if stripped == error.message:
        return error
    return GraphQLError(
        stripped,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=error.extensions,
    )


def operation_extensions(
    settings: Settings, budget: CostBudget | None, *, prod: bool
) -> list[Callable[[], SchemaExtension]]:
    """The limit extensions for ``build_schema``, one instance per operation; the
    document cache after the limits, so it only ever validates what they accepted."""
    documents = Documents()
    measured = Measured()
    return [
        lambda: OperationChecks(settings, budget, prod=prod, measured=measured, documents=documents)
    ]


class OperationChecks(DocumentSteps, OperationLimits):
    """Strawberry's ``MaxTokensLimiter``, ``OperationLimits`` and ``DocumentCache`` in
    one extension, their steps in the order the three in a row took: the token limit
    set for the parse; the parse answered from the cache; the document priced and
    refused over a limit, then (if accepted) its validation skipped when it passed
    before, and remembered when it passes; the budget charged before it runs; the
    token error translated when it ends."""

    def __init__(
        self,
        settings: Settings,
        budget: CostBudget | None,
        *,
        prod: bool,
        measured: Measured | None,
        documents: Documents,
    ) -> None:
        super().__init__(settings, budget, prod=prod, measured=measured)
        self.documents = documents
        self.entry = None

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.settings.max_tokens
        yield
        self.translate()

    async def on_validate(self) -> AsyncIterator[None]:
        self.price()
        accepted = self.before_validation()
        yield
        self.after_validation(accepted)


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """413 for a request body over ``max_bytes``: at once from ``Content-Length``, or
    while the body is read (chunked), before anything parses it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = HTTPConnection(scope)
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            await self.refuse(request, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self.refuse(request, send)

    async def refuse(self, request: HTTPConnection, send: Send) -> None:
        first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
        locale = "en" if first.startswith("en") else "zh"
        code = "BODY_TOO_LARGE"
        body = {
            "errors": [
                {
                    "message": message(code, locale, limit=self.max_bytes),
                    "extensions": {"code": code, "limit": self.max_bytes},
                }
            ]
        }
        response = Response(orjson.dumps(body), status_code=413, media_type="application/json")
        await response(request.scope, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
