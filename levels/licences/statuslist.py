"""Status lists in the W3C Bitstring Status List encoding: one bit per licence of an
issuer, at the licence's ``statusListIndex``; index 0 is the left-most bit of the
first byte; the bitstring (at least 131,072 bits, so one list says little about how
many licences an org issued) is GZIP-compressed and base64url-encoded with the
multibase prefix ``u``. An issuer publishes two lists: ``revocation`` and
``suspension``."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable

MIN_BITS = 131_072


def encode(indices: Iterable[int], *, size: int = MIN_BITS) -> str:
    """The encoded list with the bits at ``indices`` set."""
    wanted = list(indices)
    bits = max(size, *(i + 1 for i in wanted)) if wanted else size
    raw = bytearray((bits + 7) // 8)
    for i in wanted:
        if i < 0:
            raise ValueError(f"a status list index is not negative: {i}")
        raw[i // 8] |= 0x80 >> (i % 8)
    # mtime=0: the same bits always give the same text
    packed = gzip.compress(bytes(raw), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode()


def decode(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("an encoded status list starts with the multibase prefix 'u'")
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def is_set(bitstring: bytes, index: int) -> bool:
    if index < 0 or index // 8 >= len(bitstring):
        raise IndexError(f"status list index {index} is outside the list")
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))
