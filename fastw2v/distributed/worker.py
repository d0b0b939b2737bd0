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
from ..corpus import WorkDir, build_token_cache, release_free_heap, release_pages
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


def part_bounds(n: int, j: int, parts: int) -> tuple:
    """Rows [lo, hi) of part j when n rows are cut into ``parts`` contiguous parts (a run's last sync)."""
    return n * j // parts, n * (j + 1) // parts


def _part(a, j: int, parts: int):
    return a[slice(*part_bounds(len(a), j, parts))]


def delta_part(result, j: int, parts: int):
    """Part j of a round result's deltas (and touched flags), each array's rows cut as :func:`part_bounds`.

    Runs on the worker that holds ``result``, so only the part crosses the network.
    """
    return {"delta": tuple(_part(d, j, parts) for d in result["delta"]),
            "touched": tuple(_part(t, j, parts) for t in result["touched"]) if result["touched"] is not None
            else None}


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
        self.runner = trainer.KernelRunner(counts, cfg, max(1, min(cfg.max_sentence_length, longest)), stream=index,
                                           loss_every=trainer.loss_every_for(cache.n_tokens))
        call = trainer.CALL_TOKENS_PER_THREAD * int(cfg.threads)
        if n_shards > 1:  # rounds shorter than a call need shorter calls (one worker: as local)
            call = max(1, min(call, int(round_tokens)))
        starts = cache.starts
        self.stretch = np.asarray(trainer.stretch_bounds(starts, 0, cache.n_sentences, call), dtype=np.int64)
        first_tok = np.asarray(starts)[self.stretch[:-1]]
        self.round_of = first_tok // max(int(round_tokens), 1)  # round of every stretch
        self.n_rounds = int(self.round_of[-1]) + 1 if self.round_of.size else 0
        self.epoch_seeded = -1
        # the last round (run-wide number) this shard trained, and the stats of its latest rounds: a round
        # asked for again after a lost worker's recovery is not trained twice, its stats are given again
        self.trained = 0
        self.stats: dict = {}

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
        self.syn0, self.syn1, _ = trainer.init_weights(len(counts), cfg.dim, cfg.seed, padded=True)
        self.bias = trainer.init_bias(counts, cfg.loss)
        self.base0, self.base1, self.base_b = self.syn0.copy(), self.syn1.copy(), self.bias.copy()
        self.shard_tokens = list(shard_tokens)  # kept tokens of every shard (the global clock)
        self.n_total = int(sum(shard_tokens))
        self.round_tokens = int(round_tokens)
        # the local trainer's schedule over the global token count: one worker computes the very same rates
        self.lr = trainer.linear_rate(float(cfg.alpha), float(cfg.min_alpha), self.n_total * cfg.epochs)
        self.plans: list = []
        # one round late merges: the deltas this replica sent and whose merge it has not applied (round
        # number -> (k, (d0, d1, db))), the last merge applied, and the latest merges' inputs (a worker that
        # fell behind when another was lost catches up with them)
        self.sent: dict = {}
        self.applied = 0
        self.merges: dict = {}
        self.done = 0  # the last round this worker finished (its rounds run in order)
        self.part = None  # (j, parts) once the run's last sync merged only part j of the rows here
        # the epoch end's delta of all rows, reused every epoch (no worker reads it after the epoch end's
        # merge) and written once here: fresh pages would fault in during the epoch end, where every
        # worker waits (0.1 s on realmix)
        self.full = tuple(np.ones_like(a) for a in combine.take(self.syn0, self.syn1, self.bias, self.layout,
                                                                 self.layout.n_rows))
        self.add(stream, cache, workdir)
        _warm_merges()

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

    def train_round(self, epoch: int, rnd: int, n: int = 0):
        """Train the stretches of round ``rnd`` of ``epoch``; returns (stats float64 (8,), kernel seconds).

        n: the round's number over the run (from 1); a shard that already trained round n gives its stats
        again and trains nothing (0: always train, as the simulation does).
        """
        stats = np.zeros(8)
        t, c = time.perf_counter(), time.thread_time()
        for plan in self.plans:
            if n and plan.trained >= n:
                stats += plan.stats.get(n, 0.0)
                continue
            before = stats.copy()
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
            if n:
                plan.trained = n
                plan.stats[n] = stats - before
                plan.stats.pop(n - 4, None)
        self.kernel_cpu = time.thread_time() - c
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

    def deltas_late(self, k: int, n: int, end: bool = False, half: bool = False):
        """(d0, d1, db): the changes of the first k synced rows that round n's sync sends, kept in ``sent``.

        The replica minus its base, less what it sent after round n - 1 if that merge is not applied yet
        (merges are applied one round late): each change is sent once. end: the epoch's last round (k is
        all rows): written into ``full``, which nothing reads after the epoch end's merge.
        half: bfloat16 bits (uint16), half the bytes. What the rounding drops stays in the replica (the
        late merge adds to it only what the others brought), so it is in this worker's next delta: only
        for merges applied late, and never at an epoch end, where the replicas must agree exactly.
        """
        cur = combine.take(self.syn0, self.syn1, self.bias, self.layout, k)
        base = combine.take(self.base0, self.base1, self.base_b, self.layout, k)
        kp, prev = self.sent.get(n - 1, (0, None))
        slices = (self.layout.syn0_slice, self.layout.syn1_slice, self.layout.bias_slice)
        d = []
        for m in range(3):
            a, b = slices[m](k), slices[m](kp)
            lo, hi = combine.overlap(a, b)
            if prev is None or hi <= lo:
                lo = hi = 0
                p = cur[m][:0]
            else:
                p = prev[m][lo - b.start:hi - b.start]
            d.append(combine.delta_since(cur[m], base[m], p, lo - a.start, hi - a.start,
                                         out=self.full[m] if end else None, half=half and not end))
        d = tuple(d)
        self.sent[n] = (k, d)
        return d

    def merge(self, update, m: int, late: bool):
        """Apply the merge of round m's sync, now or one round late.

        update: {"k", "merge", "results": every worker's round-m result} (each worker merges the deltas
        itself) or {"k", "merge", "step": the step rows} (:func:`combine_round` computed it on worker 0).
        With "part": (j, parts), the results hold part j of every delta (:func:`delta_part`) and only those
        rows are merged: the run's last sync, after which the driver reads part j of the weights from
        worker j (:func:`final_rows`).

        late: the replica trained a round since it sent its delta of round m (``sent[m]``): base += step,
        replica += step - own delta. Else (an epoch end, a recovery) every change of the synced rows is
        in the merge: replica = base = base + step.
        """
        k = update["k"]
        live = combine.take(self.syn0, self.syn1, self.bias, self.layout, k)
        base = combine.take(self.base0, self.base1, self.base_b, self.layout, k)
        own = self.sent.pop(m, (k, None))[1]
        if "part" in update:
            j, parts = update["part"]
            live, base = (tuple(_part(a, j, parts) for a in x) for x in (live, base))
            own = tuple(_part(a, j, parts) for a in own) if own is not None else None
            self.part = (j, parts)
        merge = update["merge"]
        if "results" in update and merge in combine.CAPS:  # every worker merges the deltas itself
            for i in range(3):
                ds = [r["delta"][i] for r in update["results"]]
                if late:
                    combine.merge_late(base[i], ds, own[i], *combine.CAPS[merge], live[i])
                else:
                    combine.merge_into(base[i], ds, *combine.CAPS[merge], live[i], base[i])
        else:  # the step, combined on worker 0 (or computed here for a merge with touched flags)
            if own is not None:
                own = tuple(combine.widen(x) for x in own)
            step = update["step"] if "step" in update else tuple(
                combine.increment(merge, [r["delta"][i] for r in update["results"]],
                                  [r["touched"][i] if r["touched"] is not None else None
                                   for r in update["results"]]) for i in range(3))
            for i in range(3):
                base[i][...] += step[i]
                if late:
                    live[i][...] += step[i] - own[i]
                else:
                    live[i][...] = base[i]
        self.applied = max(self.applied, m)
        self.merges[m] = update
        self.merges.pop(m - 2, None)  # a survivor behind is at most two merges behind the one ahead

    def part_rows(self, j: int, parts: int) -> list:
        """After the run's last, partitioned sync: part j of the synced rows of (syn0, syn1, bias), as merged
        here, and for part 0 also the rows no sync covers (equal on every replica); for :func:`assemble`.

        Returns a list of three lists of (first row, rows) pieces.
        """
        if self.part != (j, parts):
            raise RuntimeError(f"this worker merged part {self.part} of the last sync, not {(j, parts)}")
        k = self.layout.n_rows
        out = []
        for a, s in zip((self.syn0, self.syn1, self.bias), (self.layout.syn0_slice(k), self.layout.syn1_slice(k),
                                                           self.layout.bias_slice(k))):
            lo, hi = part_bounds(s.stop - s.start, j, parts)
            pieces = [(s.start + lo, a[s.start + lo:s.start + hi])]
            if j == 0:
                pieces += [(0, a[:s.start]), (s.stop, a[s.stop:])]
            out.append(pieces)
        return out

    def flush(self) -> None:
        """Forget the deltas in flight (every change since the base is about to be sent at once, or was) and
        the inputs of past merges (no worker needs them after a barrier)."""
        self.sent.clear()
        self.merges.clear()

    def close(self):
        for p in self.plans:
            p.close()
        self.plans = []


def _warm_merges() -> None:
    """Compile (or load) the sync kernels now, on a few numbers, so that training time is training."""
    z = np.zeros((2, 2), dtype=np.float32)
    h = np.zeros((2, 2), dtype=np.uint16)
    combine.delta_since(z, z, z[:1], 0, 1)
    combine.delta_since(z, z, h[:1], 0, 1, half=True)
    combine.delta_since(z, z, h[:1], 0, 1)
    combine.merge_late(z.copy(), [z, z], z, *combine.CAPS[combine.DEFAULT_MERGE], z.copy())
    combine.merge_late(z.copy(), [h, h], h, *combine.CAPS[combine.DEFAULT_MERGE], z.copy())
    combine.merge_into(z, [z, z], *combine.CAPS[combine.DEFAULT_MERGE], z.copy(), z.copy())


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
    del raw, part, index, keys, remap
    release_free_heap()  # the shard's reading freed heap that would otherwise stay in RSS through training
    st = _RUNS.setdefault(run_id, {})
    st.setdefault("pending", []).append((cfg, np.asarray(counts, dtype=np.int64), cache, work, stream))
    return cache.n_tokens


def start(run_id, shard_tokens: list, round_tokens: int, gen: int = 0, trained: int = 0):
    """Build the replica (first time) and the runners of the shards encoded since; returns rounds per epoch.

    gen: the driver's recovery count (a worker that joins after a recovery takes the current one);
    trained: the last round the shards' changes were merged from (a lost worker's shard: its new owner
    does not train those rounds again)."""
    import numba

    st = _RUNS[run_id]
    for cfg, counts, cache, work, stream in st.pop("pending", []):
        numba.set_num_threads(min(int(cfg.threads), numba.config.NUMBA_NUM_THREADS))
        if "shard" not in st:
            st["shard"] = Shard(run_id, cfg, counts, cache, work, stream, shard_tokens, round_tokens)
            st["busy"] = threading.Lock()  # held by a round from its merge to its delta
            st["cv"] = threading.Condition()
        else:
            st["shard"].add(stream, cache, work)
        for plan in st["shard"].plans:
            if plan.index == stream:
                plan.trained = max(plan.trained, int(trained))
    st["gen"] = gen
    return st["shard"].n_rounds


def _turn(st: dict, sh: Shard, n: int, gen: int, wait: bool) -> bool:
    """Wait until this worker finished round n - 1 (``wait``); False if the run moved on (a recovery) meanwhile.

    Dask starts a round once the inputs of its merge exist, not after the worker's previous round (that
    dependency would put a scheduler round trip between every two rounds), so a worker with several task
    threads, or one that fetched the inputs of round n first, may start round n early: it waits here,
    seceded from Dask's thread pool so that round n - 1 can take the thread.
    """
    cv = st["cv"]
    with cv:
        if st["gen"] != gen:
            return False
        if not wait or sh.done >= n - 1:
            return True
    seceded = False
    try:
        from distributed import rejoin, secede

        secede()
        seceded = True
    except (ImportError, ValueError):  # not in a Dask worker (tests call the tasks in order)
        pass
    try:
        with cv:
            cv.wait_for(lambda: sh.done >= n - 1 or st["gen"] != gen)
            return st["gen"] == gen
    finally:
        if seceded:
            rejoin()


def train_round(run_id, epoch: int, rnd: int, n: int, k: int, update=None, merged_n: int = 0, late: bool = True,
                wait: bool = True, gen: int = 0, flags: bool = False, end: bool = False, half: bool = False):
    """Apply the merge of round ``merged_n``, train round n, return its share of round n's sync.

    n: the round's number over the run; k: rows synced after it (0: none); update: round merged_n's
    merge inputs (see :meth:`Shard.merge`), None for the first round(s) after a barrier (an epoch end
    or a recovery), whose merges are all applied; late: merged_n is n - 2 (the merge is applied one round
    late), else n - 1; wait: run after this worker's round n - 1 (False for the first round after a
    barrier); gen: the driver's recovery count (a task of an older one does nothing); end: the epoch's
    last round; half: send the deltas as bfloat16 (:meth:`Shard.deltas_late`; late merges only).
    Returns {"meta": {...}, "delta": (d0, d1, db) or None, "touched": flags or None}; the
    touched flags only when ``flags`` (the "mean" merge reads them). {"stale": True} when the run moved on.
    The meta stays on the worker until the epoch end's :func:`apply_update` hands it over.
    """
    st = _RUNS[run_id]
    sh: Shard = st["shard"]
    if not _turn(st, sh, n, gen, wait):
        return {"stale": True}
    with st["busy"]:
        if st["gen"] != gen:
            return {"stale": True}
        t_begin = time.time()
        t = time.perf_counter()
        if update is not None and merged_n > sh.applied:
            sh.merge(update, merged_n, late=late)
        t_apply = time.perf_counter() - t
        stats, seconds = sh.train_round(epoch, rnd, n)
        t = time.perf_counter()
        out = {"meta": {"n": n, "stats": stats, "seconds": seconds, "stream": sh.stream}, "delta": None,
               "touched": None}
        if k:
            out["delta"] = sh.deltas_late(k, n, end=end, half=half and late)
            if flags:
                out["touched"] = tuple(combine.touched_of(d) for d in out["delta"])
        # where a round's time goes, for the driver's sync breakdown: wall clock (time.time()) marks compare
        # across the processes of one machine; the combine this worker ran since its last round rides along
        out["meta"]["phases"] = {"begin": t_begin, "apply": t_apply, "kernel": seconds, "kernel_cpu": sh.kernel_cpu,
                                 "delta": time.perf_counter() - t, "end": time.time(),
                                 "combine": st.pop("combine_phases", None)}
        # kept until the epoch end's task hands it to the driver (a round asked for again replaces it)
        st.setdefault("metas", {})[n] = out["meta"]
        with st["cv"]:
            sh.done = max(sh.done, n)
            st["cv"].notify_all()
    return out


def combine_round(run_id, k: int, *results, merge: str = combine.DEFAULT_MERGE):
    """The combine on worker 0 (more than two workers): the step every replica adds to its base rows.

    Returns {"k", "merge", "step": (s0, s1, sb)} for :meth:`Shard.merge` (float32 rows of the k synced rows).
    """
    t_begin = time.time()
    t = time.perf_counter()
    step = tuple(combine.increment(merge, [r["delta"][m] for r in results],
                                   [r["touched"][m] if r["touched"] is not None else None for r in results])
                 for m in range(3))
    st = _RUNS.get(run_id)
    if st is not None:
        st["combine_phases"] = {"begin": t_begin, "seconds": time.perf_counter() - t, "end": time.time()}
    return {"k": k, "merge": merge, "step": step}


def apply_update(run_id, late=None, late_n: int = 0, final=None, final_n: int = 0, after=None, metas: bool = False):
    """At a barrier (an epoch end, a recovery): apply the merge still one round late (round ``late_n``),
    then the last one (``final``, all rows), after which the replica equals its base on every worker.

    after: unused, this worker's last round result (the driver passes it so that Dask runs this after).
    metas: hand over (and forget) the metadata of the rounds since the last epoch end.
    Returns {"metas": [meta of each round, in round order], "phases": wall clock marks}.
    """
    st = _RUNS[run_id]
    sh: Shard = st["shard"]
    t0 = time.time()
    with st["busy"]:
        if late is not None and late_n > sh.applied:
            sh.merge(late, late_n, late=True)
        if final is not None:
            sh.merge(final, final_n, late=False)
        sh.flush()
    out = {"metas": [], "phases": {"begin": t0, "end": time.time()}}
    if metas:
        kept = st.pop("metas", {})
        out["metas"] = [kept[n] for n in sorted(kept)]
    return out


def quiesce(run_id, gen: int):
    """Stop this worker's rounds of older generations (a recovery starts) and wait for the one running;
    returns the last merge it applied."""
    st = _RUNS[run_id]
    with st["cv"]:
        st["gen"] = gen
        st["cv"].notify_all()
    with st["busy"]:
        return st["shard"].applied


def merge_inputs(run_id, m: int):
    """The inputs of round m's merge as this worker applied them (for a survivor that had not yet)."""
    return _RUNS[run_id]["shard"].merges[m]


def catch_up(run_id, updates: list):
    """Apply merges [(m, update), ...] this worker had not applied yet, in order (one round late)."""
    sh: Shard = _RUNS[run_id]["shard"]
    for m, update in updates:
        if m > sh.applied:
            sh.merge(update, m, late=True)
    return sh.applied


def flush_delta(run_id):
    """Every change of this replica since its base, all rows (a recovery's sync): {"delta", "touched"}."""
    sh: Shard = _RUNS[run_id]["shard"]
    k = sh.layout.n_rows
    cur = combine.take(sh.syn0, sh.syn1, sh.bias, sh.layout, k)
    base = combine.take(sh.base0, sh.base1, sh.base_b, sh.layout, k)
    d = tuple(np.subtract(c, b, dtype=np.float32) for c, b in zip(cur, base))
    sh.flush()
    return {"delta": d, "touched": tuple(combine.touched_of(x) for x in d)}


def weights(run_id):
    """(syn0, syn1, bias) of this worker's replica."""
    sh: Shard = _RUNS[run_id]["shard"]
    if sh.part is not None:
        raise RuntimeError("after a partitioned sync each worker holds only its part: read final_rows")
    return sh.syn0, sh.syn1, sh.bias


def final_rows(run_id, j: int, parts: int):
    """Part j of the weights after the run's last, partitioned sync (:meth:`Shard.part_rows`)."""
    return _RUNS[run_id]["shard"].part_rows(j, parts)


def assemble(parts_rows) -> tuple:
    """(syn0, syn1, bias) put together from every worker's :func:`final_rows`; the pieces must tile each array."""
    out = []
    for m in range(3):
        pieces = sorted(((start, piece) for rows in parts_rows for start, piece in rows[m]), key=lambda x: x[0])
        a = np.empty((sum(len(p) for _, p in pieces), *pieces[0][1].shape[1:]), dtype=np.float32)
        at = 0
        for start, piece in pieces:
            if start != at and len(piece):
                raise RuntimeError(f"the last sync's parts of array {m} leave rows {at}:{start} out")
            a[start:start + len(piece)] = piece
            at = max(at, start + len(piece))
        out.append(a)
    return tuple(out)


def base_weights(run_id):
    """(base0, base1, base_b): the values every replica agreed on at the last sync of each row."""
    sh: Shard = _RUNS[run_id]["shard"]
    return sh.base0, sh.base1, sh.base_b


def set_weights(run_id, syn0, syn1, bias):
    """Load weights into the replica and its base (a resume, or a replacement worker joining)."""
    sh: Shard = _RUNS[run_id]["shard"]
    sh.part = None
    for dst, src in ((sh.syn0, syn0), (sh.syn1, syn1), (sh.bias, bias), (sh.base0, syn0), (sh.base1, syn1),
                     (sh.base_b, bias)):
        dst[...] = src
    sh.flush()
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
