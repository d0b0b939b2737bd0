"""Data layout and small numeric helpers shared by the loss kernels."""
from collections import namedtuple

import numpy as np
from numba import njit

from ..sampler import alias_draw

#: LLVM fast-math flags of every kernel: everything but 'nnan' and 'ninf', so that a
#: NaN is still compared honestly (the sigmoid table's range checks must see it) while
#: the dot products may still be reassociated and vectorised.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

#: The kernels' lookup tables, read by name.
#: noise_prob float64 (V,) / noise_alias int32 (V,): Vose alias table of the noise distribution Q;
#: noise_logq float32 (V,): log(k Q(w)); hs_points int32 (V, depth), hs_codes int8 (V, depth),
#: hs_lens int32 (V,): Huffman paths (1-element dummies unless the loss is hs).
Tables = namedtuple("Tables", "noise_prob noise_alias noise_logq hs_points hs_codes hs_lens")


@njit(inline="always")
def dot_rows(A, i, B, k, d):
    """A[i] . B[k] with 2-D indexing (row views cost more inside the hot loops)."""
    s = np.float32(0.0)
    for j in range(d):
        s += A[i, j] * B[k, j]
    return s


# Interpolated tables for sigmoid and softplus on [-TABLE_MAX, TABLE_MAX], step 1/256.
# Linear interpolation errs by at most h^2/8 * max|f''|: 2e-7 for sigmoid, 5e-7 for
# softplus; beyond the range sigmoid is 0 or 1 within 1.2e-7. A table read costs a
# few cycles where math.exp and math.log1p cost tens, on the kernels' hottest line.
TABLE_MAX = 16.0
_STEPS = 256
_GRID = np.linspace(-TABLE_MAX, TABLE_MAX, int(2 * TABLE_MAX * _STEPS) + 1)
SIGMOID_TABLE = (1.0 / (1.0 + np.exp(-_GRID))).astype(np.float32)
SOFTPLUS_TABLE = np.logaddexp(0.0, _GRID).astype(np.float32)
_LAST = SIGMOID_TABLE.shape[0] - 1


@njit(inline="always")
def sigmoid_and_softplus(x):
    """(sigmoid(x), softplus(-x), softplus(x)), interpolated from tables.

    softplus(-x) = -log(sigmoid(x)) is the loss of label 1, softplus(x) that of label 0.
    A NaN (diverged weights) takes no table index: it returns (0, NaN, NaN), so the
    loss turns NaN and the trainer stops with its divergence error.
    """
    if x > -TABLE_MAX and x < TABLE_MAX:
        pos = (x + TABLE_MAX) * _STEPS
        i = min(max(int(pos), 0), _LAST - 1)  # the clamp guards the reads against rounding
        frac = np.float32(pos - i)
        j = _LAST - i  # softplus(-x) sits mirrored in the same grid
        f = SIGMOID_TABLE[i] + frac * (SIGMOID_TABLE[i + 1] - SIGMOID_TABLE[i])
        sp_pos = SOFTPLUS_TABLE[i] + frac * (SOFTPLUS_TABLE[i + 1] - SOFTPLUS_TABLE[i])
        sp_neg = SOFTPLUS_TABLE[j] + frac * (SOFTPLUS_TABLE[j - 1] - SOFTPLUS_TABLE[j])
        return f, sp_neg, sp_pos
    if x >= TABLE_MAX:
        return np.float32(1.0), np.float32(0.0), np.float32(x)
    if x <= -TABLE_MAX:
        return np.float32(0.0), np.float32(-x), np.float32(0.0)
    return np.float32(0.0), np.float32(x), np.float32(x)  # NaN


@njit(inline="always")
def draw_candidates(target, tables, negative, state, cand):
    """cand[0] = target, cand[1:1+k] = k draws from the noise table; returns 1 + k."""
    cand[0] = target
    for s in range(negative):
        cand[1 + s] = alias_draw(tables.noise_prob, tables.noise_alias, state)
    return 1 + negative


@njit(inline="always")
def corrected_logit(H, r, syn1, bias, logq, w, d):
    """h.u_w + b_w - log(k Q(w)): the logit NCE and sampled softmax score."""
    return dot_rows(H, r, syn1, w, d) + bias[w] - logq[w]


@njit(inline="always")
def sigmoid_scores(H, n_in, target, syn1, bias, logq, cand, n_c, G, alpha, corrected, want_loss):
    """Logistic scoring of [target, candidates] for every input row; fills G, returns the loss.

    corrected: NCE's logits h.u + b - log(kQ); else negative sampling's h.u.
    Label 1 for the target (column 0), 0 for the rest; accidental hits get no gradient.
    """
    d = H.shape[1]
    loss = 0.0
    for r in range(n_in):
        for c in range(n_c):
            w = cand[c]
            if c > 0 and w == target:
                G[r, c] = 0.0
                continue
            if corrected:
                z = corrected_logit(H, r, syn1, bias, logq, w, d)
            else:
                z = dot_rows(H, r, syn1, w, d)
            f, l_pos, l_neg = sigmoid_and_softplus(z)
            if c == 0:
                G[r, c] = (1.0 - f) * alpha
                if want_loss:
                    loss += l_pos
            else:
                G[r, c] = -f * alpha
                if want_loss:
                    loss += l_neg
    return loss


@njit(inline="always")
def apply_batch(H, n_in, GH, syn1, cand, n_c, G, d):
    """Shared tail of every loss: GH = G @ U (old U), then U += G^T @ H.

    H: (n_in, d) inputs, G: (n_in, n_c) gradients already scaled by alpha,
    U = syn1[cand[:n_c]]. GH must use the output rows before they move, so it
    is computed first; the output rows are then updated in place (Hogwild).

    Both products take four rows per pass over j: the row being written is
    loaded and stored once per four FMAs instead of once per FMA, which is
    what bounds these loops (plain 2-D indexing, no row views, so that LLVM
    vectorises the j loops).
    """
    for r in range(n_in):
        for j in range(d):
            GH[r, j] = 0.0
        c = 0
        while c + 3 < n_c:
            g0, g1, g2, g3 = G[r, c], G[r, c + 1], G[r, c + 2], G[r, c + 3]
            w0, w1, w2, w3 = cand[c], cand[c + 1], cand[c + 2], cand[c + 3]
            for j in range(d):
                GH[r, j] += g0 * syn1[w0, j] + g1 * syn1[w1, j] + g2 * syn1[w2, j] + g3 * syn1[w3, j]
            c += 4
        while c < n_c:
            g0 = G[r, c]
            w0 = cand[c]
            for j in range(d):
                GH[r, j] += g0 * syn1[w0, j]
            c += 1
    for c in range(n_c):
        w = cand[c]
        r = 0
        while r + 3 < n_in:
            g0, g1, g2, g3 = G[r, c], G[r + 1, c], G[r + 2, c], G[r + 3, c]
            for j in range(d):
                syn1[w, j] += g0 * H[r, j] + g1 * H[r + 1, j] + g2 * H[r + 2, j] + g3 * H[r + 3, j]
            r += 4
        while r < n_in:
            g0 = G[r, c]
            for j in range(d):
                syn1[w, j] += g0 * H[r, j]
            r += 1
