"""``GET /notices/{id}.pdf`` — a written notice (通知书) as its PDF, for the applicant's
phone or browser and for the counter's printer alike (the same document).

Access is the case's: the bearer token is decoded as for GraphQL, and the viewer must
be able to read the case — as it was where the notice was issued, or where it is now
(the applicant, whoever handed it in, staff of those orgs, auditors of the
jurisdiction). Anyone else gets 404, as if there were no such notice; no token, 401.
A notice not yet signed (written by a timer or a received referral) is signed by its
org's key on this first request."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, request_response

from auth.backend import TokenBackend, ViewerUser, on_auth_error
from auth.identity import Identity
from auth.policy import Action, allows
from auth.viewer import Viewer
from levels.cases.models import Case
from levels.notices.models import CaseNotice
from levels.notices.render import render_pdf
from levels.notices.service import parse_notice_id
from levels.notices.tokens import seal
from resolvers.cases import holder_in
from resolvers.licensing import Licensing
from schema.cases import case_target
from schema.notices import NOTICE_ROUTE


async def for_viewer(licensing: Licensing, viewer: Viewer, notice_id: str) -> CaseNotice | None:
    """The notice, sealed; None when there is none or the viewer may not read its case."""
    parsed = parse_notice_id(notice_id)
    if parsed is None:
        return None
    node = licensing.nodes.owner_at(parsed.case_number, parsed.level)
    async with node.sessions() as session:
        row = await session.get(CaseNotice, parsed.value)
        issued_with = await session.get(Case, parsed.case_number)
    if row is None or issued_with is None:
        return None
    _holder, now_at = await holder_in(licensing.nodes, parsed.case_number)
    cases = [c for c in (issued_with, now_at) if c is not None]
    if not any(allows(viewer, Action.READ, case_target(c)) for c in cases):
        return None
    if row.token is None:
        async with node.sessions.begin() as session:
            locked = await session.get(
                CaseNotice, row.id, with_for_update=True, populate_existing=True
            )
            assert locked is not None
            if locked.token is None:
                await seal(session, locked, licensing.signer, licensing.clock.now())
            row = locked
    return row


def routes(licensing: Licensing, identity: Identity) -> list[Route]:
    async def pdf(request: Request) -> Response:
        user = request.user
        if not isinstance(user, ViewerUser) or not user.viewer.authenticated:
            return JSONResponse(
                {"error": "sign in to download a notice"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        row = await for_viewer(licensing, user.viewer, request.path_params["id"])
        if row is None:
            return PlainTextResponse("no such notice", status_code=404)
        body = await run_in_threadpool(render_pdf, row)
        return Response(
            body,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="{row.id}.pdf"',
                "Cache-Control": "private, no-store",
            },
        )

    app = AuthenticationMiddleware(
        request_response(pdf), backend=TokenBackend(identity), on_error=on_auth_error
    )
    return [Route(NOTICE_ROUTE, app, methods=["GET"])]
