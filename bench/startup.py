"""First-run and second-run time of `fastw2v train`, per (model, loss), from an empty Numba cache.

    make bench-startup            # or: python bench/startup.py [--pairs sg/ns cbow/hs] [--json out.json]

For each pair: a fresh NUMBA_CACHE_DIR, then `fastw2v train` on a tiny corpus
(20,000 words) twice with default settings otherwise. The first run compiles
that pair's kernels (and the tokenizer); the second loads them from the cache.
Wall time is the whole process, measured from here; "compile" is the report's
compile seconds. Run it on a quiet machine: compile time is CPU-bound.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PAIRS = [f"{m}/{l}" for m in ("sg", "cbow") for l in ("ns", "hs", "nce", "softmax")]


def tiny_corpus(path: Path, n_words=20_000, vocab=300):
    rng = np.random.default_rng(0)
    p = 1.0 / np.arange(1, vocab + 1)
    toks = rng.choice(vocab, size=n_words, p=p / p.sum())
    path.write_text("\n".join(" ".join(f"w{t}" for t in toks[i:i + 50]) for i in range(0, n_words, 50)) + "\n")


def run_once(corpus: Path, model: str, loss: str, cache_dir: Path, work: Path):
    rep = work / "r.json"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "fastw2v", "train", str(corpus), "-o", str(work / "m.fw2v"),
                        "--model", model, "--loss", loss, "--min-count", "2", "--report", str(rep)],
                       capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{model}/{loss} failed:\n{r.stderr}")
    report = json.loads(rep.read_text())
    return {"wall": wall, "compile": report["seconds"].get("compile", 0.0),
            "read": report["seconds"]["read"], "training": report["seconds"]["training"],
            "said_compiling": "compiling" in r.stderr.splitlines()[0] if r.stderr else False}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", nargs="*", default=PAIRS, help="model/loss pairs (default: all 8)")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="fastw2v-startup-") as tmp:
        tmp = Path(tmp)
        corpus = tmp / "tiny.txt"
        tiny_corpus(corpus)
        for pair in args.pairs:
            model, loss = pair.split("/")
            cache = tmp / f"numba-{model}-{loss}"
            first = run_once(corpus, model, loss, cache, tmp)
            second = run_once(corpus, model, loss, cache, tmp)
            rows.append({"pair": pair, "first": first, "second": second})
            print(f"{pair:<13} first {first['wall']:6.1f} s (compile {first['compile']:5.1f} s, read "
                  f"{first['read']:4.1f} s, said so: {first['said_compiling']})   second {second['wall']:5.1f} s "
                  f"(compile {second['compile']:4.2f} s)", flush=True)
    print("\n| model/loss | first run, empty cache (s) | of which compiling (s) | second run (s) |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['pair']} | {r['first']['wall']:.1f} | {r['first']['compile']:.1f} | {r['second']['wall']:.1f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
