"""The hs loss step's three loops on plain rows against rows padded to 64-byte lines (fastw2v.rows).

    PYTHONPATH=. python bench/row_layout.py [--dim 300] [--rows 512] [--reps 5] [--width 512]

Times ``score_range``, ``input_grads`` and ``output_updates`` (the compiled loops hs's skip-gram
step calls) on random blocks shaped like sg-hs's: 2-10 input rows (a reduced window of 1-5 on each
side) against a Huffman path of about 14 nodes drawn from ``--rows`` output rows (512: every row in
L2; 30000: most from L3 or memory). The loops always run to d; what changes is the row stride and
the alignment of the arrays: (V, d) rows from numpy's allocator, or (V, dp) rows, dp = d rounded up
to 16 floats, on 64-byte boundaries. Prints ns per block and GFLOP/s (2 d FLOPs per row pair and
loop), best of ``--reps``. ``--width 512`` times the loops as hs compiles them at d >= 128 on an AVX-512
CPU (:func:`fastw2v.trainer.vector_width`).
"""
import argparse
import time

import numpy as np
from numba import njit

from fastw2v import rows
from fastw2v.kernels import common, hs

M = 4096  # blocks per timed pass


def _runner(width):
    """The timing loop over hs's called loops compiled for ``width``-bit vectors (hs.called_loops)."""
    score_range, input_grads, output_updates, _ = hs.called_loops(width)

    @njit(fastmath=common.FASTMATH, **common.NOALIAS)
    def run(part, H, GH, U, cand_all, n_in_all, n_c_all, G, S, d, reps):
        for _ in range(reps):
            for i in range(n_in_all.shape[0]):
                n_in, n_c = n_in_all[i], n_c_all[i]
                cand = cand_all[i]
                if part == 0 or part == 3:
                    score_range(H, n_in, U, cand, 0, n_c, S, d)
                if part == 1 or part == 3:
                    input_grads(n_in, GH, U, cand, 0, n_c, G, d, True)
                if part == 2 or part == 3:
                    output_updates(H, n_in, U, cand, 0, n_c, G, d)
    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--rows", type=int, default=512)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--width", type=int, default=0, help="vector bits the loops are compiled for (0: default)")
    a = ap.parse_args()
    _run = _runner(a.width)
    d, V = a.dim, a.rows
    rng = np.random.default_rng(0)
    n_in = rng.choice([2, 4, 6, 8, 10], M).astype(np.int64)
    n_c = np.clip(rng.normal(13.9, 3, M), 3, 24).astype(np.int64)
    cand = rng.integers(0, V, (M, 32)).astype(np.int64)
    G = (rng.standard_normal((10, 32)) * 1e-6).astype(np.float32)  # tiny steps: the rows hardly move
    S = np.zeros((10, 32), np.float32)
    u0 = (rng.standard_normal((V, d)) * 0.1).astype(np.float32)
    h0 = (rng.standard_normal((10, d)) * 0.1).astype(np.float32)
    layouts = {}
    for name in ("plain", "padded"):
        if name == "plain":
            U, H, GH = u0.copy(), h0.copy(), np.zeros((10, d), np.float32)
        else:  # the kernels get the whole stores, as rows.kernel_view hands them
            U = rows.kernel_view(rows.padded_copy(u0), rows.padded_zeros(1, d))[0]
            H = rows.kernel_view(rows.padded_copy(h0), rows.padded_zeros(1, d))[0]
            GH = rows.kernel_view(rows.padded_zeros(10, d), rows.padded_zeros(1, d))[0]
        layouts[name] = (H, GH, U)
        for part in range(4):
            _run(part, H, GH, U, cand, n_in, n_c, G, S, d, 1)  # compile and warm
    pairs = float((n_in * n_c).sum()) / M
    best = {}
    for _ in range(a.reps):  # the layouts alternate, each part timed in turn
        for name, (H, GH, U) in layouts.items():
            for part in range(4):
                t = time.perf_counter()
                _run(part, H, GH, U, cand, n_in, n_c, G, S, d, 20)
                ns = (time.perf_counter() - t) / (20 * M) * 1e9
                best[name, part] = min(best.get((name, part), ns), ns)
    print(f"d {d}, width {a.width or 'default'}, {V} output rows, {n_in.mean():.1f} input rows x {n_c.mean():.1f} nodes per block")
    for part, what in enumerate(("score_range", "input_grads", "output_updates", "all three")):
        flops = 2 * d * pairs * (3 if part == 3 else 1)
        cells = [f"{name} {best[name, part]:6.0f} ns {flops / best[name, part]:5.1f} GFLOP/s" for name in layouts]
        print(f"  {what:15s} " + " | ".join(cells) + f" | plain/padded {best['plain', part] / best['padded', part]:.2f}")


if __name__ == "__main__":
    main()
