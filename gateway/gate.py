"""The request gate: the body-size limit, the admission of GraphQL requests and the
per-address rate limit as ONE pure-ASGI layer, in that order — what three nested layers
did (``BodySizeLimit``, an admission layer and an address-limit layer), each with its
own call frame and its own ``send`` wrapper for every message of every request.

The same steps, each as its class did it:

* a declared ``Content-Length`` over the limit: 413 at once; a body that grows over it
  while read: 413 if the response has not started (``BodySizeLimit``);
* a request to the GraphQL path gathers its checks in the scope (``Pending``) and sends
  them once, at the latest when its response starts; a refusal answers instead of the
  response;
* every HTTP request outside ``/health/`` and ``/metrics`` counts against its address:
  added to the gathered checks, or asked at once elsewhere. The
  real address comes first (``ratelimit.proxies``, a layer outside the gate when a
  proxy is trusted: nothing before the address limit reads the address).
"""

from __future__ import annotations

from limits import RateLimitItemPerMinute
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.admission import SCOPE_KEY, Checker, Pending, RefusalResponse, Window
from gateway.limits import BodySizeLimit, BodyTooLarge
from gateway.ratelimit import EXEMPT, address_of, admit


class RequestGate:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        checker: Checker,
        path: str,
        respond: RefusalResponse,
        per_minute_per_ip: int | None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_limit = BodySizeLimit(app, max_bytes)  # its 413 answer
        self.checker = checker
        self.path = path
        self.respond = respond
        self.item = None if per_minute_per_ip is None else RateLimitItemPerMinute(per_minute_per_ip)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = HTTPConnection(scope)
        length = request.headers.get("content-length", "")
        max_bytes = self.max_bytes
        if length.isdigit() and int(length) > max_bytes:
            await self.body_limit.refuse(request, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        pending: Pending | None = None
        gated_send = tracking_send
        if scope["path"] == self.path:
            pending = scope[SCOPE_KEY] = Pending(self.checker)
            refused = False

            async def admitting_send(message: Message) -> None:
                nonlocal refused, started
                if message["type"] == "http.response.start":
                    assert pending is not None
                    refusal = await pending.settle()
                    response = (
                        None if refusal is None else self.respond(HTTPConnection(scope), refusal)
                    )
                    if response is not None:
                        refused = True
                        await response(scope, counting_receive, tracking_send)
                        return
                if not refused:
                    # tracking_send, inlined: this wrapper is called for every message
                    started = started or message["type"] == "http.response.start"
                    await send(message)

            gated_send = admitting_send
        try:
            if self.item is None or scope["path"].startswith(EXEMPT):
                await self.app(scope, counting_receive, gated_send)
            else:
                check = Window(self.item, "requests-ip", address_of(scope))
                await admit(self.checker, check, scope, counting_receive, gated_send, self.app)
            if pending is not None and not pending.settled:
                await pending.settle()
        except BodyTooLarge:
            if started:
                raise
            await self.body_limit.refuse(request, send)
