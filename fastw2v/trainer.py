"""Epoch loop, learning-rate schedule and progress around the Numba kernel.

The corpus is walked in stretches of about ``CALL_TOKENS_PER_THREAD`` tokens
per thread. Each stretch is one kernel call (:class:`KernelRunner.run`): its
sentences are split into several blocks per thread, handed out dynamically,
and the learning rate falls linearly across the whole stretch, from the value
at its first token to the value at its end, so the schedule lives here in
Python and stays exact for any number of threads. Training positions are token
offsets, so a run can resume with another thread count at the same place.
"""
from __future__ import annotations

import math
import sys
import threading
import time
from dataclasses import dataclass, field

import numba
import numpy as np

from .config import TrainConfig
from .corpus import TokenCache, release_pages
from .errors import TrainingDiverged
from .huffman import build_huffman
from .jitcache import compiled_entry, kernel_ready
from .kernels import driver
from .kernels.common import Tables
from .kernels.rng import seed_states
from . import rows
from .sampler import build_alias, noise_weights
from .vocab import keep_probabilities

CALL_TOKENS_PER_THREAD = 1 << 17
BLOCKS_PER_THREAD = 8  # blocks per kernel call and thread, handed out one at a time


def init_weights(n_words: int, dim: int, seed: int, padded: bool = False):
    """Inputs uniform in [-1/dim, 1/dim) (seeded PCG64), outputs and biases zero.

    Returns (syn0, syn1, bias): float32 (n_words, dim), (n_words, dim), (n_words,); with ``padded``
    syn0 and syn1 are views of row-padded stores (:mod:`fastw2v.rows`), same values.
    """
    syn0 = init_input_rows(n_words, dim, seed, padded)
    syn1 = rows.padded_zeros(n_words, dim) if padded else np.zeros((n_words, dim), dtype=np.float32)
    return syn0, syn1, np.zeros(n_words, dtype=np.float32)


def init_input_rows(n_rows: int, dim: int, seed: int, padded: bool = False) -> np.ndarray:
    """float32 (n_rows, dim) uniform in [-1/dim, 1/dim): (2 u - 1) / dim for u of seeded PCG64's
    ``random(dtype=float32)``; with ``padded`` a view of a row-padded store (:mod:`fastw2v.rows`).

    Drawn in blocks of about 4 MB, into one reused buffer, then copied into the result: the values
    are those of one (n_rows, dim) draw (the generator's stream does not depend on how it is split),
    and the memory beyond the result is one block, not the full-size temporary of the one-line form
    (23 MB of RSS above the weights on realmix's 61k x 100, the run's peak).
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    out = rows.padded_zeros(n_rows, dim) if padded else np.empty((n_rows, dim), dtype=np.float32)
    step = max(1, (1 << 20) // max(dim, 1))
    buf = np.empty((min(step, n_rows), dim), dtype=np.float32)
    for lo in range(0, n_rows, step):
        block = buf[:min(step, n_rows - lo)]
        rng.random(out=block, dtype=np.float32)
        block *= np.float32(2.0)
        block -= np.float32(1.0)
        block /= np.float32(dim)
        out[lo:lo + step] = block
    return out


def init_bias(counts: np.ndarray, loss: str) -> np.ndarray:
    """Output biases at the start: log unigram probability for nce and softmax, else zero.

    With b_w = log P(w) the corrected logits start as the best context-free
    model (Mnih & Teh 2012) instead of a large positive logit for every rare
    noise word, whose first updates would otherwise shove rare output rows hard.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if loss in ("nce", "softmax") and counts.size:
        return np.log(counts / counts.sum()).astype(np.float32)
    return np.zeros(counts.shape[0], dtype=np.float32)


def build_tables(counts: np.ndarray, cfg: TrainConfig) -> Tables:
    """The kernels' lookup tables (:class:`~fastw2v.kernels.common.Tables`).

    noise_logq[w] = log(k * P(w)), the log of w's expected count among k draws.
    The Huffman paths are built only for hs (1-element dummies otherwise).
    """
    weights = noise_weights(counts, cfg.noise, cfg.ns_exponent)
    prob, alias = build_alias(weights)
    p = weights / weights.sum()
    k = max(cfg.negative, 1)
    with np.errstate(divide="ignore"):
        logq = np.log(k * p).astype(np.float32)
    if cfg.loss == "hs":
        hs_points, hs_codes, hs_lens = build_huffman(counts)
    else:
        hs_points = np.zeros((1, 1), dtype=np.int32)
        hs_codes = np.zeros((1, 1), dtype=np.int8)
        hs_lens = np.zeros(1, dtype=np.int32)
    return Tables(prob, alias, logq, hs_points, hs_codes, hs_lens)


def max_candidates(tables: Tables, cfg: TrainConfig) -> int:
    """Columns the per-thread candidate buffers need: 1 + k, the deepest Huffman path, or (subword
    skip-gram with shared noise) the window's 2 * window true words + k."""
    if cfg.loss == "hs":
        return max(1, int(tables.hs_points.shape[1]))
    if cfg.ngrams and cfg.share_noise and cfg.model == "sg" and cfg.batch and cfg.loss in ("ns", "nce"):
        return 2 * cfg.window + max(cfg.negative, 1)  # a whole window's true words and the shared draws
    if cfg.model == "cbow" and cfg.batch and not cfg.ngrams and cfg.loss in ("ns", "nce"):
        return driver.CBOW_BLOCK + max(cfg.negative, 1)  # a block's centre words and the shared draws
    return 1 + max(cfg.negative, 1)


def plan_blocks(starts: np.ndarray, s_lo: int, s_hi: int, n_blocks: int) -> np.ndarray:
    """Sentence bounds (int64, n_blocks + 1) splitting sentences s_lo:s_hi into blocks of equal tokens."""
    w_lo, w_hi = int(starts[s_lo]), int(starts[s_hi])
    targets = w_lo + (w_hi - w_lo) * np.arange(1, n_blocks, dtype=np.float64) / n_blocks
    inner = np.searchsorted(starts[s_lo:s_hi + 1], targets, side="left") + s_lo
    bounds = np.concatenate(([s_lo], np.clip(inner, s_lo, s_hi), [s_hi])).astype(np.int64)
    return np.maximum.accumulate(bounds)


@dataclass
class EpochStats:
    epoch: int
    loss: float
    # the epoch's summed example losses (float64; estimated when sampled): gensim's get_latest_training_loss
    loss_sum: float
    words: int
    effective_words: int
    seconds: float
    words_per_sec: float
    alpha_end: float

    def as_dict(self):
        return dict(self.__dict__)


@dataclass
class TrainResult:
    history: list = field(default_factory=list)
    trace: list = field(default_factory=list)  # one point per kernel call
    seconds: float = 0.0
    words: int = 0
    compile_seconds: float = 0.0


class Progress:
    """Progress on stderr: a bar on a terminal, a log line every few seconds otherwise.

    ``update`` gets the fraction done, raw words/s, the learning rate, the mean
    loss over the last interval, and the elapsed and remaining seconds. (A
    library bar such as click's draws on terminals only; the log-line mode for
    batch jobs and pipes is what most long runs see, so one small class does both.)
    """

    def __init__(self, quiet: bool = False, stream=None, interval: float | None = None, delay: float = 1.0):
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay  # a byte-measured phase shorter than this shows no progress line
        self.quiet = quiet
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (0.2 if self.tty else 5.0)
        self._last = 0.0
        self._drawn = False

    def _due(self, force):
        now = time.monotonic()
        if self.quiet or (not force and now - self._last < self.interval):
            return False
        self._last = now
        return True

    def _emit(self, bar_text: str, line_text: str):
        if self.tty:
            self.stream.write("\r" + bar_text + "  ")
            self._drawn = True
        else:
            self.stream.write("fastw2v: " + line_text + "\n")
        self.stream.flush()

    def update(self, frac, words_per_sec, alpha, loss, epoch, epochs, force=False, elapsed=None, eta=None):
        if not self._due(force):
            return
        loss_s = "n/a" if loss is None or math.isnan(loss) else f"{loss:.4f}"
        times = ""
        if elapsed is not None:
            times = f"  {_clock(elapsed)} elapsed, {_clock(eta)} left"
        width = 30
        filled = int(width * frac)
        bar = "#" * filled + "-" * (width - filled)
        self._emit(f"[{bar}] {100 * frac:5.1f}%  epoch {epoch}/{epochs}  {words_per_sec / 1e3:8.0f}K words/s  "
                   f"lr {alpha:.5f}  loss {loss_s}{times}",
                   f"{100 * frac:5.1f}% epoch {epoch}/{epochs} {words_per_sec / 1e3:.0f}K words/s lr {alpha:.5f} "
                   f"loss {loss_s}{times.replace('  ', ' ')}")

    def reading(self, phase: str, done_bytes: int, total_bytes: int | None, elapsed: float, force=False):
        """Progress of a phase measured in bytes (reading and counting the corpus), ``elapsed`` seconds in."""
        if elapsed < self.delay or not self._due(force):
            return
        mb_per_sec = done_bytes / 1e6 / max(elapsed, 1e-9)
        if total_bytes:
            frac = min(done_bytes / total_bytes, 1.0)
            width = 30
            bar = "#" * int(width * frac) + "-" * (width - int(width * frac))
            self._emit(f"[{bar}] {100 * frac:5.1f}%  {phase}  {done_bytes / 1e6:,.0f} of {total_bytes / 1e6:,.0f} MB  "
                       f"{mb_per_sec:.1f} MB/s",
                       f"{phase}: {100 * frac:5.1f}% {done_bytes / 1e6:,.0f} of {total_bytes / 1e6:,.0f} MB "
                       f"{mb_per_sec:.1f} MB/s")
        else:
            self._emit(f"{phase}  {done_bytes / 1e6:,.0f} MB  {mb_per_sec:.1f} MB/s",
                       f"{phase}: {done_bytes / 1e6:,.0f} MB {mb_per_sec:.1f} MB/s")

    def close(self):
        if self._drawn and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def message(self, text: str):
        if not self.quiet:
            self.close()
            self.stream.write(text + "\n")
            self.stream.flush()


def _clock(seconds) -> str:
    """h:mm:ss (or m:ss) for progress lines; '?' when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


@dataclass
class Position:
    """Where training stands: what a checkpoint stores and a resume starts from.

    epoch: the epoch in progress (0-based); token: the offset in the token
    stream (within the epoch, always a sentence start) where the next kernel
    call begins, so the place does not depend on the thread count;
    ep_stats: the kernel sums of that epoch so far (float64 (8,));
    ep_seconds: its seconds so far; history: the finished epochs' dicts.
    """

    epoch: int = 0
    token: int = 0
    ep_stats: np.ndarray = field(default_factory=lambda: np.zeros(8))
    ep_seconds: float = 0.0
    history: list = field(default_factory=list)

    def to_dict(self):
        return {"epoch": self.epoch, "token": self.token, "ep_stats": [float(x) for x in self.ep_stats],
                "ep_seconds": self.ep_seconds, "history": self.history}

    @classmethod
    def from_dict(cls, d):
        return cls(int(d["epoch"]), int(d["token"]), np.asarray(d["ep_stats"], dtype=np.float64),
                   float(d["ep_seconds"]), list(d["history"]))


def stretch_bounds(starts: np.ndarray, s_from: int, s_to: int, call_tokens: int) -> np.ndarray:
    """Sentence indices (int64) cutting sentences s_from:s_to into kernel calls of ~call_tokens tokens.

    Cuts fall at the first sentence start at or after each multiple of
    call_tokens (counted from token 0, not from s_from, so a run resumed at a
    cut makes the same calls as the run it continues); the first bound is
    s_from and the last s_to.
    """
    w0, w1 = int(starts[s_from]), int(starts[s_to])
    marks = np.arange((w0 // call_tokens + 1) * call_tokens, w1, call_tokens, dtype=np.int64)
    cuts = np.searchsorted(starts[s_from:s_to + 1], marks, side="left") + s_from
    return np.unique(np.concatenate(([s_from], cuts, [s_to]))).astype(np.int64)


def linear_rate(alpha: float, min_alpha: float, total_tokens: int):
    """lr(done): alpha falling linearly to min_alpha over ``total_tokens`` tokens, then flat."""
    total = max(int(total_tokens), 1)

    def lr(done):
        return alpha - (alpha - min_alpha) * min(done / total, 1.0)
    return lr


#: positions of train_blocks' compile-time literal arguments: model, loss, batched, subwords, width
LITERAL_ARGS = (8, 9, 10, 11, 12)


def _read_only(a: np.ndarray) -> np.ndarray:
    """``a`` itself if it is read-only, else a read-only view of it (no copy)."""
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view


#: An epoch of at least EXACT_LOSS_BELOW tokens sums the loss over every LOSS_EVERY-th centre word's
#: examples (their mean estimates the epoch's); a smaller one over every example. The loss is reported,
#: never trained on: computing it from the softplus table for every example took about 8% of
#: hs's time at d 300 (11% of the kernel's samples in a profile of sg-hs). One in 16 moved the mean
#: loss of an epoch of realmix's first 25 MB by 0.05%.
LOSS_EVERY = 16
EXACT_LOSS_BELOW = 1 << 20


def loss_every_for(n_tokens: int) -> int:
    """Settings.loss_every for an epoch of ``n_tokens`` tokens: 1 (every example) below
    EXACT_LOSS_BELOW tokens, where it costs little, else LOSS_EVERY."""
    return 1 if int(n_tokens) < EXACT_LOSS_BELOW else LOSS_EVERY


def hot_rows(cfg: TrainConfig, n_words: int, batched: bool) -> int:
    """Inner nodes each thread keeps a private copy of (driver.Settings.hot_rows): batched skip-gram
    or CBOW with hs on more than one thread, where the root rows are written for every centre word;
    else 0 (one thread has no other thread to share rows with, and runs as before; subwords and
    skip-gram's ``--exact`` keep the shared rows). CBOW keeps driver.CBOW_HOT_ROWS, skip-gram driver.HOT_ROWS,
    each at most the power of two of padded rows that fits in driver.HOT_BYTES (d 300: 256).
    For CBOW, 2-thread realmix ran 1.17-1.7x faster with WordSim-353
    and analogy on the text8 sample unchanged over 4 seeds (0.494 / 2.90% against 0.485 / 3.02%)."""
    if cfg.loss != "hs" or (cfg.model == "sg" and not batched) or cfg.ngrams or int(cfg.threads) < 2:
        return 0
    n = driver.CBOW_HOT_ROWS if cfg.model == "cbow" else driver.HOT_ROWS
    fit = driver.HOT_BYTES // (4 * rows.padded_width(int(cfg.dim)))  # no more than HOT_BYTES a thread
    n = min(n, 1 << (max(1, fit).bit_length() - 1))
    return max(0, min(n, int(n_words) - 1))


#: the least dimension whose kernels are compiled for 512-bit vectors where the CPU has them (vector_width)
WIDE_DIM = 128


def _has_512_bit_vectors() -> bool:
    """Whether the CPU features Numba compiles for include AVX-512F (NUMBA_CPU_FEATURES where set)."""
    try:
        features = numba.config.CPU_FEATURES
        if features is None:
            import llvmlite.binding as llvm

            features = llvm.get_host_cpu_features().flatten()
        return "+avx512f" in str(features).split(",")
    except Exception:  # noqa: BLE001 - unknown: the default width, which is always right
        return False


def vector_width(cfg: TrainConfig) -> int:
    """The vector width in bits this run's kernel is compiled for (driver.train_blocks' ``width``): 512 at
    d >= WIDE_DIM where the CPU has 512-bit vectors, for hs, and on AMD's Zen for every loss; else 0 (256 bits,
    :func:`~fastw2v.kernels.common.vector_width`).

    On an Ice Lake host (realmix's first 25 MB, B/A per pair against 256-bit code, 4 pairs each; bench/MATRIX.md):
    sg-hs at d 300 1.13-1.30 at 1 thread and 0.95-1.25 (median 1.18) at 2, at d 200 1.06-1.20, at d 150
    0.99-1.19, at d 128 1.15-1.23; cbow-hs at d 300 0.95-1.34 and 0.99-1.13 (2 threads), at d 128 1.05-1.10
    (2 threads). But sg-hs at d 100 0.88-1.31 (median 0.99), and with 512-bit code for every kernel (an
    earlier session) sg-ns at d 100 0.87-0.93; sg-ns at d 300 0.79-1.01 and cbow-ns 0.79-1.07 (3 pairs): ns
    keeps 256 bits there. On a Zen 4 host (realmix, 2 threads, bench/ab_calls.py, 256 against 512 bits, B/A
    over the run): sg-ns at d 300 0.948, cbow-ns at d 300 0.976, so ns takes 512 bits at d 300 there; at
    d 100 cbow-ns 1.072 and 1.055, cbow-hs 1.043, sg-hs 1.022, sg-ns 0.999 and 1.003, so 256 bits below
    WIDE_DIM on every CPU (bench/RESULTS.md, 2026-12-08)."""
    if int(cfg.dim) < WIDE_DIM or not _has_512_bit_vectors():
        return 0
    return 512 if cfg.loss == "hs" or _cpu_name().startswith("znver") else 0


def _cpu_name() -> str:
    """The CPU Numba compiles for: NUMBA_CPU_NAME where set, else LLVM's name of this host's ("znver4", ...)."""
    try:
        name = numba.config.CPU_NAME
        if name is None:
            import llvmlite.binding as llvm

            name = llvm.get_host_cpu_name()
        return str(name)
    except Exception:  # noqa: BLE001 - unknown: treated as not Zen, 256 bits for ns
        return ""


def group_rows(cfg: TrainConfig, batched: bool) -> int:
    """The most context rows one loss step of batched skip-gram takes (driver.Settings.group_rows).

    ns and nce: the rows one set of noise draws serves, driver.NOISE_PAIRS // negative, so that k 5 shares
    across a whole window (up to 24 rows: every window up to 12, as before) and k 15 among at most 8. hs:
    driver.HS_GROUP_ROWS (6: windows of 8 and 10 rows train as two halves against the path). 0 (no limit)
    elsewhere."""
    if cfg.model != "sg" or not batched or cfg.ngrams:
        return 0
    if cfg.loss == "hs":
        return driver.HS_GROUP_ROWS
    if cfg.loss not in ("ns", "nce"):
        return 0
    return max(1, driver.NOISE_PAIRS // int(cfg.negative))


class KernelRunner:
    """What every kernel call of one run shares: tables, keep probabilities, buffers, random states.

    counts: int64 (V,) vocabulary counts (global ones in distributed training);
    cfg: a resolved :class:`TrainConfig`; max_sentence_length: the longest
    sentence the calls will see; stream: an integer folded into the random
    states (0 locally, the worker's index in distributed training).
    subwords: (ptr int64 (V+1,), ids int32) from :func:`fastw2v.subwords.subword_table`,
    required when ``cfg.ngrams`` (the input matrix then has V + buckets rows).
    loss_every: the loss is summed over the examples of every loss_every-th centre word (or CBOW block,
    or skip-gram pair with ``--exact``; :func:`loss_every_for`).
    Attributes: ``states`` uint64 (n_blocks, 16), the random state of every block.
    """

    def __init__(self, counts: np.ndarray, cfg: TrainConfig, max_sentence_length: int, stream: int = 0,
                 loss_every: int = 1, subwords=None):
        self.cfg = cfg
        self.stream = int(stream)
        self.n_threads = int(cfg.threads)
        self.n_blocks = self.n_threads * BLOCKS_PER_THREAD
        self.tables = build_tables(counts, cfg)
        self.keep_prob = keep_probabilities(counts, cfg.sample)
        model, loss = cfg.kernel_codes()
        # CBOW with hs, softmax or subwords ignores batched: one compiled kernel serves --batch and --exact
        blocks = cfg.model == "sg" or (cfg.loss in ("ns", "nce") and not cfg.ngrams)
        self.codes = (model, loss, bool(cfg.batch) if blocks else True, cfg.ngrams, vector_width(cfg))
        if cfg.ngrams:
            if subwords is None:
                raise ValueError("cfg.subwords needs the vocabulary's subword table")
            self.sub = driver.Subwords(np.ascontiguousarray(subwords[0], dtype=np.int64),
                                       np.ascontiguousarray(subwords[1], dtype=np.int32))
        else:
            self.sub = driver.no_subwords()
        hot = hot_rows(cfg, len(counts), self.codes[2])
        self.settings = driver.Settings(int(cfg.window), int(cfg.negative), int(loss_every), int(cfg.share_noise),
                                        hot, group_rows(cfg, self.codes[2]))
        self._scratch_shape = (max(1, min(cfg.max_sentence_length, max_sentence_length)),
                               max_candidates(self.tables, cfg), hot)
        self.scratch = None  # made by _args for the row width the weights come in (rows.kernel_view)
        self._views = (None, None)  # (key, kernel views) of the last weights seen
        self.stats = driver.make_stats(self.n_blocks)
        self.states = driver.aligned_zeros((self.n_blocks, 16), np.uint64)
        self.seed_epoch(0)
        self.alpha_trace = None  # a list to record (token offset, alpha) of every block's first sentence
        self._kernel = driver.train_blocks  # prepare() swaps in the compiled function itself

    def seed_epoch(self, epoch: int, token: int = 0):
        """Random states of every block from (seed, stream, epoch, token, block).

        token: the offset the epoch (re)starts at; non-zero only when a resume
        cannot restore the saved states (another thread count).
        """
        self.states[:] = seed_states(self.cfg.seed, self.n_blocks, self.stream, epoch, token)

    def set_states(self, states: np.ndarray) -> bool:
        """Restore saved states; False (nothing changed) when their shape does not fit this run."""
        states = np.asarray(states)
        if states.dtype != np.uint64 or states.shape != self.states.shape:
            return False
        self.states[:] = states
        return True

    def _kernel_rows(self, syn0, syn1):
        """syn0, syn1 as the kernels take them (:func:`rows.kernel_view`, looked up once per pair of
        arrays), and scratch rows of the same width."""
        key = (syn0.__array_interface__["data"][0], syn0.shape, syn1.__array_interface__["data"][0], syn1.shape)
        if self._views[0] != key:
            self._views = (key, rows.kernel_view(syn0, syn1))
            # the loops run to d, not over the pad columns: the same sums as unpadded rows, bit for bit
            self.tables = self.tables._replace(dim=int(syn0.shape[1]))
        syn0, syn1 = self._views[1]
        width = syn0.shape[1]
        if self.scratch is None or self.scratch.H.shape[2] != width:
            n_sent, n_cand, hot = self._scratch_shape
            # scratch is indexed by the worker's thread id, which can be any of Numba's threads
            self.scratch = driver.make_scratch(max(self.n_threads, numba.config.NUMBA_NUM_THREADS), n_sent,
                                               self.cfg.window, width, n_cand, hot)
        return syn0, syn1

    def _args(self, tokens, starts, block_sent, syn0, syn1, bias, alpha0, alpha1):
        model, loss, batched, subwords, width = self.codes
        syn0, syn1 = self._kernel_rows(syn0, syn1)
        # Numba types read-only and writable arrays apart: a memory-mapped token cache (read-only) and
        # one in memory (a Dask shard, a test's arrays) would each compile the whole kernel again
        tokens, starts = _read_only(tokens), _read_only(starts)
        return (tokens, starts, block_sent, syn0, syn1, bias, self.tables, self.keep_prob, model, loss, batched,
                subwords, width, self.sub, self.settings, float(alpha0), float(alpha1), self.states, self.scratch,
                self.stats)

    def prepare(self, tokens, starts, syn0, syn1, bias, notify=None) -> float:
        """Compile (or load from Numba's disk cache) this run's kernel; returns the seconds it took.

        ``notify(text)`` is told, before a compile starts, what is being compiled.
        A call over empty blocks gives the kernel exactly the argument types of
        the real calls, and trains nothing.
        """
        t = time.perf_counter()
        empty = np.zeros(self.n_blocks + 1, dtype=np.int64)
        args = self._args(tokens[:0], starts[:1], empty, syn0, syn1, bias, 0.0, 0.0)
        ready = kernel_ready(driver.train_blocks, args, literal=LITERAL_ARGS)
        timer = None
        if notify is not None:
            exact = '' if self.cfg.batch or self.cfg.model != 'sg' else ' (exact)'
            ngrams = ' with subwords' if self.cfg.ngrams else ''
            what = f"compiling the {self.cfg.model}/{self.cfg.loss} kernels{exact}{ngrams}, first run only..."
            if ready is False:
                notify(what)
            elif ready is None:  # unknown: say so only if it takes long
                timer = threading.Timer(2.0, notify, (what,))
                timer.daemon = True
                timer.start()
        try:
            driver.train_blocks(*args)
        finally:
            if timer is not None:
                timer.cancel()
        self._kernel = compiled_entry(driver.train_blocks, args, literal=LITERAL_ARGS) or driver.train_blocks
        return time.perf_counter() - t

    def run(self, tokens, starts, s_lo: int, s_hi: int, alpha0: float, alpha1: float, syn0, syn1, bias) -> np.ndarray:
        """Train sentences s_lo:s_hi in one kernel call; returns this call's sums (float64 (5,), ST_* columns).

        alpha falls linearly from alpha0 at starts[s_lo] to alpha1 at starts[s_hi].
        """
        blocks = plan_blocks(starts, s_lo, s_hi, self.n_blocks)
        before = self.stats[:, :driver.SUMMED].sum(axis=0)
        self._kernel(*self._args(tokens, starts, blocks, syn0, syn1, bias, alpha0, alpha1))
        if self.alpha_trace is not None:
            first = self.stats[:, driver.ST_FIRST_POS] >= 0
            self.alpha_trace.extend(zip(self.stats[first, driver.ST_FIRST_POS].astype(np.int64).tolist(),
                                        self.stats[first, driver.ST_FIRST_ALPHA].tolist()))
        return self.stats[:, :driver.SUMMED].sum(axis=0) - before


def train(cache: TokenCache, counts: np.ndarray, syn0, syn1, bias, cfg: TrainConfig,
          raw_words_per_epoch: int, progress: Progress | None = None, loss_every: int | None = None,
          start: Position | None = None, states: np.ndarray | None = None, on_safe_point=None,
          on_epoch=None, runner: KernelRunner | None = None, subwords=None) -> TrainResult:
    """Run ``cfg.epochs`` epochs over ``cache``, updating the weights in place.

    cfg must be resolved (alpha and threads set). ``raw_words_per_epoch`` is the
    corpus size before pruning; it only scales the reported words/s.
    start / states: resume from a :class:`Position` with these random states
    (uint64 (blocks, 16); when the thread count changed they cannot be restored,
    and new ones are derived from the position).
    on_safe_point(position, states): called between kernel calls, where the
    weights are consistent; it may write a checkpoint or raise to stop.
    on_epoch(event, epoch): called with "begin" and "end" around every epoch
    (0-based), also at safe points.
    runner: a :class:`KernelRunner` to reuse (tests set its ``alpha_trace``).
    loss_every: see :class:`KernelRunner` (default :func:`loss_every_for` the cache's tokens).
    subwords: the vocabulary's subword table when ``cfg.ngrams`` (see :class:`KernelRunner`);
    syn0 then holds V + buckets rows.
    The result's ``compile_seconds`` is the time spent compiling or loading the
    kernel before training; ``seconds`` and words/s exclude it.
    """
    numba.set_num_threads(min(int(cfg.threads), numba.config.NUMBA_NUM_THREADS))
    start = start or Position()
    if loss_every is None:
        loss_every = loss_every_for(cache.n_tokens)
    runner = runner or KernelRunner(counts, cfg, _longest_sentence(cache), loss_every=loss_every, subwords=subwords)
    result = TrainResult(history=list(start.history))
    result.compile_seconds = runner.prepare(cache.tokens, cache.starts, syn0, syn1, bias,
                                            notify=progress.message if progress is not None else None)

    n_tok = cache.n_tokens
    scale = raw_words_per_epoch / max(n_tok, 1)
    alpha = float(cfg.alpha)
    lr = linear_rate(alpha, float(cfg.min_alpha), n_tok * cfg.epochs)
    total = max(n_tok * cfg.epochs, 1)
    call_tokens = CALL_TOKENS_PER_THREAD * runner.n_threads
    s_start = int(np.searchsorted(cache.starts, start.token, side="left"))
    if s_start > cache.n_sentences or int(cache.starts[min(s_start, cache.n_sentences)]) != start.token:
        raise ValueError(f"token offset {start.token} is not a sentence start of this corpus")
    if start.token or start.epoch:
        if states is None or not runner.set_states(states):
            runner.seed_epoch(start.epoch, start.token)
    done_at_start = start.epoch * n_tok + start.token

    t_start = time.perf_counter()
    for epoch in range(start.epoch, cfg.epochs):
        resumed = epoch == start.epoch
        s_first = s_start if resumed else 0
        if not resumed:
            runner.seed_epoch(epoch)
        t_epoch = time.perf_counter() - (start.ep_seconds if resumed else 0.0)
        ep_stats = start.ep_stats.copy() if resumed else np.zeros(8)
        if on_epoch is not None:
            on_epoch("begin", epoch)
        bounds = stretch_bounds(cache.starts, s_first, cache.n_sentences, call_tokens)
        for i in range(len(bounds) - 1):
            s_lo, s_hi = int(bounds[i]), int(bounds[i + 1])
            done0 = epoch * n_tok + int(cache.starts[s_lo])
            done1 = epoch * n_tok + int(cache.starts[s_hi])
            delta = runner.run(cache.tokens, cache.starts, s_lo, s_hi, lr(done0), lr(done1), syn0, syn1, bias)
            release_pages(cache.tokens, int(cache.starts[s_lo]), int(cache.starts[s_hi]))
            ep_stats[:driver.SUMMED] += delta
            interval_loss = delta[driver.ST_LOSS] / delta[driver.ST_LOSS_N] if delta[driver.ST_LOSS_N] else float("nan")
            if not math.isfinite(delta[driver.ST_LOSS]):
                raise TrainingDiverged(f"training diverged (loss is {delta[driver.ST_LOSS]}) in epoch {epoch + 1}: "
                                       f"lower alpha (now {alpha})")
            elapsed = time.perf_counter() - t_start
            rate = (done1 - done_at_start) * scale / max(elapsed, 1e-9)
            result.trace.append({"seconds": elapsed, "epoch": epoch + 1, "progress": done1 / total,
                                 "loss": interval_loss, "words_per_sec": rate, "alpha": lr(done1)})
            if progress is not None:
                eta = (total - done1) * scale / rate if rate > 0 else float("nan")
                progress.update(done1 / total, rate, lr(done1), interval_loss, epoch + 1, cfg.epochs,
                                elapsed=elapsed, eta=eta)
            if on_safe_point is not None and s_hi < cache.n_sentences:
                on_safe_point(Position(epoch, int(cache.starts[s_hi]), ep_stats.copy(),
                                       time.perf_counter() - t_epoch, list(result.history)), runner.states)
        if not (np.isfinite(syn0[:: max(1, len(syn0) // 1000)]).all() and np.isfinite(syn1[:: max(1, len(syn1) // 1000)]).all()):
            raise TrainingDiverged(f"training diverged (NaN or inf in the weights) in epoch {epoch + 1}: "
                                   f"lower alpha (now {alpha})")
        sec = time.perf_counter() - t_epoch
        raw_words = int(round(ep_stats[driver.ST_WORDS] * scale))
        result.history.append(EpochStats(
            epoch=epoch + 1,
            loss=float(ep_stats[driver.ST_LOSS] / ep_stats[driver.ST_LOSS_N]) if ep_stats[driver.ST_LOSS_N] else float("nan"),
            loss_sum=_loss_sum(ep_stats),
            words=raw_words,
            effective_words=int(ep_stats[driver.ST_EFFECTIVE]),
            seconds=sec,
            words_per_sec=raw_words / max(sec, 1e-9),
            alpha_end=lr((epoch + 1) * n_tok),
        ).as_dict())
        if on_epoch is not None:
            on_epoch("end", epoch)
        if on_safe_point is not None and epoch + 1 < cfg.epochs:
            runner.seed_epoch(epoch + 1)  # the states the next epoch starts with, so a resume matches
            on_safe_point(Position(epoch + 1, 0, np.zeros(8), 0.0, list(result.history)), runner.states)
    result.seconds = time.perf_counter() - t_start
    result.words = int(round((cfg.epochs * n_tok - done_at_start) * scale))  # trained in this call
    if progress is not None:
        progress.close()
    return result


def _loss_sum(stats) -> float:
    """The summed loss of every example the stats count (float64): the sampled sum scaled by
    examples / sampled examples (the sum itself when every example was sampled)."""
    n = stats[driver.ST_LOSS_N]
    if not n:
        return 0.0
    return float(stats[driver.ST_LOSS] * (stats[driver.ST_EXAMPLES] / n))


def _longest_sentence(cache: TokenCache) -> int:
    if cache.n_sentences == 0:
        return 1
    longest = 0
    step = 1 << 22
    for lo in range(0, cache.n_sentences, step):
        seg = np.asarray(cache.starts[lo:lo + step + 1])
        if seg.size > 1:
            longest = max(longest, int(np.diff(seg).max()))
    return longest
