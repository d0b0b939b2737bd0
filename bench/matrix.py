"""Speed and quality matrix: fastw2v against gensim for every common setting.

    make bench-matrix         # or: python bench/matrix.py [--pairs 2] [--cells sg-ns5-100 ...]

Cells: sg and cbow x {ns k5, ns k15, hs} x {dim 100, dim 300}.
Speed: training words/s on realmix (1 epoch, 2 threads, sample 1e-4, window 5;
window 10 for ns k15), fastw2v and gensim alternating A B A B, the ratio taken
per pair and its median reported. Quality: WordSim-353 and analogy (top 30k)
of each tool's vectors after 5 epochs on the text8 sample, same settings.
Writes bench/MATRIX.md (and --json). Run it on a quiet machine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from compare import decompress, quality  # noqa: E402

SHARED = HERE.parent.parent / "shared"

GENSIM = r"""
import json, sys
from gensim.models import Word2Vec
a = json.loads(sys.argv[1])
m = Word2Vec(corpus_file=a["corpus"], sg=1 if a["model"] == "sg" else 0, hs=1 if a["loss"] == "hs" else 0,
             negative=0 if a["loss"] == "hs" else a["negative"], window=a["window"], vector_size=a["dim"],
             sample=1e-4, min_count=5, epochs=a["epochs"], workers=a["threads"], seed=a["seed"])
m.wv.save_word2vec_format(a["out"], binary=True)
json.dump({"training_seconds": m.total_train_time, "corpus_words": m.corpus_total_words}, open(a["report"], "w"))
"""


def cells(names=None):
    out = []
    for model in ("sg", "cbow"):
        for loss, k, window in (("ns", 5, 5), ("ns", 15, 10), ("hs", 0, 5)):
            for dim in (100, 300):
                name = f"{model}-{loss}{k or ''}-w{window}-d{dim}"
                if names is None or name in names:
                    out.append(dict(name=name, model=model, loss=loss, negative=k, window=window, dim=dim))
    return out


def run_fastw2v(c, corpus, epochs, seed, work):
    out, rep = work / "f.bin", work / "f.json"
    cmd = [sys.executable, "-m", "fastw2v", "train", str(corpus), "-o", str(out), "--report", str(rep), "-q",
           "--model", c["model"], "--loss", c["loss"], "--dim", str(c["dim"]), "--window", str(c["window"]),
           "--sample", "1e-4", "--epochs", str(epochs), "--threads", "2", "--seed", str(seed)]
    if c["loss"] != "hs":
        cmd += ["--negative", str(c["negative"])]
    subprocess.run(cmd, check=True)
    r = json.loads(rep.read_text())
    return r["corpus_words"] * epochs / r["seconds"]["training"], out


def run_gensim(c, corpus, epochs, seed, work):
    out, rep = work / "g.bin", work / "g.json"
    a = dict(c, corpus=str(corpus), epochs=epochs, threads=2, seed=seed, out=str(out), report=str(rep))
    subprocess.run([sys.executable, "-c", GENSIM, json.dumps(a)], check=True)
    r = json.loads(rep.read_text())
    return r["corpus_words"] * epochs / r["training_seconds"], out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speed-corpus", default=str(SHARED / "data" / "realmix.txt.xz"))
    ap.add_argument("--quality-corpus", default=str(SHARED / "data" / "text8_head.txt.gz"))
    ap.add_argument("--pairs", type=int, default=2, help="A B pairs per cell for speed")
    ap.add_argument("--quality-epochs", type=int, default=5)
    ap.add_argument("--no-quality", action="store_true")
    ap.add_argument("--cells", nargs="*", help="cell names (default: all 12)")
    ap.add_argument("--out", default=str(HERE / "MATRIX.md"))
    ap.add_argument("--json")
    ap.add_argument("--speed-from", metavar="JSON",
                    help="take the speed columns from an earlier run's --json instead of measuring them again "
                         "(e.g. to add quality after the defaults changed; the speed does not depend on them)")
    a = ap.parse_args(argv)
    earlier = {r["name"]: r for r in json.loads(Path(a.speed_from).read_text())} if a.speed_from else {}
    rows = []
    with tempfile.TemporaryDirectory(prefix="fastw2v-matrix-") as tmp:
        work = Path(tmp)
        speed_corpus = None if a.speed_from else decompress(Path(a.speed_corpus), work)
        quality_corpus = decompress(Path(a.quality_corpus), work)
        for c in cells(a.cells):
            ratios, fw, gw = [], [], []
            if a.speed_from:
                e = earlier[c["name"]]
                fw, gw, ratios = [e["fastw2v_wps"]], [e["gensim_wps"]], e["ratios"]
            for i in range(0 if a.speed_from else a.pairs):
                f, _ = run_fastw2v(c, speed_corpus, 1, i + 1, work)
                g, _ = run_gensim(c, speed_corpus, 1, i + 1, work)
                fw.append(f)
                gw.append(g)
                ratios.append(f / g)
            row = dict(c, fastw2v_wps=statistics.median(fw), gensim_wps=statistics.median(gw),
                       ratio=statistics.median(ratios), ratios=ratios, fastw2v_runs=fw, gensim_runs=gw)
            if not a.no_quality:
                _, fo = run_fastw2v(c, quality_corpus, a.quality_epochs, 1, work)
                row["fastw2v_q"] = quality(fo, True)
                _, go = run_gensim(c, quality_corpus, a.quality_epochs, 1, work)
                row["gensim_q"] = quality(go, True)
            rows.append(row)
            print(json.dumps(row), flush=True)
    lines = [f"# fastw2v vs gensim: every common setting ({time.strftime('%Y-%m-%d')})", "",
             "Training words/s on realmix (1 epoch, 2 threads, sample 1e-4), median of "
             f"{len(rows[0]['ratios']) if rows else a.pairs} A B pairs (ratio taken per pair); quality after {a.quality_epochs} epochs on the text8 "
             "sample (WordSim-353 Spearman / analogy accuracy, top 30k). Produced by `bench/matrix.py`.", "",
             "| cell | fastw2v words/s | gensim words/s | ratio (per pair) | WS-353 f / g | analogy f / g |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        q = ""
        if "fastw2v_q" in r:
            fq, gq = r["fastw2v_q"], r["gensim_q"]
            q = (f"{fq['wordsim_spearman']:.3f} / {gq['wordsim_spearman']:.3f} | "
                 f"{fq['analogy_accuracy']:.3f} / {gq['analogy_accuracy']:.3f}")
        else:
            q = "- | -"
        lines.append(f"| {r['name']} | {r['fastw2v_wps'] / 1e6:.2f}M | {r['gensim_wps'] / 1e6:.2f}M | "
                     f"{r['ratio']:.2f}x ({', '.join(f'{x:.2f}' for x in r['ratios'])}) | {q} |")
    Path(a.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
