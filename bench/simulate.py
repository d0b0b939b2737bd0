"""Beyond one machine, by simulation: W model replicas trained round-robin in one process.

Each replica is a real worker :class:`fastw2v.distributed.worker.Shard` (its
own shard of the corpus: a contiguous span as the driver's, or every W-th sentence with
``--shards interleave``; its own random stream, one kernel thread)
and they advance in lock-step rounds of ``--round-tokens`` tokens each. After
round n the first ``round_rows(...)`` rows (everything at an epoch end) are
merged with the default merge (``capped``: base + sum(delta), shortened per row
where the replicas' changes agree, to about twice one change; ``agree:C`` sets
that limit), the earlier default (``capped:C``: at most C times the longest
replica's change), the issue's combiner (``combine``: base + sum(delta) /
replicas that touched the row) or, as controls, by summing the models
(``model-sum``: what blows Spark's vectors up), by averaging them (``average``:
shrinks a row one replica alone touched) or by ``delta-sum`` (base + sum(delta),
every change applied in full: ``--merge sum``). ``A/B`` merges syn0 with A and
syn1 with B; ``x-...`` are the experimental merges of :func:`exp_scale`.
``bm-BASE[:ETA][:FLAG...]`` adds block momentum (BMUF, Chen & Huo 2016) to a base
merge (``mean`` = ``combine``, ``capped``, ``sum``): a momentum buffer M per matrix,
shaped like it, zero at the start, that every replica would compute alike from the
merged steps; for the rows synced in a round, M = eta M + step and new = base + M
(``n``: Nesterov, base + eta M + step). ETA is a number, ``row`` (1 - 1/replicas that
touched the row) or 1 - 1/W by default; flags ``fL`` (momentum only from row L of the
sync order on), ``hH``, ``gE``, ``r``, ``s``, ``clipC`` (see :func:`bm_spec`).
``bm-capped:0.5:f1024`` was the best measured (bench/SIMULATION.md, "Block momentum").
No Dask: only the training and the merge. ``--round-tokens 0`` uses the driver's default rounds for W
one-thread workers (``driver.round_tokens_for``); ``--epoch-rounds A B ...`` cuts epoch 1 into rounds
of A tokens, epoch 2 of B, ... (the last repeats). ``--hot N`` changes the schedule's
rows synced every round (default 1024). ``--late`` (auto: an epoch of
``driver.LATE_MIN_ROUNDS`` rounds or more, as the driver; on; off) applies each
merge of ``capped`` and ``delta-sum`` one round late as the Dask workers do
(``Shard.deltas_late``, ``Shard.merge``, both pending merges at the epoch end);
the other modes (``bm-`` too) always merge after every round. ``--shards interleave`` gives
replica w the sentences w, w + W, ... instead of the w-th span, so all replicas' rounds come from
the same stretch of the corpus (a check that the spans' differing text is not what costs quality).

    python bench/simulate.py [--workers 1 2 4 8 16 32] [--modes capped combine average model-sum delta-sum] [--epochs 5]

Prints a markdown table of WordSim-353 Spearman and analogy accuracy (top 30k)
against W; ``bench/SIMULATION.md`` holds a measured one.
"""
import argparse
import time
from pathlib import Path

import numpy as np

from fastw2v.config import TrainConfig
from fastw2v.corpus import TokenCache, WorkDir, build_token_cache, corpus_files, read_files
from fastw2v.distributed import combine, driver
from fastw2v.distributed.worker import Shard
from fastw2v.keyedvectors import KeyedVectors
from fastw2v.vocab import build_vocab

ROOT = Path(__file__).resolve().parent.parent


def shard_caches(cache: TokenCache, n: int, interleave: bool = False):
    """n contiguous sentence ranges of about equal tokens, as TokenCaches (views + rebased starts).

    interleave: replica w gets sentences w, w + n, w + 2n, ... instead (copies), so every replica's round n
    comes from the same stretch of the corpus, as one process's tokens between two syncs would.
    """
    starts = np.asarray(cache.starts)
    if interleave and n > 1:
        toks = np.asarray(cache.tokens)
        lens = np.diff(starts)
        out = []
        for w in range(n):
            idx = np.arange(w, cache.n_sentences, n)
            s = np.zeros(idx.size + 1, np.int64)
            np.cumsum(lens[idx], out=s[1:])
            parts = [toks[starts[i]:starts[i + 1]] for i in idx]
            out.append(TokenCache(np.concatenate(parts) if parts else toks[:0].copy(), s))
        return out
    cuts = np.searchsorted(starts, np.arange(n + 1) * cache.n_tokens / n, side="left")
    cuts[0], cuts[-1] = 0, cache.n_sentences
    out = []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        s = starts[lo:hi + 1] - starts[lo]
        out.append(TokenCache(np.asarray(cache.tokens[starts[lo]:starts[hi]]), s.astype(np.int64)))
    return out


def merge(mode, base, deltas, touched):
    """The rows after a sync: the real combiner or a control."""
    if mode == "combine":  # base + sum(delta) / replicas that touched the row
        return combine.combine(base, deltas, touched)
    total = np.sum(deltas, axis=0, dtype=np.float32)
    if mode == "model-sum":  # sum of the replicas' models (Spark): W * base + sum(delta)
        return (np.float32(len(deltas)) * base + total).astype(np.float32)
    if mode == "average":  # plain average of the models: base + sum(delta) / W
        return (base + total / np.float32(len(deltas))).astype(np.float32)
    if mode == "delta-sum":  # every replica's change applied in full: base + sum(delta)
        return (base + total).astype(np.float32)
    if mode == "capped":  # the default merge (agreement limit AGREE)
        return combine.capped_sum(base, deltas, touched)
    if mode.startswith("capped:"):  # the earlier default: base + sum(delta), no longer than C x the longest step
        return combine.capped_sum(base, deltas, touched, cap=float(mode.partition(":")[2]), agree=0.0)
    if mode.startswith("agree:"):  # the default's rule with agreement limit C
        return combine.capped_sum(base, deltas, touched, agree=float(mode.partition(":")[2]))
    if mode.startswith("x-"):  # experimental per-row scalings of sum(delta) (see exp_scale)
        return exp_merge(mode, base, deltas)
    if mode == "sqrt":  # between the two: base + sum(delta) / sqrt(replicas that touched the row)
        n = np.sum([np.asarray(t, np.float32) for t in touched], axis=0)
        scale = 1.0 / np.sqrt(np.maximum(n, 1.0))
        return (base + total * scale.reshape((-1,) + (1,) * (base.ndim - 1))).astype(np.float32)
    raise ValueError(mode)


def bm_spec(mode):
    """The settings of a block-momentum mode ``bm-BASE[:ETA][:FLAG...]`` (see :func:`block_momentum`) as a dict.

    BASE: the merge whose step is filtered: ``mean`` (``combine.combine``, the issue's combiner), ``capped``
    (the default merge) or ``sum`` (``delta-sum``); ``meanrow`` / ``cappedrow`` are BASE with ETA ``row``.
    ETA: a number in [0, 1), or ``row`` (per row 1 - 1/n, n = replicas that touched the row this round:
    no momentum for a row one replica touched, 15/16 for a row all 16 touched, whose steady state for a
    constant mean step s is 16 s, the sum), or ``rowC`` (per row min(C, 1 - 1/n)). Default 1 - 1/W.
    FLAGs: ``n`` Nesterov (the replicas start the next round from the look-ahead point base + eta M + step;
    the anchor base + step after the run's last sync and, with ``r``, after each epoch end's);
    ``r`` reset M to zero after each epoch end's sync (the learning rate restarts: a new drift);
    ``clipC`` |M row| <= C x |the row's ``capped`` step| (the default merge's step computed on the same
    deltas: how far momentum may take a row past what the agreement limit allows);
    ``gE`` eta E (instead of 0) for the rows ``fL`` or ``hH`` leave out;
    ``hH`` momentum only on the first H rows of the sync order (the others take the base step);
    ``fL`` momentum only from row L of the sync order on (the hottest L rows take the base step);
    ``s`` skip untouched rows: a row no replica changed this round keeps its M and its value (without ``s``
    it decays M by eta, 0 for ETA ``row``, and moves by eta M: a round that trained nothing would reset or
    spend the momentum; with 10,000-token sentences most rounds of 2,048 tokens are such rounds).
    """
    head, *args = mode[3:].split(":")
    spec = {"base": head, "eta": None, "nesterov": False, "reset": False, "clip": 0.0, "hot": 0, "from": 0,
            "skip": False, "other": 0.0}
    if head.endswith("row"):
        spec["base"], spec["eta"] = head[:-3], "row"
    for a in args:
        if a == "n":
            spec["nesterov"] = True
        elif a == "r":
            spec["reset"] = True
        elif a == "s":
            spec["skip"] = True
        elif a.startswith("clip"):
            spec["clip"] = float(a[4:])
        elif a.startswith("g"):
            spec["other"] = float(a[1:])
        elif a.startswith("f"):
            spec["from"] = int(a[1:])
        elif a.startswith("h"):
            spec["hot"] = int(a[1:])
        elif a.startswith("row"):
            spec["eta"] = "row" + a[3:]
        else:
            spec["eta"] = float(a)
    if spec["base"] not in ("mean", "capped", "sum"):
        raise ValueError(mode)
    return spec


def block_momentum(spec, base, deltas, touched, m_rows, n_workers, anchor=False, reverse=False):
    """Block momentum (BMUF, Chen & Huo 2016) on one matrix's synced rows; returns the new rows, updates m_rows.

    base: float32 (K, ...) the synced rows of the base; deltas, touched: the replicas' changes and flags;
    m_rows: float32 (K, ...) the rows of the momentum buffer M (a view into the run's M, written in place).
    step = (the BASE merge's rows) - base; M = eta M + step; new = base + M (classical) or
    base + eta M + step (Nesterov). anchor: the last sync of a stretch the momentum ends (Nesterov: the
    anchor base + step, without the look-ahead). A row every replica pushes the same way in every round
    gains ~step / (1 - eta); a settled row whose merged steps change sign keeps about one step.
    reverse: the rows are in reverse sync order (hs's syn1: the hottest inner node last), for ``h`` and ``f``.
    """
    if base.shape[0] == 0 or base.size == 0:
        return base.copy()
    new = merge({"mean": "combine", "capped": "capped", "sum": "delta-sum"}[spec["base"]], base, deltas, touched)
    step = (new - base).astype(np.float32)
    shape = (-1,) + (1,) * (base.ndim - 1)
    eta = spec["eta"]
    if eta is None:
        eta = 1.0 - 1.0 / n_workers
    if isinstance(eta, str):  # per row: 1 - 1/(replicas that touched it), capped at C for rowC
        n = np.sum([np.asarray(t, np.float32) for t in touched], axis=0)
        eta = (1.0 - 1.0 / np.maximum(n, 1.0)).astype(np.float32)
        if len(spec["eta"]) > 3:
            eta = np.minimum(eta, np.float32(spec["eta"][3:]))
        eta = eta.reshape(shape)
    eta = np.asarray(eta, np.float32)
    if spec["hot"] or spec["from"]:  # no momentum (eta 0) past the first H rows or before row L of the order
        e = np.zeros(base.shape[0], np.float32) + eta.reshape(-1)
        e = e[::-1] if reverse else e  # rank order
        if spec["hot"]:
            e[spec["hot"]:] = spec["other"]
        e[:spec["from"]] = spec["other"]
        eta = (e[::-1] if reverse else e).reshape(shape)
    if spec["skip"]:  # untouched rows: eta 1 (M kept) and, below, no move
        live = np.sum([np.asarray(t, np.float32) for t in touched], axis=0) > 0
        eta = np.where(live.reshape(shape), eta, np.float32(1.0)).astype(np.float32)
    m_old = m_rows.copy() if spec["skip"] else None
    m_rows *= eta
    m_rows += step
    if spec["clip"] > 0:  # |M row| <= C x |capped step row|
        cap = merge("capped", base, deltas, touched) - base
        flat_m, flat_c = m_rows.reshape(base.shape[0], -1), cap.reshape(base.shape[0], -1)
        lm = np.sqrt((flat_m.astype(np.float64) ** 2).sum(1))
        lim = spec["clip"] * np.sqrt((flat_c.astype(np.float64) ** 2).sum(1))
        t = np.where(lm > lim, lim / np.maximum(lm, 1e-300), 1.0).astype(np.float32)
        m_rows *= t.reshape(shape)
    if spec["nesterov"]:
        out = base + step if anchor else base + eta * m_rows + step
    else:
        out = base + m_rows
    if spec["skip"]:
        keep = ~live.reshape(shape)
        out = np.where(keep, base, out)
        m_rows[...] = np.where(keep, m_old, m_rows)
    return out.astype(np.float32)


def exp_scale(mode, deltas):
    """t (K,) per row for an experimental merge x-NAME:a[:b[:c]] (NumPy, float64), with deltas W (K, ...) float32.

    S = sum(delta), Q = sum |delta_i|^2, M = max |delta_i|^2, per row; the merged step is t * S:
    x-ratio:c[:cap]  |step| <= max(c * Q / |S|, cap * sqrt(M)) (x-ratio:2 is the default ``capped``)
    x-min:c:cap      |step| <= min(c * Q / |S|, cap * sqrt(M))
    x-kappa:k:cap    |step| <= max(k * sqrt(Q), cap * sqrt(M))
    x-touch:cap:s    |step| <= cap * sqrt(M) * max(1, sqrt(replicas with a nonzero change) / s)
    x-rank:H:c       x-ratio:c for the first H rows of the sync order, the plain sum beyond
    x-rank2:H:c1:c2  x-ratio:c1 for the first H rows, x-ratio:c2 beyond
    x-pow:c:b        t = min(1, c / R**b), R = |S|^2 / Q
    x-boost:H:c      x-ratio:2 (``capped``), then t times c from row H of the sync order on (no momentum:
                     the control for block momentum on those rows, ``bm-capped:ETA:fH``, whose steady
                     state for a constant step is 1 / (1 - ETA) steps)
    """
    name, *args = mode[2:].split(":")
    args = [float(x) for x in args]
    d = np.stack([np.asarray(x, np.float64).reshape(x.shape[0], -1) for x in deltas])  # (W, K, D)
    S = d.sum(0)
    s2 = (S * S).sum(1)
    n2 = (d * d).sum(2)  # (W, K)
    Q = n2.sum(0)
    M = n2.max(0)
    ntouch = (n2 > 0).sum(0)
    tiny = 1e-300
    if name == "ratio":  # length <= max(cap*max|d_i|, c * Q / |S|)
        c, cap = args[0], (args[1] if len(args) > 1 else 0.0)
        L = np.maximum(cap * np.sqrt(M), c * Q / np.sqrt(np.maximum(s2, tiny)))
    elif name == "min":  # length <= min(cap*max|d_i|, c * Q / |S|)
        c, cap = args[0], args[1]
        L = np.minimum(cap * np.sqrt(M), c * Q / np.sqrt(np.maximum(s2, tiny)))
    elif name == "kappa":  # length <= max(cap*max|d_i|, k * sqrt(Q))
        k, cap = args[0], args[1]
        L = np.maximum(cap * np.sqrt(M), k * np.sqrt(Q))
    elif name == "touch":  # length <= cap * max|d_i| * max(1, sqrt(n touched) / s)
        cap, sdiv = args[0], args[1]
        L = cap * np.sqrt(M) * np.maximum(1.0, np.sqrt(ntouch) / sdiv)
    elif name == "rank":  # ratio:c for the first H rows (the hottest), the plain sum beyond
        H, c = int(args[0]), args[1]
        L = c * Q / np.sqrt(np.maximum(s2, tiny))
        L[H:] = np.inf
    elif name == "rank2":  # ratio:c1 for the first H rows, ratio:c2 beyond
        H, c1, c2 = int(args[0]), args[1], args[2]
        L = c2 * Q / np.sqrt(np.maximum(s2, tiny))
        L[:H] *= c1 / c2
    elif name == "boost":  # ratio:2, then t * c from row H on
        H, c = int(args[0]), args[1]
        L = 2.0 * Q / np.sqrt(np.maximum(s2, tiny))
        t = np.where(s2 > L * L, L / np.sqrt(np.maximum(s2, tiny)), 1.0)
        t[H:] *= c
        return t
    elif name == "pow":  # t = min(1, c / R**b), R = |S|^2 / Q
        c, b = args[0], args[1]
        R = s2 / np.maximum(Q, tiny)
        return np.minimum(1.0, c / np.maximum(R, tiny) ** b)
    else:
        raise ValueError(mode)
    return np.where(s2 > L * L, L / np.sqrt(np.maximum(s2, tiny)), 1.0)


def exp_merge(mode, base, deltas):
    """base + t * sum(delta) with t from exp_scale; "x-A/B" uses A for syn0 and B otherwise (set by the caller)."""
    if base.shape[0] == 0 or base.size == 0:
        return base.copy()
    t = exp_scale(mode, deltas)
    total = np.sum(deltas, axis=0, dtype=np.float32)
    return (base + total * t.astype(np.float32).reshape((-1,) + (1,) * (base.ndim - 1))).astype(np.float32)


#: simulation modes that can follow the driver's one-round-late schedule, and their ``--merge`` names
LATE_MERGES = {"capped": "capped", "delta-sum": "sum"}


def set_rounds(rep, round_tokens):
    """Cut a replica's shards into rounds of ``round_tokens`` tokens from now on (as Plan does at the start)."""
    from fastw2v import trainer
    rep.round_tokens = int(round_tokens)
    for plan in rep.plans:
        call = max(1, min(trainer.CALL_TOKENS_PER_THREAD * int(plan.cfg.threads), rep.round_tokens))
        starts = plan.cache.starts
        plan.stretch = np.asarray(trainer.stretch_bounds(starts, 0, plan.cache.n_sentences, call), dtype=np.int64)
        plan.round_of = np.asarray(starts)[plan.stretch[:-1]] // rep.round_tokens
        plan.n_rounds = int(plan.round_of[-1]) + 1 if plan.round_of.size else 0


def simulate(cache, words, counts, cfg, n_workers, mode, round_tokens, work, hot=combine.HOT_ROWS, late="auto",
             epoch_rounds=None, interleave=False):
    """Train W replicas round-robin; returns (WS-353 Spearman, analogy accuracy, rounds, merged late)."""
    caches = shard_caches(cache, n_workers, interleave)
    sizes = [c.n_tokens for c in caches]
    if not round_tokens:  # the Dask driver's default rounds for W one-thread workers
        round_tokens = driver.round_tokens_for(sizes, 1)
    print(f"  W = {n_workers}: {round_tokens:,} tokens per replica per round", flush=True)
    reps = [Shard("sim", cfg, counts, c, WorkDir(work.dir), w, sizes, round_tokens) for w, c in enumerate(caches)]
    layout = reps[0].layout
    n_rounds = max(r.n_rounds for r in reps)
    lag = (n_workers > 1 and mode in LATE_MERGES
           and {"on": True, "off": False}.get(late, n_rounds >= driver.LATE_MIN_ROUNDS))
    bm = bm_spec(mode) if mode.startswith("bm-") else None
    if bm is not None:  # the momentum buffer M of (syn0, syn1, bias): every replica would compute the same
        moment = tuple(np.zeros_like(a) for a in (reps[0].syn0, reps[0].syn1, reps[0].bias))
    n = 0
    for epoch in range(cfg.epochs):
        if epoch_rounds and epoch_rounds[min(epoch, len(epoch_rounds) - 1)] != reps[0].round_tokens:
            for r in reps:  # this epoch's rounds (--epoch-rounds): the plans' stretches cut again
                set_rounds(r, epoch_rounds[min(epoch, len(epoch_rounds) - 1)])
            n_rounds = max(r.n_rounds for r in reps)
            print(f"  epoch {epoch + 1}: {reps[0].round_tokens:,} tokens per replica per round", flush=True)
        pending = {}  # late: round number -> its merge inputs, as the driver passes them to the workers
        for rnd in range(n_rounds):
            n += 1
            solo = n_workers == 1 and bm is None  # one replica: nothing to merge (bm-: its own momentum)
            k = 0 if solo else combine.round_rows(n, rnd, n_rounds, layout.n_rows, hot, defer=bool(lag))
            if lag:  # as worker.train_round: apply round n - 2's merge, train, send this round's delta
                outs = []
                for r in reps:
                    if rnd >= 2:
                        r.merge(pending[n - 2], n - 2, late=True)
                    r.train_round(epoch, rnd)
                    # bfloat16 deltas mid-epoch, as the driver sends them with late merges (driver.HALF_DELTAS)
                    half = driver.HALF_DELTAS and rnd < n_rounds - 1
                    outs.append({"delta": r.deltas_late(k, n, end=rnd == n_rounds - 1, half=half), "touched": None})
                pending.pop(n - 2, None)
                pending[n] = {"k": k, "merge": LATE_MERGES[mode], "results": outs}
                if rnd == n_rounds - 1:  # as worker.apply_update at the epoch end: replica = base after
                    for r in reps:
                        if rnd >= 1:
                            r.merge(pending[n - 1], n - 1, late=True)
                        r.merge(pending[n], n, late=False)
                        r.flush()
                    assert all(np.array_equal(r.syn0, reps[0].syn0) and np.array_equal(r.syn0, r.base0)
                               for r in reps), "late merges: the replicas differ after the epoch end"
                continue
            for r in reps:
                r.train_round(epoch, rnd)
            if solo:
                continue
            shares = [r.deltas(k) for r in reps]
            base = combine.take(reps[0].base0, reps[0].base1, reps[0].base_b, layout, k)
            if bm is not None:  # block momentum: M's synced rows filter the base merge's step
                end = rnd == n_rounds - 1
                anchor = end and (bm["reset"] or epoch == cfg.epochs - 1)
                m_rows = combine.take(*moment, layout, k)
                new = tuple(block_momentum(bm, base[m], [s[0][m] for s in shares], [s[1][m] for s in shares],
                                           m_rows[m], n_workers, anchor, m == 1 and layout.loss == "hs")
                            for m in range(3))
                if end and bm["reset"]:
                    for a in moment:
                        a[...] = 0.0
                for r in reps:
                    r.apply((k, new))
                continue
            modes = mode.split("/") if "/" in mode else [mode]  # "A/B": A for syn0, B for syn1 and bias
            new = tuple(merge(modes[min(m, len(modes) - 1)], base[m], [s[0][m] for s in shares],
                              [s[1][m] for s in shares]) for m in range(3))
            for r in reps:
                r.apply((k, new))
    if not np.isfinite(reps[0].syn0).all():
        return float("nan"), float("nan"), n, lag
    kv = KeyedVectors(words, reps[0].syn0.copy(), counts)
    ws = kv.evaluate_word_pairs()["spearman"]
    res = kv.evaluate_word_analogies()
    an = res["accuracy"]
    for r in reps:
        r.close()
    right, wrong = (x if isinstance(x, int) else len(x) for x in (res["correct"], res["incorrect"]))
    print(f"  analogy {right} of {right + wrong}", flush=True)
    return ws, an, n, lag


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(ROOT / "fastw2v" / "data" / "text8_head.txt.gz"))
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    ap.add_argument("--modes", nargs="+", default=["capped", "combine", "average", "model-sum", "delta-sum"])
    ap.add_argument("--model", default="sg")
    ap.add_argument("--loss", default="ns")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--sample", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--round-tokens", type=int, default=8192,
                    help="tokens per replica per round; 0: the Dask driver's default for W one-thread workers "
                         "(driver.round_tokens_for: at least 32 syncs an epoch, rounds of 4,096 tokens or more)")
    ap.add_argument("--epoch-rounds", type=int, nargs="+", default=None,
                    help="tokens per replica per round in each epoch (the last repeats); W > 1 only")
    ap.add_argument("--alpha", type=float, default=None, help="starting learning rate (default: the model's)")
    ap.add_argument("--hot", type=int, default=combine.HOT_ROWS,
                    help="rows synced after every round (the schedule's base)")
    ap.add_argument("--max-sentence-length", type=int, default=TrainConfig.max_sentence_length,
                    help="split longer sentences (text8 has no newlines: its 10,000-token pieces are longer than "
                         "a round, so most rounds of 2,048 tokens train nothing)")
    ap.add_argument("--late", choices=["auto", "on", "off"], default="auto",
                    help="apply each merge one round late, as the Dask driver (Shard.merge, Shard.deltas_late); "
                         f"auto: when an epoch has >= {driver.LATE_MIN_ROUNDS} rounds, as the driver. Only "
                         f"{' and '.join(LATE_MERGES)}; the other modes always merge after every round")
    ap.add_argument("--shards", choices=["contiguous", "interleave"], default="contiguous",
                    help="contiguous: replica w trains the w-th of W equal spans (the driver); interleave: "
                         "sentences w, w + W, ... (every replica's rounds from the same stretch of the corpus)")
    a = ap.parse_args()
    cfg = TrainConfig(model=a.model, loss=a.loss, epochs=a.epochs, sample=a.sample, seed=a.seed, threads=1,
                      alpha=a.alpha, max_sentence_length=a.max_sentence_length).resolved()
    with WorkDir() as work:
        raw = read_files(corpus_files(a.corpus), work)
        vocab, remap = build_vocab(raw.keys, raw.counts, cfg.min_count, cfg.max_vocab)
        cache = build_token_cache(raw, remap, cfg.max_sentence_length, work)
        cache = TokenCache(np.asarray(cache.tokens).copy(), np.asarray(cache.starts).copy())
        print(f"# {a.corpus}: {cache.n_tokens:,} tokens, V = {len(vocab):,}; {a.model}/{a.loss}, {a.epochs} epochs, "
              f"sample {a.sample}, alpha {cfg.alpha}, seed {a.seed}, {a.round_tokens or 'the driver default'} tokens per "
              f"replica per round, sentences <= {a.max_sentence_length:,}", flush=True)
        rows = []
        for w in a.workers:
            # W = 1 runs without a merge, and with each bm- mode (momentum on its own steps: a control)
            for mode in (a.modes if w > 1 else ["combine"] + [m for m in a.modes if m.startswith("bm-")]):
                t = time.perf_counter()
                ws, an, n, lag = simulate(cache, vocab.words, vocab.counts, cfg, w, mode, a.round_tokens, work,
                                          a.hot, a.late, a.epoch_rounds if w > 1 else None,
                                          a.shards == "interleave")
                mode = mode + (" (late)" if lag else "")
                rows.append((w, mode, ws, an, n))
                print(f"W={w} {mode}: ws {ws:.3f} analogy {an:.3f} ({n} rounds, {time.perf_counter() - t:.0f} s)",
                      flush=True)
    ref = rows[0]
    print("\n| W | merge | rounds | WS-353 Spearman | vs W=1 | analogy (top 30k) | vs W=1 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for w, mode, ws, an, n in rows:
        print(f"| {w} | {mode} | {n} | {ws:.3f} | {ws / ref[2] if ref[2] else np.nan:.2f} | {an:.3f} | "
              f"{an / ref[3] if ref[3] else np.nan:.2f} |")


if __name__ == "__main__":
    main()
