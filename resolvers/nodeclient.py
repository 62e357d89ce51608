"""The hub's client of a node's API (DESIGN §2, "A node is a service"): one code path,
two transports — in-process (httpx's ``ASGITransport`` over the node's ASGI app, the
embedded default) and HTTP to the node's address in the node map (``NodeWire``,
``resolvers/node_wire.py``: aiohttp's kept-alive connections).

Every call carries a hub token for that node (``auth.hub_tokens``: signed once and
reused until near its end). A node that does not answer in time, cannot be reached, or
refuses the hub's token is ``NODE_UNAVAILABLE`` (a ``DomainError`` naming the node);
a typed refusal of the node (``DIVISION_NOT_OWNED``, a bad cursor …) comes back as the
same ``DomainError`` it raised there. A write call carries a keyed mutation's record,
which the node writes with its effect (``resolvers/node_records.py``).

The ASGI app is handed in (``NodeClient.in_process(node_id, app, …)``): the hub's
packages never import ``gateway/``, where ``create_node_app`` builds it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from auth.hub_tokens import HubTokenSigner
from levels.common.errors import DomainError, ErrorCode
from levels.idempotency.records import Pending
from levels.node.steps import AnsweredCode, code_of
from resolvers import node_records
from resolvers.node_json import decode as _decode
from resolvers.node_json import encode as _encode
from resolvers.node_wire import Answer, NodeWire, NodeWireError

# where a node publishes its public message keys (``gateway/messaging/jwks.py``'s PATH)
NODE_KEYS_PATH = "/.well-known/node-keys.json"
_JSON = ("Content-Type", "application/json")
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")

_DELIVER = """
mutation Deliver($envelope: String!) {
  deliver(envelope: $envelope) { messageId outcome reason receipt }
}
"""

_TAKE_CASE_STEP = """
mutation TakeCaseStep(
  $number: String!, $step: CaseStep!, $actor: ActorInput!, $now: DateTime!,
  $input: JSON, $licenceFields: JSON
) {
  takeCaseStep(
    number: $number, step: $step, actor: $actor, now: $now,
    input: $input, licenceFields: $licenceFields
  ) { columns moved error { code field message detail } }
}
"""

# the changes of a case other than its steps: each with the arguments of its own beside
# number, actor, now and input (``schema/node/case_mutation.py``)
CASE_CHANGES: dict[str, dict[str, str]] = {
    "referCase": {
        "item": "JSON!",
        "reviewTown": "JSON",
        "opinion": "String",
        "reviewerName": "String",
    },
    "completeFile": {},
    "notifyStation": {},
    "supplementAtStation": {},
    "givePreReview": {"result": "String!"},
    "handInTolerated": {},
    "overrideTolerance": {},
    "decidePart": {"implementationCode": "String!"},
}
_OUTCOME = "{ columns moved error { code field message detail } }"


def _change_document(name: str) -> str:
    own = CASE_CHANGES[name]
    declared = "".join(f", ${arg}: {kind}" for arg, kind in own.items())
    given = "".join(f", {arg}: ${arg}" for arg in own)
    operation = name[0].upper() + name[1:]
    return (
        f"mutation {operation}($number: String!, $actor: ActorInput!, $now: DateTime!, "
        f"$input: JSON{declared}) {{\n  {name}(number: $number, actor: $actor, now: $now, "
        f"input: $input{given}) {_OUTCOME}\n}}"
    )


_CHANGE_DOCUMENTS = {name: _change_document(name) for name in CASE_CHANGES}

_RECORD_CASE_READS = """
mutation RecordCaseReads($reads: [CaseReadInput!]!) { recordCaseReads(reads: $reads) }
"""

_SUBMIT_CASE = """
mutation SubmitCase(
  $submission: JSON!, $actor: ActorInput!, $now: DateTime!, $applicantLanguage: String,
  $library: JSON
) {
  submitCase(
    submission: $submission, actor: $actor, now: $now, applicantLanguage: $applicantLanguage,
    library: $library
  ) { columns error { code field message detail } }
}
"""

_TICKET = "{ columns error { code field message detail } }"

_ISSUE_TICKET = (
    """
mutation IssueTicket(
  $divisionCode: String!, $channel: String!, $actor: ActorInput!, $now: DateTime!,
  $holderId: String, $basicCode: String, $windowId: String, $windowKind: String,
  $language: String
) {
  issueTicket(
    divisionCode: $divisionCode, channel: $channel, actor: $actor, now: $now,
    holderId: $holderId, basicCode: $basicCode, windowId: $windowId,
    windowKind: $windowKind, language: $language
  ) """
    + _TICKET
    + "\n}"
)

_CALL_NEXT_TICKET = (
    """
mutation CallNextTicket($windowId: String!, $actor: ActorInput!, $now: DateTime!) {
  callNextTicket(windowId: $windowId, actor: $actor, now: $now) """
    + _TICKET
    + "\n}"
)

_TAKE_TICKET_STEP = (
    """
mutation TakeTicketStep(
  $ticket: String!, $step: String!, $actor: ActorInput!, $now: DateTime!,
  $caseNumber: String, $toWindowId: String
) {
  takeTicketStep(
    ticket: $ticket, step: $step, actor: $actor, now: $now,
    caseNumber: $caseNumber, toWindowId: $toWindowId
  ) """
    + _TICKET
    + "\n}"
)


class NodeCallFailed(Exception):
    """A node answered with something that is neither data nor a typed refusal (a bug
    on one side, or a node of another version): for the log, not for users."""


def named_answer(client: NodeClient, data: Mapping[str, Any], name: str, kind: type) -> Any:
    """Field ``name`` of a node's ``data``, which must be a ``kind`` (NodeCallFailed if
    the node answered anything else)."""
    found = data.get(name)
    if not isinstance(found, kind):
        raise NodeCallFailed(f"node {client.node_id}: {name} answered {found!r}")
    return found


def _selection(fields: Sequence[str] | str) -> str:
    if isinstance(fields, str):
        return fields
    for name in fields:
        if not _NAME.match(name):
            raise ValueError(f"not a GraphQL field name: {name!r}")
    return " ".join(fields)


def _domain_error(error: Mapping[str, Any]) -> DomainError | None:
    extensions = error.get("extensions") or {}
    code = extensions.get("code")
    if not isinstance(code, str):
        return None
    # a code of any domain of levels/ (CASE_NOT_FOUND …), else not a typed refusal
    known = code_of(code)
    if isinstance(known, AnsweredCode):
        return None
    field = extensions.get("field")
    return DomainError(
        known,
        field=[str(f) for f in field] if isinstance(field, list) else None,
        detail=str(error.get("message") or "")[:200] or None,
    )


class NodeClient:
    """Calls to one node, as the hub."""

    def __init__(
        self,
        node_id: str,
        *,
        signer: HubTokenSigner,
        base_url: str,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 5.0,
        dispose: Callable[[], Awaitable[None]] | None = None,
        shares_store: bool = False,
    ) -> None:
        """Over httpx's ``transport`` (in-process) if given, else ``NodeWire``."""
        self.node_id = node_id
        self.timeout = timeout
        self.shares_store = shares_store  # the node's store is the hub's (in-process)
        self._signer = signer
        self._http = (
            httpx.AsyncClient(base_url=base_url, transport=transport, timeout=timeout)
            if transport is not None
            else None
        )
        self._wire = NodeWire(base_url) if transport is None else None
        # the token last sent and its header value, encoded once
        self._token = ("", "")
        self._dispose = dispose

    @classmethod
    def in_process(
        cls,
        node_id: str,
        app: Any,
        *,
        signer: HubTokenSigner,
        timeout: float = 5.0,
        dispose: Callable[[], Awaitable[None]] | None = None,
    ) -> NodeClient:
        """A client of a node served in this process by its ASGI ``app``; ``dispose``
        (the app's ``state.dispose``: its engines) is awaited when the client closes."""
        transport = httpx.ASGITransport(app=app)
        return cls(
            node_id,
            signer=signer,
            base_url=f"http://{node_id}.node.invalid",
            transport=transport,
            timeout=timeout,
            dispose=dispose,
            shares_store=True,
        )

    @classmethod
    def over_http(
        cls, node_id: str, address: str, *, signer: HubTokenSigner, timeout: float = 5.0
    ) -> NodeClient:
        """A client of a node at ``address`` (``http(s)://host:port``)."""
        return cls(node_id, signer=signer, base_url=address.rstrip("/"), timeout=timeout)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        if self._wire is not None:
            await self._wire.aclose()
        if self._dispose is not None:
            dispose, self._dispose = self._dispose, None
            await dispose()

    async def __aenter__(self) -> NodeClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    # --- the one code path --------------------------------------------------------------

    def _unavailable(self, why: str) -> DomainError:
        return DomainError(ErrorCode.NODE_UNAVAILABLE, detail=f"node {self.node_id}: {why}")

    def _bearer(self) -> str:
        """The ``Authorization`` value of the hub's current token for this node."""
        token = self._signer.token(self.node_id)
        if token != self._token[0]:
            self._token = (token, "Bearer " + token)
        return self._token[1]

    async def _send(
        self, method: str, path: str, body: Any = None, keyed: Pending | None = None
    ) -> Answer | httpx.Response:
        content = None if body is None else _encode(body)
        headers = [("Authorization", self._bearer())] + ([_JSON] if content is not None else [])
        headers.extend(node_records.header(keyed).items())
        response: Answer | httpx.Response
        try:
            # the bound covers the in-process transport too, which has no timeouts
            async with asyncio.timeout(self.timeout):
                if self._wire is not None:
                    response = await self._wire.request(method, path, headers, content)
                else:
                    assert self._http is not None
                    response = await self._http.request(
                        method, path, content=content, headers=headers
                    )
        except (TimeoutError, httpx.TimeoutException):  # (TimeoutError is an OSError)
            raise self._unavailable(f"no answer within {self.timeout:g}s") from None
        except (httpx.TransportError, OSError, NodeWireError) as exc:
            raise self._unavailable(f"not reachable ({type(exc).__name__})") from None
        if response.status_code == 401:
            raise self._unavailable("refused the hub's token")
        return response

    async def execute(
        self, document: str, variables: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """A GraphQL call: its data and its errors."""
        keyed = node_records.carried(document)
        response = await self._send(
            "POST", "/graphql", {"query": document, "variables": dict(variables or {})}, keyed
        )
        try:
            body = _decode(response.content)
        except json.JSONDecodeError:
            raise NodeCallFailed(
                f"node {self.node_id}: HTTP {response.status_code}, not JSON"
            ) from None
        if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
            raise NodeCallFailed(f"node {self.node_id}: HTTP {response.status_code}: {body!r}")
        errors = list(body.get("errors") or [])
        node_records.answered(keyed, self.node_id, response.headers, errors)
        return body.get("data"), errors

    def _raise(self, errors: list[dict[str, Any]]) -> None:
        for error in errors:
            refused = _domain_error(error)
            if refused is not None:
                raise refused
        if errors:
            raise NodeCallFailed(f"node {self.node_id}: {errors[0].get('message')}")

    # --- what the hub asks -----------------------------------------------------------

    async def query(self, document: str, variables: Mapping[str, Any] | None = None) -> Any:
        """A GraphQL call's data; a typed refusal of the node raised as its DomainError."""
        data, errors = await self.execute(document, variables)
        self._raise(errors)
        return data or {}

    async def entities(
        self,
        typename: str,
        keys: Sequence[Mapping[str, Any]],
        fields: Sequence[str] | str,
    ) -> list[dict[str, Any] | None]:
        """The ``fields`` of the ``typename`` entities with these keys (e.g.
        ``[{"code": "140702000000"}]``), in key order, None for a key the node does not
        hold; one call, one statement per type on the node."""
        if not _NAME.match(typename):
            raise ValueError(f"not a GraphQL type name: {typename!r}")
        if not keys:
            return []
        document = (
            "query Entities($representations: [_Any!]!) { "
            "_entities(representations: $representations) { "
            f"... on {typename} {{ {_selection(fields)} }} }} }}"
        )
        representations = [{"__typename": typename, **key} for key in keys]
        data, errors = await self.execute(document, {"representations": representations})
        self._raise(errors)
        found = (data or {}).get("_entities")
        if not isinstance(found, list) or len(found) != len(keys):
            raise NodeCallFailed(f"node {self.node_id}: _entities answered {found!r}")
        return [item if item else None for item in found]

    async def health(self) -> dict[str, Any]:
        """The node's ``/health``: ``status`` "ok" (store answers, at the migration
        head), "behind" or "down"."""
        response = await self._send("GET", "/health")
        try:
            body: dict[str, Any] = _decode(response.content)
        except json.JSONDecodeError:
            raise NodeCallFailed(f"node {self.node_id}: /health is not JSON") from None
        return body

    async def node_keys(self) -> dict[str, Any]:
        """The node's own JWKS of its public message keys (``GET
        /.well-known/node-keys.json``, what its peers verify it with)."""
        response = await self._send("GET", NODE_KEYS_PATH)
        try:
            body = _decode(response.content)
        except json.JSONDecodeError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            raise NodeCallFailed(f"node {self.node_id}: its keys: HTTP {response.status_code}")
        return body

    async def deliver(self, envelope: str) -> dict[str, Any]:
        """Hand a signed envelope to the node's inbox: ``outcome`` APPLIED, DUPLICATE,
        WAIT or REFUSED, with the node's signed ``receipt``."""
        data, errors = await self.execute(_DELIVER, {"envelope": envelope})
        self._raise(errors)
        result: dict[str, Any] = (data or {})["deliver"]
        return result

    async def take_case_step(
        self,
        number: str,
        step: str,
        *,
        actor: Mapping[str, Any],
        now: dt.datetime,
        given: Mapping[str, Any] | None = None,
        licence_fields: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Have the node take one step of a case it holds (``takeCaseStep``): the case's
        ``columns`` as it now stands (None: refused, nothing changed), ``moved`` (a due
        timer moved it first) and the refusal ``error`` (code, field, message,
        detail). Not retried: a node that does not answer in time may have taken it."""
        variables = {
            "number": number,
            "step": step,
            **_acting(actor, now),
            "input": dict(given) if given is not None else None,
            "licenceFields": dict(licence_fields) if licence_fields is not None else None,
        }
        found: dict[str, Any] = await self._outcome_call("takeCaseStep", _TAKE_CASE_STEP, variables)
        return found

    async def change_case(
        self,
        change: str,
        number: str,
        *,
        actor: Mapping[str, Any],
        now: dt.datetime,
        given: Mapping[str, Any] | None = None,
        **arguments: Any,
    ) -> dict[str, Any]:
        """Have the node make a change of a case it holds other than a step (one of
        ``CASE_CHANGES``: ``referCase``, ``completeFile``, … with its own ``arguments``
        by their GraphQL names): answered as ``take_case_step``. Not retried."""
        own = CASE_CHANGES[change]
        if not set(arguments) <= set(own):
            raise ValueError(f"{change} takes {sorted(own)}, not {sorted(arguments)}")
        variables = {
            "number": number,
            **_acting(actor, now),
            "input": dict(given) if given is not None else None,
            **arguments,
        }
        found: dict[str, Any] = await self._outcome_call(
            change, _CHANGE_DOCUMENTS[change], variables
        )
        return found

    async def record_case_reads(
        self, reads: Sequence[tuple[str, Mapping[str, Any], dt.datetime]]
    ) -> None:
        """Have the node audit staff reads of cases it holds (``recordCaseReads``): each
        ``(number, actor, now)``'s READ event in the node's chain, committed when this
        returns; a refusal (CASE_NOT_FOUND, DIVISION_NOT_OWNED) means none was."""
        variables = {
            "reads": [{"number": number, **_acting(actor, now)} for number, actor, now in reads]
        }
        data, errors = await self.execute(_RECORD_CASE_READS, variables)
        self._raise(errors)
        if (data or {}).get("recordCaseReads") != len(reads):
            raise NodeCallFailed(f"node {self.node_id}: recordCaseReads answered {data!r}")

    async def submit_case(
        self,
        submission: Mapping[str, Any],
        *,
        actor: Mapping[str, Any],
        now: dt.datetime,
        applicant_language: str | None = None,
        library: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Have the node receive a case (``submitCase``, with the applicant's licences
        read in the city's ``library``): its ``columns`` as received (None: refused,
        nothing written) and the refusal ``error``. Not retried: a node that does not
        answer in time may have received it."""
        variables = {
            "submission": dict(submission),
            **_acting(actor, now),
            "applicantLanguage": applicant_language,
            "library": None if library is None else dict(library),
        }
        found: dict[str, Any] = await self._outcome_call("submitCase", _SUBMIT_CASE, variables)
        return found

    async def _outcome_call(self, name: str, document: str, variables: dict[str, Any]) -> Any:
        data, errors = await self.execute(document, variables)
        self._raise(errors)
        result = (data or {}).get(name)
        if not isinstance(result, dict):
            raise NodeCallFailed(f"node {self.node_id}: {name} answered {result!r}")
        return result

    async def issue_ticket(
        self,
        division_code: str,
        channel: str,
        *,
        actor: Mapping[str, Any],
        now: dt.datetime,
        holder_id: str | None = None,
        basic_code: str | None = None,
        window_id: str | None = None,
        window_kind: str | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        """Have the node issue a ticket at the org of ``division_code``
        (``issueTicket``): the ticket's ``columns`` (None: refused, nothing written) and
        the refusal ``error``. Not retried: a node that does not answer may have issued it."""
        variables = {
            "divisionCode": division_code,
            "channel": channel,
            **_acting(actor, now),
            "holderId": holder_id,
            "basicCode": basic_code,
            "windowId": window_id,
            "windowKind": window_kind,
            "language": language,
        }
        found: dict[str, Any] = await self._outcome_call("issueTicket", _ISSUE_TICKET, variables)
        return found

    async def call_next_ticket(
        self, window_id: str, *, actor: Mapping[str, Any], now: dt.datetime
    ) -> dict[str, Any]:
        """Have the node call the next ticket at window ``window_id``
        (``callNextTicket``): as ``issue_ticket``."""
        variables = {
            "windowId": window_id,
            **_acting(actor, now),
        }
        found: dict[str, Any] = await self._outcome_call(
            "callNextTicket", _CALL_NEXT_TICKET, variables
        )
        return found

    async def take_ticket_step(
        self,
        ticket: str,
        step: str,
        *,
        actor: Mapping[str, Any],
        now: dt.datetime,
        case_number: str | None = None,
        to_window_id: str | None = None,
    ) -> dict[str, Any]:
        """Have the node take a later step of a ticket it holds (``takeTicketStep``:
        SERVE, FINISH, NO_SHOW, RECALL, TRANSFER, CANCEL): as ``issue_ticket``."""
        variables = {
            "ticket": ticket,
            "step": step,
            **_acting(actor, now),
            "caseNumber": case_number,
            "toWindowId": to_window_id,
        }
        found: dict[str, Any] = await self._outcome_call(
            "takeTicketStep", _TAKE_TICKET_STEP, variables
        )
        return found


def _acting(actor: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The variables every write carries: who acts (``ActorInput``) and the hub's
    instant."""
    return {"actor": {_camel(k): v for k, v in actor.items()}, "now": now.isoformat()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
