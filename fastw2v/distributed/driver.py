"""The client side of data-parallel training on a Dask cluster.

1. Vocabulary: every block of input (a corpus file) is counted on a worker;
   the counts are split by hash of the word into one partition per worker,
   each partition is summed on one worker and pruned by min_count there, and
   only the survivors reach the client, which orders them (count desc, then
   word) exactly as the local vocabulary does.
2. Shards: the raw token stream (all files in order) is cut into W equal
   spans; each worker reads the files its span overlaps, encodes the span
   to a token cache on its own disk and builds its replica and kernel runner.
3. Rounds: each worker trains a fixed number of tokens, then sends the
   changes of the hot rows (all rows at an epoch end); with two workers each
   merges both workers' changes itself, with more worker 0 combines them into
   one step. When an epoch has LATE_MIN_ROUNDS rounds or more, a worker
   applies round n's merge at the start of round n + 2, one round late, so
   it never waits for the others' latest round (else at round n + 1); at an
   epoch end every merge is applied and the replicas agree. The merge inputs
   travel worker to worker as task arguments; the client only sees small
   metadata. With late merges the rounds' deltas travel as bfloat16
   (HALF_DELTAS) and rows the epoch end syncs soon wait for it
   (combine.round_rows); the run's last sync is split among the workers
   (PARTITION_LAST_SYNC) and the vectors are read from the parts.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import shlex
import signal
import threading
import time
import uuid

import numpy as np

from ..config import TrainConfig
from ..checkpoint import STOP, stop_message
from ..errors import ConfigError, CorpusError, FastW2VError, TrainingDiverged, TrainingInterrupted
from ..kernels import driver as kdriver
from . import combine, source
from . import worker as W

ROUND_TOKENS = None  # tokens per worker per round; None: see round_tokens_for
#: with the default rounds an epoch has at least this many syncs (while rounds stay >= MIN_ROUND_TOKENS): on the
#: text8 sample (550k tokens per worker, 2 workers) rounds of one kernel call gave 4 syncs per epoch and skip-gram
#: WordSim-353 0.02 below one 2-thread process (seeds 1, 2); 34 syncs per epoch gave +0.024 and -0.008
MIN_SYNCS_PER_EPOCH = 32
MIN_ROUND_TOKENS = 4096  # shorter rounds are mostly Dask's per-task overhead


def round_tokens_for(shard_tokens: list, threads: int) -> int:
    """Default tokens per worker per round: one kernel call (CALL_TOKENS_PER_THREAD x threads), shortened on a
    small corpus to give at least MIN_SYNCS_PER_EPOCH syncs per epoch, never below MIN_ROUND_TOKENS.

    One worker has no syncs: its rounds are always one kernel call, as local training's calls.
    """
    from ..trainer import CALL_TOKENS_PER_THREAD

    call = CALL_TOKENS_PER_THREAD * max(1, int(threads))
    if len(shard_tokens) <= 1:
        return call
    per_sync = -(-max(shard_tokens) // MIN_SYNCS_PER_EPOCH)
    return max(1, min(call, max(MIN_ROUND_TOKENS, per_sync)))
#: merges are applied one round late (a worker never waits for the others' latest round) when an epoch has at
#: least this many rounds; with fewer, a round's changes would reach the other workers a large part of an epoch
#: later: with 5 rounds an epoch (200k words, 2 workers) the frequent words' neighbours agreed with local
#: training's 1.4 in 10 against 2.0 in 10 merged at once; at the default rounds (32 or more an epoch) WordSim-353
#: on the text8 sample stays within 0.02 of one 2-thread process (bench/RESULTS.md)
LATE_MIN_ROUNDS = 32
#: up to this many workers, every worker merges the deltas itself (W (W - 1) deltas cross the network, no more
#: than the 2 (W - 1) of a combine on worker 0 while W <= 2); beyond, worker 0 combines and sends the rows back
PEER_MERGE_WORKERS = 2
#: the run's last sync (all rows) is split among the workers: worker j merges only part j of the rows, so
#: each sends every other one (W - 1) / W of its deltas instead of all of them, and the driver reads part j of
#: the final weights from worker j; earlier epoch ends need every replica whole. On realmix (1 epoch, 2
#: workers) this sync was the largest part of the time not spent training
PARTITION_LAST_SYNC = True
#: with merges applied one round late, the rounds' deltas travel as bfloat16 (half the bytes; the rounding's
#: remainder stays in the sender's replica and goes with its next delta); epoch ends stay float32, exact.
#: On realmix the rounds' syncs were about half the time not spent training, and it grew with their bytes
HALF_DELTAS = True


#: Dask settings of the LocalCluster this module starts: the workers' statistical profiler samples every
#: thread's stack 100 times a second and work stealing reconsiders tasks every second (ours are pinned to
#: their workers), CPU that the training processes lose on a machine whose cores they fill
QUIET_WORKERS = {"distributed.worker.profile.enabled": False, "distributed.scheduler.work-stealing": False}


def _need_dask():
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError("distributed training needs Dask: pip install 'fastw2v[dask]'") from None


@contextlib.contextmanager
def connect(client=None, workers: int | None = None, scheduler: str | None = None, threads: int | None = None):
    """Yield a Dask client: the given one, one connected to ``scheduler``, or a new LocalCluster of ``workers``.

    A LocalCluster gets one single-threaded Dask worker per process (the
    kernels bring their own threads, ``threads`` of them, set per run).
    What this function started, it closes.
    """
    if client is not None:
        yield client
        return
    _need_dask()
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            c = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as e:
            raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
        try:
            yield c
        finally:
            c.close()
        return
    if workers is None or workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    # NUMBA_NUM_THREADS is not touched: a spawned worker may import Numba (re-importing the main module)
    # before any environment reaches it, and Numba refuses a changed value once its threads run; the
    # workers limit themselves with numba.set_num_threads(threads) instead
    # Ctrl-C in a terminal reaches the whole process group: the worker processes would die of it before
    # the client stops at its next safe point and writes the checkpoint. They are started with SIGINT
    # ignored (kept across their exec; Python then installs no KeyboardInterrupt handler), so the
    # client alone decides; a second Ctrl-C still aborts the client, and closing it ends the workers.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if threading.current_thread() is threading.main_thread() \
        else None
    import dask

    try:
        with dask.config.set(QUIET_WORKERS):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=0,
                                   dashboard_address=":0", silence_logs=50)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    try:
        c = Client(cluster)
        try:
            yield c
        finally:
            c.close()
    finally:
        cluster.close()


class Run:
    """One distributed training run: workers, shards, rounds and their bookkeeping."""

    def __init__(self, client, cfg: TrainConfig, round_tokens: int = ROUND_TOKENS, cache_dir=None, progress=None,
                 merge: str = combine.DEFAULT_MERGE, late: bool | None = None):
        self.client = client
        self.cfg = cfg
        self.round_tokens = round_tokens
        if merge not in combine.MERGES:
            raise ConfigError(f"merge must be one of {', '.join(combine.MERGES)}, got {merge!r}")
        self.merge = merge
        self.cache_dir = str(cache_dir) if cache_dir is not None else None
        self.progress = progress
        self.run_id = uuid.uuid4().hex
        self.addrs = sorted(client.scheduler_info()["workers"])
        if not self.addrs:
            raise ConfigError("the Dask cluster has no workers")
        self.timings: dict = {}
        self.specs: list = []  # per shard: (files, first file's raw offset, lo, hi, settings)
        self.lost: list = []  # workers lost during training
        self.sync_seconds = 0.0
        self.bytes_formula = 0
        self.syncs = 0
        self.rounds = 0
        self.timeline: list = []  # per round: driver marks and the workers' phases (wall clock), for breakdowns
        self.gen = 0  # recoveries so far: a worker ignores round tasks of an older generation
        self._loss = float("nan")  # the last epoch's mean loss, shown while the next one runs
        self.late = late
        self.lag = 0
        self.parts = 0  # after a run's last sync, partitioned: worker j holds part j of the rows (weights())
        self.half = HALF_DELTAS

    # ------------------------------------------------------------ helpers
    def _on(self, i, fn, *args, **kw):
        return self.client.submit(fn, *args, workers=[self.addrs[i]], allow_other_workers=False, pure=False, **kw)

    @property
    def n(self) -> int:
        return len(self.addrs)

    # --------------------------------------------------------- vocabulary
    def vocabulary(self, files: list):
        """(words, counts int64, file raw token counts, corpus meta) from counting on the workers."""
        t = time.perf_counter()
        counted = [self._on(i % self.n, W.count_block, [f], self.n, self.cache_dir) for i, f in enumerate(files)]
        parts = []  # parts[i][p]: partition p of block i, left on the worker that counted it
        for i, fut in enumerate(counted):
            split = self._on(i % self.n, W.pick, fut, 0)
            parts.append([self._on(i % self.n, W.pick, split, p) for p in range(self.n)])
        metas = self.client.gather([self._on(i % self.n, W.pick, fut, 1) for i, fut in enumerate(counted)])
        merged = [self._on(p, W.merge_partition, self.cfg.min_count, *[parts[i][p] for i in range(len(files))])
                  for p in range(self.n)]
        survivors = self.client.gather(merged)
        del counted, parts, merged
        words = [w for ws, _ in survivors for w in ws]
        counts = np.concatenate([c for _, c in survivors]) if survivors else np.zeros(0, np.int64)
        n_tokens = sum(m["tokens"] for m in metas)
        if n_tokens == 0:
            raise CorpusError("corpus is empty: no words found")
        if not words:
            raise CorpusError(f"vocabulary is empty: no word occurs at least min_count={self.cfg.min_count} times")
        order = sorted(range(len(words)), key=lambda i: (-int(counts[i]), words[i]))
        if self.cfg.max_vocab is not None:
            order = order[: self.cfg.max_vocab]
        words = [words[i] for i in order]
        counts = counts[np.asarray(order, dtype=np.int64)].astype(np.int64)
        self.timings["vocabulary"] = time.perf_counter() - t
        meta = {"tokens": n_tokens, "sentences": sum(m["sentences"] for m in metas),
                "invalid_utf8": sum(m["invalid_utf8"] for m in metas)}
        return words, counts, [m["tokens"] for m in metas], meta

    # -------------------------------------------------------------- shards
    def shards(self, files: list, file_tokens: list, words: list, counts: np.ndarray, threads: dict):
        """Encode W equal spans of the raw token stream on the workers; returns kept tokens per worker."""
        t = time.perf_counter()
        offsets = np.concatenate([[0], np.cumsum(file_tokens)]).astype(np.int64)
        total = int(offsets[-1])
        # the vocabulary goes to the workers once, as data, not inside every task (V can be millions of words)
        [vocab] = self.client.scatter([(words, counts)], broadcast=True, hash=False)
        self._vocab = (words, counts)
        futs = []
        for i in range(self.n):
            lo, hi = total * i // self.n, total * (i + 1) // self.n
            sel = [j for j in range(len(files)) if offsets[j] < hi and offsets[j + 1] > lo]
            first = int(offsets[sel[0]]) if sel else lo
            cfg = self.cfg.to_dict()
            cfg["threads"] = threads[self.addrs[i]]
            self.specs.append(([files[j] for j in sel], first, lo, hi, cfg))
            futs.append(self._on(i, W.encode_shard, self.run_id, [files[j] for j in sel], first, lo, hi, vocab,
                                 cfg, i, self.cache_dir))
        self.owned = {a: [i] for i, a in enumerate(self.addrs)}  # worker -> the shards it trains
        kept = [int(x) for x in self.client.gather(futs)]
        if self.round_tokens is None:
            self.round_tokens = round_tokens_for(kept, min(threads.values()))
        self.round_tokens = max(1, int(self.round_tokens))
        rounds = self.client.gather([self._on(i, W.start, self.run_id, kept, self.round_tokens)
                                     for i in range(self.n)])
        self.rounds_per_epoch = max(1, max(rounds))
        self.lag = int(self.late if self.late is not None else self.rounds_per_epoch >= LATE_MIN_ROUNDS)
        self.shard_tokens = kept
        self.timings["encoding"] = time.perf_counter() - t
        return kept

    # ------------------------------------------------------------ training
    def train(self, layout: combine.Layout, epochs: int, start_epoch: int = 0, on_epoch=None,
              raw_per_kept: float = 1.0, on_begin=None):
        """Run the rounds of epochs start_epoch..epochs-1; returns the per-epoch history entries.

        on_epoch(epoch, history) runs after every epoch's full sync (weights
        are then fetchable with :meth:`weights`).
        """
        from ..trainer import linear_rate

        n_total = sum(self.shard_tokens)
        total = max(n_total * epochs, 1)
        lr = linear_rate(float(self.cfg.alpha), float(self.cfg.min_alpha), total)
        history = []
        t_start = time.perf_counter()
        done_start = start_epoch * n_total
        before = self._transfer_bytes()
        R = self.rounds_per_epoch
        for epoch in range(start_epoch, epochs):
            if on_begin is not None:
                on_begin(epoch)
            t_epoch = time.perf_counter()
            kernel: dict = {}  # shard stream -> its worker's kernel seconds this epoch
            # Round r applies the merge of round r - 1 - lag. With lag 1 (one round late) it needs only
            # inputs that exist while round r - 1 runs: a worker goes from one round to the next without
            # waiting for the other workers' last round or for a scheduler round trip. Rounds are submitted
            # up to two ahead of the one the client waits for. After a barrier (the epoch start, a recovery)
            # every merge is applied, so its first 1 + lag rounds apply none.
            rounds: dict = {}
            final = []  # the epoch end's merges, submitted with the last round
            marks: dict = {}  # round -> (number, k, submitted, finished): the timeline's driver marks
            barrier = 0
            nxt = 0  # the next round to submit
            cur = 0  # the round the client waits for
            while cur < R:
                if nxt < R and nxt <= cur + 2:
                    src = nxt - 1 - self.lag
                    parted = nxt == R - 1 and epoch == epochs - 1 and self.n > 1 and PARTITION_LAST_SYNC
                    rounds[nxt] = self._submit(epoch, nxt, epoch * R + nxt + 1, self._k(layout, epoch, nxt),
                                               rounds.get(src) if src >= barrier else None, first=nxt == barrier,
                                               parted=parted)
                    nxt += 1
                    rounds.pop(nxt - 4, None)  # nothing reads it any more: its results may leave the workers
                    if nxt == R:
                        final = self._submit_end(rounds, barrier)
                    continue
                try:
                    self._finish(rounds[cur])
                except WorkerLost as e:
                    for f in final:
                        f.cancel()
                    final = []
                    self._recover(e.addrs, [rounds[r] for r in range(cur, nxt)], layout)
                    barrier = nxt = cur  # the lost round again, by the survivors (and the lost shard's new owner)
                    continue
                self._account(rounds[cur], layout, n_total, total, t_start, done_start, raw_per_kept, lr, epochs)
                marks[cur] = (rounds[cur].n_round, rounds[cur].k, rounds[cur].submitted, rounds[cur].done)
                cur += 1
            # the epoch's metadata (stats, kernel seconds, phases of every round) comes back with its end
            ends = self._gather(final)
            if rounds[R - 1].parted:
                self.parts = self.n
            metas = [m for e in ends for m in e["metas"]]
            for m in metas:
                kernel[m["stream"]] = kernel.get(m["stream"], 0.0) + m["seconds"]
            ep = np.sum([m["stats"] for m in metas], axis=0) if metas else np.zeros(8)
            self._timeline(metas, marks)
            if not math.isfinite(ep[kdriver.ST_LOSS]):
                raise TrainingDiverged(f"training diverged (loss is {ep[kdriver.ST_LOSS]}) in epoch "
                                       f"{epoch + 1}: lower alpha (now {self.cfg.alpha})")
            sec = time.perf_counter() - t_epoch
            # what the busiest worker did not spend in its kernel: waiting, transfers, merges, deltas, task overheads
            self.sync_seconds += max(0.0, sec - max(kernel.values(), default=0.0))
            words = int(round(ep[kdriver.ST_WORDS] * raw_per_kept))
            self._loss = float(ep[kdriver.ST_LOSS] / ep[kdriver.ST_LOSS_N]) if ep[kdriver.ST_LOSS_N] else float("nan")
            history.append({"epoch": epoch + 1, "loss": self._loss,
                            "words": words, "effective_words": int(ep[kdriver.ST_EFFECTIVE]), "seconds": sec,
                            "words_per_sec": words / max(sec, 1e-9), "alpha_end": lr((epoch + 1) * n_total)})
            if on_epoch is not None:
                on_epoch(epoch, history)
        self.bytes_moved = self._transfer_bytes() - before
        self.timings["training"] = time.perf_counter() - t_start
        if self.progress is not None:
            self.progress.close()
        return history

    def _submit_end(self, rounds: dict, barrier: int) -> list:
        """The epoch end's tasks: each worker applies the merge still one round late and the last one (all
        rows), after which every replica equals the others. Submitted with the last round, so they start
        when it ends, not a client round trip later."""
        R = self.rounds_per_epoch
        last = rounds[R - 1]
        late = rounds.get(R - 2) if self.lag and R - 2 >= barrier else None
        if last.parted:
            # worker j merges part j of the rows: each worker sends every other one only that part of its
            # deltas, (W - 1) / W of them, and the merge work is split W ways
            news = []
            for j in range(self.n):
                pieces = [self._on(i, W.delta_part, last.outs[i], j, self.n, priority=-last.n_round)
                          for i in range(self.n)]
                news.append({"k": last.k, "merge": self.merge, "results": pieces, "part": (j, self.n)})
        else:
            news = [last.new] * self.n
        return [self._on(i, W.apply_update, self.run_id, late.new if late else None, late.n_round if late else 0,
                         news[i], last.n_round, after=last.outs[i], metas=True, priority=-last.n_round)
                for i in range(self.n)]

    def _k(self, layout, epoch: int, rnd: int) -> int:
        """Rows synced after round rnd of epoch (all at the epoch end; none with one worker)."""
        if self.n == 1:
            return 0
        R = self.rounds_per_epoch
        return combine.round_rows(epoch * R + rnd + 1, rnd, R, layout.n_rows, defer=bool(self.lag))

    def _submit(self, epoch, rnd, n_round, k, late, first: bool, parted: bool = False):
        """Submit round ``rnd`` of ``epoch`` (number n_round over the run), which applies round ``late``'s merge.

        parted: the run's last round, whose sync (all rows) :meth:`_submit_end` splits among the workers.

        A task depends only on the inputs of the merge it applies (``late.new``: 1 + lag rounds back), not
        on its worker's previous round: the worker orders its rounds itself (``wait``), so with lag 1 one
        round follows the other on the worker without a scheduler round trip in between. With more than
        two workers the step of round n's merge is combined on worker 0 as its own task; with two, each
        worker merges the deltas itself (as many bytes, one task and one transfer fewer).
        """
        update = late.new if late is not None else None
        end = rnd == self.rounds_per_epoch - 1
        half = bool(k) and bool(self.lag) and self.half and not end
        outs = [self._on(i, W.train_round, self.run_id, epoch, rnd, n_round, k, update,
                         late.n_round if late is not None else 0, bool(self.lag), not first, self.gen,
                         combine.needs_flags(self.merge), end=end, half=half, priority=-n_round)
                for i in range(self.n)]
        if not k or parted:
            new = None
        elif self.n <= PEER_MERGE_WORKERS:
            new = {"k": k, "merge": self.merge, "results": outs}
        else:
            new = self._on(0, W.combine_round, self.run_id, k, *outs, merge=self.merge, priority=1)
        # no metadata task: the client waits for the round's tasks to finish (Dask tells it, no data moves)
        # and the workers keep their rounds' metadata until the epoch end's task returns it
        return _Round(epoch, rnd, n_round, k, outs, new, time.time(), parted=parted, half=half)

    def _cancel(self, r):
        for f in [*r.outs, *([r.new] if r.new is not None and not isinstance(r.new, dict) else [])]:
            f.cancel()

    def _finish(self, r):
        """Wait until every worker finished round r (WorkerLost if one was lost)."""
        self._wait(r.outs)
        r.done = time.time()

    def _timeline(self, metas: list, marks: dict):
        """Per round: the driver's marks and each worker's phases (wall clock), for sync breakdowns."""
        by_round: dict = {}
        for m in metas:
            by_round.setdefault(m["n"], []).append(m)
        for rnd in sorted(marks):
            n, k, submitted, done = marks[rnd]
            ms = sorted(by_round.get(n, []), key=lambda m: m["stream"])
            self.timeline.append({"round": n, "k": k, "submit": submitted, "done": done,
                                  "workers": [m.get("phases") for m in ms]})

    def _recover(self, dead, in_flight: list, layout: combine.Layout):
        """After workers were lost: bring the survivors to one state, move the lost shards on, resume.

        The rounds in flight are cancelled (a survivor ignores those of an older generation and finishes
        the one it runs). Survivors may have applied different numbers of merges (they are one round
        late, and a worker can be a round ahead of another): the ones behind catch up with the merge
        inputs a survivor ahead applied. Then every survivor's changes since that common base, all rows,
        are merged among the survivors (a sync like an epoch end's), so the replicas agree again; the
        lost worker's changes not yet merged (its unsynced round, or two) are dropped. The driver then
        submits the lost round again: survivors that trained it already return its stats without
        training it twice, and the lost shard's new owner trains its share.
        """
        self.gen += 1
        for r in in_flight:
            self._cancel(r)
        keep = [i for i, a in enumerate(self.addrs) if a not in dead]
        if not keep:
            raise WorkerLost(dead, "every worker was lost")
        applied = self._gather([self._on(i, W.quiesce, self.run_id, self.gen, priority=10) for i in keep])
        ahead = keep[int(np.argmax(applied))]
        top = max(applied)
        if min(applied) < top:
            inputs = {m: self._on(ahead, W.merge_inputs, self.run_id, m) for m in range(min(applied) + 1, top + 1)}
            self._gather([self._on(i, W.catch_up, self.run_id, [(m, inputs[m]) for m in range(a + 1, top + 1)])
                          for i, a in zip(keep, applied) if a < top])
        outs = [self._on(i, W.flush_delta, self.run_id) for i in keep]
        flush = {"k": layout.n_rows, "merge": self.merge, "results": outs}
        self._gather([self._on(i, W.apply_update, self.run_id, None, 0, flush, 0, priority=10) for i in keep])
        self._reassign(dead, merged=top)

    def _account(self, r, layout, n_total, total, t_start, done_start, raw_per_kept, lr, epochs) -> None:
        """Count round r (syncs, bytes, progress; the loss shown is the last epoch's)."""
        self.rounds += 1
        if r.k:
            self.syncs += 1
            self.bytes_formula += layout.sync_bytes(r.k, self.n, flags=combine.needs_flags(self.merge),
                                                    parted=r.parted, half=r.half,
                                                    peer=self.n <= PEER_MERGE_WORKERS)
        if self.progress is not None:
            t_done = min((r.rnd + 1) * self.round_tokens, max(self.shard_tokens))
            done = r.epoch * n_total + sum(min(t_done, s) for s in self.shard_tokens)
            el = time.perf_counter() - t_start
            self.progress.update(done / total, (done - done_start) * raw_per_kept / max(el, 1e-9),
                                 lr(done), self._loss, r.epoch + 1, epochs)

    def _wait(self, futs, poll: float = 1.0) -> None:
        """Wait until every future in ``futs`` is finished, without fetching results; WorkerLost as _gather."""
        done = _all_done(futs)
        while not done.wait(poll):
            dead = self._dead()
            if dead:
                raise WorkerLost(dead)
        if any(f.status != "finished" for f in futs):
            dead = self._dead()
            if dead:
                raise WorkerLost(dead)
            for f in futs:
                if f.status != "finished":
                    f.result()  # raises the task's error

    def _gather(self, futs, poll: float = 1.0):
        """client.gather that raises WorkerLost when one of this run's workers leaves the cluster.

        Waits on an event set by the futures' callbacks, not on Dask's ``wait(timeout=)``: a timeout
        there raises an exception whose traceback frames hold ``futs`` in a reference cycle, so
        the round's futures outlived it until the cyclic garbage collector ran, and the workers
        kept their results (deltas and merged rows of past syncs, copies of up to V x dim floats
        each): peak RSS per worker grew with the rounds per epoch, that is with the corpus.
        """
        self._wait(futs, poll)
        try:
            return self.client.gather(futs)
        except Exception:  # a result lost with its worker since
            dead = self._dead()
            if dead:
                raise WorkerLost(dead) from None
            raise

    def _dead(self) -> list:
        live = self._live()
        return [a for a in self.addrs if a not in live]

    def _live(self) -> set:
        return set(self.client.run_on_scheduler(_scheduler_workers))

    def _reassign(self, dead, merged: int = 0):
        """Give the shards of the dead workers to new workers of the cluster, else to the survivors.

        merged: the last round whose changes of the lost shards every survivor has (their new owners
        start after it)."""
        self.lost.extend(dead)
        alive = [a for a in self.addrs if a not in dead]
        fresh = sorted(self._live() - set(self.addrs) - set(self.lost))
        base = None
        moved = [(d, shard) for d in dead for shard in self.owned.pop(d)]
        for d, shard in moved:
            if fresh:
                target = fresh.pop(0)
                if base is None:
                    base = self.client.submit(W.base_weights, self.run_id, workers=[alive[0]], pure=False)
                self.addrs.append(target)
                self.owned[target] = []
            else:
                target = min(alive, key=lambda a: (len(self.owned[a]), self.addrs.index(a)))
            files, first, lo, hi, cfg = self.specs[shard]
            on = dict(workers=[target], allow_other_workers=False, pure=False)
            # scattered again: a lost worker may take the scheduler's record of the first copies with it
            [vocab] = self.client.scatter([self._vocab], workers=[target], hash=False)
            self.client.gather(self.client.submit(W.encode_shard, self.run_id, files, first, lo, hi, vocab,
                                                  cfg, shard, self.cache_dir, **on))
            self.client.gather(self.client.submit(W.start, self.run_id, self.shard_tokens, self.round_tokens, self.gen,
                                                  merged, **on))
            if not self.owned[target] and base is not None:
                self.client.gather(self.client.submit(_set_base, self.run_id, base, **on))
            self.owned[target].append(shard)
        self.addrs = [a for a in self.addrs if a not in dead]
        if self.progress is not None:
            self.progress.message(f"Warning: lost {len(dead)} worker(s) ({', '.join(dead)}); their unsynced round "
                                  f"was dropped and their shards moved on ({len(self.addrs)} workers left)")

    def weights(self):
        """(syn0, syn1, bias) from worker 0 (all replicas agree after a full sync), or put together from
        every worker's part after the run's last sync, which is partitioned."""
        if self.parts:
            return W.assemble(self._gather([self._on(j, W.final_rows, self.run_id, j, self.parts)
                                            for j in range(self.parts)]))
        return self.client.gather(self._on(0, W.weights, self.run_id))

    def set_weights(self, syn0, syn1, bias):
        self.parts = 0
        data = self.client.scatter([syn0, syn1, bias], broadcast=True, hash=False)
        self.client.gather([self._on(i, W.set_weights, self.run_id, *data) for i in range(self.n)])

    def _transfer_bytes(self) -> int:
        got = self.client.run(_transfer_bytes, workers=self.addrs)
        return int(sum(got.values()))

    def peak_rss(self) -> dict:
        return self.client.run(_peak_rss, workers=self.addrs)

    def worker_threads(self, threads: int | None) -> dict:
        """Kernel threads per worker: the given number, or the worker's NUMBA_NUM_THREADS."""
        if threads is not None:
            return {a: int(threads) for a in self.addrs}
        return {a: int(v) for a, v in self.client.run(_numba_threads, workers=self.addrs).items()}

    def close(self):
        with contextlib.suppress(Exception):
            self.client.run(_drop, self.run_id, workers=self.addrs)


@dataclasses.dataclass
class _Round:
    """One submitted round: its workers' task futures and its merge's inputs (``new``: the peer-merge dict,
    the combine's future, or None)."""

    epoch: int
    rnd: int
    n_round: int
    k: int
    outs: list
    new: object
    submitted: float
    done: float = 0.0
    parted: bool = False
    half: bool = False


class WorkerLost(FastW2VError):
    """Workers of the run left the cluster (crashed, killed or cut off); the CLI says so in one Error line."""

    def __init__(self, addrs, message=None):
        super().__init__(message or f"lost workers {', '.join(addrs)}")
        self.addrs = list(addrs)


def _all_done(futs) -> threading.Event:
    """An event set once every future in ``futs`` is finished (done, failed or cancelled)."""
    event = threading.Event()
    left = [len(futs)]
    lock = threading.Lock()

    def one(_):
        with lock:
            left[0] -= 1
            if left[0] == 0:
                event.set()

    if not futs:
        event.set()
    for f in futs:
        f.add_done_callback(one)
    return event


def _scheduler_workers(dask_scheduler=None):
    return list(dask_scheduler.workers)


def _set_base(run_id, base):
    return W.set_weights(run_id, *base)


def _transfer_bytes(dask_worker=None):
    return int(dask_worker.transfer_outgoing_bytes_total)


def _peak_rss():
    return W.peak_rss_mb()


def _numba_threads():
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


def _drop(run_id):
    return W.drop(run_id)


# ---------------------------------------------------------------- the API
def fit(model, corpus, *, client=None, workers=None, scheduler=None, progress=None, checkpoint=None,
        checkpoint_info=None, round_tokens: int = ROUND_TOKENS, resume_from=None, merge: str = combine.DEFAULT_MERGE,
        on_epoch=None, late: bool | None = None):
    """Train ``model`` (a fastw2v Word2Vec) data-parallel on a Dask cluster; returns the model.

    corpus: paths, URLs or globs every worker can read. client: an existing
    ``distributed.Client``; else ``scheduler`` (an address) or ``workers`` (the
    size of a new LocalCluster on this machine). ``model.config.threads`` is
    the kernel threads per worker (default: each worker's NUMBA_NUM_THREADS;
    with a LocalCluster, the cores divided among the workers).
    checkpoint: a path written atomically at every epoch end but the last.
    resume_from: (start_epoch, syn0, syn1, bias, history, words) of a checkpoint.
    round_tokens: tokens per worker between syncs (None: :func:`round_tokens_for`, one kernel call or
    less on a small corpus, so that an epoch has at least 32 syncs).
    merge: "capped" (the default: base + sum(delta), shortened per row where the workers' changes agree,
    to length 2 sum|delta_i|^2 / |sum(delta)|), "sum" (base + sum(delta)) or "mean" (base + sum(delta) / workers that
    touched the row); see :mod:`fastw2v.distributed.combine`.
    late: apply each merge one round late (the worker trains on meanwhile); None: when an epoch has at
    least LATE_MIN_ROUNDS rounds.
    """
    from ..config import default_threads
    from ..trainer import Progress

    if corpus is None or not (isinstance(corpus, (str, bytes)) or hasattr(corpus, "__fspath__")
                              or (isinstance(corpus, (list, tuple)) and corpus
                                  and all(isinstance(c, str) or hasattr(c, "__fspath__") for c in corpus))):
        raise ConfigError("distributed training reads files, URLs or globs (every worker reads them), "
                          "not Python lists of sentences")
    progress = progress if progress is not None else Progress(quiet=model.quiet)
    t0 = time.perf_counter()
    files = source.expand(corpus)
    base_cfg = model.config
    local_threads = base_cfg.threads
    if local_threads is None and client is None and scheduler is None:
        local_threads = max(1, default_threads() // max(1, int(workers)))
    with connect(client, workers, scheduler, threads=local_threads) as c:
        cfg = base_cfg.resolved() if base_cfg.threads is not None else base_cfg
        run = Run(c, cfg, round_tokens, model.cache_dir, progress, merge=merge, late=late)
        try:
            threads = run.worker_threads(local_threads)
            cfg = dataclasses.replace(base_cfg, threads=threads[run.addrs[0]]).resolved()
            run.cfg = cfg
            t_read = time.perf_counter()
            words, counts, file_tokens, meta = run.vocabulary(files)
            start_epoch, history0 = 0, []
            if resume_from is not None:
                start_epoch, syn0, syn1, bias, history0, ck_words = resume_from
                if list(ck_words) != words:
                    raise CorpusError("the corpus gives a different vocabulary than the checkpoint's: "
                                      "not the corpus this run was started on")
            kept = run.shards(files, file_tokens, words, counts, threads)
            layout = combine.Layout(len(words), cfg.dim, cfg.loss)
            if resume_from is not None:
                run.set_weights(syn0, syn1, bias)
            raw_per_kept = meta["tokens"] / max(sum(kept), 1)

            def epoch_end(epoch, history):
                if on_epoch is not None:
                    on_epoch("end", epoch)
                if checkpoint is not None and epoch + 1 < cfg.epochs:
                    _write_checkpoint(checkpoint, run, cfg, words, counts, epoch + 1, history0 + history,
                                      dict(checkpoint_info or {}, corpus=files, corpus_tokens=int(sum(kept)),
                                           corpus_raw_tokens=meta["tokens"],
                                           distributed={"round_tokens": run.round_tokens, "merge": merge,
                                                        "late": bool(run.lag)}))
                # Ctrl-C / SIGTERM: stop here, at the first epoch end after it (the only point where every replica
                # agrees and a checkpoint can be written), as local training stops at its next safe point
                if STOP.is_set() and epoch + 1 < cfg.epochs:
                    if checkpoint is not None:
                        raise TrainingInterrupted(
                            stop_message(f"at the end of epoch {epoch + 1}; checkpoint written to {checkpoint}; "
                                         f"resume with: fastw2v train --resume {shlex.quote(str(checkpoint))}"),
                            checkpoint=checkpoint)
                    raise TrainingInterrupted(stop_message(f"at the end of epoch {epoch + 1} (no --checkpoint was "
                                                           f"given, so the run cannot be resumed)"))

            history = run.train(layout, cfg.epochs, start_epoch, on_epoch=epoch_end, raw_per_kept=raw_per_kept,
                                on_begin=(lambda e: on_epoch("begin", e)) if on_epoch is not None else None)
            syn0, syn1, bias = run.weights()
            rss = run.peak_rss()
        finally:
            run.close()
    model._set_weights(words, counts, np.array(syn0), np.array(syn1), np.array(bias))
    model.config = cfg
    model.history = history0 + history
    model.trace = []
    train_s = run.timings["training"]
    trained_words = (cfg.epochs - start_epoch) * meta["tokens"]
    model.report = {
        "corpus_words": meta["tokens"],
        "corpus_sentences": meta["sentences"],
        "distinct_words": None,
        "vocabulary_size": len(words),
        "invalid_utf8": meta["invalid_utf8"],
        # vocabulary: reading and counting on the workers; encoding: each worker writing its token cache
        "seconds": {"setup": t_read - t0, "vocabulary": run.timings.get("vocabulary", 0.0),
                    "encoding": run.timings.get("encoding", 0.0), "training": train_s},
        "training_words_per_sec": trained_words / max(train_s, 1e-9),
        "loss_per_epoch": [h["loss"] for h in model.history],
        "threads": cfg.threads,
        "distributed": {
            "workers": run.n,
            "threads_per_worker": [threads.get(a, cfg.threads) for a in run.addrs],  # a replacement: its shard's
            "round_tokens": run.round_tokens,
            "merge": run.merge,
            "merge_lag": run.lag,  # 1: each merge applied one round late (LATE_MIN_ROUNDS); 0: at the next round
            "rounds": run.rounds,
            "rounds_per_epoch": run.rounds_per_epoch,
            "syncs": run.syncs,
            "sync_seconds": run.sync_seconds,
            "sync_share": run.sync_seconds / max(train_s, 1e-9),
            "workers_lost": len(run.lost),
            "bytes_moved": run.bytes_moved,
            "bytes_formula": run.bytes_formula,
            "shard_tokens": run.shard_tokens,
            "peak_rss_mb_per_worker": [rss[a] for a in run.addrs],
        },
    }
    if meta["invalid_utf8"]:
        progress.message(f"Warning: {meta['invalid_utf8']} invalid UTF-8 sequences replaced by U+FFFD")
    return model


def _write_checkpoint(path, run, cfg, words, counts, epoch, history, info):
    """A checkpoint at the start of ``epoch`` (all replicas agree there), written atomically.

    Its random states are zeros: every run (local or distributed) seeds an
    epoch that starts at token 0 from (seed, stream, epoch), so none are needed.
    """
    from .. import io
    from ..trainer import Position

    syn0, syn1, bias = run.weights()
    meta = {"config": cfg.to_dict(), "history": history, "report": {},
            "checkpoint": dict(info, position=Position(epoch, 0, np.zeros(8), 0.0, list(history)).to_dict())}
    io.save_native(path, {"syn0": syn0, "syn1": syn1, "bias": bias, "counts": counts,
                          "states": np.zeros((1, 16), dtype=np.uint64)}, words, meta)


def resume(model, path, arrays, info, corpus, *, client=None, workers=None, scheduler=None, progress=None,
           checkpoint=None):
    """Continue a checkpoint on a cluster from the epoch it was written at (an epoch boundary)."""
    from ..trainer import Position

    pos = Position.from_dict(info["position"])
    if pos.token != 0:
        raise ConfigError(f"{path} was written in the middle of an epoch by local training: resume it locally "
                          f"(distributed runs continue from epoch boundaries)")
    keep = {k: v for k, v in info.items() if k not in ("position", "corpus", "corpus_tokens", "corpus_raw_tokens",
                                                       "distributed")}
    rounds = (info.get("distributed") or {}).get("round_tokens")  # the same rounds: the same vectors
    return fit(model, corpus, client=client, workers=workers, scheduler=scheduler, progress=progress,
               checkpoint=checkpoint, checkpoint_info=keep, round_tokens=rounds,
               merge=(info.get("distributed") or {}).get("merge", "sum"),
               late=(info.get("distributed") or {}).get("late"),
               resume_from=(pos.epoch, arrays["syn0"], arrays["syn1"], arrays["bias"], pos.history,
                            model.wv.index_to_key))
