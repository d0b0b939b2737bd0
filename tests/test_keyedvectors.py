"""Queries and benchmarks, checked against gensim on the same vectors."""
import numpy as np
import pytest

from fastw2v import KeyedVectors
from fastw2v.errors import FormatError

from .conftest import ROOT

gensim_models = pytest.importorskip("gensim.models")
QUESTIONS = ROOT / "fastw2v" / "data" / "questions-words.txt"
WORDSIM = ROOT / "fastw2v" / "data" / "wordsim353.tsv"


@pytest.fixture(scope="module")
def both(text8_vectors):
    return (KeyedVectors.load_word2vec_format(text8_vectors),
            gensim_models.KeyedVectors.load_word2vec_format(str(text8_vectors), binary=True))


def same_hits(ours, theirs, tol=1e-5):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    assert np.allclose([s for _, s in ours], [s for _, s in theirs], atol=tol)


def test_queries_equal_gensim(both):
    wv, g = both
    same_hits(wv.most_similar("france", topn=10), g.most_similar("france", topn=10))
    same_hits(wv.most_similar(positive=["king", "woman"], negative=["man"], topn=10),
              g.most_similar(positive=["king", "woman"], negative=["man"], topn=10))
    same_hits(wv.most_similar(positive=["paris", "germany"], negative=["france"], topn=5, restrict_vocab=2000),
              g.most_similar(positive=["paris", "germany"], negative=["france"], topn=5, restrict_vocab=2000))
    same_hits(wv.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=5),
              g.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=5))
    same_hits(wv.similar_by_vector(wv["music"], topn=5), g.similar_by_vector(g["music"], topn=5))
    assert wv.similarity("king", "queen") == pytest.approx(float(g.similarity("king", "queen")), abs=1e-5)
    assert wv.distance("king", "queen") == pytest.approx(float(g.distance("king", "queen")), abs=1e-5)
    assert wv.n_similarity(["king", "man"], ["queen", "woman"]) == pytest.approx(
        float(g.n_similarity(["king", "man"], ["queen", "woman"])), abs=1e-5)
    words = ["one", "two", "three", "france"]
    assert wv.doesnt_match(words) == g.doesnt_match(words)
    assert wv.rank("king", "queen") == g.rank("king", "queen")


def test_most_similar_shape_and_restrict_vocab(both):
    wv, _ = both
    hits = wv.most_similar("the", topn=3)
    assert isinstance(hits, list) and len(hits) == 3 and all(isinstance(h, tuple) for h in hits)
    assert "the" not in [w for w, _ in hits]
    top100 = set(wv.index_to_key[:100])
    assert all(w in top100 for w, _ in wv.most_similar("king", topn=20, restrict_vocab=100))
    with pytest.raises(ValueError):
        wv.most_similar()


def test_unknown_word_names_it_and_suggests_spellings(both):
    wv, _ = both
    with pytest.raises(KeyError) as e:
        wv.most_similar("kingg")
    msg = e.value.args[0]
    assert "'kingg'" in msg and "king" in msg


def test_analogies_equal_gensim(both):
    wv, g = both
    ours = wv.evaluate_word_analogies(QUESTIONS)
    score, sections = g.evaluate_word_analogies(str(QUESTIONS))
    assert ours["accuracy"] == pytest.approx(score)
    assert [(s["section"], len(s["correct"]), len(s["incorrect"])) for s in ours["sections"]] == \
        [(s["section"], len(s["correct"]), len(s["incorrect"])) for s in sections]
    assert ours["questions"] == 19544
    assert ours["oov"] == 19544 - ours["correct"] - ours["incorrect"] > 0


def test_analogy_scoring_is_not_trivial():
    """Hand-made vectors where b - a + c lands exactly on the expected word."""
    words = ["a1", "b1", "a2", "b2", "noise"]
    v = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [-1, -1, -1]], np.float32)
    wv = KeyedVectors(words, v)
    import tempfile, pathlib
    with tempfile.TemporaryDirectory() as d:
        q = pathlib.Path(d) / "q.txt"
        q.write_text(": s\nA1 B1 A2 B2\na1 b1 a2 noise\nzz b1 a2 b2\n")
        r = wv.evaluate_word_analogies(q)
    assert r["correct"] == 1 and r["incorrect"] == 1 and r["oov"] == 1 and r["accuracy"] == 0.5


def test_word_pairs_equal_gensim(both):
    wv, g = both
    ours = wv.evaluate_word_pairs(WORDSIM)
    pearson, spearman, oov = g.evaluate_word_pairs(str(WORDSIM))
    assert ours["pearson"] == pytest.approx(pearson[0], abs=1e-4)  # float32 cosines round differently
    assert ours["spearman"] == pytest.approx(spearman[0], abs=1e-4)
    assert ours["oov_ratio"] * 100 == pytest.approx(oov)


def test_word_pairs_file_variants_and_ties(tmp_path):
    wv = KeyedVectors(["a", "b", "c", "d"], np.random.default_rng(1).normal(size=(4, 5)).astype(np.float32))
    f = tmp_path / "p.txt"
    f.write_bytes(b"# comment\r\na b 1.0\r\nA c 1.0\r\nc\td\t3\r\nx y 2\r\n\r\n")
    r = wv.evaluate_word_pairs(f)
    assert r["pairs"] == 3 and r["oov_ratio"] == pytest.approx(0.25)
    from scipy.stats import spearmanr, pearsonr
    human = [1.0, 1.0, 3.0]
    model = [wv.similarity("a", "b"), wv.similarity("a", "c"), wv.similarity("c", "d")]
    assert r["spearman"] == pytest.approx(spearmanr(human, model)[0])
    assert r["pearson"] == pytest.approx(pearsonr(human, model)[0])
    f.write_text("a b 1\na b\n")
    with pytest.raises(FormatError, match="line 2"):
        wv.evaluate_word_pairs(f)
