"""Merged cursor pagination: no gaps, no repeats, positions per node."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from resolvers.pagination import decode_cursor, encode_cursor, merge_page, page_size

LEVELS = [Level.COUNTY, Level.TOWN, Level.VILLAGE]


def fetch(
    streams: dict[Level, list[str]], start: dict[str, str], limit: int
) -> dict[Level, list[str]]:
    # positions are kept by stream name (a node id, or a level's name)
    return {
        lv: [k for k in rows if lv.value not in start or k > start[lv.value]][:limit]
        for lv, rows in streams.items()
    }


@given(
    st.dictionaries(
        st.sampled_from(LEVELS),
        st.lists(st.text("abcdef", min_size=1, max_size=4), unique=True),
        min_size=1,
    ),
    st.integers(min_value=1, max_value=7),
)
def test_walking_all_pages_yields_every_item_once_in_order(
    raw: dict[Level, list[str]], size: int
) -> None:
    # keys are unique across nodes, as every list's order key is
    streams = {lv: sorted(f"{lv.digit}{k}" for k in keys) for lv, keys in raw.items()}
    expected = sorted(k for keys in streams.values() for k in keys)
    seen: list[str] = []
    cursor = None
    for _ in range(len(expected) + 2):
        start = decode_cursor(cursor, allowed=LEVELS)
        page = merge_page(fetch(streams, start, size + 1), lambda k: k, first=size, start=start)
        seen.extend(page.items)
        if not page.has_next_page:
            break
        cursor = page.cursors[-1]
    assert seen == expected


def test_rows_written_behind_a_cursor_are_not_repeated_and_ahead_are_not_lost() -> None:
    streams = {Level.COUNTY: ["a1", "a3"], Level.TOWN: ["b1", "b2"]}
    page = merge_page(fetch(streams, {}, 3), lambda k: k, first=2, start={})
    assert page.items == ["a1", "a3"]
    streams[Level.COUNTY].insert(0, "a0")  # behind the cursor
    streams[Level.TOWN].append("b9")  # ahead of it
    start = decode_cursor(page.cursors[-1], allowed=LEVELS)
    rest = merge_page(fetch(streams, start, 10), lambda k: k, first=10, start=start)
    assert rest.items == ["b1", "b2", "b9"]
    assert rest.has_previous_page and not rest.has_next_page


@pytest.mark.parametrize("bad", ["%%%", "bm9wZQ", encode_cursor({Level.CITY: "x"}), "e30x"])
def test_bad_cursors_are_typed_errors(bad: str) -> None:
    with pytest.raises(DomainError) as err:
        decode_cursor(bad, allowed=LEVELS)
    assert err.value.code is ErrorCode.INVALID_CURSOR


def test_page_size_is_capped_at_the_maximum() -> None:
    assert page_size(None, default=20, maximum=100) == 20
    assert page_size(100, default=20, maximum=100) == 100
    with pytest.raises(DomainError) as err:
        page_size(101, default=20, maximum=100)
    assert err.value.code is ErrorCode.PAGE_SIZE_TOO_LARGE
    with pytest.raises(DomainError) as err:
        page_size(0, default=20, maximum=100)
    assert err.value.code is ErrorCode.INVALID_PAGE_SIZE
