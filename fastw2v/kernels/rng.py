"""Random streams (xorshift64*), one state row per block of work.

States live in a (n_blocks, STATE_WORDS) uint64 array; only column 0 is
used, the rest pads each row to two cache lines so that blocks running on
different threads never write the same line (the prefetcher pulls lines in
pairs). Each block's start state is derived from (seed, stream, epoch, block)
by a hash, so neighbouring seeds, workers or epochs share no stream.
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


STATE_WORDS = 16  # 128 bytes per row
_MASK = (1 << 64) - 1


def _mix64(z: int) -> int:
    """splitmix64's finaliser: a bijection of 64-bit integers with full avalanche."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def stream_seed(*key: int) -> int:
    """A non-zero 64-bit state from a tuple of integers (seed, stream, epoch, block, ...).

    Each element is folded in through the mixer, so tuples that differ in any
    element give unrelated states (unlike seed + block, where seed s + 1's block
    b is seed s's block b + 1).
    """
    h = 0x9E3779B97F4A7C15
    for k in key:
        h = _mix64(((h ^ (int(k) & _MASK)) + 0x9E3779B97F4A7C15) & _MASK)
    return h or 0x9E3779B97F4A7C15


def seed_states(seed: int, n_blocks: int, *key: int) -> np.ndarray:
    """(n_blocks, STATE_WORDS) uint64 states: block b starts at stream_seed(seed, *key, b)."""
    states = np.zeros((n_blocks, STATE_WORDS), dtype=np.uint64)
    for b in range(n_blocks):
        states[b, 0] = stream_seed(seed, *key, b)
    return states
