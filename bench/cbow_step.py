"""Where a CBOW-hs centre word's time goes: the step alone, on real Huffman paths, one thread.

    python bench/cbow_step.py [--corpus ../shared/data/realmix.txt.xz] [--mb 12] [--dim 300] [--reps 3]

Reads the first --mb MB of the corpus, keeps words seen 5 times, subsamples at 1e-4 and runs
the centre words of the first --centres kept tokens through the kernels' own pieces: the
context mean (`driver._mean_rows`, or the one-row-per-pass mean it replaced), the path's
logits (`common.score_row`), gradients and fused update (`hs._grads_and_updates`), and the
scatter of the mean's gradient to the context rows. Reduced windows are drawn as word2vec C
draws them. "Folded" cases take row ids modulo 512, so those rows stay in L2 (or modulo 64: 78 KB
at d 300, the compute-bound floor): the difference to the unfolded case is what the rows'
memory costs. The rows are stored as training stores them (64-byte aligned, stride rounded up
to 16 floats, the kernels reading d from the scratch rows); --plain times rows of exactly d
floats, as before 2f66447 (at d 300 three rows in four then start inside a cache line). Prints
ns per centre word for each repetition. Run it on a quiet machine; compare cases within one run.
"""
from __future__ import annotations

import argparse
import collections
import lzma
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from fastw2v.huffman import build_huffman  # noqa: E402
from fastw2v.kernels import hs  # noqa: E402
from fastw2v.kernels.common import FASTMATH, NOALIAS, fast_sigmoid, score_row  # noqa: E402
from fastw2v.kernels.driver import _mean_rows  # noqa: E402
from fastw2v.rows import padded_zeros, whole_rows  # noqa: E402
from fastw2v.vocab import keep_probabilities  # noqa: E402

FOLD = 512
SMALL_FOLD = 64


@njit(fastmath=FASTMATH, error_model="numpy", **NOALIAS)
def run(toks, halves, syn0, syn1, points, codes, lens, H, GH, G, cand, ctx, path_fold, ctx_fold, with_path,
        one_row_mean):
    """Train the centre words toks[5:-5]; row ids taken modulo the folds. with_path False: mean and
    scatter only. one_row_mean: the mean as before dc9f1d6 (zero, one add pass per row, scale).
    syn0, syn1: float32 (V, stride), C-contiguous; d (H's width) <= stride."""
    d = H.shape[1]
    alpha = np.float32(0.025)
    for i in range(5, toks.shape[0] - 5):
        half = halves[i]
        m = 0
        for j in range(i - half, i + half + 1):
            if j != i:
                ctx[m] = toks[j] % ctx_fold
                m += 1
        if one_row_mean:
            for q in range(d):
                H[0, q] = 0.0
            for r in range(m):
                w = ctx[r]
                for q in range(d):
                    H[0, q] += syn0[w, q]
            inv = np.float32(1.0 / m)
            for q in range(d):
                H[0, q] *= inv
        else:
            _mean_rows(H, 0, syn0, ctx, 0, m, -1, d)
        for q in range(d):
            GH[0, q] = 0.0
        if with_path:
            t = toks[i]
            nc = lens[t]
            for k in range(nc):
                cand[k] = points[t, k] % path_fold
            score_row(H, 0, syn1, cand, 0, nc, G, d)
            for k in range(nc):
                G[0, k] = (np.float32(1 - codes[t, k]) - fast_sigmoid(G[0, k])) * alpha
            hs._grads_and_updates(H, GH, syn1, cand, 0, nc, G, d)
        for r in range(m):
            w = ctx[r]
            for q in range(d):
                syn0[w, q] += GH[0, q]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(HERE.parent.parent / "shared/data/realmix.txt.xz"))
    ap.add_argument("--mb", type=float, default=12.0)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--centres", type=int, default=400_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--plain", action="store_true", help="rows of exactly d floats (not as training stores them)")
    a = ap.parse_args(argv)
    opener = lzma.open if a.corpus.endswith(".xz") else open
    with opener(a.corpus, "rt", encoding="utf-8", errors="replace") as f:
        words = f.read(int(a.mb * 1e6)).split()
    counts_of = collections.Counter(words)
    vocab = [w for w, n in counts_of.most_common() if n >= 5]
    index = {w: i for i, w in enumerate(vocab)}
    counts = np.array([counts_of[w] for w in vocab], np.int64)
    rng = np.random.default_rng(1)
    toks = np.array([index[w] for w in words if w in index], np.int32)
    toks = toks[rng.random(len(toks)) < keep_probabilities(counts, 1e-4)[toks]][:a.centres]
    points, codes, lens = build_huffman(counts)
    V, d, n = len(vocab), a.dim, len(toks)
    print(f"V {V}, {n} centre words, mean path {lens[toks].mean():.1f} nodes, d {d}")
    halves = (a.window - rng.integers(0, a.window, n)).astype(np.int64)
    init = (rng.random((V, d), dtype=np.float32) - 0.5) / d
    if a.plain:
        syn0, syn1 = init, np.zeros((V, d), np.float32)
    else:  # the whole padded rows, as the kernels get them (rows.kernel_view)
        syn0, syn1 = padded_zeros(V, d), padded_zeros(V, d)
        syn0[:] = init
        syn0, syn1 = whole_rows(syn0), whole_rows(syn1)
    H, GH = np.zeros((1, d), np.float32), np.zeros((1, d), np.float32)
    G, cand, ctx = np.zeros((1, 64), np.float32), np.zeros(64, np.int64), np.zeros(2 * a.window, np.int64)
    cases = [("whole step", V, V, True, False), ("path rows folded", FOLD, V, True, False),
             ("context rows folded", V, FOLD, True, False), ("both folded", FOLD, FOLD, True, False),
             ("both folded to 64 rows", SMALL_FOLD, SMALL_FOLD, True, False),
             ("context alone", V, V, False, False), ("context alone, folded", V, FOLD, False, False),
             ("context alone, one-row mean", V, V, False, True),
             ("context alone, one-row mean, folded", V, FOLD, False, True)]
    for _, pf, cf, wp, old in cases:
        run(toks[:1000], halves, syn0, syn1, points, codes, lens, H, GH, G, cand, ctx, pf, cf, wp, old)
    times = collections.defaultdict(list)
    for _ in range(a.reps):
        for name, pf, cf, wp, old in cases:
            t = time.perf_counter()
            run(toks, halves, syn0, syn1, points, codes, lens, H, GH, G, cand, ctx, pf, cf, wp, old)
            times[name].append((time.perf_counter() - t) / (n - 10) * 1e9)
    for name, *_ in cases:
        print(f"{name:38s} ns per centre word: " + ", ".join(f"{x:,.0f}" for x in times[name]))


if __name__ == "__main__":
    main()
