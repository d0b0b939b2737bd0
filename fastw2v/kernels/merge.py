"""The sync's row merge in one pass (njit, one thread): new = base + t * sum(delta), written where it goes.

A sync merges up to all V rows of syn0 and syn1 at an epoch end (tens of MB).
NumPy needs about ten passes over them (the sum, a norm per delta, the norm of
the sum, the scale, the add, then copies into the replica and its base); this
reads every input once and writes every output once, row by row.
"""
import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def capped_merge_into(base, deltas, cap, out_a, out_b):
    """out_a[r] = out_b[r] = base[r] + t_r * sum_i deltas[i][r], per row r.

    base: float32 (K, D); deltas: a tuple of W float32 (K, D) arrays, summed in
    their order (the same bits on every worker that merges the same inputs);
    cap: float64; t_r = min(1, cap * max_i |deltas[i][r]| / |sum_i deltas[i][r]|),
    and t_r = 1 when cap <= 0 (the plain sum); out_a, out_b: float32 (K, D),
    either may be ``base`` itself (each row is read before it is written).
    """
    n_rows, dim = base.shape
    total = np.empty(dim, dtype=np.float32)
    for r in range(n_rows):
        for j in range(dim):
            total[j] = np.float32(0.0)
        longest = 0.0
        for d in deltas:
            sq = 0.0
            for j in range(dim):
                v = d[r, j]
                total[j] += v
                sq += np.float64(v) * np.float64(v)
            longest = max(longest, sq)
        t = np.float32(1.0)
        if cap > 0.0:
            sq = 0.0
            for j in range(dim):
                sq += np.float64(total[j]) * np.float64(total[j])
            # the sum may move the row at most cap times as far as the farthest single delta did
            if sq > cap * cap * longest:
                t = np.float32(cap * np.sqrt(longest) / np.sqrt(sq))
        for j in range(dim):
            new = base[r, j] + total[j] * t
            out_a[r, j] = new
            out_b[r, j] = new
