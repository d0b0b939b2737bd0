"""fastw2v --subwords vs fastText, side by side: training speed, quality, unseen words.

    python bench/subwords.py --corpus ../shared/data/realmix.txt.xz --rounds 2 --json out.json
    python bench/subwords.py --skip-speed          # quality only (text8 sample)
    python bench/subwords.py --skip-quality        # speed only

Needs the ``fasttext`` Python package (``pip install fasttext-wheel``). Run it on
an otherwise idle machine: the figures are meaningless next to other load.

Speed: skip-gram, minn 3, maxn 6, 2M buckets, dim 100, window 5, 5 negatives,
sample 1e-4, min count 5, 2 threads, 1 epoch, on the same decompressed file,
alternating fastw2v and fastText (A B A B), each run its own process. Training
words/s: fastw2v's training phase (compile excluded), fastText's own
``words/sec/thread`` x threads from its last progress line (both count corpus
words before subsampling). Whole-process wall time and peak RSS beside them.

Quality on the text8 sample (5 epochs, same settings, lr 0.05 for both, as
fastText's skip-gram default; one run per ``--seeds`` entry, fastText 0.9.2
takes no seed): WordSim-353 Spearman and
analogy accuracy (top 30k words) of the composed word vectors, by fastw2v's
evaluation code for both.

Unseen words: a list of words seen 5-15 times in the text8 sample is dropped
from the vocabulary (min count 16); each word's vector is then built from its
n-grams, and compared with its 10 nearest neighbours among the words that stay
in the vocabulary, in a plain word2vec model trained with min count 5 (the
reference for what the word means). Reported:
the mean cosine between the n-gram vector and those neighbours (as the trained
model sees them), against the same for random rows (what an Embedding layer
without subwords gives an unseen word) and for random vocabulary words.
"""
from __future__ import annotations

import argparse
import gzip
import json
import lzma
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

COMMON = dict(dim=100, window=5, negative=5, sample=1e-4, min_count=5, minn=3, maxn=6, buckets=2_000_000)

FASTTEXT_SCRIPT = r"""
import json, sys, time
import fasttext
a = json.loads(sys.argv[1])
t = time.perf_counter()
m = fasttext.train_unsupervised(a["corpus"], model="skipgram", dim=a["dim"], ws=a["window"], neg=a["negative"],
                                t=a["sample"], minCount=a["min_count"], minn=a["minn"], maxn=a["maxn"],
                                bucket=a["buckets"], epoch=a["epochs"], thread=a["threads"], lr=a["lr"], verbose=2)
seconds = time.perf_counter() - t
peak = [int(l.split()[1]) / 1024.0 for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
json.dump({"seconds": seconds, "vocabulary_size": len(m.words), "peak_rss_mb": peak}, open(a["report"], "w"))
"""


def decompress(src: Path, dst_dir: Path) -> Path:
    if src.suffix not in (".xz", ".gz"):
        return src
    dst = dst_dir / src.with_suffix("").name
    opener = lzma.open if src.suffix == ".xz" else gzip.open
    with opener(src, "rb") as fi, open(dst, "wb") as fo:
        shutil.copyfileobj(fi, fo, 1 << 22)
    return dst


SHARE_NOISE = False  # --share-noise: fastw2v's subword skip-gram shares noise draws across a window


def run_fastw2v(corpus: Path, work: Path, threads: int, epochs: int, tag: str) -> dict:
    report = work / f"fw-{tag}.json"
    cmd = [sys.executable, "-m", "fastw2v", "train", str(corpus), "-o", str(work / f"fw-{tag}.fw2v"), "--subwords",
           "--dim", str(COMMON["dim"]), "--window", str(COMMON["window"]), "--negative", str(COMMON["negative"]),
           "--sample", str(COMMON["sample"]), "--min-count", str(COMMON["min_count"]), "--minn", str(COMMON["minn"]),
           "--maxn", str(COMMON["maxn"]), "--buckets", str(COMMON["buckets"]), "--epochs", str(epochs),
           "--threads", str(threads), "--report", str(report), "-q"] + (["--share-noise"] if SHARE_NOISE else [])
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    wall = time.perf_counter() - t
    if p.returncode:
        raise SystemExit(f"fastw2v failed: {p.stderr[-2000:]}")
    r = json.loads(report.read_text())
    return {"tool": "fastw2v", "words_per_sec": r["training_words_per_sec"], "wall_seconds": wall,
            "training_seconds": r["seconds"]["training"], "compile_seconds": r["seconds"].get("compile", 0.0),
            "peak_rss_mb": r["peak_rss_mb"], "vocabulary_size": r["vocabulary_size"]}


def run_fasttext(corpus: Path, work: Path, threads: int, epochs: int, tag: str, lr: float = 0.05) -> dict:
    report = work / f"ft-{tag}.json"
    args = dict(COMMON, corpus=str(corpus), epochs=epochs, threads=threads, lr=lr, report=str(report))
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", FASTTEXT_SCRIPT, json.dumps(args)], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode:
        raise SystemExit(f"fastText failed: {p.stderr[-2000:]}")
    rates = re.findall(r"words/sec/thread:\s*(\d+)", p.stdout + p.stderr)
    r = json.loads(report.read_text())
    return {"tool": "fastText", "words_per_sec": int(rates[-1]) * threads if rates else float("nan"),
            "wall_seconds": wall, "peak_rss_mb": r["peak_rss_mb"], "vocabulary_size": r["vocabulary_size"]}


def speed(corpus: Path, work: Path, rounds: int, threads: int) -> dict:
    # compile (or load) fastw2v's kernel once outside the measured runs
    head = work / "warm.txt"
    with open(corpus, "rb") as f:
        head.write_bytes(f.read(2_000_000))
    run_fastw2v(head, work, threads, 1, "warm")
    runs = []
    for i in range(rounds):
        for fn in (run_fastw2v, run_fasttext):
            r = fn(corpus, work, threads, 1, f"speed{i}")
            print(f"  {r['tool']:<9} {r['words_per_sec'] / 1e3:8.0f}K words/s  wall {r['wall_seconds']:6.1f} s  "
                  f"peak {r['peak_rss_mb']:6.0f} MB", flush=True)
            runs.append(r)
    fw = [r["words_per_sec"] for r in runs if r["tool"] == "fastw2v"]
    ft = [r["words_per_sec"] for r in runs if r["tool"] == "fastText"]
    return {"runs": runs, "fastw2v_median": statistics.median(fw), "fasttext_median": statistics.median(ft),
            "ratio": statistics.median(fw) / statistics.median(ft)}


def _scores(kv) -> dict:
    return {"wordsim_spearman": kv.evaluate_word_pairs()["spearman"],
            "analogy_accuracy": kv.evaluate_word_analogies(restrict_vocab=30000)["accuracy"]}


def fasttext_vectors(model):
    """fastText's composed word vectors as fastw2v KeyedVectors (vocabulary words, </s> left out)."""
    from fastw2v import KeyedVectors

    words = [w for w in model.words if w != "</s>"]
    return KeyedVectors(words, np.stack([model.get_word_vector(w) for w in words]))


def quality(text8: Path, seeds: list, threads: int, epochs: int, tools=("fastw2v", "fastText")) -> dict:
    import fastw2v

    out = {"fastw2v": [], "fastText": []}
    for seed in seeds:
        if "fastw2v" not in tools:
            break
        m = fastw2v.Word2Vec(subwords=True, epochs=epochs, alpha=0.05, threads=threads, seed=seed,
                             share_noise=SHARE_NOISE, **COMMON).fit(str(text8))
        out["fastw2v"].append(_scores(m.wv))
        print(f"  seed {seed}: fastw2v {out['fastw2v'][-1]}", flush=True)
    for seed in seeds:
        if "fastText" not in tools:
            break
        import fasttext

        ft = fasttext.train_unsupervised(str(text8), model="skipgram", dim=COMMON["dim"], ws=COMMON["window"],
                                         neg=COMMON["negative"], t=COMMON["sample"], minCount=COMMON["min_count"],
                                         minn=COMMON["minn"], maxn=COMMON["maxn"], bucket=COMMON["buckets"],
                                         epoch=epochs, thread=threads, lr=0.05, verbose=0)
        out["fastText"].append(_scores(fasttext_vectors(ft)))
        print(f"  run {seed}: fastText {out['fastText'][-1]}", flush=True)
    return out


def unseen_words(text8: Path, threads: int, epochs: int, n_words: int = 200, drop_below: int = 16,
                 tools=("fastw2v", "fastText")) -> dict:
    import fastw2v

    ref = fastw2v.Word2Vec(epochs=epochs, sample=1e-4, threads=threads, seed=1, min_count=5).fit(str(text8))
    counts = dict(zip(ref.wv.index_to_key, ref.wv.counts.tolist()))
    rng = np.random.default_rng(0)
    pool = sorted(w for w, c in counts.items() if c < drop_below and len(w) >= 5)
    test = [str(w) for w in rng.choice(pool, size=min(n_words, len(pool)), replace=False)]
    staying = int(np.sum(ref.wv.counts >= drop_below))  # frequency order: the words that stay come first
    neighbours = {w: [x for x, _ in ref.wv.most_similar(w, topn=10, restrict_vocab=staying)] for w in test}

    sub = fastw2v.Word2Vec(subwords=True, epochs=epochs, alpha=0.05, threads=threads, seed=1,
                           share_noise=SHARE_NOISE, **dict(COMMON, min_count=drop_below)).fit(str(text8))
    if "fastText" in tools:
        import fasttext

        ft = fasttext.train_unsupervised(str(text8), model="skipgram", dim=COMMON["dim"], ws=COMMON["window"],
                                         neg=COMMON["negative"], t=COMMON["sample"], minCount=drop_below,
                                         minn=COMMON["minn"], maxn=COMMON["maxn"], bucket=COMMON["buckets"],
                                         epoch=epochs, thread=threads, lr=0.05, verbose=0)
        ft_vocab = set(ft.words)

    def unit(v):
        v = np.asarray(v, dtype=np.float64)
        n = np.linalg.norm(v)
        return v / n if n else v

    result = {}
    cases = [("fastw2v", lambda w: sub.wv[w], lambda w: w in sub.wv)]
    if "fastText" in tools:
        cases.append(("fastText", ft.get_word_vector, lambda w: w in ft_vocab))
    for name, vec, known in cases:
        sims, rand_rows, rand_words, top10 = [], [], [], []
        vocab = [w for w in (sub.wv.index_to_key if name == "fastw2v" else ft.words) if w != "</s>"]
        spread = float(np.std(sub.wv.vectors)) if name == "fastw2v" else 0.1
        for w in test:
            assert not known(w), w
            nb = [x for x in neighbours[w] if known(x)]
            if not nb:
                continue
            nv = [unit(vec(x)) for x in nb]
            q = unit(vec(w))
            sims.append(np.mean([q @ v for v in nv]))
            r = unit(rng.normal(0.0, spread, size=q.shape))
            rand_rows.append(np.mean([r @ v for v in nv]))
            rw = unit(vec(vocab[int(rng.integers(len(vocab)))]))
            rand_words.append(np.mean([rw @ v for v in nv]))
            if name == "fastw2v":
                top10.append(len(set(x for x, _ in sub.wv.most_similar(w, topn=10)) & set(nb)) > 0)
        result[name] = {"words": len(sims), "ngram_vector_vs_neighbours": float(np.mean(sims)),
                        "random_row_vs_neighbours": float(np.mean(rand_rows)),
                        "random_word_vs_neighbours": float(np.mean(rand_words))}
        if top10:
            result[name]["share_with_a_reference_neighbour_in_top10"] = float(np.mean(top10))
        print(f"  {name}: {result[name]}", flush=True)
    return {"test_words": len(test), "dropped_below": drop_below, "examples": test[:10], **result}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "data" / "realmix.txt.xz"))
    ap.add_argument("--text8", default=str(ROOT / "fastw2v" / "data" / "text8_head.txt.gz"))
    ap.add_argument("--rounds", type=int, default=2, help="A B rounds of the speed comparison")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=5, help="epochs of the quality runs")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--share-noise", action="store_true", help="fastw2v with --share-noise")
    ap.add_argument("--tools", nargs="+", default=["fastw2v", "fastText"], help="whose quality to measure")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    global SHARE_NOISE
    SHARE_NOISE = a.share_noise
    out = {"settings": dict(COMMON, threads=a.threads, share_noise=a.share_noise)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not a.skip_speed:
            print(f"speed on {a.corpus}, 1 epoch, {a.threads} threads, A B x {a.rounds}:", flush=True)
            out["speed"] = speed(decompress(Path(a.corpus), work), work, a.rounds, a.threads)
            print(f"  median fastw2v / fastText: {out['speed']['ratio']:.2f}x", flush=True)
        if not a.skip_quality:
            text8 = decompress(Path(a.text8), work)
            print(f"quality on {a.text8}, {a.epochs} epochs:", flush=True)
            out["quality"] = quality(text8, a.seeds, a.threads, a.epochs, a.tools)
            print("unseen words:", flush=True)
            out["unseen"] = unseen_words(text8, a.threads, a.epochs, tools=a.tools)
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2, default=float))


if __name__ == "__main__":
    main()
