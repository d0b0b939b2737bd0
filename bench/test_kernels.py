"""Kernel throughput: words/s for sg/cbow x ns/hs/nce/softmax on a fixed synthetic Zipf stream.

    make bench-kernels          # or: pytest bench/test_kernels.py --benchmark-only

Not part of the default test run. Set FASTW2V_BENCH_TOKENS to change the
stream length (default 2,000,000 tokens, vocabulary 50,000, 1000-token lines).
"""
import os

import numpy as np
import pytest

from fastw2v.config import TrainConfig
from fastw2v.corpus import TokenCache
from fastw2v.trainer import init_bias, init_weights, train

N_TOKENS = int(os.environ.get("FASTW2V_BENCH_TOKENS", 2_000_000))
VOCAB = 50_000


@pytest.fixture(scope="module")
def stream():
    rng = np.random.default_rng(0)
    p = 1.0 / np.arange(1, VOCAB + 1)
    p /= p.sum()
    tokens = rng.choice(VOCAB, size=N_TOKENS, p=p).astype(np.int32)
    counts = np.maximum(np.bincount(tokens, minlength=VOCAB), 1).astype(np.int64)
    order = np.argsort(-counts, kind="stable")  # ids must be frequency ranks
    rank = np.empty(VOCAB, np.int32)
    rank[order] = np.arange(VOCAB, dtype=np.int32)
    tokens = rank[tokens]
    starts = np.arange(0, N_TOKENS + 1, 1000, dtype=np.int64)
    if starts[-1] != N_TOKENS:
        starts = np.append(starts, N_TOKENS)
    return TokenCache(tokens=tokens, starts=starts), counts[order]


@pytest.mark.parametrize("loss", ["ns", "hs", "nce", "softmax"])
@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_kernel_throughput(benchmark, stream, model, loss):
    cache, counts = stream
    threads = int(os.environ.get("FASTW2V_BENCH_THREADS", 2))
    cfg = TrainConfig(model=model, loss=loss, epochs=1, sample=1e-4, threads=threads).resolved()
    # compile outside the timing
    w = init_weights(len(counts), cfg.dim, 1)
    train(TokenCache(cache.tokens[:2000], cache.starts[:3]), counts, *w[:2], init_bias(counts, loss), cfg, 2000)

    def run():
        syn0, syn1, _ = init_weights(len(counts), cfg.dim, 1)
        return train(cache, counts, syn0, syn1, init_bias(counts, loss), cfg, cache.n_tokens)

    result = benchmark.pedantic(run, rounds=3, iterations=1)
    benchmark.extra_info["words_per_sec"] = cache.n_tokens / benchmark.stats.stats.min
    benchmark.extra_info["threads"] = threads
    assert result.words == cache.n_tokens
