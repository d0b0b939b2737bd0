"""Tasks that run inside the Dask worker processes.

A worker's state for one run (its token cache, its replica of the weights
and of their last synced values, its kernel runner) lives in this module's
``_RUNS`` dict under the run id, so it stays in the worker process between
tasks; the driver reaches it with tasks pinned to that worker
(``client.submit(fn, ..., workers=[address], pure=False)``). Nothing here
imports Dask: the functions are plain Python and are also unit-tested
without a cluster.

Every kernel call holds ``_KERNEL_LOCK``: Numba's parallel kernels must not be
entered from two threads at once (the workqueue threading layer aborts), and a
Dask worker may run several task threads.
"""
from __future__ import annotations

import threading
import time
import zlib

import numpy as np

from .. import trainer
from ..config import TrainConfig
from ..corpus import WorkDir, build_token_cache, release_pages
from ..kernels import driver as kdriver
from . import combine, source

_RUNS: dict = {}
_KERNEL_LOCK = threading.Lock()


# ----------------------------------------------------------------- vocabulary
def partition_of(word: str, n_parts: int) -> int:
    """The hash partition of a word (crc32 of its UTF-8: the same in every process, unlike hash())."""
    return zlib.crc32(word.encode("utf-8", "surrogatepass")) % n_parts


def count_block(files: list, n_parts: int, cache_dir=None):
    """Count one block of input (a list of files) and split the counts into hash partitions.

    Returns (parts, meta): parts a list of n_parts dicts word -> count;
    meta {"tokens", "sentences", "invalid_utf8"} of the block before pruning.
    """
    with WorkDir(cache_dir) as work:
        raw = source.read(files, work)
        counts = source.word_counts(raw)
    parts: list = [dict() for _ in range(n_parts)]
    for w, c in counts.items():
        parts[partition_of(w, n_parts)][w] = c
    return parts, {"tokens": raw.n_tokens, "sentences": raw.n_sentences, "invalid_utf8": raw.n_invalid_utf8}


def pick(x, i):
    """x[i], run where x lives so only the piece travels."""
    return x[i]


def merge_partition(min_count: int, *parts):
    """Sum one hash partition over all blocks and drop words under min_count: (words, int64 counts)."""
    total: dict = {}
    for p in parts:
        for w, c in p.items():
            total[w] = total.get(w, 0) + c
    kept = [(w, c) for w, c in total.items() if c >= min_count]
    return [w for w, _ in kept], np.array([c for _, c in kept], dtype=np.int64)


# ---------------------------------------------------------------- shard state
class Plan:
    """One shard a worker trains: its token cache, kernel runner (random stream = shard index) and rounds."""

    def __init__(self, index: int, cfg: TrainConfig, counts, cache, workdir: WorkDir, n_shards: int,
                 round_tokens: int):
        self.index = index
        self.cfg = cfg
        self.cache = cache
        self.workdir = workdir
        longest = int(np.diff(np.asarray(cache.starts)).max()) if cache.n_sentences else 1
        self.runner = trainer.KernelRunner(counts, cfg, max(1, min(cfg.max_sentence_length, longest)), stream=index)
        call = trainer.CALL_TOKENS_PER_THREAD * int(cfg.threads)
        if n_shards > 1:  # rounds shorter than a call need shorter calls (one worker: as local)
            call = max(1, min(call, int(round_tokens)))
        starts = cache.starts
        self.stretch = np.asarray(trainer.stretch_bounds(starts, 0, cache.n_sentences, call), dtype=np.int64)
        first_tok = np.asarray(starts)[self.stretch[:-1]]
        self.round_of = first_tok // max(int(round_tokens), 1)  # round of every stretch
        self.n_rounds = int(self.round_of[-1]) + 1 if self.round_of.size else 0
        self.epoch_seeded = -1

    def close(self):
        self.cache = None
        self.workdir.cleanup()


class Shard:
    """A worker's part of a run: its replica of the weights, their synced copies, and the shards it trains.

    syn0, syn1: float32 (V, dim); bias float32 (V,): this worker's replica.
    base0, base1, base_b: the same shapes, the values at the last sync of each
    row (what every replica agreed on), so a delta is replica - base.
    plans: the shards it trains, in shard order (more than one after it took
    over the rest of a lost worker's shard).
    """

    def __init__(self, run_id, cfg: TrainConfig, counts, cache, workdir: WorkDir, stream: int,
                 shard_tokens: list, round_tokens: int):
        self.run_id = run_id
        self.cfg = cfg
        self.counts = np.asarray(counts, dtype=np.int64)
        self.layout = combine.Layout(len(counts), cfg.dim, cfg.loss)
        self.syn0, self.syn1, _ = trainer.init_weights(len(counts), cfg.dim, cfg.seed)
        self.bias = trainer.init_bias(counts, cfg.loss)
        self.base0, self.base1, self.base_b = self.syn0.copy(), self.syn1.copy(), self.bias.copy()
        self.shard_tokens = list(shard_tokens)  # kept tokens of every shard (the global clock)
        self.n_total = int(sum(shard_tokens))
        self.round_tokens = int(round_tokens)
        # the local trainer's schedule over the global token count: one worker computes the very same rates
        self.lr = trainer.linear_rate(float(cfg.alpha), float(cfg.min_alpha), self.n_total * cfg.epochs)
        self.plans: list = []
        self.add(stream, cache, workdir)

    def add(self, index: int, cache, workdir: WorkDir):
        plan = Plan(index, self.cfg, self.counts, cache, workdir, len(self.shard_tokens), self.round_tokens)
        with _KERNEL_LOCK:  # compile (or load) the kernel now, so training time is training
            self.compile_seconds = plan.runner.prepare(cache.tokens, cache.starts, self.syn0, self.syn1, self.bias)
        self.plans.append(plan)
        self.plans.sort(key=lambda p: p.index)

    @property
    def stream(self):
        return self.plans[0].index

    @property
    def n_rounds(self):
        return max(p.n_rounds for p in self.plans)

    def global_done(self, epoch: int, t: int) -> int:
        """Tokens trained over all workers when each has done t of its shard this epoch (lock-step rounds)."""
        return epoch * self.n_total + sum(min(t, n) for n in self.shard_tokens)

    def apply(self, update):
        """Write combined rows (k, (rows0, rows1, rows_b)) into the replica and its base."""
        if update is None:
            return
        k, rows = update
        combine.put(self.syn0, self.syn1, self.bias, self.layout, k, rows)
        combine.put(self.base0, self.base1, self.base_b, self.layout, k, rows)

    def train_round(self, epoch: int, rnd: int):
        """Train the stretches of round ``rnd`` of ``epoch``; returns (stats float64 (8,), kernel seconds)."""
        stats = np.zeros(8)
        t = time.perf_counter()
        for plan in self.plans:
            if plan.epoch_seeded != epoch:
                plan.runner.seed_epoch(epoch)
                plan.epoch_seeded = epoch
            starts = plan.cache.starts
            for i in np.flatnonzero(plan.round_of == rnd).tolist():
                s_lo, s_hi = int(plan.stretch[i]), int(plan.stretch[i + 1])
                a0 = self.lr(self.global_done(epoch, int(starts[s_lo])))
                a1 = self.lr(self.global_done(epoch, int(starts[s_hi])))
                with _KERNEL_LOCK:
                    stats[:kdriver.SUMMED] += plan.runner.run(plan.cache.tokens, starts, s_lo, s_hi, a0, a1,
                                                              self.syn0, self.syn1, self.bias)
                # trained pages of the memory-mapped cache leave the worker's RSS, as in local training
                release_pages(plan.cache.tokens, int(starts[s_lo]), int(starts[s_hi]))
        return stats, time.perf_counter() - t

    def deltas(self, k: int, flags: bool = True):
        """((d0, d1, db), (t0, t1, tb) or None): changes of the first k synced rows since the last sync and,
        when ``flags``, whether each row changed."""
        cur = combine.take(self.syn0, self.syn1, self.bias, self.layout, k)
        base = combine.take(self.base0, self.base1, self.base_b, self.layout, k)
        if not flags:
            return tuple(np.subtract(c, b, dtype=np.float32) for c, b in zip(cur, base)), None
        pairs = [combine.delta_of(c, b) for c, b in zip(cur, base)]
        return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)

    def close(self):
        for p in self.plans:
            p.close()
        self.plans = []


def encode_shard(run_id, files: list, first_offset: int, lo: int, hi: int, vocab, cfg_dict: dict,
                 stream: int, cache_dir=None):
    """Read the files holding raw tokens [lo, hi) and encode them to a token cache of shard ``stream``.

    files: the corpus files that overlap [lo, hi), in order; first_offset: the
    raw token offset of the first; vocab: (words, int64 counts), the global
    vocabulary. The shard waits in the worker until :func:`start`. Returns the
    number of kept tokens.
    """
    words, counts = vocab
    cfg = TrainConfig.from_dict(cfg_dict)
    work = WorkDir(cache_dir)  # unnamed files: nothing stays on disk if the worker dies
    try:
        raw = source.read(files, work)
        index = {w: i for i, w in enumerate(words)}
        keys = [k.decode("utf-8", "replace") if isinstance(k, bytes) else k for k in raw.keys]
        remap = np.fromiter((index.get(k, -1) for k in keys), dtype=np.int32, count=len(keys))
        part = source.slice_raw(raw, lo - first_offset, hi - first_offset, work)
        work.close(raw.ids_file, raw.ends_file)
        cache = build_token_cache(part, remap, cfg.max_sentence_length, work)
        work.close(part.ids_file, part.ends_file)
    except BaseException:
        work.cleanup()
        raise
    st = _RUNS.setdefault(run_id, {})
    st.setdefault("pending", []).append((cfg, np.asarray(counts, dtype=np.int64), cache, work, stream))
    return cache.n_tokens


def start(run_id, shard_tokens: list, round_tokens: int):
    """Build the replica (first time) and the runners of the shards encoded since; returns rounds per epoch."""
    import numba

    st = _RUNS[run_id]
    for cfg, counts, cache, work, stream in st.pop("pending", []):
        numba.set_num_threads(min(int(cfg.threads), numba.config.NUMBA_NUM_THREADS))
        if "shard" not in st:
            st["shard"] = Shard(run_id, cfg, counts, cache, work, stream, shard_tokens, round_tokens)
        else:
            st["shard"].add(stream, cache, work)
    return st["shard"].n_rounds


def train_round(run_id, epoch: int, rnd: int, k: int, update=None, after=None, flags: bool = True):
    """Apply the last sync's rows, train one round, return this worker's share of the next sync.

    Returns {"meta": {...}, "delta": (d0, d1, db) or None, "touched": (t0, t1, tb) or None}:
    k synced rows (0: no sync after this round); the touched flags only when ``flags`` (the merge
    uses them). ``after``: unused, this worker's previous round result, which the driver passes so that
    Dask runs this round after that one.
    """
    st = _RUNS[run_id]
    sh: Shard = st["shard"]
    t_begin = time.time()
    t = time.perf_counter()
    apply_sync(run_id, update)
    t_apply = time.perf_counter() - t
    stats, seconds = sh.train_round(epoch, rnd)
    t = time.perf_counter()
    out = {"meta": {"stats": stats, "seconds": seconds, "stream": sh.stream}, "delta": None, "touched": None}
    if k:
        out["delta"], out["touched"] = sh.deltas(k, flags)
    # where a round's time goes, for the driver's sync breakdown: wall clock (time.time()) marks compare across
    # the processes of one machine; the combine this worker ran since its last round rides along
    out["meta"]["phases"] = {"begin": t_begin, "apply": t_apply, "kernel": seconds, "delta": time.perf_counter() - t,
                             "end": time.time(), "combine": st.pop("combine_phases", None)}
    return out


def meta_of(result):
    return result["meta"]


def metas_of(*results):
    """[meta of each result], run where the results are already (worker 0)."""
    return [r["meta"] for r in results]


def combine_round(run_id, k: int, *results, merge: str = combine.DEFAULT_MERGE):
    """The combine: new rows = ``combine.MERGES[merge]`` of base and the deltas, on worker 0 (a task) or on
    every worker (through :func:`merged`; the same inputs in the same order give every replica the same bits).

    This worker's base rows are every replica's base (all agree after each sync).
    Returns (k, (rows0, rows1, rows_b)) for :func:`train_round`'s ``update``.
    """
    st = _RUNS[run_id]
    sh: Shard = st["shard"]
    t_begin = time.time()
    t = time.perf_counter()
    base = combine.take(sh.base0, sh.base1, sh.base_b, sh.layout, k)
    fn = combine.MERGES[merge]
    new = tuple(fn(base[m], [r["delta"][m] for r in results],
                   [r["touched"][m] if r["touched"] is not None else None for r in results]) for m in range(3))
    st["combine_phases"] = {"begin": t_begin, "seconds": time.perf_counter() - t, "end": time.time()}
    return k, new


def merged(run_id, update):
    """The rows an ``update`` brings: (k, rows) as the combine returned them, or, for a merge every worker
    runs itself, {"k", "merge", "results"} (all workers' round results) merged here into (k, rows)."""
    if isinstance(update, dict):
        return combine_round(run_id, update["k"], *update["results"], merge=update["merge"])
    return update


def apply_sync(run_id, update) -> None:
    """Bring the replica and its base to the rows of a sync ``update`` (see :func:`merged`).

    A merge every worker runs itself, if it is a (capped) sum, goes in one pass straight into the
    replica's and the base's rows (``combine.merge_into``): no merged copy, no second write.
    """
    st = _RUNS[run_id]
    sh: Shard = st["shard"]
    if isinstance(update, dict) and update["merge"] in combine.CAPS:
        t_begin, t = time.time(), time.perf_counter()
        k = update["k"]
        results = update["results"]
        live = (combine.take(sh.syn0, sh.syn1, sh.bias, sh.layout, k),
                combine.take(sh.base0, sh.base1, sh.base_b, sh.layout, k))
        for m in range(3):
            combine.merge_into(live[1][m], [r["delta"][m] for r in results], *combine.CAPS[update["merge"]],
                               live[0][m], live[1][m])
        st["combine_phases"] = {"begin": t_begin, "seconds": time.perf_counter() - t, "end": time.time()}
        return
    sh.apply(merged(run_id, update))


def apply_update(run_id, update):
    """Apply a sync outside a round (at an epoch end, before a checkpoint or the final fetch)."""
    apply_sync(run_id, update)
    return True


def weights(run_id):
    """(syn0, syn1, bias) of this worker's replica."""
    sh: Shard = _RUNS[run_id]["shard"]
    return sh.syn0, sh.syn1, sh.bias


def base_weights(run_id):
    """(base0, base1, base_b): the values every replica agreed on at the last sync of each row."""
    sh: Shard = _RUNS[run_id]["shard"]
    return sh.base0, sh.base1, sh.base_b


def set_weights(run_id, syn0, syn1, bias):
    """Load weights into the replica and its base (a resume, or a replacement worker joining)."""
    sh: Shard = _RUNS[run_id]["shard"]
    for dst, src in ((sh.syn0, syn0), (sh.syn1, syn1), (sh.bias, bias), (sh.base0, syn0), (sh.base1, syn1),
                     (sh.base_b, bias)):
        dst[...] = src
    return True


def peak_rss_mb() -> float:
    from ..cli import peak_rss_mb as rss

    return rss()


def drop(run_id):
    """Forget a run: its cache folder goes."""
    st = _RUNS.pop(run_id, None)
    if st:
        if "shard" in st:
            st["shard"].close()
        for pending in st.get("pending", []):
            pending[3].cleanup()
    return True
