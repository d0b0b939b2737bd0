"""Kernels against a NumPy reference of the word2vec formulas.

The reference draws its random numbers from the same per-thread stream as
the kernel, so whole sentences can be replayed and compared to 1e-5.
"""
from collections import namedtuple

import numba
import numpy as np
import pytest
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

import fastw2v
from fastw2v.config import TrainConfig
from fastw2v.kernels import common, driver, ns
from fastw2v.kernels.rng import randbelow, seed_states
from fastw2v.sampler import alias_draw
from fastw2v.trainer import _has_512_bit_vectors, build_tables

V, D, K = 30, 12, 4


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def setup(seed=0):
    rng = np.random.default_rng(seed)
    syn0 = (rng.normal(size=(V, D)) * 0.3).astype(np.float32)
    syn1 = (rng.normal(size=(V, D)) * 0.3).astype(np.float32)
    counts = (1000 / np.arange(1, V + 1)).astype(np.int64) + 1
    tables = build_tables(counts, TrainConfig(negative=K))
    return syn0, syn1, tables


def ref_ns(H, target, syn1, cand, alpha):
    """Negative sampling on inputs H (n, d) and candidates [target, negatives...].

    Returns (GH, new syn1, loss) from the formulas: logits = H U^T,
    G = alpha * (label - sigmoid(logits)), GH = G U, U += G^T H.
    """
    U = syn1[cand].astype(np.float64)
    logits = H.astype(np.float64) @ U.T
    labels = np.zeros(len(cand))
    labels[0] = 1.0
    G = alpha * (labels - sigmoid(logits))
    skip = np.array([c > 0 and w == target for c, w in enumerate(cand)])
    G[:, skip] = 0.0
    loss_terms = np.where(labels == 1, -np.log(sigmoid(logits)), -np.log(sigmoid(-logits)))
    loss = loss_terms[:, ~skip].sum()
    GH = G @ U
    new = syn1.astype(np.float64).copy()
    for c, w in enumerate(cand):
        new[w] += G[:, c] @ H
    return GH, new, loss


@njit(cache=True)  # cached: a warm run skips its compile
def _ns_step(H, n_in, GH, target, syn1, tables, k, alpha, state, cand, G):
    return ns.step(H, n_in, GH, target, syn1, syn1[0], tables, k, alpha, state, cand, G, True)


@pytest.mark.parametrize("n_in", [1, 3, 4, 5])  # 3, 5: the register tiles' odd rows
def test_ns_step_equals_reference(n_in):
    syn0, syn1, tables = setup()
    H = syn0[:n_in].copy()
    GH = np.zeros_like(H)
    cand = np.zeros(K + 1, np.int64)
    G = np.zeros((n_in, K + 1), np.float32)
    state = seed_states(11, 1)[0]
    before = syn1.copy()
    loss = _ns_step(H, n_in, GH, 3, syn1, tables, K, np.float32(0.05), state, cand, G)
    GH_ref, syn1_ref, loss_ref = ref_ns(H, 3, before, list(cand), 0.05)
    assert np.abs(GH - GH_ref).max() < 1e-5
    assert np.abs(syn1 - syn1_ref).max() < 1e-5
    assert abs(loss - loss_ref) < 1e-4
    untouched = np.setdiff1d(np.arange(V), cand)
    assert np.array_equal(syn1[untouched], before[untouched])


def test_ns_step_skips_noise_equal_to_target():
    syn0, syn1, tables = setup()
    # noise table that always draws word 0
    tables = tables._replace(noise_prob=np.ones(1), noise_alias=np.zeros(1, np.int32))
    H = syn0[:1].copy()
    GH = np.zeros_like(H)
    cand = np.zeros(K + 1, np.int64)
    G = np.zeros((1, K + 1), np.float32)
    before = syn1.copy()
    _ns_step(H, 1, GH, 0, syn1, tables, K, np.float32(0.05), seed_states(1, 1)[0], cand, G)
    GH_ref, syn1_ref, _ = ref_ns(H, 0, before, [0] * (K + 1), 0.05)
    assert np.allclose(GH, GH_ref, atol=1e-6) and np.allclose(syn1, syn1_ref, atol=1e-6)


@pytest.mark.parametrize("n_in", [1, 2, 5])
def test_ns_step_repeated_draws_update_sequentially(n_in):
    """Every draw the same word (not the target): one output row appears five times
    among the candidates, inside one register tile, and gets each update in turn.
    d = 37 runs the vector loops and their remainders."""
    d = 37
    rng = np.random.default_rng(3)
    syn1 = (rng.normal(size=(V, d)) * 0.3).astype(np.float32)
    H = (rng.normal(size=(n_in, d)) * 0.3).astype(np.float32)
    _, _, tables = setup()
    tables = tables._replace(noise_prob=np.ones(1), noise_alias=np.zeros(1, np.int32))
    GH = np.zeros_like(H)
    cand = np.zeros(K + 1, np.int64)
    G = np.zeros((n_in, K + 1), np.float32)
    before = syn1.copy()
    loss = _ns_step(H, n_in, GH, 3, syn1, tables, K, np.float32(0.05), seed_states(1, 1)[0], cand, G)
    assert list(cand) == [3] + [0] * K
    GH_ref, syn1_ref, loss_ref = ref_ns(H, 3, before, list(cand), 0.05)
    assert np.abs(GH - GH_ref).max() < 1e-5
    assert np.abs(syn1 - syn1_ref).max() < 1e-5
    assert abs(loss - loss_ref) < 1e-4


def ref_block(H, targets, syn1, bias, logq, negs, alpha, corrected):
    """CBOW's block (ns, or nce when ``corrected``): row r of H predicts targets[r] against the
    shared draws negs, a draw equal to row r's target skipped for row r. Returns (GH, new syn1, new bias)."""
    H = H.astype(np.float64)
    Ut, Un = syn1[targets].astype(np.float64), syn1[negs].astype(np.float64)
    zt = (H * Ut).sum(axis=1)
    zn = H @ Un.T
    if corrected:
        zt = zt + bias[targets] - logq[targets]
        zn = zn + bias[negs] - logq[negs]
    gt = alpha * (1.0 - sigmoid(zt))
    gn = -alpha * sigmoid(zn)
    gn[np.asarray(targets)[:, None] == np.asarray(negs)[None, :]] = 0.0
    GH = gt[:, None] * Ut + gn @ Un
    syn1, bias = syn1.copy(), bias.astype(np.float64).copy()
    for r, t in enumerate(targets):
        syn1[t] += gt[r] * H[r]
        if corrected:
            bias[t] += gt[r]
    for c, w in enumerate(negs):
        syn1[w] += gn[:, c] @ H
        if corrected:
            bias[w] += gn[:, c].sum()
    return GH, syn1, bias


def ref_cbow_blocks(sent, syn0, syn1, bias, tables, window, alpha, state, corrected):
    """Replays the batched CBOW loop: CBOW_BLOCK centre words at a time, each block's means taken
    before its updates and one set of K draws shared by the block."""
    prob, alias = tables.noise_prob, tables.noise_alias
    syn0, syn1 = syn0.astype(np.float64).copy(), syn1.astype(np.float64).copy()
    n, block = len(sent), min(driver.CBOW_BLOCK, 2 * window)
    if n < 2:
        return syn0, syn1, bias
    for i0 in range(0, n, block):
        centres = range(i0, min(n, i0 + block))
        ctxs = []
        for i in centres:
            ctxs.append(ref_window(sent, i, window, state))
        H = np.array([syn0[c].mean(axis=0) for c in ctxs])
        negs = [alias_draw(prob, alias, state) for _ in range(K)]
        GH, syn1, bias = ref_block(H, [sent[i] for i in centres], syn1, bias, tables.noise_logq, negs, alpha,
                                   corrected)
        for ctx, g in zip(ctxs, GH):
            for w in ctx:
                syn0[w] += g
    return syn0, syn1, bias


def ref_window(sent, i, window, state):
    """The context words of centre i in a window reduced as the kernels reduce it (word2vec C's)."""
    half = window - randbelow(state, window)
    return [sent[j] for j in range(max(0, i - half), min(len(sent), i + half + 1)) if j != i]


def ref_groups(m, group_rows):
    """Rows 0..m-1 in the near-equal groups of at most group_rows that batched skip-gram trains (one group: 0)."""
    n_g = -(-m // group_rows) if 0 < group_rows < m else 1
    return [list(range(m * q // n_g, m * (q + 1) // n_g)) for q in range(n_g)]


def ref_sentence(model, sent, syn0, syn1, tables, window, alpha, batched, state, group_rows=0):
    """Replays sg_sentence / cbow_sentence with the same random draws (batched skip-gram: a window of more
    than ``group_rows`` rows in near-equal groups, each with its own draws, when group_rows > 0)."""
    prob, alias = tables.noise_prob, tables.noise_alias
    if model == "cbow" and batched:
        syn0, syn1, _ = ref_cbow_blocks(sent, syn0, syn1, np.zeros(len(syn1)), tables, window, alpha, state, False)
        return syn0, syn1
    syn0 = syn0.astype(np.float64).copy()
    syn1 = syn1.astype(np.float64).copy()
    n = len(sent)
    for i in range(n):
        ctx = ref_window(sent, i, window, state)
        if not ctx:
            continue
        target = sent[i]
        if model == "cbow":
            h = syn0[ctx].mean(axis=0, keepdims=True)
            cand = [target] + [alias_draw(prob, alias, state) for _ in range(K)]
            GH, syn1, _ = ref_ns(h, target, syn1, cand, alpha)
            for w in ctx:
                syn0[w] += GH[0]
            continue
        H = syn0[ctx].copy()
        groups = ref_groups(len(ctx), group_rows) if batched else [[r] for r in range(len(ctx))]
        for grp in groups:
            cand = [target] + [alias_draw(prob, alias, state) for _ in range(K)]
            GH, syn1, _ = ref_ns(H[grp], target, syn1, cand, alpha)
            for r, g in zip(grp, GH):
                syn0[ctx[r]] += g
    return syn0, syn1


def _sentence(model, loss, batched, sent, syn0, syn1, tables, settings, alpha, state, max_cand, subwords, sub,
              bias=None, width=0):
    """Train one sentence through the production kernel ``train_blocks`` (one block, no subsampling),
    compiled for ``width``-bit vectors.

    With every keep probability 1 and alpha0 = alpha1 the kernel calls ``sentence`` once with this
    state, scratch and alpha, exactly as a direct call would; going through it reuses the compiled
    and disk-cached kernel variants the rest of the suite needs, instead of compiling ``sentence``
    again under another entry point (half a minute per variant on a fresh clone).
    state: uint64 (16,), updated in place.
    """
    from fastw2v.trainer import _read_only

    V = syn1.shape[0]
    starts = np.array([0, len(sent)], dtype=np.int64)
    states = driver.aligned_zeros((1, 16), np.uint64)
    states[0] = state
    scratch = driver.make_scratch(numba.config.NUMBA_NUM_THREADS, len(sent), settings.window, syn0.shape[1],
                                  max_cand)
    driver.train_blocks(_read_only(np.asarray(sent, dtype=np.int32)), _read_only(starts),
                        np.array([0, 1], dtype=np.int64), syn0, syn1,
                        np.zeros(V, np.float32) if bias is None else bias, tables,
                        np.ones(V, np.float32), model, loss, batched, subwords, width, sub, settings, float(alpha),
                        float(alpha), states, scratch, driver.make_stats(1))
    state[:] = states[0]


@pytest.mark.parametrize("model,batched,group_rows", [("sg", True, 0), ("sg", True, 2), ("sg", True, 4),
                                                     ("sg", False, 0), ("cbow", True, 0), ("cbow", False, 0)])
def test_sentence_kernels_equal_reference(model, batched, group_rows):
    """group_rows 2 and 4 split windows of 3-6 context rows into 2 or 3 groups with draws of their own."""
    syn0, syn1, tables = setup(1)
    sent = np.array([3, 7, 1, 0, 7, 12, 5, 2, 9], dtype=np.int32)
    window = 3
    alpha = 0.05
    st_ref = seed_states(5, 1)[0]
    ref0, ref1 = ref_sentence(model, list(sent), syn0, syn1, tables, window, alpha, batched, st_ref, group_rows)
    st = seed_states(5, 1)[0]
    _sentence(driver.SG if model == "sg" else driver.CBOW, driver.NS, batched, sent, syn0, syn1, tables,
              driver.Settings(window, K, 1, 0, 0, group_rows), np.float32(alpha), st, driver.CBOW_BLOCK + K, False,
              driver.no_subwords())
    assert np.abs(syn0 - ref0).max() < 1e-5
    assert np.abs(syn1 - ref1).max() < 1e-5
    assert st[0] == st_ref[0]  # same number of draws


def ref_sg_hs_sentence(sent, syn0, syn1, tables, window, alpha, state, group_rows):
    """Replays batched skip-gram with hs: each centre word's context rows (in near-equal groups of at most
    ``group_rows``, one after the other) scored against the centre word's Huffman path,
    G = alpha (1 - code - sigmoid(H U^T)), GH = G U from the path rows before the group moves them, U += G^T H."""
    points, codes, lens = tables.hs_points, tables.hs_codes, tables.hs_lens
    syn0, syn1 = syn0.astype(np.float64).copy(), syn1.astype(np.float64).copy()
    for i in range(len(sent)):
        ctx = ref_window(sent, i, window, state)
        if not ctx:
            continue
        path, code = points[sent[i], :lens[sent[i]]], codes[sent[i], :lens[sent[i]]].astype(np.float64)
        H = syn0[ctx].copy()  # every group's input rows as they were before the centre word
        for grp in ref_groups(len(ctx), group_rows):
            U = syn1[path].copy()
            G = alpha * (1.0 - code - sigmoid(H[grp] @ U.T))
            syn1[path] += G.T @ H[grp]
            GH = G @ U
            for r, g in zip(grp, GH):
                syn0[ctx[r]] += g
    return syn0, syn1


@pytest.mark.parametrize("group_rows,width", [(0, 0), (2, 0), (3, 0), (6, 0), (3, 512)])
def test_sg_hs_groups_equal_reference(group_rows, width):
    """Batched skip-gram with hs, one thread: a window of more context rows than group_rows trains in near-equal
    groups, each against the path rows the groups before it moved (0: the whole window in one step; 6, the
    default, leaves every window of this test whole). d 37 runs the tile loops' 2- and 4-wide bodies and tails,
    and with width 512 (the kernel hs runs at d >= 128 on an AVX-512 CPU) their 16-lane tails."""
    rng = np.random.default_rng(4)
    d = 37
    counts = (1000 / np.arange(1, V + 1)).astype(np.int64) + 1
    tables = build_tables(counts, TrainConfig(loss="hs"))
    syn0 = (rng.normal(size=(V, d)) * 0.3).astype(np.float32)
    syn1 = (rng.normal(size=(V, d)) * 0.3).astype(np.float32)
    sent = np.array([3, 7, 1, 0, 7, 12, 5, 2, 9, 29, 4, 0, 18], dtype=np.int32)
    window, alpha = 3, 0.05
    ref0, ref1 = ref_sg_hs_sentence(list(sent), syn0, syn1, tables, window, alpha, seed_states(7, 1)[0], group_rows)
    if group_rows in (2, 3):  # the groups move the vectors: a kernel that ignored them would fail below
        whole0, _ = ref_sg_hs_sentence(list(sent), syn0, syn1, tables, window, alpha, seed_states(7, 1)[0], 0)
        assert np.abs(whole0 - ref0).max() > 1e-4
    st = seed_states(7, 1)[0]
    _sentence(driver.SG, driver.HS, True, sent, syn0, syn1, tables, driver.Settings(window, 0, 1, 0, 0, group_rows),
              np.float32(alpha), st, int(tables.hs_points.shape[1]), False, driver.no_subwords(), width=width)
    assert np.abs(syn0 - ref0).max() < 1e-5
    assert np.abs(syn1 - ref1).max() < 1e-5


@pytest.mark.parametrize("n,window,loss", [(11, 3, "ns"), (7, 1, "ns"), (9, 2, "nce"), (1, 3, "ns")])
def test_cbow_blocks_equal_reference(n, window, loss):
    """Batched CBOW (ns, nce): blocks of CBOW_BLOCK centre words (2 with window 1; a short last block;
    a one-word sentence trains nothing), each a row of one shared-noise block; d = 37 runs the
    register tiles' remainders; a word repeated in the sentence is a target twice in a block and
    a draw of its own and of others' blocks."""
    d = 37
    rng = np.random.default_rng(7)
    syn0 = (rng.normal(size=(V, d)) * 0.3).astype(np.float32)
    syn1 = (rng.normal(size=(V, d)) * 0.3).astype(np.float32)
    bias = (rng.normal(size=V) * 0.1).astype(np.float32)
    _, _, tables = setup()
    sent = np.array([0, 1, 0, 2, 1, 0, 3, 4, 0, 1, 5][:n], dtype=np.int32)
    corrected = loss == "nce"
    st_ref = seed_states(9, 1)[0]
    ref0, ref1, refb = ref_cbow_blocks(list(sent), syn0, syn1, bias, tables, window, 0.05, st_ref, corrected)
    st = seed_states(9, 1)[0]
    _sentence(driver.CBOW, driver.NCE if corrected else driver.NS, True, sent, syn0, syn1, tables,
              driver.Settings(window, K, 1), np.float32(0.05), st, driver.CBOW_BLOCK + K, False,
              driver.no_subwords(), bias=bias)
    assert np.abs(syn0 - ref0).max() < 1e-5
    assert np.abs(syn1 - ref1).max() < 1e-5
    if corrected:
        assert np.abs(bias - refb).max() < 1e-5
    assert st[0] == st_ref[0]


@pytest.mark.parametrize("skip", ["none", "inside", "first", "last"])
def test_context_mean_equals_numpy_for_every_count(skip):
    """CBOW's mean in 4-row passes: every context size from 1 to 13 (all tile sizes, first and later
    passes), repeated ids, the centre position skipped wherever it falls; other rows of H untouched."""
    d = 37
    rng = np.random.default_rng(3)
    syn0 = rng.normal(size=(9, d)).astype(np.float32)
    for m in range(1, 14):
        n = m + (0 if skip == "none" else 1)
        ids = rng.integers(0, 9, size=n + 4).astype(np.int32)  # room around lo..hi
        lo, hi = 2, 2 + n
        at = {"none": -1, "inside": lo + n // 2, "first": lo, "last": hi - 1}[skip]
        H = np.full((3, d), 7.0, dtype=np.float32)
        driver._mean_rows(H, 1, syn0, ids, lo, hi, at, d)
        rows = [ids[p] for p in range(lo, hi) if p != at]
        assert len(rows) == m
        assert np.abs(H[1] - syn0[rows].mean(axis=0)).max() < 1e-6, m
        assert (H[0] == 7.0).all() and (H[2] == 7.0).all()


def test_one_thread_is_bit_identical_and_seed_matters(small_corpus):
    kw = dict(dim=16, epochs=2, min_count=2, threads=1)
    a = fastw2v.Word2Vec(seed=5, **kw).fit(small_corpus)
    b = fastw2v.Word2Vec(seed=5, **kw).fit(small_corpus)
    c = fastw2v.Word2Vec(seed=6, **kw).fit(small_corpus)
    assert np.array_equal(a.wv.vectors, b.wv.vectors)
    assert np.array_equal(a.syn1, b.syn1)
    assert not np.array_equal(a.wv.vectors, c.wv.vectors)


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_training_lowers_the_loss(small_corpus, model):
    m = fastw2v.Word2Vec(model=model, dim=16, epochs=4, min_count=2, threads=2, sample=0).fit(small_corpus)
    losses = [h["loss"] for h in m.history]
    assert len(losses) == 4 and all(np.isfinite(losses))
    assert losses[-1] < losses[0]
    assert m.history[0]["words"] == 20000
    assert np.isfinite(m.wv.vectors).all()


@njit(fastmath=common.FASTMATH, error_model="numpy")
def _fast_sigmoids(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):  # the loop the hs kernels vectorise
        out[i] = common.fast_sigmoid(x[i])
    return out


def test_fast_sigmoid_is_sigmoid_within_the_tables_error():
    """hs's gradients use fast_sigmoid: within 1.2e-7 of sigmoid everywhere, as the table; a NaN as the table's 0."""
    x = np.concatenate([np.linspace(-40, 40, 400_001), [-16.0, 16.0, -1e-30, 0.0, 1e-30, 88.0, -88.0]])
    x = x.astype(np.float32)
    got = _fast_sigmoids(x)
    want = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    assert np.abs(got - want).max() <= 1.3e-7
    table = np.array([common.sigmoid_and_softplus(v)[0] for v in x[::997]])
    assert np.abs(got[::997] - table).max() <= 2.5e-7
    special = _fast_sigmoids(np.array([np.nan, np.inf, -np.inf], np.float32))
    assert 0.0 <= special[0] < 1e-6 and abs(special[1] - 1.0) < 1e-6 and special[2] < 1e-6


@njit
def _prefetch_everywhere(a1, a2, far):
    for i in (0, a1.shape[0] - 1, far, -far):
        common.prefetch(a1, i)
        common.prefetch2(a2, i, 0)
        common.prefetch2(a2, 0, i)
    return a1.sum() + a2.sum()


def test_prefetch_changes_nothing_and_never_faults():
    """The hint hs's sentence loops give a centre word ahead: no value moves, and an index far
    outside the array (an unmapped address) does not fault."""
    a1 = np.arange(10, dtype=np.int32)
    a2 = np.arange(12, dtype=np.int8).reshape(3, 4)
    b1, b2 = a1.copy(), a2.copy()
    assert _prefetch_everywhere(a1, a2, 1 << 40) == a1.sum() + a2.sum()
    assert np.array_equal(a1, b1) and np.array_equal(a2, b2)


def test_vector_width_marks_only_the_function_it_is_called_in():
    """common.vector_width(512) gives its function LLVM's prefer-vector-width attribute, which makes an AVX-512
    CPU vectorise its loop with 16-float registers; 256, and 0 (NARROW_BITS), keep it to 8-float ones on every
    CPU, where LLVM's own default is 256 bits on Intel and 512 on AMD's Zen 4; a function without the call
    is left as the compiler makes it."""
    import re

    def axpy_with(bits):
        @njit(fastmath=True)
        def axpy(a, x, y):
            common.vector_width(bits)
            for i in range(x.shape[0]):
                y[i] += a * x[i]
        return axpy

    @njit(fastmath=True)
    def axpy_plain(a, x, y):
        for i in range(x.shape[0]):
            y[i] += a * x[i]

    x = np.arange(1000, dtype=np.float32)
    fns = {}
    for bits, f in ((0, axpy_with(0)), (256, axpy_with(256)), (512, axpy_with(512)), (None, axpy_plain)):
        y = np.ones(1000, np.float32)
        fns[bits] = f
        f(np.float32(2), x, y)
        assert np.allclose(y, 1 + 2 * x)
    llvm = {bits: f.inspect_llvm(f.signatures[0]) for bits, f in fns.items()}
    assert '"prefer-vector-width"="512"' in llvm[512]
    assert '"prefer-vector-width"="256"' in llvm[256] and '"prefer-vector-width"="256"' in llvm[0]
    assert "prefer-vector-width" not in llvm[None]
    if _has_512_bit_vectors():
        zmm_fma = re.compile(r"vfmadd\w*ps\s[^\n]*%zmm")
        asm = {bits: f.inspect_asm(f.signatures[0]) for bits, f in fns.items()}
        assert zmm_fma.search(asm[512])
        assert not zmm_fma.search(asm[256]) and not zmm_fma.search(asm[0])


@njit(parallel=True)
def _take_numbers(counter, taken):
    for w in numba.prange(taken.shape[0]):
        for k in range(taken.shape[1]):
            taken[w, k] = common.fetch_add(counter, 0, 1)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two threads")
def test_fetch_add_hands_every_number_out_once_under_contention():
    """Two threads take 200,000 numbers each from one counter: a plain read-add-write would give some
    numbers twice and lose others; the atomic add gives each of 0..399,999 exactly once."""
    previous = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        counter = np.zeros(16, np.int64)
        taken = np.full((2, 200_000), -1, np.int64)
        _take_numbers(counter, taken)
    finally:
        numba.set_num_threads(previous)
    assert counter[0] == taken.size
    assert np.array_equal(np.sort(taken.ravel()), np.arange(taken.size))



@intrinsic
def _counted(typingctx, a):
    """Whether the array a carries a meminfo, the reference count Numba's incref and decref add to."""
    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, value=args[0])
        return builder.icmp_unsigned("!=", ary.meminfo, cgutils.get_null_value(ary.meminfo.type))
    return types.boolean(a), codegen


Pair = namedtuple("Pair", "rows ids width")


@njit
def _bump(pair, n, borrowed):
    """Adds 1 to rows[ids[i % len(ids)], 0] for i < n; returns (width, whether a row taken in the loop
    and the arrays themselves carried a reference count)."""
    rows, ids, width = common.borrow(pair) if borrowed else pair
    row_counted = False
    for i in range(n):
        row = rows[ids[i % ids.shape[0]]]
        row[0] += 1.0
        row_counted |= _counted(row)
    return width, row_counted or _counted(rows) or _counted(ids)


def test_borrow_gives_the_same_data_without_reference_counts():
    """Rows taken of a borrowed namedtuple's arrays write through to the caller's arrays and scalars pass
    unchanged, but neither the arrays nor any row taken of them carries a meminfo, so no incref or decref
    of them counts anything (the atomic adds on meminfos both threads of a kernel call shared)."""
    pair = Pair(np.zeros((4, 3), np.float32), np.array([2, 0, 2], np.int64), 7)
    assert _bump(pair, 9, True) == (7, False)
    assert pair.rows[:, 0].tolist() == [3.0, 0.0, 6.0, 0.0]
    assert _bump(pair, 3, False) == (7, True)  # the check can fail: the same arrays, not borrowed, count
    assert pair.rows[:, 0].tolist() == [4.0, 0.0, 8.0, 0.0]
    with pytest.raises(numba.core.errors.TypingError, match="borrow takes"):
        njit(lambda x: common.borrow(x))(3.0)
