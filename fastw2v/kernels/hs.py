"""Hierarchical softmax over a Huffman tree (word2vec C's ``-hs 1``).

The word's probability is the product of binary decisions along its path
from the root: at inner node n with code bit b, P = sigmoid(h.u_n) for b = 0
and sigmoid(-h.u_n) for b = 1 (word2vec C's convention, label = 1 - b).
syn1's first V - 1 rows are the inner nodes; no noise, no biases.
Loss per input: sum over the path of softplus(-(1 - 2b) h.u_n).

Same signature as ``ns.step``; ``negative`` is unused. Reads the tables'
hs_points (V, max_depth) int32, hs_codes (V, max_depth) int8, hs_lens (V,) int32.
"""
from numba import njit

from .common import apply_batch, score_block, sigmoid_and_softplus


@njit(inline="always")
def step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss):
    points, codes, lens = tables.hs_points, tables.hs_codes, tables.hs_lens
    d = H.shape[1]
    n_c = lens[target]
    for c in range(n_c):
        cand[c] = points[target, c]
    score_block(H, n_in, syn1, cand, n_c, G, d)  # the logits into G, then each turned into its gradient
    loss = 0.0
    for r in range(n_in):
        for c in range(n_c):
            f, l_pos, l_neg = sigmoid_and_softplus(G[r, c])
            label = 1.0 - codes[target, c]
            G[r, c] = (label - f) * alpha
            if want_loss:
                loss += l_pos if label == 1.0 else l_neg
    apply_batch(H, n_in, GH, syn1, cand, n_c, G, d)
    return loss
