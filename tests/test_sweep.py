"""bench/sweep.py: corpus head, resume, divergence records and the markdown tables (no long training)."""
import gzip
import json

import pytest

from .conftest import bench_module


@pytest.fixture(scope="module")
def sweep():
    return bench_module("sweep")


def test_first_words_reads_words_cut_by_chunk_boundaries(sweep, tmp_path):
    words = [f"w{i}" + "x" * (i % 7) for i in range(40_000)]  # > 64 KiB: words straddle read chunks
    path = tmp_path / "c.txt.gz"
    with gzip.open(path, "wt") as f:
        f.write(" ".join(words))
    assert sweep.first_words(path, 30_000) == words[:30_000]
    assert sweep.first_words(path, 10**6) == words


def _row(sweep, **kw):
    base = dict(corpus="c", min_count=5, model="sg", loss="ns", dim=10, epochs=1, alpha=0.05, min_alpha=0.0001,
                sample=1e-3, seed=1, batched=True, n_tokens=1000, vocab=50, threads=1)
    base.update(kw)
    return base


def test_resume_skips_recorded_runs_and_ignores_a_cut_line(sweep, small_corpus, tmp_path, capsys, monkeypatch):
    out = tmp_path / "s.jsonl"
    args = ["--corpus", str(small_corpus), "--models", "sg", "--losses", "ns", "--dims", "10", "--epochs", "1",
            "--alphas", "0.025", "0.05", "--samples", "1e-3", "--threads", "1", "--jsonl", str(out)]
    with open(out, "w") as f:
        for al in (0.025, 0.05):
            f.write(json.dumps(_row(sweep, corpus=str(small_corpus), alpha=al, ws353=0.1, analogy=0.0)) + "\n")
        f.write('{"corpus": "cut')  # an interrupted write
    sweep.main(args)
    assert "# 0 runs to make (2 already" in capsys.readouterr().out

    def stop(*a, **k):
        raise RuntimeError("would train")
    monkeypatch.setattr(sweep, "Corpus", stop)
    with pytest.raises(RuntimeError):
        sweep.main(args[:-2] + ["--exact", "--jsonl", str(out)])  # the exact runs are new; CBOW has none
    assert "# 2 runs to make" in capsys.readouterr().out


def test_sweep_records_quality_and_divergence(sweep, small_corpus, tmp_path, monkeypatch):
    out = tmp_path / "s.jsonl"
    args = ["--corpus", str(small_corpus), "--models", "sg", "--losses", "ns", "--dims", "10", "--epochs", "1",
            "--alphas", "0.05", "--samples", "1e-3", "--threads", "1", "--min-count", "1", "--jsonl", str(out)]
    sweep.main(args)
    row = json.loads(out.read_text().splitlines()[0])
    assert row["diverged"] is False and row["alpha"] == 0.05 and row["n_tokens"] == 20000
    assert row["train_seconds"] > 0 and "ws353" in row and "analogy" in row

    import fastw2v.trainer
    from fastw2v.errors import TrainingDiverged

    def diverge(*a, **k):
        raise TrainingDiverged("training diverged (loss is nan)")
    monkeypatch.setattr(fastw2v.trainer, "train", diverge)
    sweep.main(args[:-2] + ["--seeds", "2", "--jsonl", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2 and rows[1]["diverged"] is True and rows[1]["seed"] == 2


def test_table_marks_best_alpha_by_mean_rank_and_diverged(sweep, tmp_path):
    rows = [_row(sweep, alpha=0.025, ws353=0.50, analogy=0.30, diverged=False),
            _row(sweep, alpha=0.05, ws353=0.60, analogy=0.40, diverged=False),
            _row(sweep, alpha=0.05, seed=2, ws353=0.70, analogy=0.10, diverged=False),
            _row(sweep, alpha=0.1, ws353=0.55, analogy=0.35, diverged=False),
            _row(sweep, alpha=0.2, diverged=True)]
    jl = tmp_path / "s.jsonl"
    jl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    md = tmp_path / "S.md"
    sweep.main(["--table", "--jsonl", str(jl), "--out", str(md)])
    text = md.read_text()
    # 0.05: mean of two seeds 0.650 / 25.0% (WS rank 1, analogy rank 3); 0.1: WS rank 2, analogy rank 1 -> 0.1 wins
    row = next(line for line in text.splitlines() if line.startswith("| 1 |"))
    assert row == "| 1 | 0.500 / 30.0% (1 seed) | 0.650 / 25.0% | **0.550 / 35.0% (1 seed)** | diverged | 0.1 |"
    assert "mean of its WS-353 rank and its analogy rank" in text
    assert "| c | sg | ns | 10 | 1 | **0.1** (0.550 / 35.0%) |" in text
