"""The hall board of an org on a day (``levels/windows/board.py``: its windows, their
setup and hours, the day's tickets) as it crosses the node's API — every column of
each row, and each window's opening spans — and back into a ``Board`` on the hub, which
answers a window's ``posts``, ``hours`` and ``queue`` and ``windowQueue`` from it as
from its own read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from levels.common.models import Window
from levels.common.reads import table
from levels.common.rowcodec import decode_row, encode_row
from levels.windows import hours
from levels.windows.board import Board
from levels.windows.enums import DayKind
from levels.windows.models import QueueTicket, WindowSetup


def encode_board(board: Board) -> dict[str, Any]:
    """A board as JSON: its rows' columns and each window's spans."""
    return {
        "windows": [encode_row(table(Window), w) for w in board.windows],
        "setups": [encode_row(table(WindowSetup), s) for s in board.setups.values()],
        "spans": {
            window_id: [[s.day_kind.value, s.opens, s.closes, s.extended] for s in spans]
            for window_id, spans in board.spans.items()
        },
        "tickets": [encode_row(table(QueueTicket), t) for t in board.tickets],
    }


def decode_board(org_code: str, day: dt.date, data: Mapping[str, Any]) -> Board:
    """The board ``encode_board`` made, each row a transient instance of its class."""
    setups = [decode_row(WindowSetup, s) for s in data["setups"]]
    return Board(
        org_code,
        day,
        windows=[decode_row(Window, w) for w in data["windows"]],
        setups={s.window_id: s for s in setups},
        spans={
            window_id: [hours.Span(DayKind(k), o, c, bool(e)) for k, o, c, e in spans]
            for window_id, spans in data["spans"].items()
        },
        tickets=[decode_row(QueueTicket, t) for t in data["tickets"]],
    )
