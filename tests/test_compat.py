"""fastw2v.compat: gensim's documented examples and a port of gensim's own public-API tests.

Each gensim example runs twice where it matters, once with ``gensim.models``
and once with the import changed to ``fastw2v.compat``, and the two are
compared: shapes, types and, on the same vectors, the values of every query.
gensim is installed by ``make test``; without it those comparisons are skipped.
"""
import bz2
import os

import numpy as np
import pytest

from fastw2v import compat
from fastw2v.compat import KeyedVectors, LineSentence, PathLineSentences, Word2Vec
from fastw2v.errors import ConfigError, FormatError

gensim = pytest.importorskip("gensim")
from gensim.models import KeyedVectors as GKeyedVectors  # noqa: E402
from gensim.models import Word2Vec as GWord2Vec  # noqa: E402
from gensim.test.utils import common_texts, datapath, lee_corpus_list  # noqa: E402
from gensim import utils as gutils  # noqa: E402

NEW_SENTENCES = [
    ["computer", "artificial", "intelligence"],
    ["artificial", "trees"],
    ["human", "intelligence"],
    ["artificial", "graph"],
    ["intelligence"],
    ["artificial", "intelligence", "system"],
]
THREADS = 2


def _rule(word, count, min_count):
    return compat.RULE_DISCARD if word == "human" else compat.RULE_DEFAULT


def _write_lines(path, sentences):
    path.write_text("".join(" ".join(s) + "\n" for s in sentences))
    return str(path)


@pytest.fixture(scope="module")
def lee_file(tmp_path_factory):
    return _write_lines(tmp_path_factory.mktemp("lee") / "lee.txt", lee_corpus_list)


@pytest.fixture(scope="module")
def lee_vectors(tmp_path_factory):
    """Vectors trained by compat on the Lee corpus, saved as word2vec binary (one thread: deterministic)."""
    m = Word2Vec(lee_corpus_list, vector_size=32, min_count=2, epochs=20, sg=1, seed=5, workers=1)
    path = tmp_path_factory.mktemp("kv") / "lee.bin"
    m.wv.save_word2vec_format(str(path), binary=True)
    return str(path)


# ----------------------------------------------------------- documented examples
def test_word2vec_docstring_example_runs_like_gensim(tmp_path):
    """The first example of gensim's Word2Vec documentation, import changed."""
    results = {}
    for name, W2V, KV in (("gensim", GWord2Vec, GKeyedVectors), ("fastw2v", Word2Vec, KeyedVectors)):
        model = W2V(sentences=common_texts, vector_size=100, window=5, min_count=1, workers=4)
        model.save(str(tmp_path / f"{name}.model"))
        model = W2V.load(str(tmp_path / f"{name}.model"))
        trained = model.train([["hello", "world"]], total_examples=1, epochs=1)
        vector = model.wv["computer"]
        sims = model.wv.most_similar("computer", topn=10)
        word_vectors = model.wv
        word_vectors.save(str(tmp_path / f"{name}.wordvectors"))
        wv = KV.load(str(tmp_path / f"{name}.wordvectors"), mmap="r")
        results[name] = dict(trained=trained, shape=vector.shape, dtype=vector.dtype, n_sims=len(sims),
                             sim_types={(type(w), type(s)) for w, s in sims}, keys=set(wv.index_to_key),
                             reloaded=np.allclose(wv["computer"], model.wv["computer"]),
                             counts={w: model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key})
    g, f = results["gensim"], results["fastw2v"]
    assert f["trained"] == g["trained"] == (0, 2)  # no known word: nothing trained, 2 words read
    assert f["shape"] == g["shape"] == (100,) and f["dtype"] == g["dtype"] == np.float32
    assert f["n_sims"] == g["n_sims"] == 10 and f["sim_types"] == g["sim_types"] == {(str, float)}
    assert f["keys"] == g["keys"] and f["reloaded"] and g["reloaded"]
    assert f["counts"] == g["counts"]


def test_keyedvectors_docstring_training_and_phrases_examples(tmp_path):
    """gensim's KeyedVectors docstring (train, keep wv, save, reload) and its Phrases example."""
    from gensim.models import Phrases
    model = Word2Vec(lee_corpus_list, vector_size=24, epochs=20, workers=THREADS)  # the docs say 100: kept short
    word_vectors = model.wv
    word_vectors.save(str(tmp_path / "vectors.kv"))
    reloaded_word_vectors = KeyedVectors.load(str(tmp_path / "vectors.kv"))
    assert reloaded_word_vectors.index_to_key == word_vectors.index_to_key
    assert np.array_equal(reloaded_word_vectors.vectors, word_vectors.vectors)
    assert reloaded_word_vectors.vectors.shape == (len(word_vectors), 24)
    bigram_transformer = Phrases(common_texts)
    model = Word2Vec(bigram_transformer[common_texts], min_count=1)
    g = GWord2Vec(bigram_transformer[common_texts], min_count=1)
    assert set(model.wv.index_to_key) == set(g.wv.index_to_key)


def test_keyedvectors_docstring_examples(lee_vectors):
    """gensim's KeyedVectors examples on the same vectors: every answer equals gensim's."""
    g = GKeyedVectors.load_word2vec_format(lee_vectors, binary=True)
    f = KeyedVectors.load_word2vec_format(lee_vectors, binary=True)
    assert f.index_to_key == g.index_to_key and np.array_equal(f.vectors, g.vectors)

    def same_list(a, b):
        assert [w for w, _ in a] == [w for w, _ in b]
        assert np.allclose([s for _, s in a], [s for _, s in b], atol=1e-5)

    same_list(f.most_similar(positive=["police", "fire"], negative=["government"]),
              g.most_similar(positive=["police", "fire"], negative=["government"]))
    same_list(f.most_similar_cosmul(positive=["police", "fire"], negative=["government"]),
              g.most_similar_cosmul(positive=["police", "fire"], negative=["government"]))
    same_list(f.most_similar("war", topn=5), g.most_similar("war", topn=5))
    same_list(f.most_similar([("war", 1.0), ("fire", 0.5)], topn=5), g.most_similar([("war", 1.0), ("fire", 0.5)], topn=5))
    same_list(f.most_similar("war", restrict_vocab=200), g.most_similar("war", restrict_vocab=200))
    same_list(f.similar_by_word("australia"), g.similar_by_word("australia"))
    same_list(f.similar_by_vector(g["australia"], topn=4), g.similar_by_vector(g["australia"], topn=4))
    assert np.allclose(f.most_similar("war", topn=None), g.most_similar("war", topn=None), atol=1e-5)
    assert np.allclose(f.most_similar_cosmul("war", topn=None), g.most_similar_cosmul("war", topn=None), atol=1e-5)
    assert f.most_similar("war", topn=0) == g.most_similar("war", topn=0) == []
    words = "fire police government war".split()
    assert f.doesnt_match(words) == g.doesnt_match(words)
    assert f.similarity("police", "fire") == pytest.approx(float(g.similarity("police", "fire")), abs=1e-6)
    assert f.distance("police", "police") == pytest.approx(0.0, abs=1e-6)
    assert f.n_similarity(["police", "fire"], ["war", "government"]) == pytest.approx(
        float(g.n_similarity(["police", "fire"], ["war", "government"])), abs=1e-6)
    assert np.allclose(f.get_vector("war", norm=True), g.get_vector("war", norm=True), atol=1e-6)
    assert np.allclose(f.distances("war", ["fire", "police"]), g.distances("war", ["fire", "police"]), atol=1e-6)
    assert f.rank("war", "fire") == g.rank("war", "fire")
    assert f.closer_than("war", "fire") == g.closer_than("war", "fire")
    assert f.get_index("war") == g.get_index("war") and f.get_index("no-such-word", -1) == -1
    with pytest.raises(KeyError):
        f.most_similar("no-such-word")
    assert np.allclose(f.get_mean_vector(["war", "fire"]), g.get_mean_vector(["war", "fire"]), atol=1e-6)
    f.fill_norms()
    assert np.allclose(f.norms, g.norms, atol=1e-5)
    assert np.allclose(KeyedVectors.cosine_similarities(f["war"], f.vectors[:5]),
                       GKeyedVectors.cosine_similarities(g["war"], g.vectors[:5]), atol=1e-6)
    assert f.rank_by_centrality(words)[0][1] == g.rank_by_centrality(words)[0][1]


def test_evaluations_return_gensim_shapes_and_values(lee_vectors):
    g = GKeyedVectors.load_word2vec_format(lee_vectors, binary=True)
    f = KeyedVectors.load_word2vec_format(lee_vectors, binary=True)
    gp, gs, goov = g.evaluate_word_pairs(datapath("wordsim353.tsv"))
    fp, fs, foov = f.evaluate_word_pairs(datapath("wordsim353.tsv"))
    assert fp[0] == pytest.approx(gp[0], abs=1e-5) and fp[1] == pytest.approx(gp[1], rel=1e-3)
    assert fs[0] == pytest.approx(gs[0], abs=1e-5) and fs.correlation == pytest.approx(gs.correlation, abs=1e-5)
    assert fs[1] == pytest.approx(gs[1], rel=1e-3)
    assert foov == pytest.approx(goov)  # a percentage, as gensim's
    gscore, gsections = g.evaluate_word_analogies(datapath("questions-words.txt"))
    fscore, fsections = f.evaluate_word_analogies(datapath("questions-words.txt"))
    assert fscore == pytest.approx(gscore)
    assert [s["section"] for s in fsections] == [s["section"] for s in gsections]
    for a, b in zip(fsections, gsections):
        assert sorted(a["correct"]) == sorted(b["correct"]) and sorted(a["incorrect"]) == sorted(b["incorrect"])


def test_word2vec_tutorial_flow(tmp_path):
    """gensim's word2vec tutorial (a streamed corpus class, queries, save/load, online training, loss)."""
    class MyCorpus:
        def __iter__(self):
            for line in open(datapath("lee_background.cor"), encoding="utf-8"):
                yield gutils.simple_preprocess(line)

    sentences = MyCorpus()
    model = Word2Vec(sentences=sentences, workers=THREADS)
    vec_king = model.wv["king"]
    assert vec_king.shape == (100,)
    assert model.wv.index_to_key[0] == "the" and len(model.wv.index_to_key) == len(model.wv)
    pairs = model.wv.most_similar(positive=["car", "police"], topn=5)
    assert len(pairs) == 5 and all(isinstance(w, str) and isinstance(s, float) for w, s in pairs)
    assert model.wv.doesnt_match(["fire", "water", "land", "sea", "air", "car"]) in ("fire", "water", "land", "sea",
                                                                                     "air", "car")
    path = str(tmp_path / "gensim-model")
    model.save(path)
    new_model = Word2Vec.load(path)
    assert np.array_equal(new_model.wv.vectors, model.wv.vectors)
    assert Word2Vec(sentences, min_count=10, workers=THREADS).wv.vectors.shape[0] < len(model.wv)
    assert Word2Vec(sentences, vector_size=200, workers=THREADS).wv.vectors.shape[1] == 200
    score, sections = model.wv.evaluate_word_analogies(datapath("questions-words.txt"))
    assert 0.0 <= score <= 1.0 and sections[-1]["section"] == "Total accuracy"
    pearson, spearman, oov = model.wv.evaluate_word_pairs(datapath("wordsim353.tsv"))
    assert -1 <= pearson[0] <= 1 and 0 <= oov <= 100
    # online training
    more_sentences = [["Advanced", "users", "can", "load", "a", "model", "and", "continue", "training", "it", "with",
                       "more", "sentences"]]
    new_model.build_vocab(more_sentences * 5, update=True)
    new_model.train(more_sentences, total_examples=new_model.corpus_count, epochs=new_model.epochs)
    assert "Advanced" in new_model.wv
    # training loss
    model = Word2Vec(sentences=sentences, min_count=1, compute_loss=True, hs=0, sg=1, seed=42, workers=THREADS)
    assert model.get_latest_training_loss() > 0


# ----------------------------------------------------------------- vocabulary
def test_vocabulary_counts_and_pruning_match_gensim():
    for kwargs in ({"min_count": 1}, {"min_count": 2}, {"min_count": 5}):
        g = GWord2Vec(lee_corpus_list, epochs=1, **kwargs)
        f = Word2Vec(lee_corpus_list, epochs=1, workers=THREADS, **kwargs)
        assert {w: f.wv.get_vecattr(w, "count") for w in f.wv.index_to_key} == \
            {w: g.wv.get_vecattr(w, "count") for w in g.wv.index_to_key}
        assert f.corpus_count == g.corpus_count and f.corpus_total_words == g.corpus_total_words
    counts = [f.wv.get_vecattr(w, "count") for w in f.wv.index_to_key]
    assert counts == sorted(counts, reverse=True)


def test_trim_rule_and_max_final_vocab():
    assert "human" not in Word2Vec(common_texts, min_count=1, trim_rule=_rule).wv
    m = Word2Vec(common_texts + [["occurs_only_once"]], min_count=2, trim_rule=_rule)
    assert "human" not in m.wv and "occurs_only_once" not in m.wv and "interface" in m.wv
    keep_all = Word2Vec(common_texts + [["x1"]], min_count=5, trim_rule=lambda w, c, m: compat.RULE_KEEP)
    assert "x1" in keep_all.wv
    m = Word2Vec(min_count=1)
    m.build_vocab(common_texts, trim_rule=_rule)
    assert "human" not in m.wv
    for max_final, min_count in ((4, 4), (4, 2), (100, 1), (1, 1)):
        g = GWord2Vec(common_texts, max_final_vocab=max_final, min_count=min_count, sample=0)
        f = Word2Vec(common_texts, max_final_vocab=max_final, min_count=min_count, sample=0)
        assert set(f.wv.index_to_key) == set(g.wv.index_to_key), (max_final, min_count)


def test_build_vocab_from_freq():
    freq = {"minors": 2, "graph": 3, "system": 4, "trees": 3, "eps": 2, "computer": 2, "survey": 2, "user": 3,
            "human": 2, "time": 2, "interface": 2, "response": 2}
    for hs, neg in ((1, 0), (0, 5)):
        m = Word2Vec(vector_size=10, min_count=0, seed=42, hs=hs, negative=neg)
        m.build_vocab_from_freq(freq)
        assert len(m.wv) == 12 and all(m.wv.get_vecattr(k, "count") == v for k, v in freq.items())
        m.build_vocab_from_freq({"computer": 1, "artificial": 4, "human": 1, "graph": 1, "intelligence": 4,
                                 "system": 1, "trees": 1}, update=True)
        assert m.wv.get_vecattr("graph", "count") == 4 and m.wv.get_vecattr("artificial", "count") == 4
        assert len(m.wv) == 14


def test_empty_corpus_or_vocabulary_is_runtime_error():
    with pytest.raises(RuntimeError):
        Word2Vec([])
    with pytest.raises(RuntimeError):
        Word2Vec(lee_corpus_list, min_count=10 ** 9)


# ------------------------------------------------------------------- training
def _model_sanity(model, corpus_file=None):
    """gensim's model_sanity: after training on Lee, 'bombings' ranks in the top 50 neighbours of 'attacks'."""
    model.build_vocab(lee_corpus_list)
    orig0 = np.copy(model.wv.vectors[0])
    if corpus_file:
        model.train(corpus_file=corpus_file, total_words=model.corpus_total_words, epochs=model.epochs)
    else:
        model.train(lee_corpus_list, total_examples=model.corpus_count, epochs=model.epochs)
    assert not np.array_equal(orig0, model.wv.vectors[0])
    sims = model.wv.most_similar("attacks", topn=len(model.wv.index_to_key))
    assert [w for w, _ in sims].index("bombings") < 50
    sims2 = model.wv.most_similar([model.wv["attacks"]], topn=51)
    assert "attacks" in [w for w, _ in sims2] and "bombings" in [w for w, _ in sims2]


@pytest.mark.parametrize("settings", [
    dict(sg=1, window=4, hs=1, negative=0, min_count=5, epochs=10),
    dict(sg=1, window=4, hs=0, negative=15, min_count=5, epochs=10),
    dict(sg=0, cbow_mean=1, alpha=0.1, window=2, hs=1, negative=0, min_count=5, epochs=60),
    dict(sg=0, cbow_mean=1, alpha=0.05, window=5, hs=0, negative=15, min_count=5, epochs=10, sample=0),
], ids=["sg_hs", "sg_neg", "cbow_hs", "cbow_neg"])
@pytest.mark.parametrize("from_file", [False, True], ids=["sentences", "file"])
def test_training_sg_cbow_hs_neg(settings, from_file, lee_file):
    # one thread: a fixed seed gives one answer (with two, cbow_neg ranked "bombings" 52nd in about 1 run of 15)
    _model_sanity(Word2Vec(workers=1, **settings), corpus_file=lee_file if from_file else None)


@pytest.mark.parametrize("sg,hs,neg", [(0, 1, 0), (1, 0, 2), (0, 0, 2)])
def test_training_shapes_and_query_by_vector(sg, hs, neg):
    model = Word2Vec(vector_size=2, min_count=1, sg=sg, hs=hs, negative=neg)
    model.build_vocab(common_texts)
    assert model.wv.vectors.shape == (len(model.wv), 2)
    assert (model.syn1 if hs else model.syn1neg).shape == (len(model.wv), 2)
    with pytest.raises(AttributeError):
        model.syn1neg if hs else model.syn1
    model.train(common_texts, total_examples=model.corpus_count, epochs=model.epochs)
    sims = model.wv.most_similar("graph", topn=10)
    sims2 = model.wv.most_similar(positive=[model.wv.get_vector("graph", norm=True)], topn=11)
    assert sims == [(w, s) for w, s in sims2 if w != "graph"] or \
        [w for w, _ in sims] == [w for w, _ in sims2 if w != "graph"]
    cos = model.wv.most_similar_cosmul("graph", topn=10)
    cos2 = model.wv.most_similar_cosmul(positive=[model.wv.get_vector("graph", norm=True)], topn=11)
    assert [w for w, _ in cos] == [w for w, _ in cos2 if w != "graph"]


def test_one_step_equals_two_steps_single_thread():
    """Constructor with a corpus == build_vocab + train, as in gensim's test_training (same seed, one thread)."""
    a = Word2Vec(common_texts, vector_size=4, min_count=1, workers=1, seed=3)
    b = Word2Vec(vector_size=4, min_count=1, workers=1, seed=3)
    b.build_vocab(common_texts)
    b.train(common_texts, total_examples=b.corpus_count, epochs=b.epochs)
    assert a.wv.index_to_key == b.wv.index_to_key
    assert len(a.wv) == len(b.wv)
    # same settings and seed, one thread: the same model twice (gensim's test_r_n_g)
    c = Word2Vec(common_texts, vector_size=4, min_count=1, workers=1, seed=3)
    assert np.array_equal(a.wv.vectors, c.wv.vectors) and np.array_equal(a.syn1neg, c.syn1neg)


def test_train_argument_checks():
    model = Word2Vec(vector_size=2, min_count=1, hs=1, negative=0)
    with pytest.raises(RuntimeError):
        model.train(common_texts, total_examples=9, epochs=1)  # no vocabulary yet
    model.build_vocab(common_texts)
    with pytest.raises(ValueError):
        model.train(common_texts, total_examples=model.corpus_count)
    with pytest.raises(ValueError):
        model.train(common_texts, epochs=model.epochs)
    with pytest.raises(TypeError):
        model.train(corpus_iterable=common_texts, corpus_file="x.txt", total_examples=9, epochs=1)
    with pytest.raises(TypeError):
        model.train((s for s in common_texts), total_examples=9, epochs=2)  # a generator cannot be re-read
    with pytest.warns(compat.CompatWarning, match="alpha"):
        model.train(common_texts, total_examples=9, epochs=1, start_alpha=0.5)
    with pytest.warns(compat.CompatWarning, match="word_count"):
        model.train(common_texts, total_examples=9, epochs=1, word_count=100)


def test_unsupported_settings_fail_or_warn_clearly():
    with pytest.raises(ConfigError, match="negative=0"):
        Word2Vec(common_texts, hs=1, negative=5)
    with pytest.raises(ValueError):
        Word2Vec(common_texts, hs=0, negative=0)
    with pytest.raises(ConfigError, match="cbow_mean"):
        Word2Vec(common_texts, cbow_mean=0)
    Word2Vec(common_texts, cbow_mean=0, sg=1, min_count=1)  # no CBOW, no meaning: accepted as gensim does
    with pytest.raises(ConfigError, match="shrink_windows"):
        Word2Vec(shrink_windows=False)
    with pytest.raises(ConfigError):
        Word2Vec(null_word=1)
    with pytest.warns(compat.CompatWarning, match="sorted_vocab"):
        Word2Vec(sorted_vocab=0)
    with pytest.warns(compat.CompatWarning, match="max_vocab_size"):
        Word2Vec(max_vocab_size=1000)
    model = Word2Vec(common_texts, min_count=1)
    with pytest.raises(ConfigError, match="vectors_lockf"):
        model.wv.vectors_lockf = np.zeros(len(model.wv), dtype=np.float32)
    model.wv.vectors_lockf = np.ones(len(model.wv), dtype=np.float32)  # the default: fine


def test_negative_ns_exponent_saved_and_used(tmp_path):
    model = Word2Vec(common_texts, ns_exponent=-1, min_count=1, workers=1)
    model.save(str(tmp_path / "m"))
    loaded = Word2Vec.load(str(tmp_path / "m"))
    loaded.train(common_texts, total_examples=model.corpus_count, epochs=1)
    assert loaded.ns_exponent == -1
    from fastw2v.trainer import build_tables
    counts = np.array([8, 4, 2, 1])
    prob, alias, logq, *_ = build_tables(counts, loaded.fastw2v_model.config)
    expected = counts ** -1.0 / (counts ** -1.0).sum()
    assert np.allclose(np.exp(logq) / loaded.negative, expected, rtol=1e-5)


# ------------------------------------------------------------ online learning
def test_online_vocabulary_growth_counts():
    for hs, neg in ((1, 0), (0, 5)):
        m = Word2Vec(common_texts, vector_size=10, min_count=0, seed=42, hs=hs, negative=neg)
        g = GWord2Vec(common_texts, vector_size=10, min_count=0, seed=42, hs=hs, negative=neg)
        assert len(m.wv) == 12
        vectors_before = m.wv.vectors.copy()
        m.build_vocab(NEW_SENTENCES, update=True)
        g.build_vocab(NEW_SENTENCES, update=True)
        assert len(m.wv) == len(g.wv) == 14
        assert {w: m.wv.get_vecattr(w, "count") for w in m.wv.index_to_key} == \
            {w: g.wv.get_vecattr(w, "count") for w in g.wv.index_to_key}
        assert m.wv.index_to_key[:12] == m.wv.index_to_key[:12] and np.array_equal(m.wv.vectors[:12], vectors_before)
        assert m.wv.vectors.shape == (14, 10) and np.abs(m.wv.vectors[12:]).max() > 0  # new rows initialised
        out = m.syn1 if hs else m.syn1neg
        assert out.shape == (14, 10) and not out[12:].any()
        m.train(NEW_SENTENCES, total_examples=m.corpus_count, epochs=m.epochs)
        assert np.isfinite(m.wv.vectors).all()


def test_online_learning_after_save(tmp_path, lee_file):
    corpus_file = _write_lines(tmp_path / "c.txt", common_texts)
    new_file = _write_lines(tmp_path / "n.txt", NEW_SENTENCES)
    m = Word2Vec(corpus_file=corpus_file, vector_size=10, min_count=0, seed=42)
    m.save(str(tmp_path / "m"))
    m = Word2Vec.load(str(tmp_path / "m"))
    m.train(corpus_file=corpus_file, total_words=m.corpus_total_words, epochs=m.epochs)
    m.build_vocab(corpus_file=new_file, update=True)
    m.train(corpus_file=new_file, total_words=m.corpus_total_words, epochs=m.epochs)
    assert len(m.wv) == 14
    with pytest.raises(RuntimeError):
        Word2Vec().build_vocab(NEW_SENTENCES, update=True)


@pytest.mark.parametrize("settings", [
    dict(sg=1, window=5, hs=1, negative=0, min_count=3, epochs=10, seed=42),
    dict(sg=1, window=4, hs=0, negative=15, min_count=3, epochs=10, seed=42),
    dict(sg=0, cbow_mean=1, alpha=0.05, window=5, hs=1, negative=0, min_count=3, epochs=20, seed=42),
    dict(sg=0, cbow_mean=1, alpha=0.05, window=5, hs=0, negative=15, min_count=5, epochs=10, seed=42, sample=0),
], ids=["sg_hs", "sg_neg", "cbow_hs", "cbow_neg"])
def test_online_sanity(settings):
    """gensim's onlineSanity: train without 'terrorism', add it, train on it; it lands near 'war'."""
    model = Word2Vec(workers=THREADS, **settings)
    terro = [s for s in lee_corpus_list if "terrorism" in s]
    others = [s for s in lee_corpus_list if "terrorism" not in s]
    model.build_vocab(others)
    model.train(others, total_examples=model.corpus_count, epochs=model.epochs)
    assert "terrorism" not in model.wv
    model.build_vocab(terro, update=True)
    assert "terrorism" in model.wv
    orig = np.copy(model.wv.vectors)
    model.train(terro, total_examples=len(terro), epochs=model.epochs)
    assert not np.allclose(model.wv.vectors, orig)
    assert model.wv.n_similarity(["war"], ["terrorism"]) > 0


def test_huffman_tree_after_growth_is_a_prefix_code():
    from fastw2v.huffman import build_huffman
    counts = np.array([50, 30, 20, 10, 5, 40, 1, 25])  # appended words break the order
    points, codes, lens = build_huffman(counts)
    ref_points, ref_codes, ref_lens = build_huffman(np.sort(counts)[::-1])
    order = np.argsort(-counts, kind="stable")
    assert np.array_equal(lens[order], ref_lens)  # the same tree as for the sorted counts
    paths = {tuple(codes[w, :lens[w]]) for w in range(len(counts))}
    assert len(paths) == len(counts)
    for a in paths:
        assert not any(b != a and b[:len(a)] == a for b in paths)


# ---------------------------------------------------------- loss and callbacks
class Recorder(compat.CallbackAny2Vec):
    def __init__(self, save_to=None):
        self.events, self.losses, self.neighbours, self.save_to = [], [], [], save_to

    def on_train_begin(self, model):
        self.events.append("train_begin")

    def on_epoch_begin(self, model):
        self.events.append("epoch_begin")

    def on_epoch_end(self, model):
        self.events.append("epoch_end")
        self.losses.append(model.get_latest_training_loss())
        self.neighbours.append(model.wv.most_similar(model.wv.index_to_key[0], topn=3))
        if self.save_to:
            model.save(self.save_to)

    def on_train_end(self, model):
        self.events.append("train_end")


def test_callbacks_order_loss_per_epoch_and_save_inside(tmp_path):
    rec = Recorder(save_to=str(tmp_path / "during.model"))
    model = Word2Vec(lee_corpus_list, sg=1, min_count=2, epochs=4, compute_loss=True, callbacks=[rec],
                     workers=THREADS)
    assert rec.events == ["train_begin"] + ["epoch_begin", "epoch_end"] * 4 + ["train_end"]
    assert len(rec.losses) == 4 and all(x > 0 for x in rec.losses)
    # per epoch, not a running sum: the epochs see the same examples, and the loss falls as training converges
    assert rec.losses[-1] < rec.losses[0]
    assert model.get_latest_training_loss() == rec.losses[-1]
    # queries from a callback see the vectors of that moment, not unit vectors cached an epoch earlier
    assert rec.neighbours[-1] == model.wv.most_similar(model.wv.index_to_key[0], topn=3)
    assert all(a != b for a, b in zip(rec.neighbours, rec.neighbours[1:]))
    saved = Word2Vec.load(str(tmp_path / "during.model"))  # written from inside the last epoch's callback
    assert np.array_equal(saved.wv.vectors, model.wv.vectors)
    rec2 = Recorder()
    model.train(lee_corpus_list, total_examples=model.corpus_count, epochs=2, callbacks=[rec2])
    assert rec2.events == ["train_begin"] + ["epoch_begin", "epoch_end"] * 2 + ["train_end"]


def test_latest_loss_is_a_float64_sum_of_one_epoch():
    model = Word2Vec(lee_corpus_list, sg=1, min_count=1, epochs=1, sample=0, workers=1, seed=2)
    loss = model.get_latest_training_loss()
    h = model.fastw2v_model.history[-1]
    assert isinstance(loss, float) and loss == pytest.approx(h["loss_sum"])
    assert loss > 1000 * h["loss"]  # a sum over the epoch's examples, not a mean


@pytest.mark.parametrize("sg,hs,neg", [(1, 0, 5), (0, 0, 5), (1, 1, 0), (0, 1, 0)])
def test_loss_means_what_gensims_means(sg, hs, neg):
    """One epoch: the same summed loss as gensim's (measured within 3%); over several epochs gensim's
    running total is the sum of our per-epoch values."""
    kw = dict(sg=sg, hs=hs, negative=neg, compute_loss=True, workers=1, seed=1)
    g = GWord2Vec(lee_corpus_list, epochs=1, **kw)
    f = Word2Vec(lee_corpus_list, epochs=1, **kw)
    assert f.get_latest_training_loss() == pytest.approx(g.get_latest_training_loss(), rel=0.1)
    rec = Recorder()
    g3 = GWord2Vec(lee_corpus_list, epochs=3, **kw)
    Word2Vec(lee_corpus_list, epochs=3, callbacks=[rec], **kw)
    assert sum(rec.losses) == pytest.approx(g3.get_latest_training_loss(), rel=0.1)


# ---------------------------------------------------------------- persistence
def test_persistence_and_keyedvectors_persistence(tmp_path):
    model = Word2Vec(common_texts, min_count=1, trim_rule=_rule)
    model.save(str(tmp_path / "m.model"))
    loaded = Word2Vec.load(str(tmp_path / "m.model"))
    assert loaded.wv.index_to_key == model.wv.index_to_key
    assert np.array_equal(loaded.wv.vectors, model.wv.vectors) and np.array_equal(loaded.syn1neg, model.syn1neg)
    assert (loaded.sg, loaded.hs, loaded.negative, loaded.window, loaded.vector_size) == (0, 0, 5, 5, 100)
    loaded.build_vocab(lee_corpus_list, update=True)
    loaded.train(lee_corpus_list, total_examples=loaded.corpus_count, epochs=loaded.epochs)
    model.wv.save(str(tmp_path / "kv"))
    kv = KeyedVectors.load(str(tmp_path / "kv"))
    assert np.allclose(kv.vectors, model.wv.vectors) and len(kv) == len(model.wv)
    assert kv.get_vecattr("graph", "count") == 3
    with pytest.raises(ConfigError, match="build_vocab"):
        Word2Vec().save(str(tmp_path / "empty.model"))
    # a model saved with a word2vec-looking extension is still the native model
    model.save(str(tmp_path / "m.bin"))
    assert Word2Vec.load(str(tmp_path / "m.bin")).wv.index_to_key == model.wv.index_to_key


def test_gensim_pickle_is_refused_with_directions(tmp_path):
    g = GWord2Vec(common_texts, min_count=1, vector_size=8)
    g.save(str(tmp_path / "g.model"))
    g.wv.save(str(tmp_path / "g.kv"))
    with pytest.raises(FormatError, match="save_word2vec_format"):
        Word2Vec.load(str(tmp_path / "g.model"))
    with pytest.raises(FormatError, match="allow_gensim_pickle"):
        KeyedVectors.load(str(tmp_path / "g.kv"))
    m = Word2Vec.load(str(tmp_path / "g.model"), allow_gensim_pickle=True)  # trusted file: explicit opt-in
    assert m.wv.index_to_key == g.wv.index_to_key and np.array_equal(m.wv.vectors, g.wv.vectors)
    assert np.array_equal(m.syn1neg, g.syn1neg)
    m.train(common_texts, total_examples=m.corpus_count, epochs=1)
    kv = KeyedVectors.load(str(tmp_path / "g.kv"), allow_gensim_pickle=True)
    assert np.array_equal(kv.vectors, g.wv.vectors)


@pytest.mark.parametrize("binary", [True, False])
def test_word2vec_format_both_ways_with_gensim(tmp_path, binary):
    model = Word2Vec(common_texts, min_count=1)
    model.build_vocab(NEW_SENTENCES * 3, update=True)  # unsorted counts: written most frequent first
    vec, vocab = str(tmp_path / "v"), str(tmp_path / "vocab")
    model.wv.save_word2vec_format(vec, vocab, binary=binary)
    g = GKeyedVectors.load_word2vec_format(vec, vocab, binary=binary)
    atol = 0 if binary else 1e-5
    for w in model.wv.index_to_key:
        assert np.allclose(g[w], model.wv[w], atol=atol, rtol=1e-5)
        assert g.get_vecattr(w, "count") == model.wv.get_vecattr(w, "count")
    counts = [g.get_vecattr(w, "count") for w in g.index_to_key]
    assert counts == sorted(counts, reverse=True)
    g.save_word2vec_format(vec, vocab, binary=binary)
    f = KeyedVectors.load_word2vec_format(vec, vocab, binary=binary)
    assert f.index_to_key == g.index_to_key and np.allclose(f.vectors, g.vectors, atol=1e-6)
    assert f.get_vecattr("artificial", "count") == g.get_vecattr("artificial", "count")
    assert len(KeyedVectors.load_word2vec_format(vec, binary=binary, limit=3)) == 3
    normed = KeyedVectors.load_word2vec_format(vec, binary=binary)
    normed.unit_normalize_all()
    assert np.allclose(normed["human"], f.get_vector("human", norm=True), atol=1e-6)


def test_gensim_test_data_files_load():
    f = KeyedVectors.load_word2vec_format(datapath("word2vec_pre_kv_c"), binary=False)
    g = GKeyedVectors.load_word2vec_format(datapath("word2vec_pre_kv_c"), binary=False)
    assert f.index_to_key == g.index_to_key and np.allclose(f.vectors, g.vectors)
    f = KeyedVectors.load_word2vec_format(datapath("euclidean_vectors.bin"), binary=True)
    g = GKeyedVectors.load_word2vec_format(datapath("euclidean_vectors.bin"), binary=True)
    assert f.index_to_key == g.index_to_key and np.array_equal(f.vectors, g.vectors)


def test_keyedvectors_built_by_hand():
    kv = KeyedVectors(3)
    kv.add_vectors(["a", "b"], np.eye(2, 3))
    kv["c"] = np.array([0, 0, 1.0])
    kv.add_vector("d", [1, 1, 0])
    assert kv.index_to_key == ["a", "b", "c", "d"] and kv.vectors.shape == (4, 3)
    assert kv.most_similar("d", topn=2)[0][0] in ("a", "b")
    assert kv.most_similar_to_given("a", ["b", "c", "d"]) == "d"


# ---------------------------------------------------------------- corpora
def test_line_sentence_and_path_line_sentences_match_gensim(tmp_path):
    from gensim.models.word2vec import LineSentence as GLineSentence, PathLineSentences as GPath
    src = datapath("lee_background.cor")
    assert list(LineSentence(src)) == list(GLineSentence(src))
    assert list(LineSentence(src, limit=5)) == list(GLineSentence(src, limit=5))
    assert list(LineSentence(src, max_sentence_length=7)) == list(GLineSentence(src, max_sentence_length=7))
    with open(src, "rb") as fh:
        assert list(LineSentence(fh)) == list(GLineSentence(src))
    assert list(LineSentence(bz2.BZ2File(datapath("head500.noblanks.cor.bz2")))) == \
        list(GLineSentence(datapath("head500.noblanks.cor")))
    assert list(PathLineSentences(datapath("PathLineSentences"))) == list(GPath(datapath("PathLineSentences")))
    one = os.path.join(datapath("PathLineSentences"), "1.txt")
    assert list(PathLineSentences(one)) == list(GPath(one))


def test_line_sentence_is_read_natively_with_the_same_vocabulary(lee_file):
    assert compat._native_source(LineSentence(lee_file)) == lee_file
    assert compat._native_source(LineSentence(lee_file, limit=3)) is None
    from gensim.models.word2vec import LineSentence as GLineSentence
    assert compat._native_source(GLineSentence(lee_file)) == lee_file  # gensim's own class takes the fast path
    a = Word2Vec(LineSentence(lee_file), epochs=1, workers=THREADS)
    b = Word2Vec(corpus_file=lee_file, epochs=1, workers=THREADS)
    g = GWord2Vec(corpus_file=lee_file, epochs=1)
    for m in (a, b):
        assert {w: m.wv.get_vecattr(w, "count") for w in m.wv.index_to_key} == \
            {w: g.wv.get_vecattr(w, "count") for w in g.wv.index_to_key}
    assert a.corpus_total_words == g.corpus_total_words
