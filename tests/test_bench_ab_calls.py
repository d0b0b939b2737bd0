"""bench/ab_calls.py: the kernel calls alternate, and B/A is each side's tokens over its own time."""
import time

import numpy as np
import pytest

from .conftest import bench_module


@pytest.fixture(scope="module")
def ab_calls():
    return bench_module("ab_calls")


def test_calls_alternate_and_b_over_a_is_measured_per_side(ab_calls):
    seen = []

    def kernel(name, seconds):
        def run(tokens, starts, block_sent, *rest):
            seen.append((name, rest))
            time.sleep(seconds)
        return run

    alt = ab_calls.Alternating((kernel("A", 0.02), kernel("B", 0.04)))
    starts = np.array([0, 100, 250, 400], np.int64)
    for call in range(8):
        alt(None, starts, np.array([1, 3], np.int64), call)  # sentences 1..2: 300 tokens
    assert [n for n, _ in seen] == list("ABABABAB")
    assert [rest for _, rest in seen] == [(k,) for k in range(8)]  # every argument passed on
    assert [c[1] for c in alt.calls] == [300] * 8
    s = alt.summary()
    assert len(s["pairs"]) == 3  # the first pair is left out
    assert s["ratio"] == pytest.approx(0.5, rel=0.25)  # B took twice as long for the same tokens
    assert np.median(s["pairs"]) == pytest.approx(0.5, rel=0.25)
