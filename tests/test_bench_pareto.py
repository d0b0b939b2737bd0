"""bench/pareto.py's bookkeeping: the frontier verdicts, medians over repeats with failures, skipped tools.

No training here: the runs are made-up rows (the bench itself is smoke-tested by hand on a tiny corpus).
"""
import argparse
import sys
from pathlib import Path

import pytest

BENCH = str(Path(__file__).resolve().parent.parent / "bench")
sys.path.insert(0, BENCH)
import pareto  # noqa: E402

# bench/ must not stay on the import path: its distributed.py would shadow Dask's `distributed`
# package for every test that runs after this file (tests/test_distributed.py)
sys.path[:] = [p for p in sys.path if p != BENCH]


def row(tool, epochs, wall, ws, an=0.1):
    return {"tool": tool, "epochs": epochs, "wall_seconds": wall, "wordsim": ws, "analogy": an}


def test_frontier_takes_each_tools_best_within_the_budget():
    rows = [row("fasttext", 1, 5.0, 0.50),   # only a peer fits in 5 s: fastw2v loses that budget
            row("fastw2v", 1, 6.0, 0.55),
            row("gensim", 1, 8.0, 0.60),     # gensim better at 8 s
            row("fastw2v", 2, 9.0, 0.60),    # a tie counts as >=
            row("fastw2v", 3, 12.0, 0.58)]   # worse than its own 2-epoch run: the best within 12 s stays 0.60
    f = pareto.frontier(rows, "wordsim")
    assert [p["budget"] for p in f] == [5.0, 6.0, 8.0, 9.0, 12.0]
    assert [p["ok"] for p in f] == [False, True, False, True, True]
    assert f[-1]["best"] == {"fasttext": 0.50, "fastw2v": 0.60, "gensim": 0.60}
    line = pareto.frontier_line("WS-353", f)
    assert "at 3 of 5 budgets" in line
    assert "5.00 s (fastText 0.500 vs no fastw2v run that fast)" in line
    assert "8.00 s (gensim 0.600 vs 0.550)" in line


def test_frontier_without_peers_is_no_contest():
    f = pareto.frontier([row("fastw2v", 1, 3.0, 0.4), row("fastw2v", 2, 5.0, 0.5)], "wordsim")
    assert [p["ok"] for p in f] == [None, None]
    assert "no peer" in pareto.frontier_line("WS-353", f)


def test_medians_over_repeats_leave_failed_runs_out():
    runs = [row("gensim", 1, 10.0, 0.5) | {"vocabulary_size": 7},
            row("gensim", 1, 14.0, 0.7) | {"vocabulary_size": 7},
            {"tool": "gensim", "epochs": 1, "wall_seconds": 1.0, "rc": 1, "failed": True},
            row("fastw2v", 1, 3.0, 0.6) | {"vocabulary_size": 7},
            {"tool": "fasttext", "epochs": 1, "wall_seconds": 0.5, "rc": 1, "failed": True}]
    rows = pareto.medians(runs)
    assert [(r["tool"], r["epochs"]) for r in rows] == [("fastw2v", 1), ("gensim", 1), ("fasttext", 1)]
    g = rows[1]
    assert (g["wall_seconds"], g["wall_min"], g["wall_max"], g["wordsim"]) == (12.0, 10.0, 14.0, pytest.approx(0.6))
    assert (g["runs"], g["failed"]) == (3, 1)
    assert "wall_seconds" not in rows[2]  # every fastText run failed: no numbers, and out of the frontier
    assert [p["budget"] for p in pareto.frontier(rows, "wordsim")] == [3.0, 12.0]


def test_a_missing_tool_is_skipped_with_the_reason(monkeypatch):
    monkeypatch.setattr(pareto.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(pareto.shutil, "which", lambda name: None)
    have, skipped = pareto.find_tools(["fastw2v", "gensim", "fasttext"])
    assert have == {"fastw2v": "cli"}
    assert set(skipped) == {"gensim", "fasttext"}
    a = argparse.Namespace(model="sg", threads=2, epochs=[1], repeats=1, warmup=True)
    info = {"date": "d", "corpus": "c", "corpus_words": 10, "cores": 2, "cpu": "x", "load_start": 0.0,
            "load_end": 0.0, "commit": "abc", "versions": {"fastw2v": "0"}, "defaults": {}}
    rows = pareto.medians([row("fastw2v", 1, 3.0, 0.6) | {"vocabulary_size": 7}])
    text = pareto.markdown(a, info, have, skipped, rows, {m: pareto.frontier(rows, m) for m in ("wordsim", "analogy")})
    assert "Skipped: gensim (gensim is not installed); fastText (neither" in text
    assert "| fastw2v | 1 | 3.00 | 0.600 | 0.100 | 7 |" in text


def test_fasttext_falls_back_to_a_binary_on_path(monkeypatch):
    monkeypatch.setattr(pareto.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(pareto.shutil, "which", lambda name: "/usr/bin/fasttext" if name == "fasttext" else None)
    have, _ = pareto.find_tools(["fasttext"])
    assert have == {"fasttext": "binary"}
    a = argparse.Namespace(model="cbow", threads=2)
    cmd = pareto.command("fasttext", "binary", a, Path("c.txt"), 3, Path("/w/fasttext.vec"), Path("/w/r.json"))
    assert cmd[:2] == ["/usr/bin/fasttext", "cbow"]
    assert cmd[cmd.index("-output") + 1] == "/w/fasttext"  # fastText adds .vec / .bin itself
    assert cmd[cmd.index("-maxn") + 1] == "0" and cmd[cmd.index("-epoch") + 1] == "3"
