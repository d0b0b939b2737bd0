"""Epoch loop, learning-rate schedule and progress around the Numba kernel.

The corpus is walked in stretches of about ``CALL_TOKENS_PER_THREAD`` tokens
per thread. Each stretch is one kernel call: its sentences are split into one
contiguous block per thread and the learning rate falls linearly across it,
from the value at the stretch's start to the value at its end, so the schedule
lives here in Python and stays exact for any number of threads.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import numba
import numpy as np

from .config import TrainConfig
from .corpus import TokenCache, release_pages
from .errors import TrainingDiverged
from .huffman import build_huffman
from .kernels import driver
from .kernels.rng import seed_states
from .sampler import build_alias, noise_weights
from .vocab import keep_probabilities

CALL_TOKENS_PER_THREAD = 1 << 17
BLOCKS_PER_THREAD = 8  # blocks per kernel call and thread, handed out one at a time


def init_weights(n_words: int, dim: int, seed: int):
    """word2vec C's start: inputs uniform in [-0.5/dim, 0.5/dim), outputs and biases zero.

    Returns (syn0, syn1, bias): float32 (n_words, dim), (n_words, dim), (n_words,).
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    syn0 = ((rng.random((n_words, dim), dtype=np.float32) * np.float32(2.0) - np.float32(1.0)) / np.float32(dim)).astype(np.float32)
    syn1 = np.zeros((n_words, dim), dtype=np.float32)
    bias = np.zeros(n_words, dtype=np.float32)
    return syn0, syn1, bias


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


def build_tables(counts: np.ndarray, cfg: TrainConfig):
    """The kernels' lookup tables: (noise_prob, noise_alias, noise_logq, hs_points, hs_codes, hs_lens).

    noise_logq[w] = log(k * P(w)), the log of w's expected count among k draws.
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
    return (prob, alias, logq, hs_points, hs_codes, hs_lens)


def max_candidates(tables, cfg: TrainConfig) -> int:
    """Columns the per-thread candidate buffers need: 1 + k, or the deepest Huffman path."""
    if cfg.loss == "hs":
        return max(1, int(tables[3].shape[1]))
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
    loss_sum: float  # the epoch's summed example losses (float64), what gensim's get_latest_training_loss reports
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


class Progress:
    """Progress on stderr: a bar on a terminal, a log line every few seconds otherwise.

    ``update`` gets the fraction done, raw words/s, the learning rate and the
    mean loss over the last interval.
    """

    def __init__(self, quiet: bool = False, stream=None, interval: float | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (0.2 if self.tty else 5.0)
        self._last = 0.0
        self._drawn = False

    def update(self, frac, words_per_sec, alpha, loss, epoch, epochs, force=False):
        if self.quiet:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        loss_s = "n/a" if loss is None or math.isnan(loss) else f"{loss:.4f}"
        if self.tty:
            width = 30
            filled = int(width * frac)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {100 * frac:5.1f}%  epoch {epoch}/{epochs}  "
                              f"{words_per_sec / 1e3:8.0f}K words/s  lr {alpha:.5f}  loss {loss_s}  ")
            self._drawn = True
        else:
            self.stream.write(f"fastw2v: {100 * frac:5.1f}% epoch {epoch}/{epochs} "
                              f"{words_per_sec / 1e3:.0f}K words/s lr {alpha:.5f} loss {loss_s}\n")
        self.stream.flush()

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


@dataclass
class Position:
    """Where training stands: what a checkpoint stores and a resume starts from.

    epoch: the epoch in progress (0-based); stretch: the next stretch of it to
    train; ep_stats: the kernel sums of that epoch so far (float64 (8,));
    ep_seconds: its seconds so far; history: the finished epochs' dicts.
    """

    epoch: int = 0
    stretch: int = 0
    ep_stats: np.ndarray = field(default_factory=lambda: np.zeros(8))
    ep_seconds: float = 0.0
    history: list = field(default_factory=list)

    def to_dict(self):
        return {"epoch": self.epoch, "stretch": self.stretch, "ep_stats": [float(x) for x in self.ep_stats],
                "ep_seconds": self.ep_seconds, "history": self.history}

    @classmethod
    def from_dict(cls, d):
        return cls(int(d["epoch"]), int(d["stretch"]), np.asarray(d["ep_stats"], dtype=np.float64),
                   float(d["ep_seconds"]), list(d["history"]))


def stretches(cache: TokenCache, n_threads: int) -> np.ndarray:
    """Sentence bounds of the kernel calls of one epoch (int64), the same for every epoch."""
    call_tokens = CALL_TOKENS_PER_THREAD * n_threads
    cuts = np.searchsorted(cache.starts, np.arange(call_tokens, cache.n_tokens, call_tokens), side="left")
    return np.unique(np.concatenate(([0], cuts, [cache.n_sentences]))).astype(np.int64)


def train(cache: TokenCache, counts: np.ndarray, syn0, syn1, bias, cfg: TrainConfig,
          raw_words_per_epoch: int, progress: Progress | None = None, loss_every: int = 1,
          start: Position | None = None, states: np.ndarray | None = None, on_safe_point=None,
          on_epoch=None) -> TrainResult:
    """Run ``cfg.epochs`` epochs over ``cache``, updating the weights in place.

    cfg must be resolved (alpha and threads set). ``raw_words_per_epoch`` is the
    corpus size before pruning; it only scales the reported words/s.
    start / states: resume from a :class:`Position` with these random states
    (uint64 (threads, 8); new ones are drawn when the thread count changed).
    on_safe_point(position, states): called between kernel calls, where the
    weights are consistent; it may write a checkpoint or raise to stop.
    on_epoch(event, epoch): called with "begin" before an epoch's first kernel
    call and "end" after its last (epoch 0-based), at safe points too.
    """
    n_threads = int(cfg.threads)
    numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
    model_code, loss_code = cfg.kernel_codes()
    tables = build_tables(counts, cfg)
    keep_prob = keep_probabilities(counts, cfg.sample)
    start = start or Position()
    n_blocks = n_threads * BLOCKS_PER_THREAD
    if states is None or states.shape != (n_blocks, 8):
        states = seed_states(cfg.seed + 1_000_003 * (start.epoch * 1_000_000 + start.stretch), n_blocks)
    max_len = max(1, min(cfg.max_sentence_length, _longest_sentence(cache)))
    # scratch is indexed by the worker's thread id, which can be any of Numba's threads
    scratch = driver.make_scratch(max(n_threads, numba.config.NUMBA_NUM_THREADS), max_len, cfg.window, cfg.dim,
                                  max_candidates(tables, cfg))
    stats = np.zeros((n_blocks, 8), dtype=np.float64)

    n_tok = cache.n_tokens
    total = max(n_tok * cfg.epochs, 1)
    scale = raw_words_per_epoch / max(n_tok, 1)
    alpha, min_alpha = float(cfg.alpha), float(cfg.min_alpha)

    def lr(done):
        return alpha - (alpha - min_alpha) * min(done / total, 1.0)

    result = TrainResult(history=list(start.history))
    t_start = time.perf_counter()
    stretch = stretches(cache, n_threads)
    done_at_start = start.epoch * n_tok + int(cache.starts[stretch[min(start.stretch, len(stretch) - 1)]])
    for epoch in range(start.epoch, cfg.epochs):
        resumed = epoch == start.epoch
        first = start.stretch if resumed else 0
        t_epoch = time.perf_counter() - (start.ep_seconds if resumed else 0.0)
        ep_stats = start.ep_stats.copy() if resumed else np.zeros(8)
        last = stats.sum(axis=0)
        if on_epoch is not None and first == 0:
            on_epoch("begin", epoch)
        for i in range(first, len(stretch) - 1):
            s_lo, s_hi = int(stretch[i]), int(stretch[i + 1])
            done0 = epoch * n_tok + int(cache.starts[s_lo])
            done1 = epoch * n_tok + int(cache.starts[s_hi])
            blocks = plan_blocks(cache.starts, s_lo, s_hi, n_blocks)
            previous = numba.set_parallel_chunksize(1)  # dynamic: one block at a time per thread
            try:
                driver.train_blocks(cache.tokens, cache.starts, blocks, syn0, syn1, bias, tables, keep_prob,
                                    model_code, loss_code, cfg.window, cfg.negative, cfg.batch,
                                    lr(done0), lr(done1), loss_every, states, scratch, stats)
            finally:
                numba.set_parallel_chunksize(previous)
            release_pages(cache.tokens, int(cache.starts[s_lo]), int(cache.starts[s_hi]))
            now = stats.sum(axis=0)
            delta = now - last
            last = now
            ep_stats += delta
            interval_loss = delta[driver.ST_LOSS] / delta[driver.ST_LOSS_N] if delta[driver.ST_LOSS_N] else float("nan")
            if not math.isfinite(delta[driver.ST_LOSS]):
                raise TrainingDiverged(f"training diverged (loss is {delta[driver.ST_LOSS]}) in epoch {epoch + 1}: "
                                       f"lower alpha (now {alpha})")
            elapsed = time.perf_counter() - t_start
            rate = (done1 - done_at_start) * scale / max(elapsed, 1e-9)
            result.trace.append({"seconds": elapsed, "epoch": epoch + 1, "progress": done1 / total,
                                 "loss": interval_loss, "words_per_sec": rate, "alpha": lr(done1)})
            if progress is not None:
                progress.update(done1 / total, rate, lr(done1), interval_loss, epoch + 1, cfg.epochs)
            if on_safe_point is not None and i + 2 < len(stretch):
                on_safe_point(Position(epoch, i + 1, ep_stats.copy(), time.perf_counter() - t_epoch,
                                       list(result.history)), states)
        if not (np.isfinite(syn0[:: max(1, len(syn0) // 1000)]).all() and np.isfinite(syn1[:: max(1, len(syn1) // 1000)]).all()):
            raise TrainingDiverged(f"training diverged (NaN or inf in the weights) in epoch {epoch + 1}: "
                                   f"lower alpha (now {alpha})")
        sec = time.perf_counter() - t_epoch
        raw_words = int(round(ep_stats[driver.ST_WORDS] * scale))
        result.history.append(EpochStats(
            epoch=epoch + 1,
            loss=float(ep_stats[driver.ST_LOSS] / ep_stats[driver.ST_LOSS_N]) if ep_stats[driver.ST_LOSS_N] else float("nan"),
            loss_sum=float(ep_stats[driver.ST_LOSS]),
            words=raw_words,
            effective_words=int(ep_stats[driver.ST_EFFECTIVE]),
            seconds=sec,
            words_per_sec=raw_words / max(sec, 1e-9),
            alpha_end=lr((epoch + 1) * n_tok),
        ).as_dict())
        if on_safe_point is not None and epoch + 1 < cfg.epochs:
            on_safe_point(Position(epoch + 1, 0, np.zeros(8), 0.0, list(result.history)), states)
        if on_epoch is not None:
            on_epoch("end", epoch)
    result.seconds = time.perf_counter() - t_start
    result.words = int(round((cfg.epochs * n_tok - done_at_start) * scale))  # trained in this call
    if progress is not None:
        progress.close()
    return result


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
