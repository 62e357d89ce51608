"""The Bitstring Status List encoding an issuer publishes."""

from __future__ import annotations

import base64
import gzip

from hypothesis import given
from hypothesis import strategies as st

from levels.licences import statuslist


def test_index_zero_is_the_leftmost_bit_of_the_first_byte() -> None:
    encoded = statuslist.encode([0, 9])
    assert encoded.startswith("u")  # multibase base64url
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw[0] == 0b1000_0000 and raw[1] == 0b0100_0000
    assert len(raw) * 8 == statuslist.MIN_BITS  # at least 16 KiB: a list hides its size


@given(st.sets(st.integers(min_value=0, max_value=200_000), max_size=50))
def test_exactly_the_set_indices_read_back_as_set(indices: set[int]) -> None:
    bits = statuslist.decode(statuslist.encode(indices))
    probes = indices | {i + 1 for i in indices} | {0, 5, 131_071}
    for i in probes:
        if i // 8 < len(bits):
            assert statuslist.is_set(bits, i) == (i in indices)


def test_the_same_bits_always_give_the_same_text() -> None:
    assert statuslist.encode([3, 4]) == statuslist.encode([4, 3])
