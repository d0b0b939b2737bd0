"""Skip-gram and CBOW over one sentence, and the prange kernel over token blocks.

One compiled kernel per (model, loss, batched, subwords, width): ``train_blocks`` asks
Numba for those five as compile-time literals, and :func:`sentence` picks the code
at typing time: the sentence loop of the model from one small table, with the
step functions of the loss (another, ``LOSS_STEPS``) bound into a copy of it
(:func:`_loop_for`). A run compiles only the path it uses, and each path is
cached on disk under its own signature.

The Python trainer splits each stretch of the token stream into several blocks
per thread and calls :func:`train_blocks` once per stretch; the learning rate
falls linearly from ``alpha0`` to ``alpha1`` across the whole stretch, so the
schedule stays in Python between calls.
"""
import functools
import types as types_module
from collections import namedtuple

import numba
import numpy as np
from numba import literally, njit, prange, types
from numba.core.errors import TypingError
from numba.extending import overload

from ..config import LOSSES, MODELS
from . import hs, ns, sampled
from .common import (FASTMATH, NOALIAS, apply_batch, borrow, corrected_logit, dot_rows, fetch_add, row_dim,
                     sigmoid_and_softplus, sigmoid_block, vector_width)
from .rng import randbelow, uniform
from ..sampler import alias_draw

SG, CBOW = MODELS["sg"], MODELS["cbow"]
NS, HS, NCE, SOFTMAX = LOSSES["ns"], LOSSES["hs"], LOSSES["nce"], LOSSES["softmax"]

#: the loss table: one step function per loss code, all with ``ns.step``'s signature
LOSS_STEPS = {NS: ns.step, HS: hs.step, NCE: sampled.nce_step, SOFTMAX: sampled.softmax_step}

# stats columns, one 128-byte row per block
ST_LOSS = 0  # summed loss of the examples whose loss was computed
ST_LOSS_N = 1  # number of those examples
ST_WORDS = 2  # in-vocabulary tokens read (before subsampling)
ST_EFFECTIVE = 3  # tokens kept after subsampling
ST_EXAMPLES = 4  # (input, target) examples trained
SUMMED = 5  # the columns above are sums over calls; the ones below are this call's values
ST_FIRST_POS = 5  # token offset of the block's first sentence (-1: the block was empty)
ST_FIRST_ALPHA = 6  # learning rate applied to that sentence
ST_THREAD = 7  # the thread that trained the block (numba.get_thread_id())
STATS_WIDTH = 16

#: per-thread scratch, indexed by Numba's thread id: sent int32 (T, L), ctx int32 (T, 2w),
#: H and GH float32 (T, 2w, d), cand int64 (T, C), G float32 (T, 2w, C); hot and hot_base float32
#: (T, n_hot, d): each thread's private copy of hs's inner nodes nearest the root, and that copy as last
#: merged (see :func:`~fastw2v.kernels.hs.step_hot`; (T, 1, d) unused where Settings.hot_rows is 0); next_block
#: int64 (16,), not per thread: the counter train_blocks hands out the blocks with
Scratch = namedtuple("Scratch", "sent ctx H GH cand G hot hot_base next_block")
#: word w's input rows are ids[ptr[w]:ptr[w+1]]: ptr int64 (V + 1,), ids int32 (its own row, then n-grams)
Subwords = namedtuple("Subwords", "ptr ids")
#: integer settings the sentence loops read
#: (share_noise: subword skip-gram with ns/nce shares one set of noise draws across a window;
#: hot_rows: batched skip-gram and CBOW with hs keep that many inner nodes nearest the root in thread-private
#: copies, merged into syn1 by :func:`~fastw2v.kernels.hs.merge_due` and at the end of every block;
#: group_rows: batched skip-gram trains a window of more context rows than that in near-equal groups of at most
#: that many, one loss step each: with ns or nce each group against its own noise draws, with hs each against the
#: path rows the groups before it moved; 0: the whole window in one step)
Settings = namedtuple("Settings", "window negative loss_every share_noise hot_rows group_rows", defaults=(0, 0, 0))
#: centre words between a thread's merges of its most visited private root rows (the first tier of
#: HOT_TIERS; the others that many times less often): every 16 for every row held skip-gram hs quality on the
#: text8 sample (WordSim-353 0.575 and analogy 0.073 over 5 seeds, against 0.571 and 0.072 with shared
#: rows); every 64 for every row lost 0.02 of WordSim-353
HOT_MERGE_EVERY = 16
#: skip-gram's private root rows: the 1,024 inner nodes most visited (the top 10 levels of the tree and
#: some), or fewer where they would take more than HOT_BYTES (trainer.hot_rows). Two threads share cache
#: lines for every row written by both, and on this host how much that costs changes from run to run: with
#: 64 private rows, 2-thread sg-hs ran 0.98-1.62x as fast as one thread while two 1-thread processes side by
#: side each kept 0.76-1.06 of a solo run (2026-12-07)
HOT_ROWS = 1024
#: skip-gram's merge_due tiers, (rows, interval in HOT_MERGE_EVERY): the top 8 every 16 centre words, 64
#: every 128, 256 every 256, all 1,024 every 1,024. On realmix's first 25 MB (sample 1e-4) rows 64-255 are
#: each on at most 2.95% of the kept words' paths and rows 256-1,023 on at most 0.72%, so no row past the top
#: 64 carries more than about 8 updates between merges (the root 16). Without the 256 tier (rows 64-1,023
#: every 1,024: up to 30) analogy fell 0.33 points over 16 seeds; with all 1,024 every 256 it held, but the
#: merges took most of the gain
HOT_TIERS = ((8, 1), (64, 8), (256, 16), (1 << 30, 64))
#: the most bytes a thread's private root rows take: rows x padded dim x 4 bytes, the row count rounded down to
#: a power of two (d 100: all 1,024 rows, 448 KiB; d 300: 256). Each thread also holds a base copy of its rows,
#: touched only at merges. At d 300, 1,024 rows (1.2 MB, about the whole 1.25 MB L2 of a core here) trained
#: 2 threads slower than fewer: sg-hs B/A 0.85-1.14 per pair (median 1.09) with 256 rows and 1.00-1.24 (median
#: 1.10) with 128, cbow-hs 1.03-1.21 (median 1.06) with 256, 6 pairs each (2026-12-07, Intel host, realmix's
#: first 25 MB)
HOT_BYTES = 512 * 1024
#: CBOW's private root rows (hs): with one input row per centre word, the shared rows below the top 64 still
#: bounced between the cores enough that 1,024 private rows (merged in merge_due's tiers) trained 2 threads
#: 1.20-1.30x faster at d 100 and 300
CBOW_HOT_ROWS = 1024
#: CBOW's HOT_MERGE_EVERY: its step moves a path row by one mean's gradient per centre word, skip-gram's by
#: the sum of about 2 x window context rows' gradients, so CBOW's rows gather as much change in 4 times as many
#: centre words. 64 trained cbow-hs 1.02-1.20x faster (2 threads) with the same quality over 8 seeds (text8
#: sample, 5 epochs, d 100: WordSim-353 0.491 and analogy 2.83% against 0.485 and 2.78% every 16)
CBOW_HOT_MERGE_EVERY = 64
#: CBOW's merge_due tiers: the top 8 every 64 centre words, 64 every 512, all every 4,096
CBOW_HOT_TIERS = ((8, 1), (64, 8), (1 << 30, 64))
#: batched skip-gram (ns, nce): the most (context row, noise draw) pairs one shared set of draws serves;
#: Settings.group_rows is NOISE_PAIRS // negative (k 5: 24 rows, more than any window up to 12 has, so the
#: default shares across the whole window as before; k 15: 8). With k 15, window 10 and d 300 a whole window
#: of up to 20 rows sharing 15 draws scored analogy 5.32% on the text8 sample against gensim's 6.44% (5 seeds
#: each, 5 epochs); groups of at most 8 rows 6.00%, of 4 rows 6.13%, --exact 6.39%. One thread ran k 15,
#: window 10, d 100 at 0.83x the whole-window speed with groups of 8 and 0.69x with groups of 4
#: (bench/MATRIX.md)
NOISE_PAIRS = 120
#: batched skip-gram with hs: the most context rows one step scores against the centre word's path
#: (Settings.group_rows), so windows of 8 and 10 rows train as two halves, the second against the path rows
#: the first moved. One step for the whole window scored WordSim-353 0.557 and analogy 5.96% on the text8 sample
#: at d 300 against gensim's 0.556 and 6.01% (5 seeds each, 5 epochs, 2 threads); halves 0.568 and 6.38%, for
#: 0.97x the one-thread speed; groups of at most 4 rows 0.576 and 6.50%, for 0.88x (bench/MATRIX.md)
HS_GROUP_ROWS = 6


def _literal(code, what):
    if not isinstance(code, types.Literal):
        raise TypingError(f"the {what} code must be a compile-time literal (call through train_blocks)")
    return code.literal_value


def loss_step(loss, H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss):
    """The loss table as one Numba-callable function (``loss`` a literal code), for code outside the
    sentence loops (the loss tests); the loops call their loss's step directly (:func:`_loop_for`)."""
    raise NotImplementedError("loss_step is called from Numba code only")


@overload(loss_step, prefer_literal=True, jit_options={"fastmath": FASTMATH, "error_model": "numpy"})
def _loss_step(loss, H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss):
    step = LOSS_STEPS[_literal(loss, "loss")]

    def impl(loss, H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss):
        return step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss)
    return impl


# ---------------------------------------------------------------- the steps a sentence loop calls
# The sentence loops below call loss_step, hot_step, cbow_hot_step and window_step with the loss code
# first. Those names are bound, per loss, to the plain inline functions _steps_for builds, in a copy of
# the loop (_loop_for). They were inline overloads before: Numba types an inline overload's whole body
# again (its own inlined callees included) each time type inference revisits the call, and compiles it
# once more on the side; that was 15 s of a 35 s kernel compile. An inline function is inlined once.

def _steps_for(code: int, width: int) -> dict:
    """The step functions of loss ``code`` under the names the sentence loops call; each takes the
    loss code first and ignores it. hs's called loops are compiled for ``width``-bit vectors (the
    inline ones take the width of the loop they are inlined into).

    loss_step: one loss step (``ns.step``'s signature). hot_step: hs reads the inner nodes from row
    hot_lo on from the thread's private ``hot`` rows (:func:`~fastw2v.kernels.hs.step_hot`); without
    private rows (hot_lo >= V - 1: one thread) the shared rows' code through the same compiled loops
    (:func:`~fastw2v.kernels.hs.step_called`: inline copies of both doubled the skip-gram kernel's
    compile for the same speed); the other losses ignore hot and hot_lo. cbow_hot_step: for CBOW's one
    input row, where the calls cost about a quarter of the step, hs runs
    :func:`~fastw2v.kernels.hs.cbow_step` (inline one-row loops, with or without private rows).
    window_step (subword skip-gram): one composed input H[0] predicting the m words targets[:m], its
    summed gradient into GH[0], the summed loss returned; by default one loss step per pair, each with
    its own noise draws, as fastText; with ``share`` (ns and nce only) the m pairs share one set of k
    draws (:func:`_shared_noise_step`): about (m + k) instead of m (1 + k) output rows per window.
    batch_step (batched skip-gram): hot_step, but a window of more than ``group_rows`` context rows
    (Settings.group_rows; 0: no limit) is split into near-equal groups, one step each: with ns and nce each
    against its own k draws, with hs each against the path rows the groups before it moved.
    next_centre(loss, tables, w): called a centre word ahead with the next centre word w; hs starts
    loading w's rows of the path tables (:func:`~fastw2v.kernels.hs.prefetch_path`), the others do nothing.
    """
    step = LOSS_STEPS[code]
    can_share = code in (NS, NCE)
    corrected = code == NCE

    @njit(inline="always")
    def loss_step(loss, H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss):
        return step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss)

    if code == HS:
        step_called, step_hot = hs.called_steps(width)

        @njit(inline="always")
        def hot_step(loss, H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss,
                     hot, hot_lo):
            if hot_lo >= syn1.shape[0] - 1:  # no private rows (one thread): the shared rows' code
                return step_called(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G,
                                   want_loss)
            return step_hot(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss,
                            hot, hot_lo)

        @njit(inline="always")
        def cbow_hot_step(loss, H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss,
                          hot, hot_lo):
            return hs.cbow_step(H, GH, target, syn1, tables, alpha, G, want_loss, hot, hot_lo, cand)
    else:
        @njit(inline="always")
        def hot_step(loss, H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss, hot,
                     hot_lo):
            return step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss)
        cbow_hot_step = hot_step

    @njit(inline="always")
    def batch_step(loss, H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss,
                   hot, hot_lo, group_rows):
        if group_rows <= 0 or n_in <= group_rows:
            return hot_step(loss, H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G,
                            want_loss, hot, hot_lo)
        n_g = (n_in + group_rows - 1) // group_rows
        lv = 0.0
        r0 = n_in - n_in  # of n_in's type
        for q in range(n_g):  # rows n_in * q // n_g up to n_in * (q + 1) // n_g
            r1 = (n_in * (q + 1)) // n_g
            lv += hot_step(loss, H[r0:r1], r1 - r0, GH[r0:r1], target, syn1, bias, tables, negative, alpha, state,
                           cand, G, want_loss, hot, hot_lo)
            r0 = r1
        return lv

    if code == HS:
        @njit(inline="always")
        def next_centre(loss, tables, w):
            hs.prefetch_path(tables, w)
    else:
        @njit(inline="always")
        def next_centre(loss, tables, w):
            pass

    @njit(inline="always")
    def window_step(loss, H, targets, m, GH, syn1, bias, tables, negative, alpha, state, cand, G, want_loss, share):
        if can_share and share:
            return _shared_noise_step(H, targets, m, GH, syn1, bias, tables, negative, alpha, state, cand, G,
                                      want_loss, corrected)
        d = row_dim(tables, H.shape[1])
        lv = 0.0
        for q in range(d):
            GH[0, q] = 0.0
        for r in range(m):  # GH[1] takes each pair's gradient, GH[0] their sum
            lv += step(H[0:1], 1, GH[1:2], targets[r], syn1, bias, tables, negative, alpha, state, cand, G,
                       want_loss)
            for q in range(d):
                GH[0, q] += GH[1, q]
        return lv

    return {"loss_step": loss_step, "hot_step": hot_step, "cbow_hot_step": cbow_hot_step, "window_step": window_step,
            "next_centre": next_centre, "batch_step": batch_step}


@njit(inline="always")
def _add_row(dst, src, d):
    for j in range(d):
        dst[j] += src[j]


@njit(inline="always")
def _next_id(ids, p, skip):
    """(ids[q], q + 1) for q the first position from p that is not skip."""
    if p == skip:
        p += 1
    return ids[p], p + 1


@njit(inline="always")
def _mean_rows(H, b, syn0, ids, lo, hi, skip, d):
    """H[b] = the mean of the rows syn0[ids[p]] for lo <= p < hi, p != skip (at least one such p).

    Four rows per pass over j, the first pass assigning and the last one scaling: CBOW's mean at one row
    per pass stored H[b] once per row (plus a zero and a scale pass), and stores bound that loop (about
    a quarter less time for the mean at d 300). The rows are summed in the same order, grouped by fours.
    """
    m = hi - lo - (1 if lo <= skip < hi else 0)
    inv = np.float32(1.0 / m)
    one = np.float32(1.0)
    p = lo
    done = 0
    while done < m:
        k = min(4, m - done)
        sc = inv if done + k == m else one
        w0, p = _next_id(ids, p, skip)
        w1 = w2 = w3 = w0
        if k > 1:
            w1, p = _next_id(ids, p, skip)
        if k > 2:
            w2, p = _next_id(ids, p, skip)
        if k > 3:
            w3, p = _next_id(ids, p, skip)
        if done == 0:
            if k == 4:
                for j in range(d):
                    H[b, j] = (((syn0[w0, j] + syn0[w1, j]) + syn0[w2, j]) + syn0[w3, j]) * sc
            elif k == 3:
                for j in range(d):
                    H[b, j] = ((syn0[w0, j] + syn0[w1, j]) + syn0[w2, j]) * sc
            elif k == 2:
                for j in range(d):
                    H[b, j] = (syn0[w0, j] + syn0[w1, j]) * sc
            else:
                for j in range(d):
                    H[b, j] = syn0[w0, j] * sc
        elif k == 4:
            for j in range(d):
                H[b, j] = ((((H[b, j] + syn0[w0, j]) + syn0[w1, j]) + syn0[w2, j]) + syn0[w3, j]) * sc
        elif k == 3:
            for j in range(d):
                H[b, j] = (((H[b, j] + syn0[w0, j]) + syn0[w1, j]) + syn0[w2, j]) * sc
        elif k == 2:
            for j in range(d):
                H[b, j] = ((H[b, j] + syn0[w0, j]) + syn0[w1, j]) * sc
        else:
            for j in range(d):
                H[b, j] = (H[b, j] + syn0[w0, j]) * sc
        done += k


@njit(inline="always")
def _gather_context(sent, n, i, window, state, syn0, ctx, H, d):
    """Reduced window around i (word2vec C's): context ids into ctx, their rows into H; returns n_in."""
    half = window - randbelow(state, window)
    n_in = 0
    for j in range(max(0, i - half), min(n, i + half + 1)):
        if j != i:
            w = sent[j]
            ctx[n_in] = w
            for q in range(d):
                H[n_in, q] = syn0[w, q]
            n_in += 1
    return n_in


@njit(inline="always")
def _scatter(syn0, ctx, GH, n_in, d):
    """Add each input row's gradient GH[r] to its word's row of the input matrix."""
    for r in range(n_in):
        w = ctx[r]
        for q in range(d):
            syn0[w, q] += GH[r, q]


def _sg_batched(model, loss, batched, subwords, width, sent, n, syn0, syn1, bias, tables, sub, settings, alpha, state,
                scratch, t, counter, out):
    """Skip-gram over one subsampled sentence ``sent[:n]``, batched (HogBatch).

    Each context word's input row predicts the centre word (word2vec C's
    orientation); one call of the loss per centre word takes all its context
    rows (a window of more than settings.group_rows rows: one call per near-equal
    group) against one shared set of noise draws with ns and nce, or, for hs, the
    centre word's path, its first nodes from the thread's private copy when
    settings.hot_rows > 0.
    """
    vector_width(width)
    d = row_dim(tables, syn0.shape[1])
    ctx, H, GH, cand, G = scratch.ctx[t], scratch.H[t], scratch.GH[t], scratch.cand[t], scratch.G[t]
    hot, hot_base, n_hot = scratch.hot[t], scratch.hot_base[t], settings.hot_rows
    hot_lo = syn1.shape[0] - 1 - n_hot  # inner nodes are rows 0..V-2, the root V-2
    for i in range(n):
        if i + 1 < n:
            next_centre(loss, tables, sent[i + 1])
        n_in = _gather_context(sent, n, i, settings.window, state, syn0, ctx, H, d)
        if n_in == 0:
            continue
        counter += 1
        want = counter % settings.loss_every == 0
        # int64: n_in starts as a literal 0 while Numba types this loop, and hs's called loops would be
        # compiled for that type too
        lv = batch_step(loss, H, np.int64(n_in), GH, sent[i], syn1, bias, tables, settings.negative, alpha, state,
                        cand, G, want, hot, hot_lo, settings.group_rows)
        if n_hot > 0:
            hs.merge_due(syn1, hot, hot_base, hot_lo, n_hot, d, counter, HOT_MERGE_EVERY, HOT_TIERS)
        _scatter(syn0, ctx, GH, n_in, d)
        if want:
            out[ST_LOSS] += lv
            out[ST_LOSS_N] += n_in
        out[ST_EXAMPLES] += n_in
    return counter


def _sg_exact(model, loss, batched, subwords, width, sent, n, syn0, syn1, bias, tables, sub, settings, alpha, state,
              scratch, t, counter, out):
    """Skip-gram over one subsampled sentence, one loss call per (context, centre) pair with
    fresh noise draws, exactly as word2vec C (``--exact``)."""
    vector_width(width)
    d = row_dim(tables, syn0.shape[1])
    ctx, H, GH, cand, G = scratch.ctx[t], scratch.H[t], scratch.GH[t], scratch.cand[t], scratch.G[t]
    for i in range(n):
        if i + 1 < n:
            next_centre(loss, tables, sent[i + 1])
        n_in = _gather_context(sent, n, i, settings.window, state, syn0, ctx, H, d)
        if n_in == 0:
            continue
        counter += 1
        want = counter % settings.loss_every == 0
        lv = 0.0
        for r in range(n_in):
            lv += loss_step(loss, H[r:r + 1], 1, GH[r:r + 1], sent[i], syn1, bias, tables, settings.negative,
                            alpha, state, cand, G, want)
        _scatter(syn0, ctx, GH, n_in, d)
        if want:
            out[ST_LOSS] += lv
            out[ST_LOSS_N] += n_in
        out[ST_EXAMPLES] += n_in
    return counter


def _cbow(model, loss, batched, subwords, width, sent, n, syn0, syn1, bias, tables, sub, settings, alpha, state,
          scratch, t, counter, out):
    """CBOW over one subsampled sentence: the mean of the context rows predicts the centre.

    As in word2vec C and gensim (cbow_mean=1), the input gradient is added
    unscaled to every context row.
    """
    vector_width(width)
    d = row_dim(tables, syn0.shape[1])
    ctx, H, GH, cand, G = scratch.ctx[t], scratch.H[t], scratch.GH[t], scratch.cand[t], scratch.G[t]
    hot, hot_base, n_hot = scratch.hot[t], scratch.hot_base[t], settings.hot_rows
    hot_lo = syn1.shape[0] - 1 - n_hot
    for i in range(n):
        if i + 1 < n:
            next_centre(loss, tables, sent[i + 1])
        half = settings.window - randbelow(state, settings.window)
        n_ctx = 0
        for j in range(max(0, i - half), min(n, i + half + 1)):
            if j != i:
                ctx[n_ctx] = sent[j]
                n_ctx += 1
        if n_ctx == 0:
            continue
        _mean_rows(H, 0, syn0, ctx, 0, n_ctx, -1, d)
        counter += 1
        want = counter % settings.loss_every == 0
        lv = cbow_hot_step(loss, H, 1, GH, sent[i], syn1, bias, tables, settings.negative, alpha, state, cand, G,
                           want, hot, hot_lo)
        if n_hot > 0:
            hs.merge_due(syn1, hot, hot_base, hot_lo, n_hot, d, counter, CBOW_HOT_MERGE_EVERY, CBOW_HOT_TIERS)
        g = GH[0]
        for r in range(n_ctx):
            _add_row(syn0[ctx[r]], g, d)  # the mean's gradient, unscaled, to every context row
        if want:
            out[ST_LOSS] += lv
            out[ST_LOSS_N] += 1
        out[ST_EXAMPLES] += 1
    return counter


#: centre words CBOW trains as one block (ns and nce): their means share one set of noise draws
CBOW_BLOCK = 4


def _cbow_block(model, loss, batched, subwords, width, sent, n, syn0, syn1, bias, tables, sub, settings, alpha, state,
                scratch, t, counter, out):
    """CBOW over one subsampled sentence, CBOW_BLOCK consecutive centre words at a time (ns and nce).

    The block's context means are the rows of H, each predicting its own centre word, all against
    one shared set of k noise draws (:func:`~fastw2v.kernels.common.sigmoid_block`): each draw's
    output row is loaded once for the block, not once per centre word. Every mean is taken before
    the block's updates (as batched skip-gram's window rows are). ctx[b] keeps centre b's reduced
    window for the scatter.
    """
    vector_width(width)
    d = row_dim(tables, syn0.shape[1])
    ctx, H, GH, cand, G = scratch.ctx[t], scratch.H[t], scratch.GH[t], scratch.cand[t], scratch.G[t]
    window = settings.window
    block = min(CBOW_BLOCK, 2 * window)
    corrected = loss == NCE
    if n < 2:
        return counter  # no centre word has a context
    i0 = 0
    while i0 < n:
        m = min(block, n - i0)
        want = False
        for b in range(m):
            i = i0 + b
            half = window - randbelow(state, window)
            ctx[b] = half
            _mean_rows(H, b, syn0, sent, max(0, i - half), min(n, i + half + 1), i, d)
            cand[b] = sent[i]
            counter += 1
            if counter % settings.loss_every == 0:
                want = True
        lv = sigmoid_block(H, np.int64(m), GH, syn1, bias, tables, settings.negative, alpha, state, cand, G, want,
                           corrected)
        for b in range(m):
            i = i0 + b
            half = ctx[b]
            for j in range(max(0, i - half), min(n, i + half + 1)):
                if j != i:
                    _add_row(syn0[sent[j]], GH[b], d)  # the mean's gradient, unscaled, to every context row
        if want:
            out[ST_LOSS] += lv
            out[ST_LOSS_N] += m
        out[ST_EXAMPLES] += m
        i0 += m
    return counter


# ---------------------------------------------------------------- subwords
# With character n-grams (fastText) a word's input vector is the mean of the rows
# sub.ptr/sub.ids list for it: its own row, then one row per hashed n-gram. The
# gradient of that mean is added, unscaled, to every one of those rows, as
# fastText does for skip-gram and CBOW (it divides by the count only in
# supervised mode). Skip-gram takes fastText's orientation: the centre word's
# composed vector predicts each context word, so the composition is built once
# per centre word rather than once per pair.


@njit(inline="always")
def _compose(sub, w, syn0, H, r, d):
    """H[r] = mean of the input rows of word w (its row and its n-gram rows); returns their count."""
    lo, hi = sub.ptr[w], sub.ptr[w + 1]
    for q in range(d):
        H[r, q] = 0.0
    for p in range(lo, hi):
        k = sub.ids[p]
        for q in range(d):
            H[r, q] += syn0[k, q]
    inv = np.float32(1.0 / (hi - lo))
    for q in range(d):
        H[r, q] *= inv
    return hi - lo


@njit(inline="always")
def _scatter_sub(sub, w, syn0, GH, r, d):
    """Add GH[r] to every input row of word w."""
    for p in range(sub.ptr[w], sub.ptr[w + 1]):
        k = sub.ids[p]
        for q in range(d):
            syn0[k, q] += GH[r, q]


@njit(inline="always")
def _window_targets(sent, n, i, window, state, ctx):
    """Reduced window around i: the context word ids into ctx; returns their count."""
    half = window - randbelow(state, window)
    m = 0
    for j in range(max(0, i - half), min(n, i + half + 1)):
        if j != i:
            ctx[m] = sent[j]
            m += 1
    return m


@njit(inline="always")
def _shared_noise_step(H, targets, m, GH, syn1, bias, tables, negative, alpha, state, cand, G, want_loss, corrected):
    """One input h = H[0] against m true words and k noise draws shared by all m (ns, nce).

    The sum over the m pairs of the per-pair logistic losses, with the same k
    draws for every pair (HogBatch's sharing, in fastText's orientation):
    loss = sum_j softplus(-z_tj) + sum_n (m - hits_n) softplus(z_n), where hits_n
    counts the true words equal to draw n (a draw equal to a pair's own true word
    is skipped for that pair, as word2vec C skips it). corrected: NCE's logits
    h.u + b - log kQ (and bias updates); else negative sampling's h.u.
    cand: [targets, draws]; G (1, m + k) the gradients, scaled by alpha.
    Writes dL/dh (scaled) into GH[0]; returns the summed loss.
    """
    d = row_dim(tables, H.shape[1])
    for c in range(m):
        cand[c] = targets[c]
    for s in range(negative):
        cand[m + s] = alias_draw(tables.noise_prob, tables.noise_alias, state)
    n_c = m + negative
    loss = 0.0
    for c in range(n_c):
        w = cand[c]
        weight = 1.0
        if c >= m:
            hits = 0
            for j in range(m):
                if targets[j] == w:
                    hits += 1
            weight = np.float32(m - hits)
            if hits == m:
                G[0, c] = 0.0
                continue
        if corrected:
            z = corrected_logit(H, 0, syn1, bias, tables.noise_logq, w, d)
        else:
            z = dot_rows(H, 0, syn1, w, d)
        f, l_pos, l_neg = sigmoid_and_softplus(z)
        if c < m:
            G[0, c] = (1.0 - f) * alpha
            if want_loss:
                loss += l_pos
        else:
            G[0, c] = -f * alpha * weight
            if want_loss:
                loss += weight * l_neg
    apply_batch(H, 1, GH, syn1, cand, n_c, G, d)
    if corrected:
        for c in range(n_c):
            bias[cand[c]] += G[0, c]
    return loss


#: the names the sentence loops call; each copy of a loop has them bound to its loss's functions
hot_step = cbow_hot_step = window_step = next_centre = batch_step = None


def _sg_sub_batched(model, loss, batched, subwords, width, sent, n, syn0, syn1, bias, tables, sub, settings, alpha,
                    state, scratch, t, counter, out):
    """Skip-gram with n-grams: the centre word's composed vector predicts each context word.

    The composition is built once per centre word, the window's pairs are scored
    against it (each with its own noise draws, or with ``settings.share_noise``
    one set shared by the window, see :func:`window_step`), and the summed input
    gradient is added to the centre's rows once: the centre's rows stay fixed for its window, a delayed update in
    the Hogwild spirit, where fastText recomposes and updates after every pair.
    """
    vector_width(width)
    d = row_dim(tables, syn0.shape[1])
    ctx, H, GH, cand, G = scratch.ctx[t], scratch.H[t], scratch.GH[t], scratch.cand[t], scratch.G[t]
    for i in range(n):
        m = _window_targets(sent, n, i, settings.window, state, ctx)
        if m == 0:
            continue
        counter += 1
        want = counter % settings.loss_every == 0
        _compose(sub, sent[i], syn0, H, 0, d)
        lv = window_step(loss, H, ctx, m, GH, syn1, bias, tables, settings.negative, alpha, state, cand, G, want,
                         settings.share_noise)
        _scatter_sub(sub, sent[i], syn0, GH, 0, d)
        if want:
            out[ST_LOSS] += lv
            out[ST_LOSS_N] += m
        out[ST_EXAMPLES] += m
    return counter


def _sg_sub_exact(model, loss, batched, subwords, width, sent, n, syn0, syn1, bias, tables, sub, settings, alpha, state,
                  scratch, t, counter, out):
    """Skip-gram with n-grams exactly as fastText: per pair, compose the centre's vector,
    take one loss step against the context word, add the gradient to the centre's rows."""
    vector_width(width)
    d = row_dim(tables, syn0.shape[1])
    ctx, H, GH, cand, G = scratch.ctx[t], scratch.H[t], scratch.GH[t], scratch.cand[t], scratch.G[t]
    for i in range(n):
        m = _window_targets(sent, n, i, settings.window, state, ctx)
        if m == 0:
            continue
        counter += 1
        want = counter % settings.loss_every == 0
        lv = 0.0
        for r in range(m):
            _compose(sub, sent[i], syn0, H, 0, d)
            lv += loss_step(loss, H[0:1], 1, GH[0:1], ctx[r], syn1, bias, tables, settings.negative, alpha, state,
                            cand, G, want)
            _scatter_sub(sub, sent[i], syn0, GH, 0, d)
        if want:
            out[ST_LOSS] += lv
            out[ST_LOSS_N] += m
        out[ST_EXAMPLES] += m
    return counter


def _cbow_sub(model, loss, batched, subwords, width, sent, n, syn0, syn1, bias, tables, sub, settings, alpha, state,
              scratch, t, counter, out):
    """CBOW with n-grams, as fastText: h is the mean over every input row of every context
    word (word rows and n-gram rows pooled), and its gradient goes unscaled to each of them."""
    vector_width(width)
    d = row_dim(tables, syn0.shape[1])
    ctx, H, GH, cand, G = scratch.ctx[t], scratch.H[t], scratch.GH[t], scratch.cand[t], scratch.G[t]
    for i in range(n):
        m = _window_targets(sent, n, i, settings.window, state, ctx)
        if m == 0:
            continue
        for q in range(d):
            H[0, q] = 0.0
        rows = 0
        for r in range(m):
            w = ctx[r]
            for p in range(sub.ptr[w], sub.ptr[w + 1]):
                k = sub.ids[p]
                for q in range(d):
                    H[0, q] += syn0[k, q]
            rows += sub.ptr[w + 1] - sub.ptr[w]
        inv = np.float32(1.0 / rows)
        for q in range(d):
            H[0, q] *= inv
        counter += 1
        want = counter % settings.loss_every == 0
        lv = loss_step(loss, H, 1, GH, sent[i], syn1, bias, tables, settings.negative, alpha, state, cand, G, want)
        for r in range(m):
            _scatter_sub(sub, ctx[r], syn0, GH, 0, d)
        if want:
            out[ST_LOSS] += lv
            out[ST_LOSS_N] += 1
        out[ST_EXAMPLES] += 1
    return counter


#: the model table: (model, batched, subwords) -> sentence loop; :func:`_loop_for` swaps in :func:`_cbow_block`
#: for batched CBOW with ns or nce (hs and softmax have no shared draws to batch)
SENTENCE_LOOPS = {(SG, True, False): _sg_batched, (SG, False, False): _sg_exact,
                  (CBOW, True, False): _cbow, (CBOW, False, False): _cbow,
                  (SG, True, True): _sg_sub_batched, (SG, False, True): _sg_sub_exact,
                  (CBOW, True, True): _cbow_sub, (CBOW, False, True): _cbow_sub}


def sentence(model, loss, batched, subwords, width, sent, n, syn0, syn1, bias, tables, sub, settings, alpha, state,
             scratch, t, counter, out):
    """Train one subsampled sentence with the (model, loss, batched, subwords) picked at typing time,
    its loops compiled for ``width``-bit vectors (:func:`~fastw2v.kernels.common.vector_width`).

    Returns the updated example counter (it decides which examples' loss is measured).
    """
    raise NotImplementedError("sentence is called from Numba code only")


@overload(sentence, prefer_literal=True, jit_options={"fastmath": FASTMATH, "error_model": "numpy", **NOALIAS})
def _sentence(model, loss, batched, subwords, width, sent, n, syn0, syn1, bias, tables, sub, settings, alpha, state,
              scratch, t, counter, out):
    return _loop_for(_literal(model, "model"), _literal(loss, "loss"), _literal(batched, "batched"),
                     _literal(subwords, "subwords"), _literal(width, "width"))


@functools.lru_cache(maxsize=None)
def _loop_for(model: int, loss: int, batched: bool, subwords: bool, width: int):
    """A copy of the sentence loop of (model, batched, subwords) whose step names (loss_step, hot_step,
    cbow_hot_step, window_step, next_centre, batch_step) are the inline functions of ``loss`` and
    ``width`` (:func:`_steps_for`); batched CBOW with ns or nce takes :func:`_cbow_block`."""
    loop = SENTENCE_LOOPS[model, batched, subwords]
    if loop is _cbow and batched and loss in (NS, NCE):
        loop = _cbow_block
    bound = types_module.FunctionType(loop.__code__, {**loop.__globals__, **_steps_for(loss, width)}, loop.__name__,
                                      loop.__defaults__, loop.__closure__)
    bound.__doc__ = loop.__doc__
    return bound


@njit(parallel=True, fastmath=FASTMATH, error_model="numpy", cache=True)
def train_blocks(tokens, starts, block_sent, syn0, syn1, bias, tables, keep_prob, model, loss, batched, subwords,
                 width, sub, settings, alpha0, alpha1, states, scratch, stats):
    """Train over sentences ``block_sent[0]:block_sent[-1]``, split into blocks.

    tokens: int32 (n_tokens,); starts: int64 (n_sentences + 1,) sentence offsets.
    block_sent: int64 (n_blocks + 1,) sentence index bounds of the blocks; the
    caller makes several blocks per thread, and each thread takes the next
    untrained block from one shared counter (scratch.next_block, by
    :func:`~fastw2v.kernels.common.fetch_add`), so a thread that finishes early
    takes another block instead of waiting at the end of the call. (A prange
    over the blocks is split into fixed contiguous shares by Numba's OpenMP
    and workqueue layers, whatever the chunk size: a thread slowed by the
    machine held the other one up at every call.)
    syn0: float32 (V, d), or (V + buckets, d) with subwords; syn1: float32 (V, d);
    both updated in place without locks (Hogwild).
    bias: float32 (V,). keep_prob: float32 (V,) subsampling keep probabilities.
    model, loss: codes (config.MODELS / LOSSES); batched, subwords: bool; width:
    the vector width in bits the loops are compiled for (0: 256 bits;
    :func:`~fastw2v.kernels.common.vector_width`). All five are compile-time
    literals: each combination is its own compiled kernel, and without subwords
    no n-gram code is compiled in.
    sub: :data:`Subwords`, each word's input rows (1-element dummies without subwords).
    settings: :data:`Settings`. alpha falls linearly from alpha0 at the first
    sentence of the call to alpha1 at its end, whichever block a sentence is in.
    states: uint64 (n_blocks, 16) random states and stats: float64 (n_blocks, 16)
    (columns ST_*), one padded row per block (so one thread walking the blocks
    in order gives the same numbers every run; one thread takes the blocks in
    order). scratch: :data:`Scratch`, indexed by the worker's thread id (but
    next_block, shared); nothing is allocated inside the loop.
    """
    literally(model)
    literally(loss)
    literally(batched)
    literally(subwords)
    literally(width)
    n_blocks = block_sent.shape[0] - 1
    c_lo = starts[block_sent[0]]
    c_span = max(starts[block_sent[n_blocks]] - c_lo, 1)
    queue = scratch.next_block
    queue[0] = 0
    # at least one iteration per thread: scratch has a row for every thread there can be, and a thread's
    # iterations after its first find the counter spent (numba.get_num_threads() here would keep the
    # kernel out of the disk cache: it is a call through a ctypes pointer)
    for _ in prange(scratch.sent.shape[0]):
        b = fetch_add(queue, 0, 1)
        while b < n_blocks:
            _train_block(b, tokens, starts, block_sent, syn0, syn1, bias, tables, keep_prob, model, loss, batched,
                         subwords, width, sub, settings, alpha0, alpha1, c_lo, c_span, states, scratch, stats)
            b = fetch_add(queue, 0, 1)


# The block's work is its own function, not the prange loop's body: Numba outlines a prange body into
# a new function and types everything in it again, so the whole sentence loop (the bulk of the
# compile) was compiled twice per variant. Called from the loop, it is compiled once.
@njit(fastmath=FASTMATH, error_model="numpy", cache=True)
def _train_block(b, tokens, starts, block_sent, syn0, syn1, bias, tables, keep_prob, model, loss, batched, subwords,
                 width, sub, settings, alpha0, alpha1, c_lo, c_span, states, scratch, stats):
    """Block b of :func:`train_blocks` (same arguments; c_lo, c_span: the call's first token and token span)."""
    literally(model)
    literally(loss)
    literally(batched)
    literally(subwords)
    literally(width)
    vector_width(width)  # the private rows' loads and merges
    # every array below carries no reference count: without this each array passed on or sliced in the
    # sentence loops was an atomic add on a meminfo every thread writes (common.borrow); the caller holds them
    tokens, starts, block_sent, syn0, syn1, bias, tables, keep_prob = borrow(
        (tokens, starts, block_sent, syn0, syn1, bias, tables, keep_prob))
    sub, states, scratch, stats = borrow((sub, states, scratch, stats))
    t = numba.get_thread_id()
    state = states[b]
    out = stats[b]
    sent = scratch.sent[t]
    out[ST_FIRST_POS] = -1.0
    out[ST_THREAD] = t
    counter = np.int64(0)
    n_hot = settings.hot_rows  # hs's private root rows (batched skip-gram, CBOW): loaded per block, merged at its end
    hot_lo = syn1.shape[0] - 1 - n_hot
    if n_hot > 0:
        hs.load_hot(syn1, scratch.hot[t], scratch.hot_base[t], hot_lo, n_hot, row_dim(tables, syn1.shape[1]))
    for s in range(block_sent[b], block_sent[b + 1]):
        alpha = np.float32(alpha0 + (alpha1 - alpha0) * (np.float64(starts[s] - c_lo) / c_span))
        if s == block_sent[b]:
            out[ST_FIRST_POS] = starts[s]
            out[ST_FIRST_ALPHA] = alpha
        n = subsample(tokens, starts[s], starts[s + 1], keep_prob, state, sent)
        out[ST_WORDS] += starts[s + 1] - starts[s]
        out[ST_EFFECTIVE] += n
        counter = sentence(model, loss, batched, subwords, width, sent, n, syn0, syn1, bias, tables, sub, settings,
                           alpha, state, scratch, t, counter, out)
    if n_hot > 0:
        hs.merge_hot(syn1, scratch.hot[t], scratch.hot_base[t], hot_lo, n_hot, row_dim(tables, syn1.shape[1]))


@njit(fastmath=FASTMATH, error_model="numpy", cache=True)
def subsample(tokens, lo, hi, keep_prob, state, sent):
    """Copy the tokens[lo:hi] that subsampling keeps into sent; returns how many.

    keep_prob: float32 (V,); a word with keep probability 1 draws no random number, so a run
    without subsampling leaves the random stream to the losses. state: uint64 random state.
    """
    n = np.int64(0)
    for p in range(lo, hi):
        w = tokens[p]
        kp = keep_prob[w]
        if kp < 1.0 and kp < uniform(state):
            continue
        sent[n] = w
        n += 1
    return n


PAD_BYTES = 128  # two cache lines: no false sharing, even with adjacent-line prefetch


def aligned_zeros(shape, dtype, align: int = PAD_BYTES) -> np.ndarray:
    """Zeros whose first byte sits on an ``align``-byte boundary (rows padded by the caller)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    raw = np.zeros(n * dtype.itemsize + align, dtype=np.uint8)
    off = (-raw.ctypes.data) % align
    return raw[off:off + n * dtype.itemsize].view(dtype).reshape(shape)


def _pad(n_items: int, itemsize: int) -> int:
    return n_items + -(-PAD_BYTES // itemsize)


def make_scratch(n_threads: int, max_sentence_length: int, window: int, dim: int, max_cand: int,
                 hot_rows: int = 0) -> Scratch:
    """Per-thread buffers for :func:`train_blocks` (allocated once per training run).

    Each thread's block is followed by at least 128 unused bytes: the context
    ids and candidates are rewritten for every centre word, and two threads'
    rows sharing a cache line would bounce it between cores (false sharing).
    Arrays stay C-contiguous; the kernels only read the leading rows.
    dim: the row width of the weights as the kernels get them (a padded store's, :mod:`fastw2v.rows`: the
    H, GH and private rows then start on 64-byte lines too; the loops run to Tables.dim).
    hot_rows: rows of each thread's private copy of hs's root nodes (Settings.hot_rows; 0: one unused row).
    next_block, int64 (16,), is not per thread: it is the counter :func:`train_blocks` hands out the blocks with.
    """
    n_in = 2 * window
    pad_rows = lambda row_bytes: -(-PAD_BYTES // row_bytes)  # noqa: E731
    return Scratch(
        aligned_zeros((n_threads, _pad(max_sentence_length, 4)), np.int32),
        aligned_zeros((n_threads, _pad(n_in, 4)), np.int32),
        aligned_zeros((n_threads, n_in + pad_rows(4 * dim), dim), np.float32),
        aligned_zeros((n_threads, n_in + pad_rows(4 * dim), dim), np.float32),
        aligned_zeros((n_threads, _pad(max_cand, 8)), np.int64),
        aligned_zeros((n_threads, n_in + pad_rows(4 * max_cand), max_cand), np.float32),
        aligned_zeros((n_threads, max(1, hot_rows) + pad_rows(4 * dim), dim), np.float32),
        aligned_zeros((n_threads, max(1, hot_rows) + pad_rows(4 * dim), dim), np.float32),
        aligned_zeros((PAD_BYTES // 8,), np.int64),  # next_block: the one counter every thread updates
    )


def no_subwords() -> Subwords:
    """The 1-element dummy :data:`Subwords` of kernels without n-grams (same argument types)."""
    return Subwords(np.zeros(2, dtype=np.int64), np.zeros(1, dtype=np.int32))


def make_stats(n_blocks: int) -> np.ndarray:
    """float64 (n_blocks, STATS_WIDTH), 128-byte aligned rows."""
    return aligned_zeros((n_blocks, STATS_WIDTH), np.float64)
