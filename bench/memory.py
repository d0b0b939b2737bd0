"""Peak memory does not grow with the corpus: 10M vs 50M tokens, same vocabulary.

Writes two synthetic Zipf corpora (50,000 words) to a temporary folder, trains
1 epoch on each with ``fastw2v train`` and compares the peak RSS each run
reports (VmHWM). The token cache is memory-mapped; pages behind the training
position are released, so the two peaks should differ by well under 10%.

    python bench/memory.py [--sizes 10000000 50000000] [--json out.json]

With ``--workers W`` the same runs go through a Dask LocalCluster of W
workers x ``--threads`` threads, and the peak RSS of every worker (the
report's distributed.peak_rss_mb_per_worker) is compared. ``--text FILE
--copies 1 4`` trains on 1 and 4 concatenated copies of a text instead of the
synthetic corpora, with min_count multiplied by the number of copies: every
count is multiplied too, so the vocabulary is exactly the same. (At a fixed
min_count it is not: four copies of the text8 sample keep 30,777 words at
min_count 5 against 15,440 for one, and the worker's replica grows with them.)

    python bench/memory.py --workers 2 --threads 1 --text sample.txt.gz --copies 1 4 8
"""
import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def write_corpus(path: Path, n_tokens: int, vocab: int = 50_000, line: int = 1000, seed: int = 0):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab + 1)
    p /= p.sum()
    words = np.array([f"w{i}" for i in range(vocab)])
    with open(path, "w") as f:
        for lo in range(0, n_tokens, 1_000_000):
            ids = rng.choice(vocab, size=min(1_000_000, n_tokens - lo), p=p)
            toks = words[ids]
            f.write("\n".join(" ".join(toks[i:i + line]) for i in range(0, len(toks), line)) + "\n")


def write_copies(path: Path, text: Path, copies: int):
    """``copies`` copies of ``text`` (gzip by extension) one after another; each copy ends its last line."""
    data = gzip.open(text, "rb").read() if text.suffix == ".gz" else text.read_bytes()
    if not data.endswith(b"\n"):
        data += b"\n"
    with open(path, "wb") as f:
        for _ in range(copies):
            f.write(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000_000, 50_000_000])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, help="train on a Dask LocalCluster of this many workers")
    ap.add_argument("--text", type=Path, help="a text to copy instead of the synthetic corpora")
    ap.add_argument("--copies", type=int, nargs="+", default=[1, 4], help="with --text: copies per run")
    ap.add_argument("--min-count", type=int, default=5, help="with --text: for one copy (scaled by copies)")
    ap.add_argument("--json")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fastw2v-mem-"))
    rows = []
    runs = [(c, a.min_count * c) for c in a.copies] if a.text else [(n, 5) for n in a.sizes]
    try:
        for n, min_count in runs:
            corpus = work / f"c{n}.txt"
            if a.text:
                write_copies(corpus, a.text, n)
            else:
                write_corpus(corpus, n)
            rep = work / "r.json"
            cmd = [sys.executable, "-m", "fastw2v", "train", str(corpus), "-o", str(work / "v.bin"),
                   "--epochs", "1", "--threads", str(a.threads), "--min-count", str(min_count),
                   "--report", str(rep), "-q", "--cache-dir", str(work)]
            if a.workers:
                cmd += ["--workers", str(a.workers)]
            subprocess.run(cmd, check=True)
            r = json.loads(rep.read_text())
            rows.append({"tokens": r["corpus_words"], "min_count": min_count, "vocabulary": r["vocabulary_size"],
                         "peak_rss_mb": r["peak_rss_mb"], "words_per_sec": r["training_words_per_sec"]})
            if a.workers:
                rows[-1]["peak_rss_mb_per_worker"] = r["distributed"]["peak_rss_mb_per_worker"]
                rows[-1]["peak_rss_mb"] = max(rows[-1]["peak_rss_mb_per_worker"])  # the client is not a worker
            print(json.dumps(rows[-1]), flush=True)
            corpus.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if len({r["vocabulary"] for r in rows}) > 1:
        print("warning: the vocabularies differ, so the peaks compare vocabularies, not corpus sizes")
    ratio = rows[-1]["peak_rss_mb"] / rows[0]["peak_rss_mb"]
    what = "largest worker's peak RSS" if a.workers else "peak RSS"
    print(f"{what} {rows[-1]['tokens']:,} tokens / {rows[0]['tokens']:,} tokens: {ratio:.3f}")
    if a.workers:
        for w in range(a.workers):
            print(f"worker {w}: " + " / ".join(f"{r['peak_rss_mb_per_worker'][w]:.0f}" for r in rows) + " MB")
    if a.json:
        Path(a.json).write_text(json.dumps({"runs": rows, "ratio": ratio}, indent=2))


if __name__ == "__main__":
    main()
