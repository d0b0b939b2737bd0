"""Query speed: top-10 neighbours on a 1,000,000 x 300 matrix, and the full analogy set.

Run with ``make bench-kernels`` (pytest-benchmark); not part of the default tests.
"""
from pathlib import Path

import numpy as np
import pytest

import fastw2v

DATA = Path(fastw2v.__file__).parent / "data"


@pytest.fixture(scope="module")
def big():
    n, d = 1_000_000, 300
    v = np.random.default_rng(0).standard_normal((n, d), dtype=np.float32)
    wv = fastw2v.KeyedVectors([f"w{i}" for i in range(n)], v)
    wv.fill_norms()
    return wv


def test_most_similar_1m_x_300(benchmark, big):
    hits = benchmark(big.most_similar, "w12345", topn=10)
    assert len(hits) == 10
    benchmark.extra_info["ms_per_query"] = benchmark.stats.stats.mean * 1e3


def test_analogies_full_set_30k(benchmark):
    words = sorted({w for line in open(DATA / "questions-words.txt") if not line.startswith(":")
                    for w in line.split()})
    words += [f"filler{i}" for i in range(30000 - len(words))]
    wv = fastw2v.KeyedVectors(words, np.random.default_rng(0).standard_normal((30000, 100), dtype=np.float32))
    r = benchmark.pedantic(wv.evaluate_word_analogies, rounds=3, iterations=1)
    assert r["questions"] == 19544 and r["oov"] == 0
