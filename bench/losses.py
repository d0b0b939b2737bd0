"""Quality of each loss on the text8 sample (5 epochs, sample 1e-4, other settings default).

Prints a markdown table of WordSim-353 Spearman and analogy accuracy (top 30k)
for every loss x model, averaged over seeds, with the ratio to ``ns``.

    python bench/losses.py [--seeds 1 2] [--corpus fastw2v/data/text8_head.txt.gz]
"""
import argparse
import statistics
import time
from pathlib import Path

import fastw2v

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(ROOT / "fastw2v" / "data" / "text8_head.txt.gz"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--models", nargs="+", default=["sg", "cbow"])
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    rows = []
    for model in a.models:
        base = None
        for loss in ["ns", "hs", "nce", "softmax"]:
            ws, an, wps = [], [], []
            for seed in a.seeds:
                t = time.perf_counter()
                m = fastw2v.Word2Vec(model=model, loss=loss, epochs=5, sample=1e-4, seed=seed,
                                     threads=a.threads).fit(a.corpus)
                ws.append(m.wv.evaluate_word_pairs()["spearman"])
                an.append(m.wv.evaluate_word_analogies()["accuracy"])
                wps.append(m.report["training_words_per_sec"])
                print(f"{model} {loss} seed {seed}: ws {ws[-1]:.3f} analogy {an[-1]:.3f} "
                      f"{wps[-1] / 1e3:.0f}K words/s ({time.perf_counter() - t:.0f} s)", flush=True)
            w, n = statistics.mean(ws), statistics.mean(an)
            if loss == "ns":
                base = w
            rows.append((model, loss, w, w / base, n, statistics.median(wps)))
    print("\n| model | loss | WS-353 Spearman | vs ns | analogy (top 30k) | words/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for model, loss, w, r, n, s in rows:
        print(f"| {model} | {loss} | {w:.3f} | {r:.2f} | {n:.3f} | {s / 1e3:,.0f}K |")


if __name__ == "__main__":
    main()
