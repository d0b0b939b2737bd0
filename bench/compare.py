"""fastw2v vs gensim, side by side on one corpus, alternating A B A B.

Each run is its own process (so whole-process wall time and peak RSS are
measured the same way for both); both read the same decompressed text file.
Training words/s is raw corpus words x epochs / training seconds for both
(gensim's ``total_train_time``, fastw2v's training phase). Quality (WordSim-353
Spearman and, where available, analogy accuracy on the top 30k words) is
computed afterwards on the saved vectors, by the same code for both.

    python bench/compare.py --corpus ../shared/data/realmix.txt.xz --pairs 2 --json out.json

``--api compat`` runs one gensim-style Python script (COMPAT_SCRIPT) twice per
pair: as written for gensim, and with its one import line changed to
``fastw2v.compat``; everything else, the settings and the measurement are the
same (whole process, including reading the corpus and writing the vectors):

    python bench/compare.py --api compat --epochs 5 --corpus ../shared/data/realmix.txt.xz
"""
from __future__ import annotations

import argparse
import json
import lzma
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

GENSIM_SCRIPT = r"""
import json, sys, time
from gensim.models import Word2Vec
a = json.loads(sys.argv[1])
t = time.perf_counter()
m = Word2Vec(corpus_file=a["corpus"], sg=1 if a["model"] == "sg" else 0, negative=a["negative"],
             window=a["window"], vector_size=a["dim"], sample=a["sample"], min_count=a["min_count"],
             epochs=a["epochs"], workers=a["threads"], seed=a["seed"], hs=0)
m.wv.save_word2vec_format(a["out"], binary=True)
peak = [int(l.split()[1]) / 1024.0 for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
json.dump({"training_seconds": m.total_train_time, "corpus_words": m.corpus_total_words,
           "vocabulary_size": len(m.wv), "peak_rss_mb": peak}, open(a["report"], "w"))
"""


# One script for both sides of --api compat; only GENSIM_IMPORT / COMPAT_IMPORT differ.
GENSIM_IMPORT = "from gensim.models.word2vec import Word2Vec, LineSentence"
COMPAT_IMPORT = "from fastw2v.compat import Word2Vec, LineSentence"
COMPAT_SCRIPT = r"""
import json, sys
{import_line}

a = json.loads(sys.argv[1])
if a["input"] == "corpus_file":
    model = Word2Vec(corpus_file=a["corpus"], vector_size=a["dim"], window=a["window"], min_count=a["min_count"],
                     sample=a["sample"], sg=a["sg"], hs=0, negative=a["negative"], epochs=a["epochs"],
                     workers=a["threads"], seed=a["seed"], compute_loss=True)
else:
    model = Word2Vec(LineSentence(a["corpus"]), vector_size=a["dim"], window=a["window"], min_count=a["min_count"],
                     sample=a["sample"], sg=a["sg"], hs=0, negative=a["negative"], epochs=a["epochs"],
                     workers=a["threads"], seed=a["seed"], compute_loss=True)
model.wv.save_word2vec_format(a["out"], binary=True)
peak = [int(l.split()[1]) / 1024.0 for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
json.dump({"training_seconds": model.total_train_time, "corpus_words": model.corpus_total_words,
           "vocabulary_size": len(model.wv), "peak_rss_mb": peak, "latest_loss": model.get_latest_training_loss()},
          open(a["report"], "w"))
"""


def compat_script_run(a, corpus, work, seed, side):
    """One run of COMPAT_SCRIPT with gensim's import (side 'gensim') or fastw2v.compat's (side 'fastw2v')."""
    out, rep = work / f"{side}.bin", work / f"{side}.json"
    script = COMPAT_SCRIPT.replace("{import_line}", GENSIM_IMPORT if side == "gensim" else COMPAT_IMPORT)
    args = dict(corpus=str(corpus), input=a.input, sg=1 if a.model == "sg" else 0, negative=a.negative,
                window=a.window, dim=a.dim, sample=a.sample, min_count=a.min_count, epochs=a.epochs,
                threads=a.threads, seed=seed, out=str(out), report=str(rep))
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")  # this checkout's fastw2v
    wall, rss, rc, err = run_measured([sys.executable, "-c", script, json.dumps(args)], env=env)
    if rc != 0:
        raise SystemExit(f"{side} (--api compat) failed: {err[-2000:]}")
    r = json.loads(rep.read_text())
    return {"wall_seconds": wall, "peak_rss_mb": r["peak_rss_mb"], "training_seconds": r["training_seconds"],
            "words_per_sec": r["corpus_words"] * a.epochs / r["training_seconds"],
            "vocabulary_size": r["vocabulary_size"], **quality(out, a.analogies)}


def run_measured(cmd, env=None):
    """Run a command; return (wall seconds, ru_maxrss in MB, returncode, stderr).

    ru_maxrss of a child started by a large parent includes the parent's size at
    fork (Linux keeps the pre-exec high-water mark), so peak memory is taken from
    the children's own VmHWM instead (their reports carry peak_rss_mb).
    """
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    err = p.stderr.read().decode("utf-8", "replace")
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024.0, p.returncode, err


def decompress(src: Path, dst_dir: Path) -> Path:
    if src.suffix not in (".xz", ".gz"):
        return src
    dst = dst_dir / src.with_suffix("").name
    opener = lzma.open if src.suffix == ".xz" else gzip.open
    with opener(src, "rb") as fi, open(dst, "wb") as fo:
        shutil.copyfileobj(fi, fo, 1 << 22)
    return dst


def quality(path: Path, analogies: bool, binary: bool | None = True):
    """WordSim-353 Spearman and (``analogies``) analogy accuracy on the top 30k words of a vector file.

    binary: word2vec binary (True), text (False) or by extension (None, as fastw2v's loader decides).
    """
    from fastw2v import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(path, binary=binary)
    q = {"wordsim_spearman": kv.evaluate_word_pairs()["spearman"]}
    if analogies and hasattr(kv, "evaluate_word_analogies"):
        q["analogy_accuracy"] = kv.evaluate_word_analogies(restrict_vocab=30000)["accuracy"]
    return q


def fastw2v_run(a, corpus, work, seed, extra):
    out, rep = work / "f.bin", work / "f.json"
    cmd = [sys.executable, "-m", "fastw2v", "train", str(corpus), "-o", str(out), "--report", str(rep), "-q",
           "--model", a.model, "--dim", str(a.dim), "--window", str(a.window), "--negative", str(a.negative),
           "--sample", str(a.sample), "--min-count", str(a.min_count), "--epochs", str(a.epochs),
           "--threads", str(a.threads), "--seed", str(seed), *extra]
    wall, rss, rc, err = run_measured(cmd)
    if rc != 0:
        raise SystemExit(f"fastw2v failed: {err}")
    r = json.loads(rep.read_text())
    return {"wall_seconds": wall, "peak_rss_mb": r["peak_rss_mb"], "training_seconds": r["seconds"]["training"],
            "words_per_sec": r["corpus_words"] * a.epochs / r["seconds"]["training"],
            "vocabulary_size": r["vocabulary_size"], **quality(out, a.analogies)}


def gensim_run(a, corpus, work, seed):
    out, rep = work / "g.bin", work / "g.json"
    args = dict(corpus=str(corpus), model=a.model, negative=a.negative, window=a.window, dim=a.dim,
                sample=a.sample, min_count=a.min_count, epochs=a.epochs, threads=a.threads, seed=seed,
                out=str(out), report=str(rep))
    wall, rss, rc, err = run_measured([sys.executable, "-c", GENSIM_SCRIPT, json.dumps(args)])
    if rc != 0:
        raise SystemExit(f"gensim failed: {err[-2000:]}")
    r = json.loads(rep.read_text())
    return {"wall_seconds": wall, "peak_rss_mb": r["peak_rss_mb"], "training_seconds": r["training_seconds"],
            "words_per_sec": r["corpus_words"] * a.epochs / r["training_seconds"],
            "vocabulary_size": r["vocabulary_size"], **quality(out, a.analogies)}


def summarise(runs):
    keys = [k for k in runs[0] if isinstance(runs[0][k], (int, float))]
    return {k: statistics.median(r[k] for r in runs) for k in keys}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "data" / "realmix.txt.xz"))
    ap.add_argument("--pairs", type=int, default=2, help="A B rounds (each with its own seed)")
    ap.add_argument("--model", default="sg", choices=["sg", "cbow"])
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--negative", type=int, default=5)
    ap.add_argument("--sample", type=float, default=1e-4)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--schedule", choices=["linear", "gensim"], default="linear",
                    help="linear: fastw2v's own schedule (alpha to min_alpha over all words). gensim: give "
                         "fastw2v the schedule gensim's corpus_file mode really runs with N workers, whose "
                         "alpha only falls to alpha - (alpha - min_alpha) / N in a 1-epoch run (each worker "
                         "measures its progress against the whole corpus); for quality at equal schedules")
    ap.add_argument("--fastw2v-args", default="", help="extra flags for fastw2v train, e.g. '--exact'")
    ap.add_argument("--api", choices=["cli", "compat"], default="cli",
                    help="cli: fastw2v's CLI against gensim's API. compat: one gensim-style script, run with "
                         "gensim's import and with the import changed to fastw2v.compat")
    ap.add_argument("--input", choices=["corpus_file", "linesentence"], default="corpus_file",
                    help="--api compat: how the script passes the corpus (corpus_file=, gensim's fastest mode, "
                         "or LineSentence(path))")
    ap.add_argument("--no-gensim", action="store_true")
    ap.add_argument("--no-analogies", dest="analogies", action="store_false")
    ap.add_argument("--json", help="write all runs and the summary here")
    a = ap.parse_args(argv)
    if a.api == "compat" and (a.schedule != "linear" or a.fastw2v_args):
        ap.error("--api compat runs the same script on both sides: no --schedule gensim or --fastw2v-args")
    if a.schedule == "gensim":
        if a.epochs != 1:
            ap.error("--schedule gensim is exact for 1 epoch only")
        alpha = 0.025 if a.model == "sg" else 0.05
        a.fastw2v_args += f" --alpha {alpha} --min-alpha {alpha - (alpha - 0.0001) / a.threads:.6g}"
    try:
        import gensim  # noqa: F401
        have_gensim = not a.no_gensim
    except ImportError:
        have_gensim = False
        print("gensim is not installed: measuring fastw2v alone", file=sys.stderr)
    if not Path(a.corpus).is_file():
        raise SystemExit(f"Error: no such corpus: {a.corpus} (pass --corpus)")
    work = Path(tempfile.mkdtemp(prefix="fastw2v-bench-"))
    try:
        corpus = decompress(Path(a.corpus), work)
        runs = {"fastw2v": [], "gensim": []}
        for i in range(a.pairs):
            seed = i + 1
            if a.api == "compat":
                runs["fastw2v"].append(compat_script_run(a, corpus, work, seed, "fastw2v"))
            else:
                runs["fastw2v"].append(fastw2v_run(a, corpus, work, seed, a.fastw2v_args.split()))
            print("fastw2v", json.dumps(runs["fastw2v"][-1]), flush=True)
            if have_gensim:
                if a.api == "compat":
                    runs["gensim"].append(compat_script_run(a, corpus, work, seed, "gensim"))
                else:
                    runs["gensim"].append(gensim_run(a, corpus, work, seed))
                print("gensim ", json.dumps(runs["gensim"][-1]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {"settings": vars(a), "runs": runs,
              **({"script": COMPAT_SCRIPT.replace("{import_line}", GENSIM_IMPORT), "import_changed_to": COMPAT_IMPORT}
                 if a.api == "compat" else {}), "median": {k: summarise(v) for k, v in runs.items() if v}}
    if have_gensim:
        f, g = result["median"]["fastw2v"], result["median"]["gensim"]
        # ratios per A B pair, then their median: each pair shares the machine's load
        pair = lambda k: statistics.median(x[k] / y[k] for x, y in zip(runs["fastw2v"], runs["gensim"]))  # noqa: E731
        result["ratios"] = {
            "words_per_sec (fastw2v/gensim)": pair("words_per_sec"),
            "wall_seconds (fastw2v/gensim)": pair("wall_seconds"),
            "peak_rss (fastw2v/gensim)": pair("peak_rss_mb"),
            "wordsim (fastw2v/gensim)": f["wordsim_spearman"] / g["wordsim_spearman"],
        }
        if "analogy_accuracy" in f:
            result["ratios"]["analogy (fastw2v/gensim)"] = f["analogy_accuracy"] / max(g["analogy_accuracy"], 1e-9)
    print("\nmedian over runs:")
    for name, m in result["median"].items():
        print(f"  {name:8s} " + "  ".join(f"{k}={v:,.4g}" for k, v in m.items()))
    for k, v in result.get("ratios", {}).items():
        print(f"  {k}: {v:.3f}")
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
