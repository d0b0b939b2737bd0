"""Quality sweep of training settings, to choose the default learning rates (issue 15).

Trains every combination of the grid on each corpus and appends one JSON line
per run (WordSim-353 Spearman, analogy accuracy on the top 30k words, train
seconds, or ``"diverged": true``) to ``--jsonl`` as soon as it finishes. Each
corpus is read and tokenised once per process; every run on it trains on the
same token cache through :func:`fastw2v.trainer.train`, the call under
``Word2Vec.fit`` (subsampling is a setting of the run: the kernel drops words
with ``keep_probabilities(counts, cfg.sample)``; the cache holds every kept
token). Runs already in the JSONL are skipped, so an interrupted sweep resumes
where it stopped.

    python bench/sweep.py --corpus small text8 --models sg cbow --losses ns hs \\
        --dims 100 --epochs 1 3 5 --alphas 0.0125 0.025 0.05 0.1 --samples 1e-3 1e-4 --exact
    python bench/sweep.py --table [--jsonl a.jsonl --jsonl b.jsonl] [--out bench/SWEEP.md]

``--exact`` adds the per-pair skip-gram kernels (``TrainConfig(batch=False)``);
CBOW has one kernel for both (the driver ignores ``batch`` for CBOW), so its
exact runs would repeat the batched ones and are not made.
Corpus names: ``small`` (the first 100,000 words of the text8 sample),
``text8`` (the whole sample), ``realmix`` (``../shared/data/realmix.txt.xz``);
anything else is a path.
"""
from __future__ import annotations

import argparse
import gzip
import itertools
import json
import math
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SMALL_WORDS = 100_000
#: the fields that name a run: a line of the JSONL with the same values is the same run
LOSS_ORDER = {"ns": 0, "hs": 1, "nce": 2, "softmax": 3}
KEY = ("corpus", "min_count", "model", "loss", "dim", "epochs", "alpha", "min_alpha", "sample", "seed", "batched")


def _first_existing(*paths: Path) -> Path:
    for p in paths:
        if p.exists():
            return p
    return paths[0]


def corpus_path(name: str) -> Path:
    text8 = _first_existing(ROOT / "fastw2v" / "data" / "text8_head.txt.gz",
                            ROOT.parent / "shared" / "data" / "text8_head.txt.gz",
                            Path("/work/shared/data/text8_head.txt.gz"))
    if name in ("small", "text8"):
        return text8
    if name == "realmix":
        return _first_existing(ROOT.parent / "shared" / "data" / "realmix.txt.xz",
                               Path("/work/shared/data/realmix.txt.xz"))
    return Path(name)


def first_words(path: Path, n: int) -> list:
    """The first n whitespace-separated words of a (gzip) text file, read only as far as needed."""
    opener = gzip.open if path.suffix == ".gz" else open
    words, tail = [], ""
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        while len(words) < n:
            chunk = f.read(1 << 16)
            if not chunk:
                words.extend(tail.split())
                break
            parts = (tail + chunk).split()
            # the last piece may be a word cut by the chunk boundary
            tail = parts.pop() if parts and not chunk[-1].isspace() else ""
            words.extend(parts)
    return words[:n]


class Corpus:
    """One corpus read once: vocabulary and token cache, shared by every run on it."""

    def __init__(self, name: str, min_count: int, work):
        from fastw2v.config import TrainConfig
        from fastw2v.corpus import TokenCache, build_token_cache, corpus_files, read_files, read_sentences
        from fastw2v.vocab import build_vocab

        self.name = name
        path = corpus_path(name)
        t = time.perf_counter()
        if name == "small":
            # one sentence: build_token_cache cuts it at max_sentence_length, as it cuts text8's one line
            raw = read_sentences([first_words(path, SMALL_WORDS)], work)
        else:
            raw = read_files(corpus_files(str(path)), work)
        max_len = TrainConfig().max_sentence_length
        self.vocab, remap = build_vocab(raw.keys, raw.counts, min_count, None)
        cache = build_token_cache(raw, remap, max_len, work)
        # in memory: reused by hundreds of runs (train() drops the pages of a memory map behind it)
        self.cache = TokenCache(np.asarray(cache.tokens).copy(), np.asarray(cache.starts).copy())
        self.raw_tokens = raw.n_tokens
        self.path = str(path)
        self.seconds = time.perf_counter() - t


def run_one(corpus: Corpus, cfg) -> dict:
    """Train one configuration on the corpus's cache; the quality figures, or diverged."""
    from fastw2v.errors import TrainingDiverged
    from fastw2v.keyedvectors import KeyedVectors
    from fastw2v.trainer import init_bias, init_weights, train

    words, counts = corpus.vocab.words, corpus.vocab.counts
    syn0, syn1, _ = init_weights(len(words), cfg.dim, cfg.seed)
    bias = init_bias(counts, cfg.loss)
    out = {}
    try:
        res = train(corpus.cache, counts, syn0, syn1, bias, cfg, corpus.raw_tokens, progress=None)
    except TrainingDiverged as e:
        return {"diverged": True, "error": str(e)}
    out["train_seconds"] = round(res.seconds, 3)
    out["compile_seconds"] = round(res.compile_seconds, 3)
    out["words_per_sec"] = round(res.words / max(res.seconds, 1e-9))
    out["final_loss"] = res.history[-1]["loss"] if res.history else None
    if not np.isfinite(syn0).all():  # train() samples rows for its check; a NaN it missed still spoils the vectors
        return {**out, "diverged": True, "error": "NaN or inf in the input vectors"}
    t = time.perf_counter()
    kv = KeyedVectors(words, syn0, counts)
    ws = kv.evaluate_word_pairs()
    an = kv.evaluate_word_analogies(restrict_vocab=30000)
    out["eval_seconds"] = round(time.perf_counter() - t, 3)
    out["ws353"] = _num(ws["spearman"])
    out["analogy"] = _num(an["accuracy"])
    out["ws353_oov_ratio"] = _num(ws.get("oov_ratio", float("nan")))
    out["analogy_oov_ratio"] = _num(an.get("oov_ratio", float("nan")))  # questions outside the top 30k: skipped
    out["diverged"] = False
    return out


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def key_of(d: dict) -> tuple:
    return tuple(float(d[k]) if k in ("alpha", "min_alpha", "sample") else d[k] for k in KEY)


def read_jsonl(paths) -> list:
    rows = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            continue
        with open(p, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    d = json.loads(line)
                except json.JSONDecodeError:  # a line cut by an interrupted write: that run runs again
                    continue
                if all(k in d for k in KEY):
                    rows.append(d)
    return rows


# ------------------------------------------------------------------ sweep
def sweep(a):
    from fastw2v.config import TrainConfig
    from fastw2v.corpus import WorkDir

    out_path = Path(a.jsonl[0])
    out_path.parent.mkdir(parents=True, exist_ok=True)
    done = {key_of(d) for d in read_jsonl([out_path])}
    grid = []
    for corpus in dict.fromkeys(a.corpus):  # each corpus once, in the order given
        for model, loss in itertools.product(a.models, a.losses):
            kernels = [True] + ([False] if a.exact and model == "sg" else [])
            for batched, dim, sample, epochs, alpha, min_alpha, seed in itertools.product(
                    kernels, a.dims, a.samples, a.epochs, a.alphas, a.min_alphas, a.seeds):
                if min_alpha > alpha:
                    continue
                spec = dict(corpus=corpus, min_count=a.min_count, model=model, loss=loss, dim=dim, epochs=epochs,
                            alpha=alpha, min_alpha=min_alpha, sample=sample, seed=seed, batched=batched)
                if key_of(spec) not in done:
                    grid.append(spec)
    total = len(grid)
    print(f"# {total} runs to make ({len(done)} already in {out_path}), threads {a.threads}", flush=True)
    if not total:
        return
    t_sweep = time.perf_counter()
    i = 0
    for corpus_name, specs in itertools.groupby(grid, key=lambda s: s["corpus"]):
        specs = list(specs)
        with WorkDir() as work:
            c = Corpus(corpus_name, a.min_count, work)
        print(f"# corpus {corpus_name} ({c.path}): {c.cache.n_tokens:,} tokens after min_count {a.min_count}, "
              f"V = {len(c.vocab):,}, read in {c.seconds:.1f} s", flush=True)
        t_corpus, units_done = time.perf_counter(), 0.0  # tokens x epochs x dim trained: a rough time left
        units_left = c.cache.n_tokens * sum(s["epochs"] * s["dim"] for s in specs)
        for spec in specs:
            i += 1
            cfg = TrainConfig(model=spec["model"], loss=spec["loss"], dim=spec["dim"], epochs=spec["epochs"],
                              alpha=spec["alpha"], min_alpha=spec["min_alpha"], sample=spec["sample"],
                              seed=spec["seed"], batch=spec["batched"], threads=a.threads,
                              min_count=a.min_count).resolved()
            label = (f"{corpus_name} {spec['model']}/{spec['loss']}{'' if spec['batched'] else ' exact'} "
                     f"dim {spec['dim']} ep {spec['epochs']} alpha {spec['alpha']:g} sample {spec['sample']:g} "
                     f"seed {spec['seed']}")
            t = time.perf_counter()
            res = run_one(c, cfg)
            wall = time.perf_counter() - t
            row = {**spec, "n_tokens": c.cache.n_tokens, "vocab": len(c.vocab), "threads": a.threads,
                   "window": cfg.window, "negative": cfg.negative, **res, "run_seconds": round(wall, 3)}
            with open(out_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
                f.flush()
                os.fsync(f.fileno())
            units = c.cache.n_tokens * spec["epochs"] * spec["dim"]
            units_done, units_left = units_done + units, units_left - units
            left = units_left * (time.perf_counter() - t_corpus) / units_done
            if res.get("diverged"):
                result = "DIVERGED"
            else:
                result = (f"ws {_fmt(res['ws353'], 3)} analogy {_pct(res['analogy'])} "
                          f"(train {res['train_seconds']:.1f} s, {res['words_per_sec'] / 1e3:.0f}K words/s)")
            print(f"[{i}/{total}] {label}: {result}; {wall:.1f} s; ~{_clock(left)} left on this corpus, "
                  f"{_clock(time.perf_counter() - t_sweep)} elapsed", flush=True)


def _clock(s):
    if not math.isfinite(s):
        return "?"
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _fmt(x, nd):
    return "n/a" if x is None else f"{x:.{nd}f}"


def _pct(x):
    return "n/a" if x is None else f"{100 * x:.1f}%"


# ------------------------------------------------------------------ table
def _ranks(values):
    """1 = best (largest); ties share the mean rank; None ranks last."""
    order = sorted(range(len(values)), key=lambda j: (values[j] is None, -(values[j] or 0.0)))
    ranks = [0.0] * len(values)
    j = 0
    while j < len(order):
        k = j
        while k + 1 < len(order) and values[order[k + 1]] == values[order[j]]:
            k += 1
        for m in range(j, k + 1):
            ranks[order[m]] = (j + k) / 2 + 1
        j = k + 1
    return ranks


def cell_stats(runs):
    """Mean WS-353 and analogy over the seeds that did not diverge; (ws, an, n_ok, n_all)."""
    ok = [r for r in runs if not r.get("diverged")]
    ws = [r["ws353"] for r in ok if r.get("ws353") is not None]
    an = [r["analogy"] for r in ok if r.get("analogy") is not None]
    return (float(np.mean(ws)) if ws else None, float(np.mean(an)) if an else None, len(ok), len(runs))


def best_alpha(cells: dict):
    """The alpha with the best mean of its WS-353 rank and analogy rank among the row's
    non-diverged alphas (ties: the larger WS + analogy); None if all diverged."""
    alive = [al for al, c in cells.items() if c[2] > 0 and c[0] is not None]
    if not alive:
        return None
    wr = _ranks([cells[al][0] for al in alive])
    ar = _ranks([cells[al][1] for al in alive])
    score = {al: ((wr[j] + ar[j]) / 2, -((cells[al][0] or 0) + (cells[al][1] or 0))) for j, al in enumerate(alive)}
    return min(alive, key=lambda al: score[al])


def _coverage(cells_by) -> str:
    """How much of each benchmark the vocabulary covers (both fall as the corpus shrinks; small is noisy)."""
    ok = [r for runs in cells_by.values() for r in runs if r.get("ws353_oov_ratio") is not None]
    if not ok:
        return ""
    ws = 1 - ok[0]["ws353_oov_ratio"]
    an = 1 - (ok[0].get("analogy_oov_ratio") or 0.0)
    return f"; WS-353 pairs in the vocabulary {100 * ws:.0f}%, analogy questions answered {100 * an:.0f}%"


def table(paths, out):
    rows = read_jsonl(paths)
    if not rows:
        raise SystemExit(f"no runs in {', '.join(map(str, paths))}")
    # the latest line of a run wins (a run repeated by hand replaces the old one), then group by seed
    latest = {}
    for r in rows:
        latest[key_of(r) + (r["seed"],)] = r
    rows = list(latest.values())
    groups = defaultdict(lambda: defaultdict(list))  # table key -> (epochs, alpha) -> runs
    for r in rows:
        tk = (r["corpus"], r["model"], r["loss"], r["dim"], r["sample"], r["batched"], r.get("min_alpha"),
              r.get("min_count"))
        groups[tk][(r["epochs"], float(r["alpha"]))].append(r)
    seeds = sorted({r["seed"] for r in rows})
    multi = len(seeds) > 1
    lines = ["# Learning-rate sweep (bench/sweep.py)", "",
             f"{len(rows)} runs from {', '.join(map(str, paths))}. Cells: WordSim-353 Spearman / analogy accuracy "
             "(top 30k words)" + (f", each the mean over seeds {', '.join(map(str, seeds))} "
                                   "(over the seeds that did not diverge; `k/n` marks a cell where only k of n "
                                   "did)" if multi else "") + ". "
             "**Bold**: the row's best alpha by combined score = mean of its WS-353 rank and its analogy rank among "
             "the row's alphas that did not diverge (rank 1 = best; ties broken by the larger WS + analogy). "
             "`diverged`: training raised TrainingDiverged (NaN/inf). alpha is the absolute starting rate, falling "
             "linearly to min_alpha.", ""]
    summary = []
    for tk in sorted(groups, key=lambda k: (k[0], k[1] != "sg", k[1], LOSS_ORDER.get(k[2], 9), k[2], k[3], -k[4], not k[5], k[6] or 0,
                                            k[7] or 0)):
        corpus, model, loss, dim, sample, batched, min_alpha, min_count = tk
        cells_by = groups[tk]
        alphas = sorted({al for _, al in cells_by})
        epochs = sorted({ep for ep, _ in cells_by})
        any_run = next(iter(cells_by.values()))[0]
        kern = "batched" if batched else "exact"
        most = max(len({r["seed"] for r in runs}) for runs in cells_by.values())  # fewer in a cell: said there
        extra = "" if min_alpha == 0.0001 else f", min_alpha {min_alpha:g}"
        lines.append(f"## {corpus}: {model}/{loss}, dim {dim}, sample {sample:g}, {kern}{extra}")
        lines.append("")
        lines.append(f"{any_run.get('n_tokens', 0):,} tokens, V = {any_run.get('vocab', 0):,}, "
                     f"min_alpha {min_alpha:g}, min_count {min_count}, threads {any_run.get('threads', '?')}"
                     + (f", up to {most} seeds per cell" if most > 1 else "") + _coverage(cells_by) + ".")
        lines.append("")
        lines.append("| epochs | " + " | ".join(f"alpha {al:g}" for al in alphas) + " | best |")
        lines.append("| --- |" + " --- |" * (len(alphas) + 1))
        for ep in epochs:
            cells = {al: cell_stats(cells_by[(ep, al)]) for al in alphas if (ep, al) in cells_by}
            best = best_alpha(cells)
            texts = []
            for al in alphas:
                if al not in cells:
                    texts.append("")
                    continue
                ws, an, n_ok, n_all = cells[al]
                if n_ok == 0:
                    texts.append("diverged")
                    continue
                s = f"{_fmt(ws, 3)} / {_pct(an)}"
                if n_ok < n_all:
                    s += f" ({n_ok}/{n_all})"
                elif n_all < most:
                    s += f" ({n_all} seed{'s' if n_all > 1 else ''})"
                texts.append(f"**{s}**" if al == best else s)
            lines.append(f"| {ep} | " + " | ".join(texts) + f" | {'-' if best is None else f'{best:g}'} |")
            summary.append((corpus, model, loss, dim, ep, sample, kern, best, cells.get(best)))
        lines.append("")
    lines += ["## Summary: best alpha", "",
              "Per (corpus, model, loss, dim, epochs), for each sample and kernel: the best alpha by the combined "
              "score above, with its WS-353 / analogy.", ""]
    cols = sorted({(s[5], s[6]) for s in summary}, key=lambda c: (-c[0], c[1] != "batched"))
    lines.append("| corpus | model | loss | dim | epochs | " +
                 " | ".join(f"sample {sm:g}, {kern}" for sm, kern in cols) + " |")
    lines.append("| --- | --- | --- | --- | --- |" + " --- |" * len(cols))
    by_row = defaultdict(dict)
    for corpus, model, loss, dim, ep, sample, kern, best, cell in summary:
        by_row[(corpus, model, loss, dim, ep)][(sample, kern)] = (best, cell)
    for rk in sorted(by_row, key=lambda k: (k[0], k[1] != "sg", k[1], LOSS_ORDER.get(k[2], 9), k[2], k[3], k[4])):
        texts = []
        for col in cols:
            if col not in by_row[rk]:
                texts.append("")
                continue
            best, cell = by_row[rk][col]
            texts.append("all diverged" if best is None else f"**{best:g}** ({_fmt(cell[0], 3)} / {_pct(cell[1])})")
        lines.append("| " + " | ".join(str(x) for x in rk) + " | " + " | ".join(texts) + " |")
    Path(out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}: {len(groups)} tables, {len(rows)} runs")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", action="extend", nargs="+", default=None,
                    help="small, text8, realmix or a path (repeatable)")
    ap.add_argument("--models", nargs="+", default=["sg", "cbow"], choices=["sg", "cbow"])
    ap.add_argument("--losses", nargs="+", default=["ns", "hs", "nce", "softmax"],
                    choices=["ns", "hs", "nce", "softmax"])
    ap.add_argument("--dims", nargs="+", type=int, default=[100, 300])
    ap.add_argument("--epochs", nargs="+", type=int, default=[1, 3, 5])
    ap.add_argument("--alphas", nargs="+", type=float, default=[0.0125, 0.025, 0.05, 0.1])
    ap.add_argument("--min-alphas", nargs="+", type=float, default=[0.0001])
    ap.add_argument("--samples", nargs="+", type=float, default=[1e-3, 1e-4])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1])
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--exact", action="store_true", help="also the per-pair skip-gram kernels (batch=False)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--jsonl", action="append", default=None,
                    help="results file (default bench/sweep.jsonl); --table reads every one given")
    ap.add_argument("--table", action="store_true", help="write the markdown tables from the JSONL(s)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "SWEEP.md"), help="--table's markdown file")
    a = ap.parse_args(argv)
    a.jsonl = a.jsonl or [str(ROOT / "bench" / "sweep.jsonl")]
    if a.table:
        table(a.jsonl, a.out)
        return
    if not a.corpus:
        ap.error("give --corpus (small, text8, realmix or a path)")
    for name in a.corpus:
        if not corpus_path(name).exists():
            ap.error(f"corpus {name}: {corpus_path(name)} not found")
    if len(a.jsonl) > 1:
        ap.error("a sweep writes one --jsonl")
    sweep(a)


if __name__ == "__main__":
    sys.exit(main())
