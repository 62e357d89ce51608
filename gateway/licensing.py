"""The hub's e-licence services over HTTP (the services: ``resolvers/licensing.py``):

* ``GET /licences/status/{orgCode}`` — the issuer's status list (``statuslist+jwt``),
  valid for ``licence_status_ttl_seconds`` from its signing (503 naming the node when a
  node that may keep the issuer's licences does not answer and no other had them);
* ``GET /licences/kit`` — everything an offline verifier needs: the licence JWKS, every
  issuer's status list, and the library orgs whose keys sign copies (加注件).

Both are kept by the hub for their ``max-age`` (``Licensing.served_kit``,
``served_status_list``); served kept, their ``max-age`` is what is left of it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from levels.common.codes import validate_uscc
from levels.common.errors import DomainError
from resolvers.fanout import NodeUnavailable
from resolvers.kept_answers import Kept
from resolvers.licensing import Licensing


def _fresh_for(served: Kept[Any], licensing: Licensing) -> dict[str, str]:
    """Its max-age: what is left of the hub's (all of it, just made)."""
    return {"Cache-Control": f"max-age={served.left(licensing.clock.now())}"}


def routes(licensing: Licensing) -> list[Route]:
    async def status(request: Request) -> Response:
        try:
            org = validate_uscc(request.path_params["org"], field="org")
        except DomainError:
            return PlainTextResponse("not a unified social credit code", status_code=400)
        try:
            served = await licensing.served_status_list(org)
        except NodeUnavailable as exc:
            return PlainTextResponse(
                f"node {exc.node_id} unavailable: the issuer's list is not to be had now",
                status_code=503,
                headers={"Retry-After": "30"},
            )
        if served.value is None:
            return PlainTextResponse("no licences of this issuer", status_code=404)
        return Response(
            served.value,
            media_type="application/statuslist+jwt",
            headers=_fresh_for(served, licensing),
        )

    async def kit(_request: Request) -> Response:
        served = await licensing.served_kit()
        return JSONResponse(served.value, headers=_fresh_for(served, licensing))

    return [
        Route("/licences/status/{org}", status, methods=["GET"]),
        Route("/licences/kit", kit, methods=["GET"]),
    ]
