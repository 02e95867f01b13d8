"""Event ids and batch decoding: pure parts of the event log."""

from __future__ import annotations

import zlib

import orjson
import pytest

from lambdagraph.errors import InvalidInput
from lambdagraph.store.events import _decode_batches, format_event_id, parse_event_id


def _item(first: int, last: int, part: int = 0, parts: int = 1, body: bytes | None = None) -> dict:
    if body is None:
        body = zlib.compress(
            orjson.dumps([[s, "values", {"n": s}] for s in range(first, last + 1)])
        )
    return {
        "first": {"N": str(first)},
        "last": {"N": str(last)},
        "part": {"N": str(part)},
        "parts": {"N": str(parts)},
        "body": {"B": body},
    }


def test_ids_sort_the_same_as_strings_and_as_numbers() -> None:
    ids = [format_event_id(n) for n in (0, 9, 10, 99, 100, 12345)]
    assert sorted(ids) == ids
    assert [int(i) for i in ids] == [0, 9, 10, 99, 100, 12345]


@pytest.mark.parametrize("raw,seq", [("-1", -1), ("0000000007", 7), (" 12 ", 12)])
def test_parse_event_id(raw: str, seq: int) -> None:
    assert parse_event_id(raw) == seq


@pytest.mark.parametrize("raw", ["abc", "1700000000000-0", "-2", ""])
def test_parse_event_id_rejects_foreign_ids(raw: str) -> None:
    with pytest.raises(InvalidInput):
        parse_event_id(raw)


def test_decode_returns_events_after_the_id_from_a_batch_that_starts_before_it() -> None:
    read = _decode_batches([_item(0, 4), _item(5, 6)], after=2, skip_gaps=False)
    assert [e.id for e in read.events] == [format_event_id(n) for n in (3, 4, 5, 6)]
    assert read.events[0].data == {"n": 3}
    assert not read.gap


def test_decode_stops_at_a_missing_batch_unless_told_to_skip_it() -> None:
    items = [_item(0, 1), _item(5, 6)]
    read = _decode_batches(items, after=-1, skip_gaps=False)
    assert [int(e.id) for e in read.events] == [0, 1] and read.gap
    skipped = _decode_batches(items, after=-1, skip_gaps=True)
    assert [int(e.id) for e in skipped.events] == [0, 1, 5, 6] and not skipped.gap


def test_decode_waits_for_every_part_of_a_split_batch() -> None:
    body = zlib.compress(orjson.dumps([[0, "values", "x" * 50], [1, "values", "y"]]))
    half = len(body) // 2
    first, second = _item(0, 1, 0, 2, body[:half]), _item(0, 1, 1, 2, body[half:])
    assert _decode_batches([first], after=-1, skip_gaps=False).gap
    read = _decode_batches([second, first], after=-1, skip_gaps=False)
    assert [e.data for e in read.events] == ["x" * 50, "y"]
