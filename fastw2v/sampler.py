"""Vose alias tables: O(n) build, O(1) draws inside the kernels."""
from __future__ import annotations

import numpy as np
from numba import njit

from .kernels.rng import next_u64


def noise_weights(counts: np.ndarray, noise: str, power: float = 0.75) -> np.ndarray:
    """Unnormalised noise weights per word id (ids are frequency ranks).

    ``unigram``: count ** power (0.75, or the ``ns_exponent`` setting). ``log-uniform``: TensorFlow's Zipfian sampler,
    P(i) = log((i + 2) / (i + 1)) / log(n + 1).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if noise == "unigram":
        return counts ** power
    if noise == "log-uniform":
        i = np.arange(counts.shape[0], dtype=np.float64)
        return np.log((i + 2.0) / (i + 1.0))
    raise ValueError(f"unknown noise distribution {noise!r}")


def build_alias(weights: np.ndarray):
    """Vose alias table for a discrete distribution.

    weights: non-negative array (n,), not all zero.
    Returns ``(prob, alias)``: float64 (n,) acceptance thresholds and int32 (n,) aliases;
    draw i uniformly, keep it with probability prob[i], else take alias[i].
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("alias weights must be a non-empty, finite, non-negative array with a positive sum")
    scaled = w * (w.size / w.sum())
    return _vose(scaled)


@njit(cache=True)
def _vose(scaled):
    n = scaled.shape[0]
    prob = np.ones(n, dtype=np.float64)
    alias = np.arange(n).astype(np.int32)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    ns = 0
    nl = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        nl -= 1
        g = large[nl]
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            small[ns] = g
            ns += 1
        else:
            large[nl] = g
            nl += 1
    # leftovers are 1 up to rounding
    return prob, alias


@njit(inline="always")
def alias_draw(prob, alias, state):
    """One draw from an alias table with one 64-bit random number."""
    x = next_u64(state)
    n = np.uint64(prob.shape[0])
    i = np.int64(((x >> np.uint64(32)) * n) >> np.uint64(32))
    u = np.float64(x & np.uint64(0xFFFFFFFF)) * (1.0 / 4294967296.0)
    if u < prob[i]:
        return i
    return np.int64(alias[i])


@njit(cache=True)
def sample_many(prob, alias, state, n):
    """Draw ``n`` ids (int64 array); used by tests and diagnostics."""
    out = np.empty(n, dtype=np.int64)
    for j in range(n):
        out[j] = alias_draw(prob, alias, state)
    return out
