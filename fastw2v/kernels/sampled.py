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

from ..sampler import alias_draw
from .common import apply_batch, dot_rows, sigmoid_and_softplus


@njit(inline="always")
def _draw(target, tables, negative, state, cand):
    cand[0] = target
    for s in range(negative):
        cand[1 + s] = alias_draw(tables[0], tables[1], state)
    return 1 + negative


@njit(inline="always")
def _logit(H, r, syn1, bias, logq, w, d):
    return dot_rows(H, r, syn1, w, d) + bias[w] - logq[w]


@njit(inline="always")
def _update_bias(bias, cand, n_c, G, n_in):
    for c in range(n_c):
        g = 0.0
        for r in range(n_in):
            g += G[r, c]
        bias[cand[c]] += g


@njit(inline="always")
def softmax_step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss):
    logq = tables[2]
    d = H.shape[1]
    n_c = _draw(target, tables, negative, state, cand)
    loss = 0.0
    for r in range(n_in):
        zmax = -1e30
        for c in range(n_c):  # logits into G, accidental hits marked
            w = cand[c]
            if c > 0 and w == target:
                continue
            z = _logit(H, r, syn1, bias, logq, w, d)
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
                z = _logit(H, r, syn1, bias, logq, w, d)
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
def nce_step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss):
    n_c = _draw(target, tables, negative, state, cand)
    loss = sigmoid_scores(H, n_in, target, syn1, bias, tables[2], cand, n_c, G, alpha, True, want_loss)
    apply_batch(H, n_in, GH, syn1, cand, n_c, G, H.shape[1])
    _update_bias(bias, cand, n_c, G, n_in)
    return loss
