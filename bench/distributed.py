"""Distributed training against local training on this machine.

speed (proof 5): W workers x T threads on a Dask LocalCluster against one
local process with W x T threads, A B A B, on realmix. Prints words/s of both,
their ratio, and the share of wall time spent syncing. Run it on an otherwise
idle machine: on shared cores the figures mean nothing.

    python bench/distributed.py speed [--corpus ../shared/data/realmix.txt.xz] [--workers 2] [--threads 1] [--reps 2]

quality (proof 3): WordSim-353 Spearman and analogy accuracy (top 30k) of
2 workers x 1 thread against the local 2-thread run on the text8 sample,
5 epochs, sample 1e-4, for every model x loss.

    python bench/distributed.py quality [--models sg cbow] [--losses ns hs nce softmax] [--seed 1]
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

# this file's name would shadow Dask's `distributed` package: drop its folder from the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import fastw2v  # noqa: E402
from fastw2v.distributed import driver  # noqa: E402
from fastw2v.distributed.driver import connect  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def speed(a):
    common = dict(epochs=a.epochs, sample=1e-4, seed=1)
    rows = {"local": [], "dask": []}
    with connect(workers=a.workers, threads=a.threads) as client:
        for rep in range(a.reps):
            for kind in ("local", "dask"):
                t = time.perf_counter()
                if kind == "local":
                    m = fastw2v.Word2Vec(threads=a.workers * a.threads, **common).fit(a.corpus)
                    share = 0.0
                else:
                    m = driver.fit(fastw2v.Word2Vec(threads=a.threads, **common), a.corpus, client=client,
                                   round_tokens=a.round_tokens)
                    share = m.report["distributed"]["sync_share"]
                wps = m.report["training_words_per_sec"]
                rows[kind].append((wps, share))
                print(f"rep {rep + 1} {kind}: {wps / 1e3:,.0f}K words/s, sync {100 * share:.1f}% of training "
                      f"({time.perf_counter() - t:.0f} s)", flush=True)
                if kind == "dask":
                    print(json.dumps({k: v for k, v in m.report["distributed"].items() if k != "shard_tokens"}),
                          flush=True)
    lw = statistics.median(w for w, _ in rows["local"])
    dw = statistics.median(w for w, _ in rows["dask"])
    print(f"\nlocal {a.workers * a.threads} threads: {lw / 1e3:,.0f}K words/s; dask {a.workers} x {a.threads}: "
          f"{dw / 1e3:,.0f}K words/s = {dw / lw:.2f}x; sync share (median) "
          f"{100 * statistics.median(s for _, s in rows['dask']):.1f}%")


def quality(a):
    corpus = str(ROOT / "fastw2v" / "data" / "text8_head.txt.gz")
    out = []
    with connect(workers=2, threads=1) as client:
        for model in a.models:
            for loss in a.losses:
                common = dict(model=model, loss=loss, epochs=5, sample=1e-4, seed=a.seed)
                res = {}
                for kind in ("local", "dask"):
                    t = time.perf_counter()
                    if kind == "local":
                        m = fastw2v.Word2Vec(threads=2, **common).fit(corpus)
                    else:
                        m = driver.fit(fastw2v.Word2Vec(threads=1, **common), corpus, client=client,
                                       round_tokens=a.round_tokens, merge=a.merge)
                    res[kind] = (m.wv.evaluate_word_pairs()["spearman"], m.wv.evaluate_word_analogies()["accuracy"])
                    print(f"{model} {loss} {kind}: ws {res[kind][0]:.3f} analogy {res[kind][1]:.3f} "
                          f"({time.perf_counter() - t:.0f} s)", flush=True)
                out.append((model, loss, res))
    print("\n| model | loss | WS-353 local 2 threads | WS-353 2 workers x 1 | diff | analogy local | analogy dask | diff |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for model, loss, r in out:
        (lw, la), (dw, da) = r["local"], r["dask"]
        print(f"| {model} | {loss} | {lw:.3f} | {dw:.3f} | {dw - lw:+.3f} | {100 * la:.1f}% | {100 * da:.1f}% | "
              f"{100 * (da - la):+.1f} |")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--corpus", default=str(ROOT.parent / "shared" / "data" / "realmix.txt.xz"))
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--epochs", type=int, default=1)
    s.add_argument("--reps", type=int, default=2)
    s.add_argument("--round-tokens", type=int, default=None, help="tokens per worker per round (default: the fit's)")
    q = sub.add_parser("quality")
    q.add_argument("--models", nargs="+", default=["sg", "cbow"])
    q.add_argument("--losses", nargs="+", default=["ns", "hs", "nce", "softmax"])
    q.add_argument("--seed", type=int, default=1)
    q.add_argument("--round-tokens", type=int, default=None, help="tokens per worker per round (default: one call)")
    q.add_argument("--merge", default="capped", choices=["capped", "sum", "mean"])
    a = ap.parse_args()
    speed(a) if a.cmd == "speed" else quality(a)


if __name__ == "__main__":
    main()
