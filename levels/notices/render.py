"""A notice as a PDF (A4, in Chinese): reportlab with its built-in CID font
STSong-Light (no font files to ship), and a QR code (segno) carrying the signed token.

The document is made from the stored content and token alone, with reportlab's
invariant mode: the same notice renders to the same bytes, whenever it is asked for —
on the applicant's phone, on the web, or printed at the counter."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    Flowable,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from levels.notices.enums import NoticeKind
from levels.notices.models import CaseNotice

FONT = "STSong-Light"
VERIFY_HINT = "扫描二维码，可在线（verifyNotice）或凭离线核验包（/licences/kit）核验本通知书真伪"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=17, wordWrap="CJK")
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontSize=20, leading=28, alignment=TA_CENTER, spaceAfter=4
        ),
        "org": ParagraphStyle("org", parent=body, fontSize=13, leading=18, alignment=TA_CENTER),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=11),
        "right": ParagraphStyle("right", parent=body, alignment=TA_RIGHT),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _qr(token: str | None, size: float) -> Flowable:
    if token is None:
        return Spacer(size, size)
    png = io.BytesIO()
    segno.make(token, error="m", micro=False).save(png, kind="png", scale=4, border=4)
    png.seek(0)
    return Image(png, width=size, height=size)


def _fields(rows: list[tuple[str, Any]], s: dict[str, ParagraphStyle]) -> Table:
    table = Table(
        [[_p(k, s["body"]), _p(v, s["body"])] for k, v in rows], colWidths=[32 * mm, 130 * mm]
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ]
        )
    )
    return table


def _head(c: dict[str, Any], row: CaseNotice, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    return [
        _p(c["org"]["name"], s["org"]),
        _p(c["title"], s["title"]),
        _p(f"文书编号：{row.id}", s["right"]),
        Spacer(1, 3 * mm),
        _fields(
            [
                ("办件编号", c["case"]),
                ("申请事项", c["matter"]),
                ("申请人", f"{c['applicant']['name']}（{c['applicant']['idMasked']}）"),
            ],
            s,
        ),
        Spacer(1, 4 * mm),
    ]


def _body(c: dict[str, Any], kind: NoticeKind, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    out: list[Flowable] = []
    if "text" in c:
        out.append(_p(c["text"], s["body"]))
    if kind is NoticeKind.RECEIPT:
        out.append(_p(f"收件日期：{c['receivedOn']}", s["body"]))
        out.append(_p("已收材料：", s["body"]))
        out += [_p(f"{n}. {m['name']}（{m['state']}）", s["body"]) for n, m in _numbered(c)]
    elif kind is NoticeKind.SUPPLEMENT:
        out.append(_p("需要补正的全部材料：", s["body"]))
        for n, m in enumerate(c["missing"], 1):
            note = f"：{m['note']}" if m.get("note") else ""
            out.append(_p(f"{n}. {m['name']}{note}", s["body"]))
        out.append(_p(f"补正期限：{c['deadline']}", s["body"]))
    elif kind is NoticeKind.ACCEPTANCE:
        out.append(_p(f"受理日期：{c['acceptedOn']}", s["body"]))
        out.append(_p(f"承诺办理时限：{c['promisedLimitDays']}个工作日", s["body"]))
        if c.get("dueOn"):
            out.append(_p(f"预计办结日期：{c['dueOn']}", s["body"]))
    elif kind is NoticeKind.SPECIAL_PROCEDURE:
        out.append(_p(f"特殊环节：{c['procedureName']}", s["body"]))
        out.append(_p(f"开始日期：{c['startedOn']}　时限：{c['limitDays']}个工作日", s["body"]))
    elif kind is NoticeKind.DENIAL:
        out.append(_p(f"不予许可的理由：{c['reasons']}", s["body"]))
    if "remedy" in c:
        out.append(Spacer(1, 2 * mm))
        out.append(_p(c["remedy"], s["body"]))
    return out


def _numbered(c: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return list(enumerate(c.get("materials", []), 1))


def _signature(c: dict[str, Any], row: CaseNotice, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    qr = _qr(row.token, 32 * mm)
    said = [_p(c["org"]["name"], s["right"]), _p(c["issuedOn"], s["right"])]
    table = Table([[qr, said]], colWidths=[40 * mm, 122 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
    return [Spacer(1, 6 * mm), table, _p(VERIFY_HINT, s["small"])]


def _village(c: dict[str, Any], row: CaseNotice, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    """受理告知书: 上下一式两联 on one A4 page — the resident's part, then the stub."""
    out: list[Flowable] = []
    for n, part in enumerate(c["parts"]):
        if n:
            out.append(_p("- " * 20 + "沿此线裁开" + " -" * 20, s["small"]))
            out.append(Spacer(1, 3 * mm))
        out += [
            _p(c["org"]["name"], s["org"]),
            _p(f"{c['title']}（{part['part']}）", s["title"]),
            _fields(
                [
                    ("编号", c["case"]),
                    ("受理时间", part["receivedAt"]),
                    ("受理事项", c["matter"]),
                    ("申办人", f"{c['applicant']['name']}（{c['applicant']['idMasked']}）"),
                    ("联系电话", part["phone"] or "—"),
                    ("收件人", part["receiver"]),
                    ("办理方式", part["route"]),
                    ("所收材料", "、".join(m["name"] for m in c["materials"]) or "—"),
                ],
                s,
            ),
        ]
        qr = _qr(row.token, 26 * mm)
        said = [_p(f"文书编号：{row.id}", s["right"]), _p(c["issuedOn"], s["right"])]
        table = Table([[qr, said]], colWidths=[34 * mm, 128 * mm])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
        out += [Spacer(1, 2 * mm), table, Spacer(1, 6 * mm)]
    return out


def render_pdf(row: CaseNotice) -> bytes:
    """The notice's document, from its stored content and token."""
    s = _styles()
    c = row.content
    story = (
        _village(c, row, s)
        if row.kind is NoticeKind.VILLAGE_RECEIPT
        else [*_head(c, row, s), *_body(c, row.kind, s), *_signature(c, row, s)]
    )
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"{c['title']} {c['case']}",
        author=c["org"]["name"],
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        invariant=True,
    )
    doc.build(story)
    return out.getvalue()
