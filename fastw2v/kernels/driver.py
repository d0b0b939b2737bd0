"""Skip-gram and CBOW over one sentence, and the prange kernel over token blocks.

The Python trainer splits each stretch of the token stream into one
contiguous block of sentences per thread and calls :func:`train_blocks`; the
learning rate falls linearly from ``alpha0`` to ``alpha1`` across each block,
so the schedule stays in Python between calls.
"""
import numba
import numpy as np
from numba import njit, prange

from . import hs, ns, sampled
from .rng import randbelow, uniform

SG = 0
CBOW = 1
# loss codes, as in fastw2v.config.LOSSES
NS = 0
HS = 1
NCE = 2
SOFTMAX = 3

# stats columns, per thread (one 64-byte row each)
ST_LOSS = 0  # summed loss of the examples whose loss was computed
ST_LOSS_N = 1  # number of those examples
ST_WORDS = 2  # in-vocabulary tokens read (before subsampling)
ST_EFFECTIVE = 3  # tokens kept after subsampling
ST_EXAMPLES = 4  # (input, target) examples trained


@njit(inline="always")
def loss_step(loss, H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss):
    """The loss table: one branch per loss, all with the shared signature."""
    if loss == NS:
        return ns.step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss)
    if loss == HS:
        return hs.step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want_loss)
    if loss == NCE:
        return sampled.nce_step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G,
                                want_loss)
    return sampled.softmax_step(H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G,
                                want_loss)


@njit(inline="always")
def _add_row(dst, src, d):
    for j in range(d):
        dst[j] += src[j]


@njit(fastmath=True, error_model="numpy", cache=True)
def sg_sentence(sent, n, syn0, syn1, bias, tables, loss, window, negative, batched, alpha, state,
                ctx, H, GH, cand, G, loss_every, counter, out):
    """Skip-gram over one subsampled sentence ``sent[:n]``.

    Each context word's input row predicts the centre word (word2vec C's
    orientation). ``batched``: one call of the loss per centre word with all
    its context rows and one shared set of noise draws (HogBatch); else one
    call per (context, centre) pair with fresh draws, exactly as word2vec C.
    """
    d = syn0.shape[1]
    for i in range(n):
        half = window - randbelow(state, window)
        lo = max(0, i - half)
        hi = min(n, i + half + 1)
        n_in = 0
        for j in range(lo, hi):
            if j != i:
                w = sent[j]
                ctx[n_in] = w
                src = syn0[w]
                dst = H[n_in]
                for q in range(d):
                    dst[q] = src[q]
                n_in += 1
        if n_in == 0:
            continue
        counter += 1
        want = counter % loss_every == 0
        target = sent[i]
        if batched:
            lv = loss_step(loss, H, n_in, GH, target, syn1, bias, tables, negative, alpha, state, cand, G, want)
            for r in range(n_in):
                _add_row(syn0[ctx[r]], GH[r], d)
        else:
            lv = 0.0
            for r in range(n_in):
                lv += loss_step(loss, H[r:r + 1], 1, GH[r:r + 1], target, syn1, bias, tables, negative, alpha,
                                state, cand, G, want)
                _add_row(syn0[ctx[r]], GH[r], d)
        if want:
            out[ST_LOSS] += lv
            out[ST_LOSS_N] += n_in
        out[ST_EXAMPLES] += n_in
    return counter


@njit(fastmath=True, error_model="numpy", cache=True)
def cbow_sentence(sent, n, syn0, syn1, bias, tables, loss, window, negative, batched, alpha, state,
                  ctx, H, GH, cand, G, loss_every, counter, out):
    """CBOW over one subsampled sentence: the mean of the context rows predicts the centre.

    As in word2vec C and gensim (cbow_mean=1), the input gradient is added
    unscaled to every context row.
    """
    d = syn0.shape[1]
    h = H[0]
    for i in range(n):
        half = window - randbelow(state, window)
        lo = max(0, i - half)
        hi = min(n, i + half + 1)
        for q in range(d):
            h[q] = 0.0
        n_ctx = 0
        for j in range(lo, hi):
            if j != i:
                w = sent[j]
                ctx[n_ctx] = w
                _add_row(h, syn0[w], d)
                n_ctx += 1
        if n_ctx == 0:
            continue
        inv = np.float32(1.0 / n_ctx)
        for q in range(d):
            h[q] *= inv
        counter += 1
        want = counter % loss_every == 0
        lv = loss_step(loss, H, 1, GH, sent[i], syn1, bias, tables, negative, alpha, state, cand, G, want)
        g = GH[0]
        for r in range(n_ctx):
            _add_row(syn0[ctx[r]], g, d)
        if want:
            out[ST_LOSS] += lv
            out[ST_LOSS_N] += 1
        out[ST_EXAMPLES] += 1
    return counter


@njit(parallel=True, fastmath=True, error_model="numpy", cache=True)
def train_blocks(tokens, starts, block_sent, syn0, syn1, bias, tables, keep_prob,
                 model, loss, window, negative, batched, alpha0, alpha1, loss_every,
                 states, scratch, stats):
    """Train over sentences ``block_sent[0]:block_sent[-1]``, split into blocks.

    tokens: int32 (n_tokens,); starts: int64 (n_sentences + 1,) sentence offsets.
    block_sent: int64 (n_blocks + 1,) sentence index bounds of the blocks; the
    caller makes several blocks per thread and sets a chunk size of 1, so a
    thread that finishes early takes the next block instead of waiting.
    syn0, syn1: float32 (V, d), updated in place without locks (Hogwild).
    bias: float32 (V,). keep_prob: float32 (V,) subsampling keep probabilities.
    states: uint64 (n_blocks, 8) random states and stats: float64 (n_blocks, 8)
    sums, one row per block (so one thread walking the blocks in order gives the
    same numbers every run). scratch: per-thread buffers (sent, ctx, H, GH, cand,
    G) indexed by the worker's thread id; nothing is allocated inside the loop.
    """
    n_blocks = block_sent.shape[0] - 1
    sent_buf, ctx_buf, h_buf, gh_buf, cand_buf, g_buf = scratch
    for b in prange(n_blocks):
        t = numba.get_thread_id()
        state = states[b]
        out = stats[b]
        sent = sent_buf[t]
        s_lo = block_sent[b]
        s_hi = block_sent[b + 1]
        w_lo = starts[s_lo]
        span = max(starts[s_hi] - w_lo, 1)
        counter = np.int64(0)
        for s in range(s_lo, s_hi):
            a = alpha0 + (alpha1 - alpha0) * (np.float64(starts[s] - w_lo) / span)
            alpha = np.float32(a)
            n = 0
            for p in range(starts[s], starts[s + 1]):
                w = tokens[p]
                kp = keep_prob[w]
                if kp < 1.0 and kp < uniform(state):
                    continue
                sent[n] = w
                n += 1
            out[ST_WORDS] += starts[s + 1] - starts[s]
            out[ST_EFFECTIVE] += n
            if model == SG:
                counter = sg_sentence(sent, n, syn0, syn1, bias, tables, loss, window, negative, batched, alpha,
                                      state, ctx_buf[t], h_buf[t], gh_buf[t], cand_buf[t], g_buf[t], loss_every,
                                      counter, out)
            else:
                counter = cbow_sentence(sent, n, syn0, syn1, bias, tables, loss, window, negative, batched, alpha,
                                        state, ctx_buf[t], h_buf[t], gh_buf[t], cand_buf[t], g_buf[t], loss_every,
                                        counter, out)


PAD_BYTES = 128  # two cache lines: no false sharing, even with adjacent-line prefetch


def _pad(n_items: int, itemsize: int) -> int:
    return n_items + -(-PAD_BYTES // itemsize)


def make_scratch(n_threads: int, max_sentence_length: int, window: int, dim: int, max_cand: int):
    """Per-thread buffers for :func:`train_blocks` (allocated once per training run).

    Each thread's block is followed by at least 128 unused bytes: the context
    ids and candidates are rewritten for every centre word, and two threads'
    rows sharing a cache line would bounce it between cores (false sharing).
    Arrays stay C-contiguous; the kernels only read the leading rows.
    """
    n_in = 2 * window
    pad_rows = lambda row_bytes: -(-PAD_BYTES // row_bytes)  # noqa: E731
    return (
        np.zeros((n_threads, _pad(max_sentence_length, 4)), dtype=np.int32),
        np.zeros((n_threads, _pad(n_in, 4)), dtype=np.int32),
        np.zeros((n_threads, n_in + pad_rows(4 * dim), dim), dtype=np.float32),
        np.zeros((n_threads, n_in + pad_rows(4 * dim), dim), dtype=np.float32),
        np.zeros((n_threads, _pad(max_cand, 8)), dtype=np.int64),
        np.zeros((n_threads, n_in + pad_rows(4 * max_cand), max_cand), dtype=np.float32),
    )
