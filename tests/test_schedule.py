"""The schedule the trainer applies: learning rate, resume positions, random streams, NaN guard,
and the one-kernel-per-(model, loss) compile (issues: never lose work; first run in seconds)."""
import json
import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from numba import njit

import fastw2v
from fastw2v import rows, trainer
from fastw2v.config import TrainConfig
from fastw2v.corpus import TokenCache
from fastw2v.errors import TrainingDiverged
from fastw2v.kernels import driver
from fastw2v.kernels.common import sigmoid_and_softplus
from fastw2v.kernels.rng import next_u64, seed_states
from fastw2v.trainer import KernelRunner, Position, init_bias, init_weights, linear_rate


def zipf_stream(n_tokens=60_000, vocab=500, line=37, seed=0):
    """A token cache in memory: Zipf ids (frequency ranks), ragged sentences."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab + 1)
    p /= p.sum()
    tokens, counts = _by_frequency(rng.choice(vocab, size=n_tokens, p=p).astype(np.int32), vocab)
    lengths = rng.integers(1, 2 * line, size=n_tokens // line + 10)
    starts = np.concatenate(([0], np.cumsum(lengths)))
    starts = np.unique(np.minimum(starts, n_tokens)).astype(np.int64)
    return TokenCache(tokens=tokens, starts=starts), counts


def _by_frequency(tokens, vocab):
    """Ids renumbered by frequency rank, as the vocabulary numbers words: (tokens, counts from the most
    frequent down, each at least 1)."""
    counts = np.maximum(np.bincount(tokens, minlength=vocab), 1).astype(np.int64)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty(vocab, np.int32)
    rank[order] = np.arange(vocab, dtype=np.int32)
    return rank[tokens], counts[order]


@pytest.fixture
def small_calls(monkeypatch):
    """Kernel calls of ~1000 tokens per thread, so a small stream makes many calls and blocks."""
    monkeypatch.setattr(trainer, "CALL_TOKENS_PER_THREAD", 1000)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_learning_rate_follows_the_linear_formula_in_every_block(small_calls, threads):
    cache, counts = zipf_stream()
    cfg = TrainConfig(dim=8, epochs=1, threads=threads, alpha=0.05, min_alpha=0.001, sample=0).resolved()
    syn0, syn1, _ = init_weights(len(counts), cfg.dim, 1)
    runner = KernelRunner(counts, cfg, 200)
    runner.alpha_trace = []
    trainer.train(cache, counts, syn0, syn1, init_bias(counts, "ns"), cfg, cache.n_tokens, runner=runner)
    trace = np.array(runner.alpha_trace)
    assert len(trace) > 100  # many calls, several blocks each
    lr = linear_rate(0.05, 0.001, cache.n_tokens)
    expected = np.array([lr(p) for p in trace[:, 0]])
    # float32 rates: equal to the formula at each block's first token, wherever the block sits in its call
    assert np.abs(trace[:, 1] - expected).max() < 1e-7


def _interrupted_then_resumed(cache, counts, threads_a, threads_b, stop_after, epochs=2):
    cfg_a = TrainConfig(dim=8, epochs=epochs, threads=threads_a, sample=1e-3).resolved()
    syn0, syn1, _ = init_weights(len(counts), cfg_a.dim, 1)
    bias = init_bias(counts, "ns")
    seen = []

    class Stop(Exception):
        pass

    def on_safe_point(position, states):
        seen.append((position, states.copy()))
        if len(seen) == stop_after:
            raise Stop

    with pytest.raises(Stop):
        trainer.train(cache, counts, syn0, syn1, bias, cfg_a, cache.n_tokens, on_safe_point=on_safe_point)
    position, states = seen[-1]
    cfg_b = TrainConfig(dim=8, epochs=epochs, threads=threads_b, sample=1e-3).resolved()
    result = trainer.train(cache, counts, syn0, syn1, bias, cfg_b, cache.n_tokens, start=position, states=states)
    return position, result


@pytest.mark.parametrize("threads_a,threads_b", [(1, 2), (2, 1), (2, 3), (3, 3)])
def test_resume_with_another_thread_count_trains_every_token_exactly_once(small_calls, threads_a, threads_b):
    cache, counts = zipf_stream()
    position, result = _interrupted_then_resumed(cache, counts, threads_a, threads_b, stop_after=25)
    assert 0 < position.token < cache.n_tokens  # stopped mid-epoch
    # words are counted by the kernels as they read them: before + after the stop = corpus x epochs
    assert [h["words"] for h in result.history] == [cache.n_tokens, cache.n_tokens]
    assert result.words == 2 * cache.n_tokens - (position.epoch * cache.n_tokens + position.token)


def test_resume_with_the_same_threads_is_bit_identical(small_calls):
    cache, counts = zipf_stream()
    cfg = TrainConfig(dim=8, epochs=2, threads=1, sample=1e-3).resolved()
    whole = init_weights(len(counts), cfg.dim, 1)
    trainer.train(cache, counts, whole[0], whole[1], init_bias(counts, "ns"), cfg, cache.n_tokens)
    for stop in (7, 60):  # mid-epoch, and in the second epoch
        cache2, _ = zipf_stream()
        syn0, syn1, _ = init_weights(len(counts), cfg.dim, 1)
        seen = []

        class Stop(Exception):
            pass

        def on_safe_point(position, states):
            seen.append((position, states.copy()))
            if len(seen) == stop:
                raise Stop

        bias = init_bias(counts, "ns")
        with pytest.raises(Stop):
            trainer.train(cache2, counts, syn0, syn1, bias, cfg, cache2.n_tokens, on_safe_point=on_safe_point)
        trainer.train(cache2, counts, syn0, syn1, bias, cfg, cache2.n_tokens, start=seen[-1][0], states=seen[-1][1])
        assert np.array_equal(syn0, whole[0]) and np.array_equal(syn1, whole[1]), stop


def test_neighbouring_seeds_epochs_and_workers_share_no_stream():
    """With seed + block offsets, seed s+1's streams were seed s's shifted by one block."""
    outputs = set()
    n = 0
    draws = 64

    @njit
    def first_draws(state, k):
        out = np.empty(k, np.uint64)
        for i in range(k):
            out[i] = next_u64(state)
        return out

    for seed in range(1, 9):
        for stream in range(2):
            for epoch in range(3):
                states = seed_states(seed, 16, stream, epoch, 0)
                for b in range(16):
                    outputs.update(first_draws(states[b], draws).tolist())
                    n += draws
    assert len(outputs) == n  # no two streams share a state in their first 64 steps


def test_random_states_and_stats_rows_do_not_share_cache_lines():
    cfg = TrainConfig(threads=3).resolved()
    r = KernelRunner(np.arange(50, 0, -1), cfg, 100)
    for arr in (r.states, r.stats):
        assert arr.ctypes.data % 128 == 0 and arr.strides[0] == 128


@njit
def _sig(x):
    return sigmoid_and_softplus(np.float32(x))


def test_sigmoid_table_takes_no_index_from_nan():
    f, lp, ln = _sig(np.nan)
    assert f == 0.0 and np.isnan(lp) and np.isnan(ln)
    for x, want in ((0.0, 0.5), (15.999, 1.0), (-15.999, 0.0), (1e30, 1.0), (-1e30, 0.0)):
        assert abs(_sig(x)[0] - want) < 1e-6


def test_nan_in_the_weights_stops_with_the_divergence_error(small_corpus):
    """A NaN reaching the kernels must end in TrainingDiverged, never a crash (run in a child process)."""
    code = f"""
import numpy as np, fastw2v
from fastw2v.errors import TrainingDiverged
m = fastw2v.Word2Vec(dim=16, epochs=1, min_count=2, threads=2).fit({str(small_corpus)!r})
m.wv.vectors[:5] = np.nan
try:
    m.continue_training({str(small_corpus)!r}, epochs=1)
except TrainingDiverged as e:
    print("DIVERGED", e)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "DIVERGED" in r.stdout and "alpha" in r.stdout


@pytest.mark.parametrize("model,loss", [("sg", "ns"), ("sg", "hs"), ("cbow", "ns")])
def test_sampled_loss_estimates_the_epoch_loss_and_leaves_the_vectors_alone(model, loss):
    """The loss of every 16th centre word's examples: the same vectors bit for bit (the loss is only
    reported), the epoch's mean loss and its sum (scaled by examples / sampled examples) near every
    example's. Over 8 seeds of this stream the sampled mean moved by at most 0.5% (sd 0.1-0.3%)."""
    cache, counts = zipf_stream(n_tokens=120_000)
    cfg = TrainConfig(model=model, loss=loss, dim=16, epochs=2, threads=1, sample=1e-3).resolved()
    runs = {}
    for every in (1, trainer.LOSS_EVERY):
        syn0, syn1, _ = init_weights(len(counts), cfg.dim, 1)
        result = trainer.train(cache, counts, syn0, syn1, init_bias(counts, loss), cfg, cache.n_tokens,
                               loss_every=every)
        runs[every] = syn0, syn1, result.history
    (e0, e1, exact), (s0, s1, sampled) = runs[1], runs[trainer.LOSS_EVERY]
    assert np.array_equal(e0, s0) and np.array_equal(e1, s1)
    for a, b in zip(exact, sampled):
        assert abs(b["loss"] / a["loss"] - 1) < 0.02, (a["loss"], b["loss"])
        assert abs(b["loss_sum"] / a["loss_sum"] - 1) < 0.02, (a["loss_sum"], b["loss_sum"])


def test_loss_is_sampled_only_on_large_corpora(monkeypatch, small_corpus):
    assert trainer.loss_every_for(trainer.EXACT_LOSS_BELOW - 1) == 1
    assert trainer.loss_every_for(trainer.EXACT_LOSS_BELOW) == trainer.LOSS_EVERY
    monkeypatch.setattr(trainer, "EXACT_LOSS_BELOW", 0)  # sampled from here on: a NaN still stops training
    with pytest.raises(TrainingDiverged, match="alpha"):
        fastw2v.Word2Vec(alpha=1e30, min_alpha=1e29, dim=8, epochs=2, min_count=2, threads=1).fit(small_corpus)


def test_first_run_compiles_one_kernel_and_says_so(small_corpus, tmp_path):
    """From an empty Numba cache: one line before compiling, compile time reported apart from training."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))

    def train(*extra):
        out = tmp_path / "m.fw2v"
        rep = tmp_path / "r.json"
        r = subprocess.run([sys.executable, "-m", "fastw2v", "train", str(small_corpus), "-o", str(out), "--min-count",
                            "2", "--dim", "16", "--epochs", "1", "--report", str(rep), *extra],
                           capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        return r.stderr, json.loads(rep.read_text())

    err, rep = train()
    lines = err.splitlines()
    assert sum("compiling the sg/ns kernels, first run only" in line for line in lines) == 1
    assert rep["seconds"]["compile"] > 1.0
    assert rep["seconds"]["training"] < rep["seconds"]["compile"]
    assert rep["training_words_per_sec"] > 20000 / rep["seconds"]["training"] * 0.5  # words/s excludes compiling
    assert "compiling" in lines[-1]  # the summary line names the compile time
    index = list((tmp_path / "numba").rglob("driver.train_blocks-*.nbi"))
    assert len(index) == 1
    err, rep = train()
    assert "compiling" not in err and rep["seconds"]["compile"] < 1.0  # loaded from the cache


def test_reading_and_training_show_progress(tmp_path):
    """Reading shows the phase, bytes of the (compressed) total and MB/s; training shows elapsed and ETA."""
    import gzip
    import io

    from fastw2v.trainer import Progress

    corpus = tmp_path / "c.txt.gz"
    rng = np.random.default_rng(0)
    with gzip.open(corpus, "wt") as f:
        for _ in range(3000):
            f.write(" ".join(f"w{x}" for x in rng.zipf(1.3, 40) % 2000) + "\n")
    buf = io.StringIO()
    fastw2v.Word2Vec(dim=8, epochs=2, min_count=2, threads=2).fit(corpus, progress=Progress(stream=buf, interval=0.0,
                                                                                          delay=0.0))
    lines = buf.getvalue().splitlines()
    reading = [line for line in lines if "reading and counting the corpus" in line]
    assert reading and all("%" in line and "MB/s" in line and " of " in line for line in reading)
    training = [line for line in lines if "epoch" in line]
    assert training and all("elapsed" in line and "left" in line for line in training)


def test_kernel_calls_skip_the_literal_dispatch():
    """train_blocks asks for literals, which costs ~60 ms per call through its dispatcher: the runner calls
    the compiled function itself after prepare()."""
    counts = np.arange(300, 0, -1).astype(np.int64)
    r = KernelRunner(counts, TrainConfig(dim=8, threads=2).resolved(), 50)
    syn0, syn1, _ = init_weights(300, 8, 1)
    r.prepare(np.zeros(5, np.int32), np.array([0, 5]), syn0, syn1, init_bias(counts, "ns"))
    assert r._kernel is not driver.train_blocks and callable(r._kernel)


def test_initial_weights_are_drawn_without_full_size_temporaries():
    # The one-line (2 u - 1) / dim over a whole (V, d) draw held a V x d temporary beside the weights,
    # a peak above training's on realmix; blocks give the same values with one block's memory.
    import tracemalloc

    n, d = 40_000, 100
    rng = np.random.Generator(np.random.PCG64(3))
    expected = (rng.random((n, d), dtype=np.float32) * np.float32(2.0) - np.float32(1.0)) / np.float32(d)
    tracemalloc.start()
    try:
        syn0, syn1, bias = init_weights(n, d, 3, padded=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.array_equal(syn0, expected) and not syn1.any() and not bias.any()
    # two padded (n, 112) stores and the bias are 36 MB; the whole-matrix draw peaked 16 MB above
    stores = 2 * n * 112 * 4 + 4 * n
    assert peak < stores + (8 << 20), (peak, stores)


def test_group_rows_split_only_large_k_and_hs_windows():
    """k 5 shares one set of draws across any window up to 12 (24 rows: the default's 10 rows as before); k 15
    among at most 8 rows; batched skip-gram hs takes at most 6 rows a step (windows of 8 and 10 in halves);
    CBOW, softmax, --exact and subwords never split."""
    group_rows = trainer.group_rows
    assert group_rows(TrainConfig(), True) == 24 >= 2 * 12
    assert group_rows(TrainConfig(negative=15, window=10), True) == 8
    assert group_rows(TrainConfig(loss="nce", negative=20), True) == 6
    assert group_rows(TrainConfig(negative=500), True) == 1
    assert group_rows(TrainConfig(), False) == 0
    assert group_rows(TrainConfig(model="cbow", negative=15), True) == 0
    assert group_rows(TrainConfig(loss="hs"), True) == 6
    assert group_rows(TrainConfig(loss="hs"), False) == 0
    assert group_rows(TrainConfig(model="cbow", loss="hs"), True) == 0
    assert group_rows(TrainConfig(loss="softmax"), True) == 0
    assert group_rows(TrainConfig(subwords=True, negative=15), True) == 0
    assert group_rows(TrainConfig(subwords=True, loss="hs"), True) == 0


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_private_root_rows_fit_their_byte_budget(model):
    """hs's private root rows: every row up to d 100 (448 KiB), fewer at larger d, never more than HOT_BYTES a
    thread; none on one thread, and never more rows than the tree has inner nodes."""
    cap = driver.CBOW_HOT_ROWS if model == "cbow" else driver.HOT_ROWS
    got = {}
    for d in (8, 50, 100, 101, 200, 300, 1000, 20000):
        n = trainer.hot_rows(TrainConfig(model=model, loss="hs", dim=d, threads=2), 10**6, True)
        got[d] = n
        assert n >= 1 and n & (n - 1) == 0  # a power of two
        assert n * 4 * rows.padded_width(d) <= max(driver.HOT_BYTES, 4 * rows.padded_width(d))
        assert 2 * n * 4 * rows.padded_width(d) > driver.HOT_BYTES or n == cap  # the largest that fits
    assert got[100] == cap == 1024 and got[300] == 256 and got[20000] == 4
    assert trainer.hot_rows(TrainConfig(model=model, loss="hs", dim=300, threads=1), 10**6, True) == 0
    assert trainer.hot_rows(TrainConfig(model=model, loss="hs", dim=16, threads=2), 100, True) == 99


@pytest.mark.parametrize("cpu", ["icelake-server", "znver4"])
def test_vector_width_is_512_bits_only_for_rows_of_128_or_more(monkeypatch, cpu):
    """512-bit loops where they measured faster (hs at d 128, 150, 200, 300; on Zen 4 ns at d 300 too), 256 bits
    (0) where they did not (ns at d 300 on Intel, every kernel at d 100) or where the CPU features Numba
    compiles for have no AVX-512."""
    monkeypatch.setattr(numba.config, "CPU_FEATURES", "+avx2,+fma,+avx512f,+avx512vl")
    monkeypatch.setattr(numba.config, "CPU_NAME", cpu)
    width = trainer.vector_width
    for model in ("sg", "cbow"):
        assert width(TrainConfig(model=model, loss="hs", dim=300)) == 512
        assert width(TrainConfig(model=model, loss="hs", dim=128)) == 512
        assert width(TrainConfig(model=model, loss="hs", dim=127)) == 0
        assert width(TrainConfig(model=model, loss="hs")) == 0  # the default d 100
        assert width(TrainConfig(model=model, loss="ns", dim=300)) == (512 if cpu == "znver4" else 0)
        assert width(TrainConfig(model=model, loss="ns")) == 0
    monkeypatch.setattr(numba.config, "CPU_FEATURES", "+avx2,+fma,-avx512f")
    assert width(TrainConfig(loss="hs", dim=300)) == 0
    assert width(TrainConfig(loss="ns", dim=300)) == 0


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two threads")
def test_a_thread_busy_with_a_long_block_leaves_the_other_blocks_to_the_other_thread():
    """The blocks are handed out one at a time (driver.train_blocks' shared counter), not in fixed
    shares: with one sentence as long as the rest of the call together, the thread that trains it
    does not also train the next seven blocks, as a prange's contiguous halves (blocks 0-7 to one
    thread, 8-15 to the other) made it do, while the other thread waited."""
    rng = np.random.default_rng(5)
    lengths = [300_000] + [100] * 60
    starts = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    tokens, counts = _by_frequency(rng.integers(0, 50, int(starts[-1])).astype(np.int32), 50)
    cfg = TrainConfig(dim=32, epochs=1, threads=2, sample=0, max_sentence_length=400_000).resolved()
    syn0, syn1, _ = init_weights(len(counts), cfg.dim, 1, padded=True)
    bias = init_bias(counts, "ns")
    runner = KernelRunner(counts, cfg, max(lengths))
    previous = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        runner.prepare(tokens, starts, syn0, syn1, bias)
        runner.run(tokens, starts, 0, len(lengths), 0.025, 0.025, syn0, syn1, bias)
    finally:
        numba.set_num_threads(previous)
    assert runner.n_blocks == 2 * trainer.BLOCKS_PER_THREAD
    thread = runner.stats[:, driver.ST_THREAD].astype(int)
    assert set(thread) == {0, 1}
    first_half = thread[1:trainer.BLOCKS_PER_THREAD]
    assert (first_half != thread[0]).any(), thread
