"""Which of the shared score/update loops LLVM vectorised: packed FMAs on ymm per helper.

    PYTHONPATH=. python bench/tiles.py

Compiles each helper of fastw2v.kernels.common alone (same fast-math flags and
array types as the training kernel: C-contiguous float32 2-D, int64 candidates)
and counts FMA instructions in its assembly: packed ymm (8 lanes), packed xmm
(4 lanes) and scalar. A helper whose j loop did not vectorise shows scalar FMAs only.
"""
import re

import numpy as np
from numba import njit

from fastw2v.kernels import common
from fastw2v.kernels.common import FASTMATH


@njit(fastmath=FASTMATH, error_model="numpy")
def score_block(H, n_in, U, cand, n_c, S, d):
    common.score_block(H, n_in, U, cand, n_c, S, d)


@njit(fastmath=FASTMATH, error_model="numpy")
def apply_batch(H, n_in, GH, U, cand, n_c, G, d):
    common.apply_batch(H, n_in, GH, U, cand, n_c, G, d)


@njit(fastmath=FASTMATH, error_model="numpy")
def dot_rows(H, U, cand, n_c, S, d):
    for c in range(n_c):
        S[0, c] = common.dot_rows(H, 0, U, cand[c], d)


def fma_counts(asm: str) -> dict:
    return {"ymm": len(re.findall(r"vfmadd\w*ps\s[^\n]*%ymm", asm)),
            "xmm": len(re.findall(r"vfmadd\w*ps\s[^\n]*%xmm", asm)),
            "scalar": len(re.findall(r"vfmadd\w*ss", asm))}


def main() -> None:
    d, n_in, n_c = 100, 6, 6
    rng = np.random.default_rng(0)
    H = rng.random((n_in, d), dtype=np.float32)
    U = rng.random((50, d), dtype=np.float32)
    cand = np.arange(n_c, dtype=np.int64)
    S = np.zeros((n_in, n_c), np.float32)
    GH = np.zeros_like(H)
    score_block(H, n_in, U, cand, n_c, S, d)
    apply_batch(H, n_in, GH, U, cand, n_c, S, d)
    dot_rows(H, U, cand, n_c, S, d)
    for f in (dot_rows, score_block, apply_batch):
        asm = "\n".join(f.inspect_asm(sig) for sig in f.signatures)
        print(f"{f.__name__:12s} {fma_counts(asm)}")


if __name__ == "__main__":
    main()
