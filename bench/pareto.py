"""Quality against whole-process time: fastw2v, gensim and fastText, epochs 1..5, one run, one corpus.

    python bench/pareto.py                       # or: make bench-pareto
    python bench/pareto.py --corpus ../shared/data/realmix.txt.xz --epochs 1 2 3 4 5 --repeats 2 --json out.json

Every tool runs at its OWN defaults except: the model (skip-gram, or ``--model
cbow``), dim 100, ``--threads`` threads, min count 5, the epoch count under
test, and for fastText maxn 0 (no character n-grams, so a word2vec model):

- fastw2v: ``python -m fastw2v train CORPUS -o out.vec --model sg --dim 100
  --min-count 5 --epochs E --threads 2`` (no alpha, no sample: their defaults
  are what is measured);
- gensim: ``Word2Vec(corpus_file=CORPUS, sg=1, vector_size=100, min_count=5,
  workers=2, epochs=E)``, then ``wv.save_word2vec_format(out.vec)``;
- fastText: the ``fasttext`` Python package (fasttext-wheel):
  ``train_unsupervised(CORPUS, model="skipgram", dim=100, thread=2, epoch=E,
  minCount=5, maxn=0)``, and its vocabulary's vectors written as a .vec by
  FASTTEXT_SCRIPT (fastText's own .vec has the same rows: with no n-grams a
  word's vector is its input row); without the package, a ``fasttext`` binary
  on PATH (``fasttext skipgram -input CORPUS -output PREFIX ...``, which writes
  the .vec itself, and a .bin); with neither, fastText is skipped and the
  report says so.

Each run is its own process, timed from spawn to exit (reading the decompressed
plain-text file, vocabulary, training, writing the vectors). For each epoch
count the tools run in turn (A B C), so the machine's noise spreads over all of
them; ``--repeats N`` repeats the whole sequence and reports median times.
Before the measured runs each tool runs once, unmeasured, on the first MB of
the corpus (fastw2v's compiled kernels come from Numba's disk cache after that,
as for any user past the first run; ``--no-warmup`` keeps the compile in).

Quality of every output is measured the same way, after the run: the .vec
loaded by fastw2v's loader, WordSim-353 Spearman (``evaluate_word_pairs()``)
and analogy accuracy on the top 30k words (``evaluate_word_analogies()``), as
bench/compare.py does. Writes a markdown table (--out-md), a two-panel PNG
(--out-png, needs matplotlib) and optionally all runs as JSON (--json). Run it
on an otherwise idle machine: the times mean nothing next to other load.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from compare import decompress, quality  # noqa: E402

TOOLS = ("fastw2v", "gensim", "fasttext")
LABEL = {"fastw2v": "fastw2v", "gensim": "gensim", "fasttext": "fastText"}
DIM = 100
MIN_COUNT = 5
WARMUP_BYTES = 1 << 20

GENSIM_SCRIPT = r"""
import json, sys
from gensim.models import Word2Vec
a = json.loads(sys.argv[1])
m = Word2Vec(corpus_file=a["corpus"], sg=1 if a["model"] == "sg" else 0, vector_size=a["dim"],
             min_count=a["min_count"], workers=a["threads"], epochs=a["epochs"])
m.wv.save_word2vec_format(a["out"])
"""

# The Python package has no .vec writer; this one writes what fastText's own does for a model without
# n-grams (the vocabulary, </s> included, in fastText's order, 6 significant digits) and times itself,
# so the report can show how much of fastText's wall time is this Python writer.
FASTTEXT_SCRIPT = r"""
import json, sys, time
import fasttext
a = json.loads(sys.argv[1])
m = fasttext.train_unsupervised(a["corpus"], model="skipgram" if a["model"] == "sg" else "cbow", dim=a["dim"],
                                thread=a["threads"], epoch=a["epochs"], minCount=a["min_count"], maxn=0)
t = time.perf_counter()
words = m.get_words(on_unicode_error="replace")
matrix = m.get_input_matrix()  # (words + buckets, dim); buckets are 0 without n-grams
rows, seen = [], set()
for i, w in enumerate(words):
    if w not in seen:  # two byte strings that are not UTF-8 can decode to the same str
        seen.add(w)
        rows.append(i)
fmt = " ".join(["%.6g"] * matrix.shape[1])
with open(a["out"], "w", encoding="utf-8") as f:
    f.write("%d %d\n" % (len(rows), matrix.shape[1]))
    for i in rows:
        f.write(words[i] + " " + fmt % tuple(matrix[i].tolist()) + "\n")
json.dump({"write_seconds": time.perf_counter() - t, "matrix_rows": int(matrix.shape[0]),
           "words": len(words)}, open(a["report"], "w"))
"""


def find_tools(wanted):
    """({tool: how it runs}, {tool: why skipped}) for the tools asked for."""
    have, skipped = {}, {}
    for tool in wanted:
        if tool == "fastw2v":
            have[tool] = "cli"
        elif tool == "gensim":
            if importlib.util.find_spec("gensim"):
                have[tool] = "python"
            else:
                skipped[tool] = "gensim is not installed"
        elif tool == "fasttext":
            if importlib.util.find_spec("fasttext"):
                have[tool] = "python"
            elif shutil.which("fasttext"):
                have[tool] = "binary"
            else:
                skipped[tool] = "neither the fasttext Python package (fasttext-wheel) nor a fasttext binary on PATH"
    return have, skipped


def command(tool, how, a, corpus: Path, epochs: int, out: Path, report: Path):
    """The argv of one training run that writes ``out`` (a word2vec text .vec)."""
    if tool == "fastw2v":
        return [sys.executable, "-m", "fastw2v", "train", str(corpus), "-o", str(out), "--model", a.model,
                "--dim", str(DIM), "--min-count", str(MIN_COUNT), "--epochs", str(epochs),
                "--threads", str(a.threads)]
    args = dict(corpus=str(corpus), model=a.model, dim=DIM, min_count=MIN_COUNT, threads=a.threads,
                epochs=epochs, out=str(out), report=str(report))
    if tool == "gensim":
        return [sys.executable, "-c", GENSIM_SCRIPT, json.dumps(args)]
    if how == "python":
        return [sys.executable, "-c", FASTTEXT_SCRIPT, json.dumps(args)]
    # the binary writes PREFIX.bin and PREFIX.vec
    return [shutil.which("fasttext"), "skipgram" if a.model == "sg" else "cbow", "-input", str(corpus),
            "-output", str(out.with_suffix("")), "-dim", str(DIM), "-thread", str(a.threads),
            "-epoch", str(epochs), "-minCount", str(MIN_COUNT), "-maxn", "0"]


def run_timed(cmd, log: Path):
    """(wall seconds from spawn to exit, return code). Output goes to ``log``, not a pipe: fastText's
    progress lines would fill a pipe nobody reads while it runs and stall it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")  # this checkout's fastw2v
    with open(log, "wb") as f:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
        rc = p.wait()
        wall = time.perf_counter() - t
    return wall, rc


def one_run(tool, how, a, corpus: Path, epochs: int, work: Path, measure=True) -> dict:
    out, report, log = work / f"{tool}.vec", work / f"{tool}.json", work / f"{tool}.log"
    for p in (out, report):
        p.unlink(missing_ok=True)
    wall, rc = run_timed(command(tool, how, a, corpus, epochs, out, report), log)
    r = {"tool": tool, "epochs": epochs, "wall_seconds": wall, "rc": rc}
    if rc != 0 or not out.is_file():
        tail = log.read_bytes()[-1500:].decode("utf-8", "replace")
        r.update(failed=True, log_tail=tail)
        print(f"  {LABEL[tool]} (epochs {epochs}) failed with exit code {rc}:\n{tail}", file=sys.stderr, flush=True)
        return r
    if report.is_file():
        r.update(json.loads(report.read_text()))
    if measure:
        with open(out, "rb") as f:
            r["vocabulary_size"] = int(f.readline().split()[0])
        q = quality(out, True, binary=False)
        r["wordsim"], r["analogy"] = q["wordsim_spearman"], q["analogy_accuracy"]
    out.unlink(missing_ok=True)
    out.with_suffix(".bin").unlink(missing_ok=True)
    return r


def medians(runs):
    """One row per (tool, epochs): median wall time and quality over the repeats that did not fail."""
    rows = []
    keys = sorted({(r["tool"], r["epochs"]) for r in runs}, key=lambda k: (TOOLS.index(k[0]), k[1]))
    for tool, epochs in keys:
        mine = [r for r in runs if r["tool"] == tool and r["epochs"] == epochs]
        ok = [r for r in mine if not r.get("failed")]
        row = {"tool": tool, "epochs": epochs, "runs": len(mine), "failed": len(mine) - len(ok)}
        if ok:
            times = [r["wall_seconds"] for r in ok]
            row.update(wall_seconds=statistics.median(times), wall_min=min(times), wall_max=max(times),
                       wordsim=statistics.median(r["wordsim"] for r in ok),
                       analogy=statistics.median(r["analogy"] for r in ok),
                       vocabulary_size=ok[-1]["vocabulary_size"])
            if "write_seconds" in ok[0]:
                row["write_seconds"] = statistics.median(r["write_seconds"] for r in ok)
        rows.append(row)
    return rows


def frontier(rows, metric: str, ref: str = "fastw2v"):
    """For each measured time T (ascending): is ``ref``'s best ``metric`` among its runs taking <= T
    at least every other tool's best among theirs?

    Returns a list of dicts: ``budget`` (seconds), ``best`` ({tool: best value within it}) and ``ok``:
    True, False (a peer is better, or only peers fit in the budget), or None (only ``ref`` fits, or
    nothing: no contest).
    """
    pts = [r for r in rows if r.get(metric) is not None and r.get("wall_seconds") is not None]
    out = []
    for budget in sorted({r["wall_seconds"] for r in pts}):
        best = {}
        for r in pts:
            if r["wall_seconds"] <= budget:
                best[r["tool"]] = max(best.get(r["tool"], -math.inf), r[metric])
        peers = [v for t, v in best.items() if t != ref]
        if not peers:
            ok = None
        elif ref not in best:
            ok = False
        else:
            ok = all(best[ref] >= v for v in peers)
        out.append({"budget": budget, "best": best, "ok": ok})
    return out


def frontier_line(name: str, points, ref: str = "fastw2v") -> str:
    contested = [p for p in points if p["ok"] is not None]
    if not points:
        return f"{name}: nothing measured."
    if not contested:
        return f"{name}: no peer measured, no comparison."
    won = sum(p["ok"] for p in contested)
    text = (f"{name}: {LABEL[ref]}'s best within the budget >= every peer's best at {won} of "
            f"{len(contested)} budgets (each measured time)")
    lost = []
    for p in contested:
        if p["ok"]:
            continue
        mine = p["best"].get(ref)
        top = max((v, t) for t, v in p["best"].items() if t != ref)
        lost.append(f"{seconds(p['budget'])} s ({LABEL[top[1]]} {top[0]:.3f} vs "
                    + (f"{mine:.3f})" if mine is not None else f"no {LABEL[ref]} run that fast)"))
    return text + ("; not at " + ", ".join(lost) if lost else "") + "."


def seconds(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def corpus_words(path: Path) -> int:
    n = 0
    with open(path, "rb") as f:
        for line in f:
            n += len(line.split())
    return n


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def git_commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def defaults_in_force(have, model: str) -> dict:
    """The defaults each tool trains with here (learning rate, window, negatives, subsampling), read from
    the installed versions, so the report records what was measured. Best effort: '?' where unreadable."""
    out = {}
    if "fastw2v" in have:
        try:
            from fastw2v import cli
            from fastw2v.config import TrainConfig

            p = {x.name: x.default for x in cli.train.params}
            alpha = p.get("alpha")
            out["fastw2v"] = dict(alpha=alpha if alpha is not None else TrainConfig(model=model).default_alpha(),
                                  window=p.get("window"), negative=p.get("negative"), sample=p.get("sample"))
        except Exception:  # noqa: BLE001 - a report line must not stop the benchmark
            out["fastw2v"] = "?"
    if "gensim" in have:
        try:
            import inspect

            from gensim.models import Word2Vec

            s = inspect.signature(Word2Vec.__init__).parameters
            out["gensim"] = {k: s[k].default for k in ("alpha", "window", "negative", "sample")}
        except Exception:  # noqa: BLE001
            out["gensim"] = "?"
    if have.get("fasttext") == "python":
        try:
            from fasttext.FastText import unsupervised_default as d

            out["fasttext"] = dict(alpha=d["lr"], window=d["ws"], negative=d["neg"], sample=d["t"])
        except Exception:  # noqa: BLE001
            out["fasttext"] = "?"
    return out


def tool_line(tool, how, a, info) -> str:
    sg = a.model == "sg"
    if tool == "fastw2v":
        return (f"fastw2v {info['versions']['fastw2v']} (commit {info['commit']}): `python -m fastw2v train "
                f"CORPUS -o out.vec --model {a.model} --dim {DIM} --min-count {MIN_COUNT} --epochs E "
                f"--threads {a.threads}`")
    if tool == "gensim":
        return (f"gensim {info['versions']['gensim']}: `Word2Vec(corpus_file=CORPUS, sg={int(sg)}, "
                f"vector_size={DIM}, min_count={MIN_COUNT}, workers={a.threads}, epochs=E)`, "
                "`wv.save_word2vec_format(out.vec)`")
    if how == "python":
        return (f"fastText {info['versions']['fasttext']} (Python package fasttext-wheel): `train_unsupervised("
                f"CORPUS, model=\"{'skipgram' if sg else 'cbow'}\", dim={DIM}, thread={a.threads}, epoch=E, "
                f"minCount={MIN_COUNT}, maxn=0)`; the .vec is written by this script's Python writer "
                "(the package has none), whose time is part of fastText's wall time (column 'of which writing')")
    return (f"fastText (binary {shutil.which('fasttext')}): `fasttext {'skipgram' if sg else 'cbow'} -input CORPUS "
            f"-output PREFIX -dim {DIM} -thread {a.threads} -epoch E -minCount {MIN_COUNT} -maxn 0` "
            "(writes the .vec and a .bin)")


def markdown(a, info, have, skipped, rows, fronts) -> str:
    ws = "WordSim-353 Spearman"
    lines = [f"# Quality against whole-process time: {', '.join(LABEL[t] for t in have)} ({info['date']})", "",
             "Produced by `bench/pareto.py` (`make bench-pareto`).", "",
             f"- Corpus: `{info['corpus']}` ({info['corpus_words']:,} words), decompressed once to a plain-text "
             "file that every run reads.",
             f"- Machine: {info['cores']} cores ({info['cpu']}); load average {info['load_start']:.2f} before, "
             f"{info['load_end']:.2f} after.",
             f"- Settings: {'skip-gram' if a.model == 'sg' else 'CBOW'}, dim {DIM}, threads {a.threads}, min count "
             f"{MIN_COUNT}, epochs {', '.join(map(str, a.epochs))}; everything else at each tool's own default:"]
    for tool, how in have.items():
        d = info["defaults"].get(tool)
        extra = (" Defaults in force: " + ", ".join(f"{k} {v}" for k, v in d.items()) + "."
                 if isinstance(d, dict) else "")
        lines.append(f"  - {tool_line(tool, how, a, info)}.{extra}")
    lines += [f"- Time: whole process, spawn to exit (read the text, vocabulary, train, write the .vec); for each "
              f"epoch count the tools in turn ({' '.join(LABEL[t] for t in have)}), the whole sequence "
              f"{a.repeats} time(s), median shown" + (" (min-max in brackets)" if a.repeats > 1 else "")
              + ". " + ("Each tool ran once, unmeasured, on the first MB first (fastw2v's kernels then come from "
                        "Numba's disk cache)." if a.warmup else "No warm-up: fastw2v's first run may include "
                                                                 "compiling its kernels."),
              f"- Quality: each .vec loaded by fastw2v's loader, {ws} (`evaluate_word_pairs()`) and analogy "
              "accuracy on the top 30k words (`evaluate_word_analogies(restrict_vocab=30000)`), the same code for "
              "every tool.",
              "- Skipped: " + ("; ".join(f"{LABEL[t]} ({why})" for t, why in skipped.items()) if skipped else "none")
              + ".", ""]
    has_write = any("write_seconds" in r for r in rows)
    head = "| tool | epochs | wall s | WS-353 | analogy | vocabulary |" + (" of which writing (s) |" if has_write else "")
    lines += [head, "|" + " --- |" * head.count(" |")]
    for r in rows:
        if "wall_seconds" not in r:
            cells = [LABEL[r["tool"]], str(r["epochs"]), f"failed ({r['failed']} of {r['runs']})", "-", "-", "-"]
        else:
            t = seconds(r["wall_seconds"])
            if a.repeats > 1:
                t += f" ({seconds(r['wall_min'])}-{seconds(r['wall_max'])})"
            if r["failed"]:
                t += f", {r['failed']} failed"
            cells = [LABEL[r["tool"]], str(r["epochs"]), t, f"{r['wordsim']:.3f}", f"{r['analogy']:.3f}",
                     f"{r['vocabulary_size']:,}"]
        if has_write:
            cells.append(seconds(r["write_seconds"]) if "write_seconds" in r else "")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Frontier (for each time budget, taking each tool's best run within it):", "",
              f"- {frontier_line('WS-353', fronts['wordsim'])}",
              f"- {frontier_line('Analogy', fronts['analogy'])}", ""]
    if info.get("png"):
        lines += [f"![quality against time]({info['png']})", ""]
    elif info.get("png_note"):
        lines += [info["png_note"], ""]
    return "\n".join(lines)


def plot(rows, path: Path, title: str) -> str | None:
    """Two panels, WS-353 and analogy against wall seconds, one line per tool, points labelled by epochs.
    Returns None when written, else why not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no PNG written."
    if not any("wall_seconds" in r for r in rows):
        return "no run succeeded: no PNG written."
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, metric, ylabel in ((axes[0], "wordsim", "WordSim-353 Spearman"),
                               (axes[1], "analogy", "analogy accuracy (top 30k)")):
        for tool in TOOLS:
            pts = sorted((r["epochs"], r["wall_seconds"], r[metric]) for r in rows
                         if r["tool"] == tool and "wall_seconds" in r)
            if not pts:
                continue
            xs, ys = [p[1] for p in pts], [p[2] for p in pts]
            ax.plot(xs, ys, marker="o", label=LABEL[tool])
            for e, x, y in pts:
                ax.annotate(str(e), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_xlabel("whole-process wall seconds")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title + " (labels: epochs)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "data" / "realmix.txt.xz"))
    ap.add_argument("--epochs", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--model", choices=["sg", "cbow"], default="sg")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    ap.add_argument("--repeats", type=int, default=1, help="repeat the whole interleaved sequence; median time")
    ap.add_argument("--no-warmup", dest="warmup", action="store_false",
                    help="no unmeasured run of each tool before the measured ones")
    ap.add_argument("--out-md", default=str(HERE / "PARETO.md"))
    ap.add_argument("--out-png", default=str(HERE / "pareto.png"))
    ap.add_argument("--json", help="write every run, the medians and the frontier here")
    a = ap.parse_args(argv)
    if a.repeats < 1 or a.threads < 1 or min(a.epochs) < 1:
        ap.error("--repeats, --threads and --epochs must be >= 1")
    if not Path(a.corpus).is_file():
        raise SystemExit(f"Error: no such corpus: {a.corpus} (pass --corpus)")
    a.tools = list(dict.fromkeys(a.tools))  # keep the order given, once each
    have, skipped = find_tools(a.tools)
    for tool, why in skipped.items():
        print(f"skipping {LABEL[tool]}: {why}", file=sys.stderr, flush=True)
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "corpus": a.corpus, "cores": os.cpu_count(), "cpu": cpu_name(), "commit": git_commit(),
            "versions": {"fastw2v": version("fastw2v"), "gensim": version("gensim"),
                         "fasttext": version("fasttext-wheel") if version("fasttext-wheel") != "?"
                         else version("fasttext")},
            "defaults": defaults_in_force(have, a.model)}
    runs = []
    work = Path(tempfile.mkdtemp(prefix="fastw2v-pareto-"))
    try:
        corpus = decompress(Path(a.corpus), work)
        info["corpus_words"] = corpus_words(corpus)
        if a.warmup:
            head = work / "warmup.txt"
            with open(corpus, "rb") as f:
                chunk = f.read(WARMUP_BYTES)
            cut = max(chunk.rfind(b"\n"), chunk.rfind(b" "))  # whole words only
            head.write_bytes(chunk[:cut] if cut > 0 else chunk)
            for tool, how in have.items():
                print(f"warm-up: {LABEL[tool]}", flush=True)
                one_run(tool, how, a, head, 1, work, measure=False)
        info["load_start"] = os.getloadavg()[0]
        for rep in range(a.repeats):
            for epochs in a.epochs:
                for tool, how in have.items():
                    r = one_run(tool, how, a, corpus, epochs, work)
                    r["repeat"] = rep + 1
                    runs.append(r)
                    if not r.get("failed"):
                        print(f"  {LABEL[tool]:8s} epochs {epochs}  wall {r['wall_seconds']:7.1f} s  "
                              f"WS-353 {r['wordsim']:.3f}  analogy {r['analogy']:.3f}", flush=True)
        info["load_end"] = os.getloadavg()[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = medians(runs)
    fronts = {m: frontier(rows, m) for m in ("wordsim", "analogy")}
    if a.out_png:
        png = Path(a.out_png)
        title = (f"{Path(a.corpus).name}, {'skip-gram' if a.model == 'sg' else 'CBOW'}, threads {a.threads}, "
                 "each tool's defaults")
        why = plot(rows, png, title)
        if why:
            print(why, file=sys.stderr)
            info["png_note"] = why
        else:
            # a path relative to the markdown file, so the image shows where the two sit side by side
            info["png"] = os.path.relpath(png.resolve(), Path(a.out_md).resolve().parent)
    text = markdown(a, info, have, skipped, rows, fronts)
    Path(a.out_md).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out_md).write_text(text)
    print("\n" + text)
    if a.json:
        Path(a.json).write_text(json.dumps({"settings": vars(a), "info": info, "skipped": skipped, "runs": runs,
                                            "median": rows, "frontier": fronts}, indent=2, default=str))
    failed = sum(bool(r.get("failed")) for r in runs)
    if failed:
        print(f"{failed} of {len(runs)} runs failed (see the table)", file=sys.stderr)
    return rows, fronts, failed


if __name__ == "__main__":
    sys.exit(1 if main()[2] else 0)
