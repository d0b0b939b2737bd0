"""Sampled softmax and NCE (TensorFlow's ``sampled_softmax_loss`` / ``nce_loss``).

Both draw k candidates from the noise distribution Q (with replacement) and
score the true word t and each candidate c by the corrected logit

    z_c = h.u_c + b_c - log(k Q(c))      (log of c's expected count among the draws)

A candidate equal to t is an accidental hit and is dropped (its column gets
no gradient and no loss). Output rows and biases of t and every candidate are
updated.

- ``softmax_step``: softmax cross-entropy over [t, candidates] with t as the
  label: loss = logsumexp(z) - z_t; dz = p - onehot(t).
- ``nce_step``: each logit scored by a sigmoid against label 1 (t) or 0 (the
  candidates): loss = softplus(-z_t) + sum_c softplus(z_c).

Both share ``ns.step``'s signature (see :mod:`fastw2v.kernels.ns`).
"""
import math

from numba import njit

from .common import apply_batch, draw_candidates, row_dim, score_block, sigmoid_scores


@njit(inline="always")
def _update_bias(bias, cand, n_c, G, n_in):
    for c in range(n_c):
        g = 0.0
        for r in range(n_in):
            g += G[r, c]
        bias[cand[c]] += g


@njit(inline="always")
def softmax_step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss):
    logq = tables.noise_logq
    d = row_dim(tables, H.shape[1])
    n_c = draw_candidates(target, tables, negative, state, cand)
    score_block(H, n_in, syn1, cand, n_c, G, d)  # h.u into G, corrected below
    loss = 0.0
    for r in range(n_in):
        zmax = -1e30
        for c in range(n_c):  # logits into G, accidental hits skipped
            w = cand[c]
            if c > 0 and w == target:
                continue
            z = G[r, c] + bias[w] - logq[w]
            G[r, c] = z
            if z > zmax:
                zmax = z
        total = 0.0
        for c in range(n_c):
            if c > 0 and cand[c] == target:
                continue
            total += math.exp(G[r, c] - zmax)
        log_total = math.log(total)
        if want_loss:
            loss += zmax + log_total - G[r, 0]
        for c in range(n_c):
            if c > 0 and cand[c] == target:
                G[r, c] = 0.0
                continue
            p = math.exp(G[r, c] - zmax - log_total)
            y = 1.0 if c == 0 else 0.0
            G[r, c] = (y - p) * alpha
    apply_batch(H, n_in, GH, syn1, cand, n_c, G, d)
    _update_bias(bias, cand, n_c, G, n_in)
    return loss


@njit(inline="always")
def nce_step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss):
    n_c = draw_candidates(target, tables, negative, state, cand)
    loss = sigmoid_scores(H, n_in, target, syn1, bias, tables, cand, n_c, G, alpha, True, want_loss)
    apply_batch(H, n_in, GH, syn1, cand, n_c, G, row_dim(tables, H.shape[1]))
    _update_bias(bias, cand, n_c, G, n_in)
    return loss
