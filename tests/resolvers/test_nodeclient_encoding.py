"""The node client's bodies by orjson: byte for byte what httpx's ``json=`` sent, and
answers read as ``json.loads`` read them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math

import pytest
from httpx._content import encode_json

from resolvers import node_json
from resolvers.node_json import decode as _decode
from resolvers.node_json import encode as _encode

BODIES = [
    {"query": "{ a }", "variables": {}},
    {"query": "q", "variables": {"number": "2026-140702-000001", "first": 20, "after": None}},
    {"variables": {"name": '張三 — ünïcode \u2028 \x00 "quoted" \\ slash /'}},
    {"variables": {"f": 1.5, "e": 1e-7, "big": 10**30, "neg": -(2**63)}},
    {"variables": {"nested": [{"a": [1, 2, {"b": True, "c": False}]}, [], {}]}},
    {"variables": {1: "int key", "s": "x"}},
    [1, "two", None],
]


@pytest.mark.parametrize("body", BODIES)
def test_encoded_as_httpx_encodes(body: object) -> None:
    headers, stream = encode_json(body)
    assert _encode(body) == b"".join(stream)  # type: ignore[arg-type]
    assert headers["Content-Type"] == "application/json"


@dataclasses.dataclass
class _Row:
    a: int


@pytest.mark.parametrize("value", [dt.datetime(2026, 1, 1), dt.date(2026, 1, 1), _Row(1), {1, 2}])
def test_refused_as_json_refuses(value: object) -> None:
    with pytest.raises(TypeError):
        json.dumps(value)
    with pytest.raises(TypeError):
        _encode({"variables": {"v": value}})


ANSWERS = [
    b'{"data":{"a":1},"errors":[]}',
    '{"data":{"name":"張三"}}'.encode(),
    b'{"data":{"big":100000000000000000000000000000}}',
    b'{"data":{"x":NaN}}',
    b"[1,2]",
    b'{"data":{"i":18446744073709551615,"j":-9223372036854775808,"s":"12345678901234567890"}}',
]


@pytest.mark.parametrize("content", ANSWERS)
def test_decoded_as_json_decodes(content: bytes) -> None:
    got, want = _decode(content), json.loads(content)
    if "NaN" in content.decode():
        assert math.isnan(got["data"]["x"])
    else:
        assert got == want


@pytest.mark.parametrize("content", [b"", b"<html>", b'{"data":', b"\xff"])
def test_not_json_raises_as_json_raises(content: bytes) -> None:
    with pytest.raises(ValueError) as want:
        json.loads(content)
    with pytest.raises(ValueError) as got:
        _decode(content)
    assert type(got.value) is type(want.value)


# integers beyond 64 bits wherever JSON puts a number: first, after a colon, a comma or
# a bracket, with spaces, a line break or a minus before it
LONG_NUMBERS = [
    b"123456789012345678901",
    b"-123456789012345678901",
    b'{"a":123456789012345678901}',
    b'{"a": -123456789012345678901}',
    b'{"a":[1,123456789012345678901]}',
    b'{"a":[\n  123456789012345678901\n]}',
    b'{"a":[-123456789012345678901]}',
    b'{"a":"x","b":\t99999999999999999999}',
]


@pytest.mark.parametrize("content", LONG_NUMBERS)
def test_a_long_integer_anywhere_a_number_stands_is_read_by_json(
    content: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    want = json.loads(content)
    monkeypatch.setattr(node_json.orjson, "loads", _not_called)
    assert _decode(content) == want


# twenty digits and more inside strings (implementation codes, identifiers): not
# numbers, read by orjson alone
IN_STRINGS = [
    b'{"data":{"code":"12140702MB000000062000700400100"}}',
    b'{"data":{"rows":[{"id":"00000000000000000000000"},{"n":1}]}}',
    b'{"data":{"s":"12345678901234567890","t":"-12345678901234567890"}}',
]


@pytest.mark.parametrize("content", IN_STRINGS)
def test_long_digits_inside_strings_are_read_by_orjson(
    content: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    want = json.loads(content)
    monkeypatch.setattr(node_json.json, "loads", _not_called)
    assert _decode(content) == want


def test_a_string_that_looks_like_a_long_number_is_read_alike() -> None:
    # ":" and twenty digits inside a string: taken as maybe a number, read by json
    content = b'{"data":{"note":"a:123456789012345678901"}}'
    assert _decode(content) == json.loads(content)


def _not_called(*_args: object) -> None:
    raise AssertionError("not this reader")
