"""Hierarchical softmax over a Huffman tree (word2vec C's ``-hs 1``).

The word's probability is the product of binary decisions along its path
from the root: at inner node n with code bit b, P = sigmoid(h.u_n) for b = 0
and sigmoid(-h.u_n) for b = 1 (word2vec C's convention, label = 1 - b).
syn1's first V - 1 rows are the inner nodes; no noise, no biases.
Loss per input: sum over the path of softplus(-(1 - 2b) h.u_n).

Same signature as ``ns.step``; ``negative`` is unused. Reads the tables'
hs_points (V, max_depth) int32, hs_codes (V, max_depth) int8, hs_lens (V,) int32.
The gradients come from :func:`~fastw2v.kernels.common.fast_sigmoid`, which
vectorises over the path; the measured loss (for every ``loss_every``-th centre
word) from the softplus table.

Batched skip-gram on several threads uses :func:`step_hot`, and CBOW :func:`cbow_step`
(on one thread too, with no private rows): each thread keeps its own copy of the inner
nodes nearest the root (:func:`load_hot`), which every path visits, and adds its changes
to syn1 every few centre words (:func:`merge_due`).
"""
import functools

import numpy as np
from numba import njit

from .common import (FASTMATH, NOALIAS, apply_batch, fast_sigmoid, input_grads, output_updates, prefetch, prefetch2,
                     row_dim, score_block, score_range, score_row, sigmoid_and_softplus, vector_width)

# step_hot's loop nests are called, not inlined: each of its ranges (private rows, shared rows) is
# one call of the same compiled function, where inlined they were six copies of the tile loops in
# every kernel that can take private rows (the sg-hs kernel's first compile went from 45 s to 142 s).
# A call costs nothing measurable against skip-gram's block of 2 x window input rows. CBOW's one input
# row is another matter (the calls cost it about a quarter of the step): it runs :func:`cbow_step`, whose
# one-row loops are inline. The arguments never overlap (scratch, private rows and syn1 are separate
# arrays), as in the sentence loops.
_CALLED = dict(fastmath=FASTMATH, error_model="numpy", cache=True, **NOALIAS)
# The calls' arguments are plain int64 and bool: Numba compiles a called function once per argument
# types, a literal is a type of its own, and a counter that starts at 0 is a literal 0 while type
# inference is still working on the caller (the sg-hs kernel compiled each loop five times, not once)
_ZERO = np.int64(0)
_TRUE = np.bool_(True)


@functools.lru_cache(maxsize=None)
def called_loops(width: int):
    """The loop nests :func:`step_hot` calls, compiled for ``width``-bit vectors
    (:func:`~fastw2v.kernels.common.vector_width`; 0: 256 bits): score_range, input_grads,
    output_updates and the path's gradients, each its own compiled function. ``width`` is a closure
    constant, so each width is its own entry in Numba's disk cache."""
    def score(H, n_in, U, cand, c_lo, c_hi, S, d):
        vector_width(width)
        score_range(H, n_in, U, cand, c_lo, c_hi, S, d)

    def grads(n_in, GH, U, cand, c_lo, c_hi, G, d, zero):
        vector_width(width)
        input_grads(n_in, GH, U, cand, c_lo, c_hi, G, d, zero)

    def updates(H, n_in, U, cand, c_lo, c_hi, G, d):
        vector_width(width)
        output_updates(H, n_in, U, cand, c_lo, c_hi, G, d)

    def gradients(n_in, target, codes, n_c, G, alpha, want_loss):
        vector_width(width)
        return _gradients(n_in, target, codes, n_c, G, alpha, want_loss)
    return tuple(njit(**_CALLED)(f) for f in (score, grads, updates, gradients))


@functools.lru_cache(maxsize=None)
def called_steps(width: int):
    """(step_called, step_hot) over :func:`called_loops` ``(width)``."""
    _score_range, _input_grads, _output_updates, _gradients_call = called_loops(width)

    @njit(inline="always")
    def step_called(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss):
        """:func:`step` through the compiled loops :func:`step_hot` calls, not inline copies of them: for
        kernels that hold both (batched skip-gram, whose 2 x window input rows make a call's cost vanish)."""
        points, codes, lens = tables.hs_points, tables.hs_codes, tables.hs_lens
        d = row_dim(tables, H.shape[1])
        n_c = lens[target]
        for c in range(n_c):
            cand[c] = points[target, c]
        first, last, zero = _ZERO, np.int64(n_c), _TRUE
        _score_range(H, n_in, syn1, cand, first, last, G, d)
        loss = _gradients_call(n_in, target, codes, last, G, alpha, want_loss)
        _input_grads(n_in, GH, syn1, cand, first, last, G, d, zero)
        _output_updates(H, n_in, syn1, cand, first, last, G, d)
        return loss

    @njit(inline="always")
    def step_hot(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss, hot, hot_lo):
        """:func:`step` with the inner nodes from row hot_lo on read from and written to ``hot``
        (row p at hot[p - hot_lo]), a thread's private copy of the nodes nearest the root.

        Every path starts at the root, so with shared rows every thread writes the same
        few rows for every centre word and their cache lines bounce between the cores.
        A parent is built after its children (a higher row), so the nodes from hot_lo
        on are a prefix of every path: the block splits into two ranges of candidates.
        hot: float32 (V - 1 - hot_lo, d).
        """
        points, codes, lens = tables.hs_points, tables.hs_codes, tables.hs_lens
        d = row_dim(tables, H.shape[1])
        n_c = lens[target]
        h = _split_path(target, points, n_c, hot_lo, cand)
        first, mid, last, zero = _ZERO, np.int64(h), np.int64(n_c), _TRUE
        _score_range(H, n_in, hot, cand, first, mid, G, d)
        _score_range(H, n_in, syn1, cand, mid, last, G, d)
        loss = _gradients_call(n_in, target, codes, last, G, alpha, want_loss)
        # GH from the rows before they move, then the rows
        _input_grads(n_in, GH, hot, cand, first, mid, G, d, zero)
        _input_grads(n_in, GH, syn1, cand, mid, last, G, d, not zero)
        _output_updates(H, n_in, hot, cand, first, mid, G, d)
        _output_updates(H, n_in, syn1, cand, mid, last, G, d)
        return loss
    return step_called, step_hot


@njit(inline="always")
def step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss):
    points, codes, lens = tables.hs_points, tables.hs_codes, tables.hs_lens
    d = row_dim(tables, H.shape[1])
    n_c = lens[target]
    for c in range(n_c):
        cand[c] = points[target, c]
    score_block(H, n_in, syn1, cand, n_c, G, d)  # the logits into G, then each turned into its gradient
    loss = _gradients(n_in, target, codes, n_c, G, alpha, want_loss)
    apply_batch(H, n_in, GH, syn1, cand, n_c, G, d)
    return loss


@njit(inline="always")
def prefetch_path(tables, w):
    """Start loading word w's rows of the path tables (its path length, nodes and code bits) a centre
    word before they are read. Each is a row picked by a word id, which no hardware prefetcher
    guesses; the first read of the nodes took 4.3% of the CBOW-hs d 300 kernel's samples (bench/ROOFLINE.md)."""
    prefetch(tables.hs_lens, w)
    prefetch2(tables.hs_points, w, 0)
    prefetch2(tables.hs_points, w, tables.hs_points.shape[1] - 1)
    prefetch2(tables.hs_codes, w, 0)


@njit(inline="always")
def _gradients(n_in, target, codes, n_c, G, alpha, want_loss):
    """Turn the logits G[:n_in, :n_c] of the target's path into gradients times alpha; returns the loss
    (from the softplus table, when ``want_loss``: a NaN logit turns it NaN)."""
    loss = 0.0
    if want_loss:
        for r in range(n_in):
            for c in range(n_c):
                f, l_pos, l_neg = sigmoid_and_softplus(G[r, c])
                loss += l_neg if codes[target, c] else l_pos
    for r in range(n_in):
        for c in range(n_c):  # vectorised over the path
            G[r, c] = (np.float32(1 - codes[target, c]) - fast_sigmoid(G[r, c])) * alpha
    return loss


@njit(inline="always")
def load_hot(syn1, hot, base, hot_lo, n_hot, d):
    """A thread's private copy of rows hot_lo:hot_lo + n_hot of syn1, and the same as its base."""
    for r in range(n_hot):
        for j in range(d):
            v = syn1[hot_lo + r, j]
            hot[r, j] = v
            base[r, j] = v


@njit(inline="always")
def merge_hot(syn1, hot, base, hot_lo, n_hot, d, first=0):
    """Add a thread's changes of its private rows first..n_hot - 1 (hot - base) to syn1 and take
    syn1's rows (with the other threads' merged changes) as its new copy and base.

    A row no other thread merged since (syn1 still equals base) takes the copy as it is, so one
    thread gives what it would give without private rows.
    """
    for r in range(first, n_hot):
        for j in range(d):
            s = syn1[hot_lo + r, j]
            b = base[r, j]
            v = hot[r, j] if s == b else s + (hot[r, j] - b)
            syn1[hot_lo + r, j] = v
            hot[r, j] = v
            base[r, j] = v


@njit(inline="always")
def merge_due(syn1, hot, base, hot_lo, n_hot, d, counter, every, tiers):
    """The merges due after the thread's centre word number ``counter``: with ``tiers`` a tuple of
    (rows, interval) from the most visited down, each interval a multiple of the one before, the
    ``rows`` most visited private rows are merged every interval x every centre words (the widest
    tier due wins; a last tier of 1 << 30 rows is all n_hot).

    An inner node's row is visited as often as its count, and a parent is built after its children,
    so the last rows are the most visited: the root by every path. Merging every row as often as the
    root moved n_hot rows x d floats three times (syn1, copy, base) per 16 centre words: with 64 rows,
    about a fifth of CBOW-hs's time at d 100 (merging all of them 4 times less often ran 1.17-1.25x
    faster). A merge costs about what one shared access of the row costs (the other core holds
    syn1's line), so a tier pays only by gathering several of the thread's updates in one merge, and
    costs quality when it lets the other thread's pile up: tiers keep each row's pending updates
    bounded. On realmix (its first 25 MB, sample 1e-4 or 1e-3) each row past the top 8 is on at most
    16.5% of the kept words' paths, so merged every 128 centre words it carries at most about 21
    pending updates, the root 16 (driver.HOT_TIERS and CBOW_HOT_TIERS give the intervals).
    """
    if counter % every == 0:
        k = counter // every
        first = n_hot
        for rows, interval in tiers:
            if k % interval == 0:
                first = max(0, n_hot - rows)
        merge_hot(syn1, hot, base, hot_lo, n_hot, d, first)


@njit(inline="always")
def _split_path(target, points, n_c, hot_lo, cand):
    """The target's path into cand: node p as p - hot_lo where p >= hot_lo (a row of the thread's private
    copy), else p; returns h, the path's first h nodes being the private ones (a parent is built after its
    children, so the nodes from hot_lo on are a prefix of every path; h = 0 without private rows)."""
    h = 0
    for c in range(n_c):
        p = points[target, c]
        if p >= hot_lo:
            cand[c] = p - hot_lo
            h = c + 1
        else:
            cand[c] = p
    return h


@njit(inline="always")
def _grads_and_updates(H, GH, U, cand, c_lo, c_hi, G, d):
    """GH[0] += sum over c_lo <= c < c_hi of G[0, c] U[cand[c]] (the rows before they move), and each row
    U[cand[c]] += G[0, c] H[0], in one pass over j per 4 nodes (6 loads, 5 stores and 8 FMAs per 8 floats).

    For one input row the input gradient and the row's update read the same row: one pass, not
    :func:`~fastw2v.kernels.common.input_grads` and then :func:`~fastw2v.kernels.common.output_updates`.
    The nodes of one path are distinct rows.
    """
    c = c_lo
    while c + 3 < c_hi:
        w0, w1, w2, w3 = cand[c], cand[c + 1], cand[c + 2], cand[c + 3]
        g0, g1, g2, g3 = G[0, c], G[0, c + 1], G[0, c + 2], G[0, c + 3]
        for j in range(d):
            h = H[0, j]
            a0 = U[w0, j]
            a1 = U[w1, j]
            a2 = U[w2, j]
            a3 = U[w3, j]
            GH[0, j] += g0 * a0 + g1 * a1 + g2 * a2 + g3 * a3
            U[w0, j] = a0 + g0 * h
            U[w1, j] = a1 + g1 * h
            U[w2, j] = a2 + g2 * h
            U[w3, j] = a3 + g3 * h
        c += 4
    while c < c_hi:
        w0 = cand[c]
        g0 = G[0, c]
        for j in range(d):
            a0 = U[w0, j]
            GH[0, j] += g0 * a0
            U[w0, j] = a0 + g0 * H[0, j]
        c += 1


@njit(inline="always")
def cbow_step(H, GH, target, syn1, tables, alpha, G, want_loss, hot, hot_lo, cand):
    """:func:`step` for one input row (CBOW's context mean H[0]), the path's nodes from row hot_lo on
    read from and written to the thread's private ``hot`` rows (none when hot_lo >= V - 1: one thread).

    The same arithmetic as :func:`step` with n_in = 1 (every logit from the rows before they move,
    GH[0] = sum of g_c u_c, u_c += g_c h), inline for both ranges: :func:`step_hot`'s called loops cost
    CBOW, with its one input row, about a quarter of the step at one thread. One thread runs it too
    (h = 0): its one-row loops ran faster than :func:`step`'s general tiles and compile in less time
    (the two side by side made the CBOW-hs kernel's first compile 17 s longer). Returns the loss (when
    ``want_loss``).
    """
    points, codes, lens = tables.hs_points, tables.hs_codes, tables.hs_lens
    d = row_dim(tables, H.shape[1])
    n_c = lens[target]
    h = _split_path(target, points, n_c, hot_lo, cand)
    score_row(H, 0, hot, cand, 0, h, G, d)
    score_row(H, 0, syn1, cand, h, n_c, G, d)
    loss = _gradients(1, target, codes, n_c, G, alpha, want_loss)
    for j in range(d):
        GH[0, j] = 0.0
    _grads_and_updates(H, GH, hot, cand, 0, h, G, d)
    _grads_and_updates(H, GH, syn1, cand, h, n_c, G, d)
    return loss


# the default width's steps (the kernels pick theirs: driver._steps_for)
step_called, step_hot = called_steps(0)
