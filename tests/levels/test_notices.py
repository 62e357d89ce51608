"""Written notices (通知书) without the API: the document is reproducible from the stored
content, the signed claims depend on nothing but the row, and only a notice signed by
the org it names opens as one."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pypdf import PdfReader

from levels.licences.keys import PublicKey, keys_of, new_org_key
from levels.licences.tokens import LICENCE_TYP, sign
from levels.notices.enums import NoticeKind, NoticeRefusal
from levels.notices.models import CaseNotice
from levels.notices.render import render_pdf
from levels.notices.tokens import NOTICE_TYP, notice_claims, open_notice

NOW = dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC)
ORG, OTHER = "12140702MB00000006", "12140703MB00000001"
SECRET = b"notice-test-secret"


def _row(**content: Any) -> CaseNotice:
    said = {
        "v": 1,
        "kind": "SUPPLEMENT",
        "title": "一次性告知通知书",
        "org": {"code": ORG, "name": "榆次区政务服务中心"},
        "case": "140702000000-20261116-00001",
        "matter": "残疾人证核发",
        "applicant": {"name": "王芳", "idMasked": "140702********0021"},
        "issuedOn": "2026-11-16",
        "text": "请于2026-11-23前补齐补正。",
        "deadline": "2026-11-23",
        "missing": [{"name": "身份证", "note": "复印件不清晰"}, {"name": "残疾评定表"}],
        **content,
    }
    return CaseNotice(
        id="140702000000-20261116-00001-COUNTY-2",
        case_number="140702000000-20261116-00001",
        seq=2,
        kind=NoticeKind.SUPPLEMENT,
        org_code=ORG,
        issued_at=NOW,
        content=said,
        token="eyJ.e30.sig",
    )


def _key(org: str) -> tuple[str, ec.EllipticCurvePrivateKey, dict[str, PublicKey]]:
    row = new_org_key(org, secret=SECRET, now=NOW)
    private = serialization.load_pem_private_key(row.private_pem.encode(), password=SECRET)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    return row.kid, private, keys_of([row])


def test_a_notice_renders_to_the_same_pdf_every_time_with_every_missing_material() -> None:
    row = _row()
    first, again = render_pdf(row), render_pdf(row)
    assert first == again
    text = PdfReader(io.BytesIO(first)).pages[0].extract_text()
    for said in (
        "榆次区政务服务中心",
        "一次性告知通知书",
        row.case_number,
        "身份证",
        "复印件不清晰",
    ):
        assert said in text, said
    assert "残疾评定表" in text


def test_signed_claims_depend_on_the_stored_row_alone() -> None:
    """Signed with the step or when first served, a notice says the same; a changed
    content changes its digest."""
    assert notice_claims(_row()) == notice_claims(_row())
    changed = _row(missing=[{"name": "身份证", "note": "复印件不清晰"}])
    assert notice_claims(changed)["sha256"] != notice_claims(_row())["sha256"]
    assert notice_claims(_row())["iat"] == int(NOW.timestamp())


def test_only_a_notice_signed_by_the_org_it_names_opens() -> None:
    kid, key, keys = _key(ORG)
    other_kid, other_key, other_keys = _key(OTHER)
    known = {**keys, **other_keys}
    claims = notice_claims(_row())
    good = open_notice(sign(claims, kid, key, NOTICE_TYP), known.get)
    assert good.valid and good.claims is not None and good.claims["case"] == claims["case"]
    cases = [
        (sign(claims, kid, key, LICENCE_TYP), NoticeRefusal.NOT_A_NOTICE),
        (sign(claims, other_kid, other_key, NOTICE_TYP), NoticeRefusal.KEY_NOT_OF_ISSUER),
        (sign(claims, kid, key, NOTICE_TYP), None),
        ("no.token.here", NoticeRefusal.MALFORMED),
    ]
    for token, refusal in cases:
        assert open_notice(token, known.get).refusal is refusal
    assert open_notice(sign(claims, kid, key, NOTICE_TYP), {}.get).refusal is (
        NoticeRefusal.UNKNOWN_KEY
    )
