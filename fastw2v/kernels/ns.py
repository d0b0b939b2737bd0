"""Negative sampling (word2vec C / gensim ``negative=k``).

Every loss module exposes ``step`` with the same signature::

    step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss)
        -> float64 summed loss over the n_in examples

H (n_in, d) float32 holds input vectors (context rows in skip-gram, the
context mean in CBOW), all predicting ``target``. The step updates the output
rows (and biases, where the loss has them) in place and writes the gradient for
each input row, already scaled by alpha, into GH (n_in, d). The caller adds GH
to the input matrix. ``tables`` = (noise_prob, noise_alias, noise_logq,
hs_points, hs_codes, hs_lens).

Negative sampling: one true word (label 1) and k draws from the noise
distribution (label 0), each scored by a sigmoid, no biases. The k draws are
shared by the n_in inputs. A draw equal to the true word is skipped, as in
word2vec C. Loss per input: softplus(-h.u_t) + sum_neg softplus(h.u_n).
"""
from numba import njit

from ..sampler import alias_draw
from .common import apply_batch, dot_rows, sigmoid_and_softplus


@njit(inline="always")
def step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss):
    noise_prob, noise_alias = tables[0], tables[1]
    d = H.shape[1]
    cand[0] = target
    for s in range(negative):
        cand[1 + s] = alias_draw(noise_prob, noise_alias, state)
    n_c = 1 + negative
    loss = 0.0
    for r in range(n_in):
        for c in range(n_c):
            w = cand[c]
            if c > 0 and w == target:
                G[r, c] = 0.0
                continue
            x = dot_rows(H, r, syn1, w, d)
            f, l_pos, l_neg = sigmoid_and_softplus(x)
            if c == 0:
                G[r, c] = (1.0 - f) * alpha
                if want_loss:
                    loss += l_pos
            else:
                G[r, c] = -f * alpha
                if want_loss:
                    loss += l_neg
    apply_batch(H, n_in, GH, syn1, cand, n_c, G, d)
    return loss
