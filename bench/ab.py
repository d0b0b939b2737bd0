"""Interleaved A/B of two checkouts' training speed: words/s from ``fastw2v train --report``.

    python bench/ab.py A_DIR B_DIR [--rounds 3] [--epochs 3] [--case sg-hs-100 ...]

Each case trains the same corpus with checkout A, then B, then A, B, ... (one
process per run, PYTHONPATH set to the checkout, each with its own Numba cache
directory so neither reads the other's compiled kernels), after one untimed
warm-up run per checkout that fills its cache. Only training words/s counts
(the report's figure excludes tokenising and compiling). The ratio of each
adjacent A/B pair is printed with the load average when it ran: A and B ran
under about the same load, so the ratios mean something where the absolute
numbers on a shared machine do not. Before each run it waits while
/tmp/timing_busy exists (another engineer's timing run in progress).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = {  # name: train options
    "sg-ns-100": ["--model", "sg", "--loss", "ns", "--dim", "100"],
    "sg-hs-100": ["--model", "sg", "--loss", "hs", "--dim", "100"],
    "sg-hs-300": ["--model", "sg", "--loss", "hs", "--dim", "300"],
    "cbow-ns-100": ["--model", "cbow", "--loss", "ns", "--dim", "100"],
    "cbow-ns-300": ["--model", "cbow", "--loss", "ns", "--dim", "300"],
    "sg-ns-300": ["--model", "sg", "--loss", "ns", "--dim", "300"],
    "cbow-hs-100": ["--model", "cbow", "--loss", "hs", "--dim", "100"],
    "cbow-hs-300": ["--model", "cbow", "--loss", "hs", "--dim", "300"],
    "cbow-ns15-300": ["--model", "cbow", "--loss", "ns", "--negative", "15", "--dim", "300"],
    "sg-ns15-w10-100": ["--model", "sg", "--loss", "ns", "--negative", "15", "--window", "10", "--dim", "100"],
}
FLAG = Path("/tmp/timing_busy")


def run(tree: Path, opts: list[str], corpus: str, epochs: int, threads: int, work: Path, tag: str) -> dict:
    while FLAG.exists():
        time.sleep(20)
    env = dict(os.environ, PYTHONPATH=str(tree), NUMBA_CACHE_DIR=str(work / f"numba-{tag}"))
    report = work / f"report-{tag}.json"
    cmd = [sys.executable, "-m", "fastw2v", "train", corpus, "-o", str(work / f"out-{tag}.fw2v"), "-q",
           "--epochs", str(epochs), "--threads", str(threads), "--seed", "1", "--report", str(report),
           "--cache-dir", str(work), *opts]
    load = os.getloadavg()[0]
    subprocess.run(cmd, env=env, check=True, cwd=work)
    r = json.loads(report.read_text())
    return {"wps": r["training_words_per_sec"], "load": load, "loss": r.get("final_loss")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--case", action="append", choices=sorted(CASES))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--corpus", default=str(Path(__file__).resolve().parent.parent / "fastw2v/data/text8_head.txt.gz"))
    ap.add_argument("--work", type=Path, default=None, help="Scratch folder (kept: Numba caches stay warm).")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="fastw2v-ab-"))
    work.mkdir(parents=True, exist_ok=True)
    trees = {"A": args.a.resolve(), "B": args.b.resolve()}
    summary = {}
    for case in args.case or ["sg-hs-100", "sg-hs-300", "cbow-ns-100", "cbow-ns-300", "sg-ns-100"]:
        opts = CASES[case]
        for tag, tree in trees.items():  # warm-up: compile into each checkout's own cache
            run(tree, opts, args.corpus, 1, args.threads, work, tag)
        ratios = []
        for k in range(args.rounds):
            a = run(trees["A"], opts, args.corpus, args.epochs, args.threads, work, "A")
            b = run(trees["B"], opts, args.corpus, args.epochs, args.threads, work, "B")
            ratios.append(b["wps"] / a["wps"])
            print(f"{case:16s} pair {k}: A {a['wps'] / 1e3:7.0f}K  B {b['wps'] / 1e3:7.0f}K words/s  "
                  f"B/A {ratios[-1]:.3f}  load {a['load']:.2f}/{b['load']:.2f}", flush=True)
        summary[case] = ratios
    print("\ncase              B/A per pair            median")
    for case, ratios in summary.items():
        print(f"{case:16s}  {' '.join(f'{x:.3f}' for x in ratios):22s}  {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
