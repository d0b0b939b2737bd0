"""Negative sampling (word2vec C / gensim ``negative=k``).

Every loss module exposes ``step`` with the same signature::

    step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss)
        -> float64 summed loss over the n_in examples

H (n_in, d) float32 holds input vectors (context rows in skip-gram, the
context mean in CBOW), all predicting ``target``. The step updates the output
rows (and biases, where the loss has them) in place and writes the gradient for
each input row, already scaled by alpha, into GH (n_in, d). The caller adds GH
to the input matrix. ``tables`` is a :class:`~fastw2v.kernels.common.Tables`.

Negative sampling: one true word (label 1) and k draws from the noise
distribution (label 0), each scored by a sigmoid, no biases. The k draws are
shared by the n_in inputs. A draw equal to the true word is skipped, as in
word2vec C. Loss per input: softplus(-h.u_t) + sum_neg softplus(h.u_n).
"""
from numba import njit

from .common import apply_batch, draw_candidates, row_dim, sigmoid_scores


@njit(inline="always")
def step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss):
    n_c = draw_candidates(target, tables, negative, state, cand)
    loss = sigmoid_scores(H, n_in, target, syn1, bias, tables, cand, n_c, G, alpha, False, want_loss)
    apply_batch(H, n_in, GH, syn1, cand, n_c, G, row_dim(tables, H.shape[1]))
    return loss
