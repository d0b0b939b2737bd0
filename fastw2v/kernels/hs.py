"""Hierarchical softmax over a Huffman tree (word2vec C's ``-hs 1``).

The word's probability is the product of binary decisions along its path
from the root: at inner node n with code bit b, P = sigmoid(h.u_n) for b = 0
and sigmoid(-h.u_n) for b = 1 (word2vec C's convention, label = 1 - b).
syn1's first V - 1 rows are the inner nodes; no noise, no biases.
Loss per input: sum over the path of softplus(-(1 - 2b) h.u_n).

Same signature as ``ns.step``; ``negative`` is unused. Reads the tables'
hs_points (V, max_depth) int32, hs_codes (V, max_depth) int8, hs_lens (V,) int32.
The gradients come from :func:`~fastw2v.kernels.common.fast_sigmoid`, which
vectorises over the path; the measured loss (every ``loss_every`` examples)
from the softplus table.
"""
import numpy as np
from numba import njit

from .common import apply_batch, fast_sigmoid, score_block, sigmoid_and_softplus


@njit(inline="always")
def step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss):
    points, codes, lens = tables.hs_points, tables.hs_codes, tables.hs_lens
    d = H.shape[1]
    n_c = lens[target]
    for c in range(n_c):
        cand[c] = points[target, c]
    score_block(H, n_in, syn1, cand, n_c, G, d)  # the logits into G, then each turned into its gradient
    loss = 0.0
    if want_loss:  # from the table: its softplus, and a NaN logit turns the loss NaN
        for r in range(n_in):
            for c in range(n_c):
                f, l_pos, l_neg = sigmoid_and_softplus(G[r, c])
                loss += l_neg if codes[target, c] else l_pos
    for r in range(n_in):
        for c in range(n_c):  # vectorised over the path
            G[r, c] = (np.float32(1 - codes[target, c]) - fast_sigmoid(G[r, c])) * alpha
    apply_batch(H, n_in, GH, syn1, cand, n_c, G, d)
    return loss
