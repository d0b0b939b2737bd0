"""Per-thread random streams (xorshift64*), one state row per thread.

States live in a (n_threads, 8) uint64 array: each thread owns one 64-byte
row, so threads never write the same cache line.
"""
import numpy as np
from numba import njit

_M = np.uint64(0x2545F4914F6CDD1D)


@njit(inline="always")
def next_u64(state):
    """Advance ``state[0]`` and return a 64-bit random number."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * _M


@njit(inline="always")
def uniform(state):
    """Uniform float64 in [0, 1) with 53 random bits."""
    return np.float64(next_u64(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(inline="always")
def randbelow(state, n):
    """Uniform integer in [0, n) for 0 < n < 2**32 (multiply-shift, no modulo bias worth naming)."""
    return np.int64(((next_u64(state) >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


def seed_states(seed: int, n_threads: int) -> np.ndarray:
    """(n_threads, 8) uint64 states from ``seed`` via splitmix64; never zero."""
    states = np.zeros((n_threads, 8), dtype=np.uint64)
    mask = (1 << 64) - 1
    x = (seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & mask
    for t in range(n_threads):
        x = (x + 0x9E3779B97F4A7C15) & mask
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
        states[t, 0] = z or 0x9E3779B97F4A7C15
    return states
