"""Small numeric helpers shared by the loss kernels."""
import math

import numpy as np
from numba import njit


@njit(inline="always")
def dot(a, b, d):
    s = np.float32(0.0)
    for j in range(d):
        s += a[j] * b[j]
    return s


@njit(inline="always")
def sigmoid_and_softplus(x):
    """(sigmoid(x), softplus(-x), softplus(x)) from one exp, stable for any x.

    softplus(-x) = -log(sigmoid(x)) is the loss of label 1, softplus(x) that of label 0.
    """
    e = math.exp(-abs(x))
    lp = math.log1p(e)
    if x >= 0:
        return 1.0 / (1.0 + e), lp, x + lp
    return e / (1.0 + e), lp - x, lp


@njit(inline="always")
def apply_batch(H, n_in, GH, syn1, cand, n_c, G, d):
    """Shared tail of the sampled losses: GH = G @ U (old U), then U += G^T @ H.

    H: (n_in, d) inputs, G: (n_in, n_c) gradients already scaled by alpha,
    U = syn1[cand[:n_c]]. GH must use the output rows before they move, so it
    is computed first; the output rows are then updated in place (Hogwild).
    """
    for r in range(n_in):
        gh = GH[r]
        for j in range(d):
            gh[j] = 0.0
        for c in range(n_c):
            g = G[r, c]
            if g != 0.0:
                u = syn1[cand[c]]
                for j in range(d):
                    gh[j] += g * u[j]
    for c in range(n_c):
        u = syn1[cand[c]]
        for r in range(n_in):
            g = G[r, c]
            if g != 0.0:
                h = H[r]
                for j in range(d):
                    u[j] += g * h[j]
