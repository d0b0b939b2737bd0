"""Phrases: word2phrase's score, greedy joining, passes, sentence boundaries."""
import numpy as np
import pytest

import fastw2v
from fastw2v.phrases import find_phrases


def make_corpus(path, seed=0):
    rng = np.random.default_rng(seed)
    filler = [f"w{i}" for i in range(200)]
    lines = []
    for _ in range(600):
        words = list(rng.choice(filler, size=12))
        k = rng.integers(0, 10)
        words[k:k] = ["new", "york", "times"] if rng.random() < 0.5 else ["new", "york"]
        lines.append(" ".join(words))
    # "end start" straddles lines only: never adjacent inside a sentence
    lines += ["alpha beta end", "start gamma delta"] * 50
    path.write_text("\n".join(lines) + "\n")
    return path


def test_score_formula_and_joining(tmp_path):
    corpus = make_corpus(tmp_path / "c.txt")
    out = tmp_path / "p.txt"
    r = find_phrases(corpus, out, min_count=5, threshold=10.0, passes=1)
    text = corpus.read_text().split("\n")
    tokens = [t for line in text for t in line.split()]
    from collections import Counter
    uni = Counter(tokens)
    bi = Counter((a, b) for line in text for a, b in zip(line.split(), line.split()[1:]))
    total = len(tokens)
    score = lambda a, b: (bi[(a, b)] - 5) / (uni[a] * uni[b]) * total  # noqa: E731
    expected = {f"{a}_{b}" for (a, b) in bi if uni[a] >= 5 and uni[b] >= 5 and score(a, b) > 10}
    assert "new_york" in expected and "end_start" not in expected
    joined = set(r["phrases"])
    # greedy joining can hide a pair behind an earlier one, never invent one
    assert joined <= expected and "new_york" in joined
    lines = out.read_text().splitlines()
    assert len(lines) == 700
    assert all("new york" not in line for line in lines)


def test_second_pass_joins_longer_phrases(tmp_path):
    corpus = make_corpus(tmp_path / "c.txt")
    out = tmp_path / "p.txt"
    r = find_phrases(corpus, out, min_count=5, threshold=10.0, passes=2)
    assert r["passes"][0]["phrases"] > 0 and len(r["passes"]) == 2
    assert "new_york_times" in out.read_text()
    assert r["passes"][1]["tokens_after"] < r["passes"][0]["tokens_after"] < r["passes"][0]["tokens_before"]


def test_phrase_vectors_train_and_evaluate(tmp_path):
    corpus = make_corpus(tmp_path / "c.txt")
    out = tmp_path / "p.txt"
    find_phrases(corpus, out, min_count=5, threshold=10.0, passes=1)
    m = fastw2v.Word2Vec(dim=10, epochs=2, min_count=2, threads=1).fit(out)
    assert "new_york" in m.wv
    q = tmp_path / "q.txt"
    q.write_text(": phrases\nnew_york w1 new_york w2\n")
    r = m.wv.evaluate_word_analogies(q)
    assert r["questions"] == 1 and r["oov"] == 0


def test_phrases_cli_errors(tmp_path):
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "fastw2v", "phrases", str(tmp_path / "missing.txt"), "-o",
                        str(tmp_path / "o.txt")], capture_output=True, text=True)
    assert r.returncode != 0 and r.stderr.strip().splitlines()[-1].startswith("Error:")
    assert "Traceback" not in r.stderr and not (tmp_path / "o.txt").exists()
    with pytest.raises(fastw2v.ConfigError):
        find_phrases(tmp_path / "missing.txt", tmp_path / "o.txt", threshold=0)
