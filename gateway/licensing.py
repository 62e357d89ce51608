"""The hub's e-licence services over HTTP (the services: ``resolvers/licensing.py``):

* ``GET /licences/status/{orgCode}`` — the issuer's status list (``statuslist+jwt``),
  signed now, valid for ``licence_status_ttl_seconds`` (503 naming the node when a node
  that may keep the issuer's licences does not answer and no other had them);
* ``GET /licences/kit`` — everything an offline verifier needs: the licence JWKS, every
  issuer's status list, and the library orgs whose keys sign copies (加注件).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from levels.common.codes import validate_uscc
from levels.common.errors import DomainError
from resolvers.fanout import NodeUnavailable
from resolvers.licensing import Licensing


def routes(licensing: Licensing) -> list[Route]:
    async def status(request: Request) -> Response:
        try:
            org = validate_uscc(request.path_params["org"], field="org")
        except DomainError:
            return PlainTextResponse("not a unified social credit code", status_code=400)
        try:
            token = await licensing.status_list(org, licensing.clock.now())
        except NodeUnavailable as exc:
            return PlainTextResponse(
                f"node {exc.node_id} unavailable: the issuer's list is not to be had now",
                status_code=503,
                headers={"Retry-After": "30"},
            )
        if token is None:
            return PlainTextResponse("no licences of this issuer", status_code=404)
        return Response(
            token,
            media_type="application/statuslist+jwt",
            headers={"Cache-Control": f"max-age={min(300, licensing.status_ttl_seconds)}"},
        )

    async def kit(_request: Request) -> Response:
        return JSONResponse(await licensing.kit(), headers={"Cache-Control": "max-age=60"})

    return [
        Route("/licences/status/{org}", status, methods=["GET"]),
        Route("/licences/kit", kit, methods=["GET"]),
    ]
