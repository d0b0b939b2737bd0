"""Peak memory does not grow with the corpus: 10M vs 50M tokens, same vocabulary.

Writes two synthetic Zipf corpora (50,000 words) to a temporary folder, trains
1 epoch on each with ``fastw2v train`` and compares the peak RSS each run
reports (VmHWM). The token cache is memory-mapped; pages behind the training
position are released, so the two peaks should differ by well under 10%.

    python bench/memory.py [--sizes 10000000 50000000] [--json out.json]
"""
import argparse
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000_000, 50_000_000])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fastw2v-mem-"))
    rows = []
    try:
        for n in a.sizes:
            corpus = work / f"c{n}.txt"
            write_corpus(corpus, n)
            rep = work / "r.json"
            subprocess.run([sys.executable, "-m", "fastw2v", "train", str(corpus), "-o", str(work / "v.bin"),
                            "--epochs", "1", "--threads", str(a.threads), "--report", str(rep), "-q",
                            "--cache-dir", str(work)], check=True)
            r = json.loads(rep.read_text())
            rows.append({"tokens": n, "vocabulary": r["vocabulary_size"], "peak_rss_mb": r["peak_rss_mb"],
                         "words_per_sec": r["training_words_per_sec"]})
            print(json.dumps(rows[-1]), flush=True)
            corpus.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratio = rows[-1]["peak_rss_mb"] / rows[0]["peak_rss_mb"]
    print(f"peak RSS {rows[-1]['tokens']:,} tokens / {rows[0]['tokens']:,} tokens: {ratio:.3f}")
    if a.json:
        Path(a.json).write_text(json.dumps({"runs": rows, "ratio": ratio}, indent=2))


if __name__ == "__main__":
    main()
