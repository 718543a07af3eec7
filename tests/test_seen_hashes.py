"""The loader's index of the record-id hashes it stored (`SeenHashes`) answers as a set would, whatever the chunks."""

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.seen_hashes import BITS, SeenHashes

HASHES = st.integers(min_value=0, max_value=2**64 - 1)


def series(values) -> pl.Series:
    return pl.Series("hash", list(values), dtype=pl.UInt64)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(HASHES, max_size=40), max_size=12), st.lists(HASHES, max_size=40))
def test_among_is_set_membership(chunks, asked):
    seen, added = SeenHashes(), set()
    for chunk in chunks:
        probe = chunk + asked
        assert seen.among(series(probe)).to_list() == [value in added for value in probe]
        seen.add(series(chunk))
        added |= set(chunk)
    assert seen.among(series(asked)).to_list() == [value in added for value in asked]


def test_hashes_sharing_a_bitmap_slot_are_told_apart_and_many_chunks_merge_into_few_runs():
    rng = np.random.default_rng(7)
    seen, added = SeenHashes(), []
    for _ in range(300):
        chunk = rng.integers(0, 2**63, 1_000, dtype=np.uint64)
        seen.add(series(chunk))
        added.append(chunk)
    stored = np.concatenate(added)
    same_slot = stored[:500] + np.uint64(BITS)  # the same low bits: the bitmap says "maybe"
    assert not seen.among(series(same_slot)).any()
    assert seen.among(series(stored[::997])).all()
    assert len(seen._runs) <= 10  # 300 chunks: a run per set bit of 300
