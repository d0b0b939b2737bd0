"""Do a row's merged steps keep their direction from one sync to the next?  A diagnostic for block momentum.

Runs ``bench/simulate.py`` (same arguments) with a ``bm-`` mode and records, for every sync of syn0 and
syn1 and every row whose merged step and momentum were both nonzero, the cosine between the row's
``capped`` step (the default merge's step on the same deltas) and its momentum M before the update, and
|M after| / |step|, averaged per band of the sync order (rank; the first rows are the most frequent
words). With ``bm-capped:0`` (eta 0: M before the update is the previous sync's step, and the merge is
plain ``capped``) the cosine is that between consecutive merged steps: near +1 for a row that drifts the
same way every round (what block momentum would speed up), negative for one that overshoots and comes
back, near 0 for noise. Rounds that train nothing (text8 with 10,000-token sentences) leave zero steps,
which are skipped, so use ``--max-sentence-length 1000`` there.

    PYTHONPATH=$PWD python bench/bm_steps.py --workers 16 --modes bm-capped:0 --round-tokens 2048 --seed 1 \\
        --late off --max-sentence-length 1000
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import simulate  # noqa: E402

BANDS = [0, 64, 256, 1024, 2048, 4096, 8192, 1 << 62]


def main():
    sums = {}  # (matrix, band start) -> [sum of cos, sum of |M|/|step|, rows]
    calls = [0]
    plain = simulate.block_momentum

    def recorded(spec, base, deltas, touched, m_rows, n_workers, anchor=False, reverse=False):
        m = calls[0] % 3  # block_momentum is called for syn0, syn1, bias in turn
        calls[0] += 1
        if m == 2 or base.ndim != 2 or base.shape[0] == 0:
            return plain(spec, base, deltas, touched, m_rows, n_workers, anchor, reverse)
        before = m_rows.astype(np.float64)
        step = (simulate.merge("capped", base, deltas, touched) - base).astype(np.float64)
        out = plain(spec, base, deltas, touched, m_rows, n_workers, anchor, reverse)
        ls, lb = np.sqrt((step ** 2).sum(1)), np.sqrt((before ** 2).sum(1))
        cos = (step * before).sum(1) / np.maximum(ls * lb, 1e-300)
        grow = np.sqrt((m_rows.astype(np.float64) ** 2).sum(1)) / np.maximum(ls, 1e-300)
        ok = (ls > 0) & (lb > 0)
        if reverse:  # hs's syn1: the hottest rows last
            cos, grow, ok = cos[::-1], grow[::-1], ok[::-1]
        for lo, hi in zip(BANDS[:-1], BANDS[1:]):
            if lo >= base.shape[0]:
                break
            sel = ok[lo:hi]
            if sel.any():
                acc = sums.setdefault((m, lo), [0.0, 0.0, 0])
                acc[0] += float(cos[lo:hi][sel].sum())
                acc[1] += float(grow[lo:hi][sel].sum())
                acc[2] += int(sel.sum())
        return out

    simulate.block_momentum = recorded
    sys.argv = [sys.argv[0]] + sys.argv[1:]
    simulate.main()
    print("\n| matrix | rows from | mean cos(step, M before) | mean \\|M\\| / \\|step\\| | (row, sync) pairs |")
    print("| --- | --- | --- | --- | --- |")
    for (m, lo), (c, g, n) in sorted(sums.items()):
        print(f"| syn{m} | {lo} | {c / n:+.3f} | {g / n:.2f} | {n} |")


if __name__ == "__main__":
    main()
