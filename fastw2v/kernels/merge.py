"""The sync's row merge in one pass (njit, one thread): new = base + t * sum(delta), written where it goes.

A sync merges up to all V rows of syn0 and syn1 at an epoch end (tens of MB).
NumPy needs about ten passes over them (the sum, a norm per delta, the norm of
the sum, the scale, the add, then copies into the replica and its base); this
reads every input once and writes every output once, row by row. A merge applied
one round late (the replica trained on meanwhile) moves the replica by what the others added.
"""
import numpy as np
from numba import njit


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
            v = d[r, j]
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

    base: float32 (K, D); deltas: a tuple of W float32 (K, D) arrays, summed in
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

    base, replica, own: float32 (K, D); deltas, cap, agree as in capped_merge_into.
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
            replica[r, j] += s - own[r, j]


@njit(cache=True, nogil=True, error_model="numpy")
def delta_since(cur, base, prev, lo, hi, out):
    """out = cur - base, less prev[r - lo] on rows lo <= r < hi (what the last sync sent and no merge applied yet).

    cur, base, out: float32 (K, D); prev: float32 (hi - lo, D). One pass (NumPy needs two or three).
    """
    n_rows, dim = cur.shape
    for r in range(n_rows):
        if lo <= r < hi:
            for j in range(dim):
                out[r, j] = (cur[r, j] - base[r, j]) - prev[r - lo, j]
        else:
            for j in range(dim):
                out[r, j] = cur[r, j] - base[r, j]
