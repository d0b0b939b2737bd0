"""Every loss: the kernel's update is -alpha times the gradient of the exact loss.

The loss is written out in NumPy from its definition; its gradient is taken
by central finite differences in float64, for one input (sg exact, cbow's
context mean) and for four inputs sharing one draw (sg batched).
"""
import heapq

import numba
import numpy as np
import pytest
from numba import literally, njit

from fastw2v.config import TrainConfig
from fastw2v.huffman import build_huffman
from fastw2v.kernels import driver, hs
from fastw2v.kernels.rng import seed_states
from fastw2v.trainer import build_tables, max_candidates

V, D, K = 25, 6, 5
LOSS_CODES = {"ns": driver.NS, "hs": driver.HS, "nce": driver.NCE, "softmax": driver.SOFTMAX}


def softplus(x):
    return np.logaddexp(0.0, x)


def reference_loss(loss, H, U, b, target, cand, tables):
    """Summed loss over the rows of H, from the definitions in the README."""
    logq = tables.noise_logq.astype(np.float64)
    total = 0.0
    for h in H:
        if loss == "hs":
            points, codes, lens = tables.hs_points, tables.hs_codes, tables.hs_lens
            for n, bit in zip(points[target, :lens[target]], codes[target, :lens[target]]):
                total += softplus(-(1 - 2 * bit) * (h @ U[n]))
            continue
        keep = [0] + [c for c in range(1, len(cand)) if cand[c] != target]
        if loss == "ns":
            z = np.array([h @ U[cand[c]] for c in keep])
        else:
            z = np.array([h @ U[cand[c]] + b[cand[c]] - logq[cand[c]] for c in keep])
        if loss == "softmax":
            total += np.logaddexp.reduce(z) - z[0]
        else:
            total += softplus(-z[0]) + softplus(z[1:]).sum()
    return total


def numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        up = f()
        x[i] = old - eps
        down = f()
        x[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


@njit(cache=True)  # cached: a warm run skips its compile
def _step(code, H, n_in, GH, target, syn1, bias, tables, k, alpha, state, cand, G):
    literally(code)  # the loss table is resolved at compile time
    return driver.loss_step(code, H, n_in, GH, target, syn1, bias, tables, k, alpha, state, cand, G, True)


def setup(loss, seed=0):
    rng = np.random.default_rng(seed)
    counts = (3000 / np.arange(1, V + 1) ** 1.2).astype(np.int64) + 1
    cfg = TrainConfig(loss=loss, negative=K)
    tables = build_tables(counts, cfg)
    syn1 = (rng.normal(size=(V, D)) * 0.5).astype(np.float32)
    bias = (rng.normal(size=V) * 0.5).astype(np.float32)
    return rng, tables, syn1, bias, max_candidates(tables, cfg)


@pytest.mark.parametrize("loss", ["ns", "hs", "nce", "softmax"])
@pytest.mark.parametrize("n_in", [1, 4, 5])  # 1: sg exact and cbow's mean input; 4, 5: sg batched
@pytest.mark.parametrize("target", [0, 7, 24])
def test_update_is_gradient_of_exact_loss(loss, n_in, target):
    rng, tables, syn1, bias, n_cand = setup(loss, seed=target)
    H = (rng.normal(size=(n_in, D)) * 0.5).astype(np.float32)
    GH = np.zeros_like(H)
    cand = np.zeros(n_cand, np.int64)
    G = np.zeros((n_in, n_cand), np.float32)
    U0, b0 = syn1.astype(np.float64), bias.astype(np.float64)
    alpha = 0.1
    got_loss = _step(LOSS_CODES[loss], H, n_in, GH, target, syn1, bias, tables, K, np.float32(alpha),
                     seed_states(target + 1, 1)[0], cand, G)
    cand = cand.tolist()
    H64, U64, b64 = H.astype(np.float64), U0.copy(), b0.copy()
    f = lambda: reference_loss(loss, H64, U64, b64, target, cand, tables)  # noqa: E731
    assert got_loss == pytest.approx(f(), rel=1e-5, abs=1e-5)
    assert np.allclose(GH, -alpha * numeric_grad(f, H64), atol=2e-6)
    assert np.allclose(syn1 - U0, -alpha * numeric_grad(f, U64), atol=2e-6)
    if loss in ("nce", "softmax"):
        assert np.allclose(bias - b0, -alpha * numeric_grad(f, b64), atol=2e-6)
    else:
        assert np.array_equal(bias, b0.astype(np.float32))


def test_softmax_drops_accidental_hits():
    """With a noise table that always draws the target, only the true logit is left: zero loss, no update."""
    _, tables, syn1, bias, n_cand = setup("softmax")
    tables = tables._replace(noise_prob=np.ones(1), noise_alias=np.zeros(1, np.int32))
    H = np.ones((1, D), np.float32)
    GH = np.zeros_like(H)
    before = syn1.copy()
    loss = _step(driver.SOFTMAX, H, 1, GH, 0, syn1, bias, tables, K, np.float32(0.1), seed_states(1, 1)[0],
                 np.zeros(n_cand, np.int64), np.zeros((1, n_cand), np.float32))
    assert loss == pytest.approx(0.0, abs=1e-6)
    assert np.array_equal(syn1, before) and not GH.any()


def huffman_cost(counts):
    heap = list(map(int, counts))
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        cost += a + b
        heapq.heappush(heap, a + b)
    return cost


def test_huffman_tree_is_optimal_and_prefix_free():
    counts = np.sort(np.random.default_rng(3).integers(1, 1000, size=300))[::-1].astype(np.int64)
    points, codes, lens = build_huffman(counts)
    assert int((lens * counts).sum()) == huffman_cost(counts)  # optimal expected code length
    assert sum(2.0 ** -int(n) for n in lens) == pytest.approx(1.0)  # a full binary tree
    words = {"".join(map(str, codes[w, :lens[w]])) for w in range(len(counts))}
    assert len(words) == len(counts)
    assert all(points[w, 0] == len(counts) - 2 for w in range(len(counts)))  # every path starts at the root
    assert points.max() <= len(counts) - 2 and points.min() >= 0
    assert lens[0] <= lens[-1]  # frequent words get short codes


@njit(cache=True)
def _hs_hot_step(H, n_in, GH, target, syn1, tables, alpha, state, cand, G, hot, hot_lo):
    return hs.step_hot(H, n_in, GH, target, syn1, syn1[0], tables, 0, alpha, state, cand, G, True, hot, hot_lo)


@njit(cache=True)
def _load_hot(syn1, hot, base, hot_lo, n_hot):
    hs.load_hot(syn1, hot, base, hot_lo, n_hot, syn1.shape[1])


@njit(cache=True)
def _merge_hot(syn1, hot, base, hot_lo, n_hot):
    hs.merge_hot(syn1, hot, base, hot_lo, n_hot, syn1.shape[1])


@pytest.mark.parametrize("n_hot", [1, 5, V - 1])
@pytest.mark.parametrize("target", [0, 7, 24])
def test_hs_private_root_rows_take_the_shared_rows_update(n_hot, target):
    """hs with the nodes nearest the root in a private block: the same loss, input gradient and output
    updates as with every node in syn1, the private nodes' updates in the block and not in syn1."""
    rng, tables, syn1, bias, n_cand = setup("hs", seed=target)
    n_in = 5
    H = (rng.normal(size=(n_in, D)) * 0.5).astype(np.float32)
    hot_lo = V - 1 - n_hot
    hot = syn1[hot_lo:V - 1].copy()
    shared, private = syn1.copy(), syn1.copy()
    GH_s, GH_p = np.zeros_like(H), np.zeros_like(H)
    state = seed_states(1, 1)[0]
    loss_s = _step(driver.HS, H, n_in, GH_s, target, shared, bias, tables, K, np.float32(0.1), state,
                   np.zeros(n_cand, np.int64), np.zeros((n_in, n_cand), np.float32))
    loss_p = _hs_hot_step(H, n_in, GH_p, target, private, tables, np.float32(0.1), state,
                          np.zeros(n_cand, np.int64), np.zeros((n_in, n_cand), np.float32), hot, hot_lo)
    assert loss_p == pytest.approx(loss_s, rel=1e-6)
    assert np.allclose(GH_p, GH_s, atol=1e-6)
    assert np.array_equal(private[hot_lo:V - 1], syn1[hot_lo:V - 1])  # the private rows moved in the block only
    private[hot_lo:V - 1] = hot
    assert np.allclose(private, shared, atol=1e-6)
    assert not np.array_equal(hot, syn1[hot_lo:V - 1])  # the root is on every path: it moved


@njit(cache=True)
def _hs_cbow_step(H, GH, target, syn1, tables, alpha, G, hot, hot_lo, cand):
    return hs.cbow_step(H, GH, target, syn1, tables, alpha, G, True, hot, hot_lo, cand)


@pytest.mark.parametrize("n_hot", [0, 1, 5, 13, V - 1])
@pytest.mark.parametrize("target", [0, 7, 24])
def test_hs_cbow_step_equals_the_shared_rows_step(n_hot, target):
    """CBOW's hs step (one input row, private root rows inline): the loss, input gradient and output
    updates of :func:`hs.step` with every node in syn1, the private nodes' updates in their block only
    (n_hot 0: none private, as on one thread; V - 1: the whole tree)."""
    rng, tables, syn1, bias, n_cand = setup("hs", seed=target)
    H = (rng.normal(size=(1, D)) * 0.5).astype(np.float32)
    hot_lo = V - 1 - n_hot
    hot = syn1[hot_lo:V - 1].copy() if n_hot else np.zeros((1, D), np.float32)
    shared, private = syn1.copy(), syn1.copy()
    GH_s, GH_p = np.ones_like(H), np.ones_like(H)  # both steps must overwrite GH
    loss_s = _step(driver.HS, H, 1, GH_s, target, shared, bias, tables, K, np.float32(0.1), seed_states(1, 1)[0],
                   np.zeros(n_cand, np.int64), np.zeros((1, n_cand), np.float32))
    loss_p = _hs_cbow_step(H, GH_p, target, private, tables, np.float32(0.1), np.zeros((1, n_cand), np.float32),
                           hot, np.int64(hot_lo if n_hot else V - 1), np.zeros(n_cand, np.int64))
    assert loss_p == pytest.approx(loss_s, rel=1e-6)
    assert np.allclose(GH_p, GH_s, atol=1e-6)
    assert not np.array_equal(shared, syn1)
    if n_hot:
        assert np.array_equal(private[hot_lo:V - 1], syn1[hot_lo:V - 1])  # private rows moved in their block only
        assert not np.array_equal(hot, syn1[hot_lo:V - 1])  # the root is on every path: it moved
        private[hot_lo:V - 1] = hot
    assert np.allclose(private, shared, atol=1e-6)


def test_merging_private_rows_adds_every_threads_changes():
    """Two threads' private copies of rows 10..19: the first merge takes its copy bit for bit (nothing
    else changed syn1), the second adds its changes to the first's; other rows stay."""
    rng = np.random.default_rng(0)
    syn1 = rng.normal(size=(V, D)).astype(np.float32)
    orig = syn1.copy()
    lo, n = 10, 10
    a, a_base, b, b_base = (np.zeros((n, D), np.float32) for _ in range(4))
    _load_hot(syn1, a, a_base, lo, n)
    _load_hot(syn1, b, b_base, lo, n)
    assert np.array_equal(a, orig[lo:lo + n]) and np.array_equal(b_base, orig[lo:lo + n])
    da = (rng.normal(size=(n, D)) * 0.1).astype(np.float32)
    db = (rng.normal(size=(n, D)) * 0.1).astype(np.float32)
    a += da
    b += db
    a_new = a.copy()
    _merge_hot(syn1, a, a_base, lo, n)
    assert np.array_equal(syn1[lo:lo + n], a_new)
    assert np.array_equal(a, a_new) and np.array_equal(a_base, a_new)
    _merge_hot(syn1, b, b_base, lo, n)
    assert np.allclose(syn1[lo:lo + n], orig[lo:lo + n] + da + db, atol=1e-6)
    assert np.array_equal(b, syn1[lo:lo + n]) and np.array_equal(b_base, syn1[lo:lo + n])
    rest = np.ones(V, bool)
    rest[lo:lo + n] = False
    assert np.array_equal(syn1[rest], orig[rest])


@njit(cache=True)
def _merge_due(syn1, hot, base, hot_lo, n_hot, counter, every, tiers):
    hs.merge_due(syn1, hot, base, hot_lo, n_hot, syn1.shape[1], counter, every, tiers)


def _sg_tier(counter, n_hot):
    """The rows skip-gram's tiers merge after centre word ``counter`` (every 16): the top 8 every 16,
    64 every 128, 256 every 256, all every 1,024."""
    for interval, rows in ((1024, n_hot), (256, 256), (128, 64), (16, 8)):
        if counter % interval == 0:
            return list(range(max(0, n_hot - rows), n_hot))
    return []


def _cbow_tier(counter, n_hot):
    """CBOW's (every 64): the top 8 every 64, 64 every 512, all every 4,096."""
    for interval, rows in ((4096, n_hot), (512, 64), (64, 8)):
        if counter % interval == 0:
            return list(range(max(0, n_hot - rows), n_hot))
    return []


@pytest.mark.parametrize("model", ["sg", "cbow"])
@pytest.mark.parametrize("n_hot", [300, 100, 64, 20, 8, 3])
def test_merge_due_merges_the_most_visited_rows_more_often(model, n_hot):
    """The most visited private rows (the last rows: the root is the last inner node) are merged most
    often, in the tiers driver.HOT_TIERS and CBOW_HOT_TIERS give; other counters merge nothing, and
    every change reaches syn1."""
    if model == "sg":
        every, tiers, expected = driver.HOT_MERGE_EVERY, driver.HOT_TIERS, _sg_tier
    else:
        every, tiers, expected = driver.CBOW_HOT_MERGE_EVERY, driver.CBOW_HOT_TIERS, _cbow_tier
    V1, d = n_hot + 7, 4
    rng = np.random.default_rng(1)
    syn1 = rng.normal(size=(V1, d)).astype(np.float32)
    orig = syn1.copy()
    lo = V1 - 1 - n_hot
    hot, base = (np.zeros((n_hot, d), np.float32) for _ in range(2))
    _load_hot(syn1, hot, base, lo, n_hot)
    last_all = 0
    for counter in range(1, 2 * 64 * every + 1):
        before = syn1.copy()
        hot += np.float32(0.01)  # this thread's step moved every private row
        _merge_due(syn1, hot, base, lo, n_hot, counter, every, tiers)
        merged = list(np.flatnonzero(np.any(syn1 != before, axis=1)) - lo)
        assert merged == expected(counter, n_hot), counter
        if merged == list(range(n_hot)):
            last_all = counter
    assert last_all == 2 * 64 * every
    assert np.allclose(syn1[lo:V1 - 1], hot, atol=1e-4)  # the last counter merged every row: nothing lost
    assert np.array_equal(syn1[:lo], orig[:lo]) and np.array_equal(syn1[V1 - 1:], orig[V1 - 1:])


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_hs_with_private_root_rows_matches_shared_rows_on_one_thread(model):
    """The production kernel over 300 tokens in one block (one thread): private root rows, merged
    by merge_due's tiers and at the block's end, give the shared rows' weights, with the loops compiled
    for 256 bits (width 0) and for 512 bits (trainer.vector_width)."""
    from fastw2v.trainer import _read_only

    rng, tables, syn1, _, n_cand = setup("hs", seed=3)
    syn0 = (rng.normal(size=(V, D)) * 0.3).astype(np.float32)
    sent = rng.integers(0, V, size=300).astype(np.int32)
    starts = np.array([0, len(sent)], dtype=np.int64)
    out = []
    for n_hot, width in ((0, 0), (8, 0), (0, 512), (8, 512)):
        s0, s1 = syn0.copy(), syn1.copy()
        states = driver.aligned_zeros((1, 16), np.uint64)
        states[0] = seed_states(7, 1)[0]
        scratch = driver.make_scratch(numba.config.NUMBA_NUM_THREADS, len(sent), 3, D, n_cand, n_hot)
        driver.train_blocks(_read_only(sent), _read_only(starts), np.array([0, 1], dtype=np.int64), s0, s1,
                            np.zeros(V, np.float32), tables, np.ones(V, np.float32),
                            driver.SG if model == "sg" else driver.CBOW, driver.HS, True,
                            False, width, driver.no_subwords(), driver.Settings(3, K, 1, 0, n_hot), 0.05, 0.05, states,
                            scratch, driver.make_stats(1))
        out.append((s0, s1))
    (a0, a1) = out[0]
    assert np.abs(a1 - syn1).max() > 0.01  # it trained
    for b0, b1 in out[1:]:
        assert np.allclose(b0, a0, atol=1e-5) and np.allclose(b1, a1, atol=1e-5)
