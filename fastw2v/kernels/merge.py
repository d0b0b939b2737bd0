"""The sync's row merge in one pass (njit, one thread): new = base + t * sum(delta), written where it goes.

A sync merges up to all V rows of syn0 and syn1 at an epoch end (tens of MB).
NumPy needs about ten passes over them (the sum, a norm per delta, the norm of
the sum, the scale, the add, then copies into the replica and its base); this
reads every input once and writes every output once, row by row. A merge applied
one round late (the replica trained on meanwhile) moves the replica by what the others added.
"""
import numpy as np
from numba import njit, types
from numba.extending import overload

from .common import bits_f32, f32_bits


# ------------------------------------------------------------- 16-bit deltas
# A sync's deltas may travel as bfloat16: the upper 16 bits of each float32 (uint16 arrays), half
# the bytes. The kernels below read and write either kind through _get and _put, so each is compiled
# once per dtype. Rounding to nearest (ties to even) happens where a delta is written; what it drops
# stays in the sender's replica and goes with its next delta (see Shard.deltas_late).

@njit(inline="always")
def to_bf16(v):
    """float32 -> its bfloat16 bits (uint16), rounded to nearest, ties to even."""
    b = f32_bits(np.float32(v))
    return np.uint16((b + np.uint32(0x7FFF) + ((b >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16))


@njit(inline="always")
def from_bf16(h):
    """bfloat16 bits (uint16) -> float32 (exact)."""
    return bits_f32(np.uint32(h) << 16)


def _get(a, r, j):
    """a[r, j] as float32, a float32 or bfloat16 (uint16) array."""
    raise NotImplementedError


@overload(_get, inline="always")
def _get_impl(a, r, j):
    if a.dtype == types.uint16:
        return lambda a, r, j: from_bf16(a[r, j])
    return lambda a, r, j: a[r, j]


def _put(a, r, j, v):
    """a[r, j] = v (float32), rounded to bfloat16 when a is uint16."""
    raise NotImplementedError


@overload(_put, inline="always")
def _put_impl(a, r, j, v):
    if a.dtype == types.uint16:
        def impl(a, r, j, v):
            a[r, j] = to_bf16(v)
        return impl

    def impl(a, r, j, v):
        a[r, j] = v
    return impl


@njit(cache=True, nogil=True, error_model="numpy")
def _row_step(deltas, r, total, cap, agree):
    """Fill total (float32 (D,)) with sum_i deltas[i][r] (in their order) and return the row's scale t."""
    dim = total.shape[0]
    for j in range(dim):
        total[j] = np.float32(0.0)
    longest = 0.0  # max_i |d_i|^2
    squares = 0.0  # sum_i |d_i|^2
    for d in deltas:
        sq = 0.0
        for j in range(dim):
            v = _get(d, r, j)
            total[j] += v
            sq += np.float64(v) * np.float64(v)
        longest = max(longest, sq)
        squares += sq
    t = 1.0
    if cap > 0.0 or agree > 0.0:
        s2 = 0.0
        for j in range(dim):
            s2 += np.float64(total[j]) * np.float64(total[j])
        # the sum may move the row at most cap times as far as the farthest single delta did
        if cap > 0.0 and s2 > cap * cap * longest:
            t = min(t, cap * np.sqrt(longest) / np.sqrt(s2))
        # and at most agree / R times its own length, R = |sum|^2 / sum |d_i|^2: about 1 when the
        # changes are independent (their sum is left alone), n when n replicas agree (shortened to
        # about agree single steps)
        if agree > 0.0 and s2 > agree * squares:
            t = min(t, agree * squares / s2)
    return np.float32(t)


@njit(cache=True, nogil=True, error_model="numpy")
def capped_merge_into(base, deltas, cap, agree, out_a, out_b):
    """out_a[r] = out_b[r] = base[r] + t_r * sum_i deltas[i][r], per row r.

    base: float32 (K, D); deltas: a tuple of W float32 (or all bfloat16, uint16) (K, D) arrays, summed in
    their order (the same bits on every worker that merges the same inputs);
    cap, agree: float64 limits on the length of the merged step, each off when <= 0:
    |t_r * sum| <= cap * max_i |deltas[i][r]| and
    |t_r * sum| <= agree * sum_i |deltas[i][r]|^2 / |sum_i deltas[i][r]|;
    t_r = 1 when neither binds (both off: the plain sum).
    out_a, out_b: float32 (K, D), either may be ``base`` itself (each row is read before it is written).
    """
    n_rows, dim = base.shape
    total = np.empty(dim, dtype=np.float32)
    for r in range(n_rows):
        tf = _row_step(deltas, r, total, cap, agree)
        for j in range(dim):
            new = base[r, j] + total[j] * tf
            out_a[r, j] = new
            out_b[r, j] = new


@njit(cache=True, nogil=True, error_model="numpy")
def capped_merge_late(base, deltas, own, cap, agree, replica):
    """A merge applied one round late: base[r] += s_r and replica[r] += s_r - own[r], s_r = t_r * sum_i deltas[i][r].

    base, replica: float32 (K, D); own: (K, D) of the deltas' dtype; deltas, cap, agree as in capped_merge_into.
    own is this replica's delta among ``deltas``: the replica trained on since it sent it, so it is not
    overwritten with base + s (that would drop a round of its own changes) but moved by what the others
    added, s - own. base gets the same bits on every worker.
    """
    n_rows, dim = base.shape
    total = np.empty(dim, dtype=np.float32)
    for r in range(n_rows):
        tf = _row_step(deltas, r, total, cap, agree)
        for j in range(dim):
            s = total[j] * tf
            base[r, j] += s
            replica[r, j] += s - _get(own, r, j)


@njit(cache=True, nogil=True, error_model="numpy")
def delta_since(cur, base, prev, lo, hi, out):
    """out = cur - base, less prev[r - lo] on rows lo <= r < hi (what the last sync sent and no merge applied yet).

    cur, base: float32 (K, D); prev: (hi - lo, D) and out (K, D), each float32 or bfloat16 (uint16:
    out rounded to nearest). One pass (NumPy needs two or three).
    """
    n_rows, dim = base.shape  # cur's rows may be wider (a padded store's): the first D columns are read
    for r in range(n_rows):
        if lo <= r < hi:
            for j in range(dim):
                _put(out, r, j, (cur[r, j] - base[r, j]) - _get(prev, r - lo, j))
        else:
            for j in range(dim):
                _put(out, r, j, cur[r, j] - base[r, j])
