"""Subword (character n-gram) training: fastText's n-grams and hashes, the kernels, vectors for unseen words."""
import subprocess
import sys

import numpy as np
import pytest

import fastw2v
from fastw2v.config import TrainConfig
from fastw2v.errors import ConfigError
from fastw2v.kernels import driver
from fastw2v.kernels.rng import randbelow, seed_states
from fastw2v.sampler import alias_draw
from fastw2v.subwords import fnv1a_fasttext, ngram_rows, ngrams, subword_table

from .conftest import DEMO
from .test_kernels import D, K, _sentence, ref_ns, setup, sigmoid

# What fastText 0.9.2 (fasttext-wheel) answers for get_subwords with minn 3, maxn 6,
# bucket 2,000,000, minus its nwords: the n-grams and their bucket rows.
FASTTEXT_NGRAMS = {
    "the": (["<th", "<the", "<the>", "the", "the>", "he>"],
            [1151151, 409726, 1648960, 861980, 60934, 816280]),
    "café": (["<ca", "<caf", "<café", "<café>", "caf", "café", "café>", "afé", "afé>", "fé>"],
             [916747, 1991831, 794639, 17187, 369661, 454601, 761685, 960362, 1966012, 1609697]),
    "naïve": (["<na", "<naï", "<naïv", "<naïve", "naï", "naïv", "naïve", "naïve>", "aïv", "aïve", "aïve>",
               "ïve", "ïve>", "ve>"],
              [1806890, 1907692, 878190, 933201, 1590546, 1719404, 832043, 156687, 356832, 1223007, 1505331,
               1711570, 1788548, 1088654]),
    "a": (["<a>"], [1087600]),
}


@pytest.mark.parametrize("word", sorted(FASTTEXT_NGRAMS))
def test_ngrams_and_buckets_equal_fasttexts(word):
    grams, rows = FASTTEXT_NGRAMS[word]
    assert ngrams(word, 3, 6) == grams
    assert ngram_rows(word, 3, 6, 2_000_000, 0).tolist() == rows


def test_hash_sign_extends_bytes_as_fasttext_does():
    def textbook(data):
        h = 2166136261
        for b in data:
            h = ((h ^ b) * 16777619) & 0xFFFFFFFF
        return h

    assert fnv1a_fasttext(b"<the>") == textbook(b"<the>")  # ASCII: the same
    assert fnv1a_fasttext("é".encode()) != textbook("é".encode())  # bytes >= 0x80 differ
    assert fnv1a_fasttext(b"") == 2166136261


def test_ngram_rules():
    grams = ngrams("ab", 1, 2)
    assert "<" not in grams and ">" not in grams  # lone boundary characters are no n-grams
    assert grams == ["<a", "a", "ab", "b", "b>"]
    assert ngrams("日本", 2, 2) == ["<日", "日本", "本>"]  # characters, not bytes
    assert ngrams("word", 3, 0) == [] and ngrams("", 3, 6) == []


def test_table_equals_one_word_functions():
    rng = np.random.default_rng(0)
    alphabet = list("abcxyzé日ß🙂")
    words = ["".join(rng.choice(alphabet, size=rng.integers(1, 12))) for _ in range(200)]
    words = list(dict.fromkeys(words))
    for minn, maxn, buckets in [(3, 6, 2_000_000), (1, 3, 97), (2, 2, 10)]:
        ptr, ids = subword_table(words, minn, maxn, buckets)
        assert ptr.dtype == np.int64 and ids.dtype == np.int32 and ptr[0] == 0
        for w, word in enumerate(words):
            rows = ids[ptr[w]:ptr[w + 1]].tolist()
            assert rows == [w] + ngram_rows(word, minn, maxn, buckets, len(words)).tolist()
    ptr, ids = subword_table(words, 3, 0, 100)  # maxn 0: each word only its own row
    assert ids.tolist() == list(range(len(words)))


def test_table_equals_fasttext_package(tmp_path):
    fasttext = pytest.importorskip("fasttext")
    words = ["the", "cat", "a", "café", "naïve", "日本語", "Straße", "🙂ok", "x"]
    corpus = tmp_path / "c.txt"
    corpus.write_text((" ".join(words) + "\n") * 10, encoding="utf-8")
    for minn, maxn, bucket in [(3, 6, 2_000_000), (1, 4, 1000), (2, 5, 7)]:
        m = fasttext.train_unsupervised(str(corpus), model="skipgram", minCount=1, minn=minn, maxn=maxn,
                                        bucket=bucket, dim=4, epoch=1, verbose=0, thread=1)
        vocab = [w for w in m.words if w != "</s>"]
        ptr, ids = subword_table(m.words, minn, maxn, bucket)
        for word in vocab:
            i = m.words.index(word)
            grams, ft_ids = m.get_subwords(word)
            assert list(grams[1:]) == ngrams(word, minn, maxn)
            assert ids[ptr[i]:ptr[i + 1]].tolist() == [int(x) for x in ft_ids]
        for unseen in ["cafés", "日本", "zzz"]:
            grams, ft_ids = m.get_subwords(unseen)
            assert list(grams) == ngrams(unseen, minn, maxn)
            assert ngram_rows(unseen, minn, maxn, bucket, len(m.words)).tolist() == [int(x) for x in ft_ids]


# ------------------------------------------------------------------ kernels
def ref_sub_sentence(model, batched, sent, syn0, syn1, tables, window, alpha, state, ptr, ids, share=False):
    """NumPy replay of the subword sentence loops with the same random draws.

    A word's input is the mean of its rows ids[ptr[w]:ptr[w+1]]; the gradient of
    that mean goes, unscaled, to every row in the list (twice to a row listed twice).
    Skip-gram: the centre's vector predicts each context word; batched, it is
    composed once per window and updated once, with fresh draws per pair or (share)
    k draws shared by the window's m pairs (a draw equal to j of the true words
    weighs m - j); exact, one step per pair as fastText.
    """
    prob, alias = tables.noise_prob, tables.noise_alias
    syn0 = syn0.astype(np.float64).copy()
    syn1 = syn1.astype(np.float64).copy()
    rows_of = lambda w: ids[ptr[w]:ptr[w + 1]]  # noqa: E731
    n = len(sent)
    hits = 0
    for i in range(n):
        half = window - randbelow(state, window)
        ctx = [sent[j] for j in range(max(0, i - half), min(n, i + half + 1)) if j != i]
        if not ctx:
            continue
        if model == "cbow":
            rows = np.concatenate([rows_of(w) for w in ctx])
            h = syn0[rows].mean(axis=0, keepdims=True)
            cand = [sent[i]] + [alias_draw(prob, alias, state) for _ in range(K)]
            GH, syn1, _ = ref_ns(h, sent[i], syn1, cand, alpha)
            np.add.at(syn0, rows, GH[0])
            continue
        rows = rows_of(sent[i])
        if batched and not share:  # one composed h for the window, fresh draws per pair, one update
            h = syn0[rows].mean(axis=0, keepdims=True)
            total = np.zeros(syn0.shape[1])
            for t in ctx:
                cand = [t] + [alias_draw(prob, alias, state) for _ in range(K)]
                GH, syn1, _ = ref_ns(h, t, syn1, cand, alpha)
                total += GH[0]
            np.add.at(syn0, rows, total)
            continue
        if batched:  # one composed h against the whole window, k draws shared by its m pairs
            h = syn0[rows].mean(axis=0)
            m = len(ctx)
            cand = ctx + [alias_draw(prob, alias, state) for _ in range(K)]
            U = syn1[cand].copy()
            f = sigmoid(U @ h)
            weights = np.array([1.0] * m + [m - ctx.count(w) for w in cand[m:]])
            hits += sum(w in ctx for w in cand[m:])
            G = alpha * np.where(np.arange(len(cand)) < m, 1.0 - f, -f) * weights
            for c, w in enumerate(cand):
                syn1[w] += G[c] * h
            np.add.at(syn0, rows, G @ U)
            continue
        for t in ctx:  # fastText: per pair, compose, step, update the centre's rows
            h = syn0[rows].mean(axis=0, keepdims=True)
            cand = [t] + [alias_draw(prob, alias, state) for _ in range(K)]
            GH, syn1, _ = ref_ns(h, t, syn1, cand, alpha)
            np.add.at(syn0, rows, GH[0])
    return syn0, syn1, hits


@pytest.mark.parametrize("model,batched,share", [("sg", True, False), ("sg", True, True), ("sg", False, False),
                                                 ("cbow", True, False)])
def test_subword_sentence_kernels_equal_reference(model, batched, share):
    _, syn1, tables = setup(2)
    V = syn1.shape[0]
    words = [f"w{i}" if i % 3 else f"wörd{i}" for i in range(V)]
    buckets = 17  # few buckets: rows shared between words and listed twice in one word
    ptr, ids = subword_table(words, 2, 4, buckets)
    assert len(np.unique(ids)) < len(ids)
    rng = np.random.default_rng(3)
    syn0 = (rng.normal(size=(V + buckets, D)) * 0.3).astype(np.float32)
    sent = np.array([3, 7, 1, 0, 7, 12, 5, 2, 9], dtype=np.int32)
    window, alpha = 3, 0.05
    st_ref = seed_states(5, 1)[0]
    ref0, ref1, hits = ref_sub_sentence(model, batched, list(sent), syn0, syn1, tables, window, alpha, st_ref, ptr,
                                        ids, share)
    if share:
        assert hits > 0  # the sentence exercises draws equal to true words
    st = seed_states(5, 1)[0]
    _sentence(driver.SG if model == "sg" else driver.CBOW, driver.NS, batched, sent, syn0, syn1, tables,
              driver.Settings(window, K, 1, int(share)), np.float32(alpha), st, 2 * window + K, True,
              driver.Subwords(ptr, ids))
    assert np.abs(syn0 - ref0).max() < 1e-5
    assert np.abs(syn1 - ref1).max() < 1e-5
    assert st[0] == st_ref[0]  # same number of draws


# ------------------------------------------------------------------ models
@pytest.fixture(scope="module")
def sub_model(small_corpus):
    return fastw2v.Word2Vec(dim=16, epochs=2, min_count=2, threads=2, seed=3, subwords=True,
                            buckets=5000).fit(small_corpus)


def test_vectors_are_means_of_word_and_ngram_rows(sub_model):
    wv = sub_model.wv
    assert wv.has_ngrams and wv.vectors_ngrams.shape == (5000, 16) and wv.vectors_vocab.shape == wv.vectors.shape
    i = wv.key_to_index["w1"]
    rows = wv.ngram_ids("w1")
    expected = np.vstack([wv.vectors_vocab[i:i + 1], wv.vectors_ngrams[rows]]).mean(axis=0)
    assert np.allclose(wv["w1"], expected, atol=1e-6)
    # an unseen word: the mean of its n-gram rows alone
    assert "w12345" not in wv and wv.has_vector("w12345") and wv.can_build("w12345")
    assert np.allclose(wv["w12345"], wv.vectors_ngrams[wv.ngram_ids("w12345")].mean(axis=0), atol=1e-6)
    assert not wv.has_vector("")
    with pytest.raises(KeyError):
        wv[""]
    # the n-gram rows were trained: rows of seen n-grams moved away from their start
    assert np.isfinite(wv.vectors).all()


def test_queries_accept_unseen_words(sub_model):
    wv = sub_model.wv
    hits = wv.most_similar("w12345", topn=5)
    assert len(hits) == 5 and all(w in wv for w, _ in hits)
    assert -1.0 <= wv.similarity("w12345", "w1") <= 1.0
    assert wv.similarity("w1", "w1") == pytest.approx(1.0, abs=1e-5)
    assert wv.most_similar(positive=["w1", "w12345"], topn=3)


def test_embedding_matrix_fills_unseen_words_from_ngrams(sub_model):
    wv = sub_model.wv
    index = {"w1": 1, "w12345": 2, "": 3}
    matrix, missing = wv.embedding_matrix(index)
    assert missing == 2
    assert np.allclose(matrix[1], wv["w1"]) and np.allclose(matrix[2], wv["w12345"])
    assert not matrix[3].any() and not matrix[0].any()  # no n-gram: zeros; padding row
    random_rows, _ = wv.embedding_matrix(index, oov="random")
    assert not np.allclose(random_rows[2], wv["w12345"])


def test_plain_models_are_unchanged(trained_small):
    wv = trained_small.wv
    assert not wv.has_ngrams and wv.vectors_vocab is wv.vectors
    assert "w12345" not in wv and not wv.has_vector("w12345")
    with pytest.raises(KeyError):
        wv["w12345"]
    with pytest.raises(ValueError):
        wv.embedding_matrix({"w1": 1}, oov="subword")


def test_maxn_zero_is_plain_word2vec(small_corpus):
    kw = dict(dim=16, epochs=1, min_count=2, threads=1, seed=9)
    a = fastw2v.Word2Vec(**kw).fit(small_corpus)
    b = fastw2v.Word2Vec(subwords=True, maxn=0, **kw).fit(small_corpus)
    assert not b.wv.has_ngrams
    assert np.array_equal(a.wv.vectors, b.wv.vectors) and np.array_equal(a.syn1, b.syn1)


def test_settings_are_checked():
    with pytest.raises(ConfigError, match="maxn"):
        TrainConfig(subwords=True, minn=4, maxn=3)
    with pytest.raises(ConfigError, match="buckets"):
        TrainConfig(subwords=True, buckets=0)
    assert not TrainConfig(subwords=True, maxn=0).ngrams and TrainConfig(subwords=True).ngrams


def test_save_load_and_vec_output(sub_model, tmp_path):
    path = tmp_path / "m.fw2v"
    sub_model.save(path)
    m = fastw2v.load(path)
    assert m.config.subwords and m.wv.buckets == 5000
    assert np.array_equal(m.wv.vectors_ngrams, sub_model.wv.vectors_ngrams)
    assert np.allclose(m.wv.vectors, sub_model.wv.vectors, atol=1e-7)
    assert np.allclose(m.wv["w12345"], sub_model.wv["w12345"])
    vec = tmp_path / "m.vec"
    sub_model.save(vec)
    kv = fastw2v.KeyedVectors.load_word2vec_format(vec)
    assert kv.index_to_key == sub_model.wv.index_to_key  # known words only, as fastText's .vec
    assert np.allclose(kv.vectors, sub_model.wv.vectors, atol=1e-5)  # the composed vectors


def test_continue_training_a_loaded_subword_model(sub_model, small_corpus, tmp_path):
    path = tmp_path / "m.fw2v"
    sub_model.save(path)
    m = fastw2v.load(path)
    before_ngrams = m.wv.vectors_ngrams.copy()
    before = m.wv["w12345"].copy()
    m.continue_training(small_corpus, epochs=1, threads=1)
    assert not np.array_equal(m.wv.vectors_ngrams, before_ngrams)
    assert not np.allclose(m.wv["w12345"], before)
    i = m.wv.key_to_index["w1"]
    expected = np.vstack([m.wv.vectors_vocab[i:i + 1], m.wv.vectors_ngrams[m.wv.ngram_ids("w1")]]).mean(axis=0)
    assert np.allclose(m.wv["w1"], expected, atol=1e-6)  # recomposed after training


def test_cli_subwords(small_corpus, tmp_path):
    out = tmp_path / "m.fw2v"
    run = lambda *a: subprocess.run([sys.executable, "-m", "fastw2v", *a], capture_output=True, text=True)  # noqa: E731
    r = run("train", str(small_corpus), "-o", str(out), "--subwords", "--buckets", "3000", "--dim", "16",
            "--epochs", "1", "--min-count", "2", "-q")
    assert r.returncode == 0, r.stderr
    r = run("similar", str(out), "w12345", "-n", "3")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.strip().splitlines()) == 4
    r = run("train", str(small_corpus), "-o", str(tmp_path / "x.fw2v"), "--subwords", "--minn", "4", "--maxn", "3")
    assert r.returncode != 0 and r.stderr.startswith("Error:") and "Traceback" not in r.stderr


# each (model, loss) with subwords is its own kernel, half a minute to a minute to compile on a fresh
# clone: the default run (`make test`) keeps sg/hs (the tree); the sampled losses' subword loops are the
# ns ones the reference tests above check, and `make test-all` trains the rest (cbow/nce alone took 68 s
# of a 15-minute fresh-clone run)
@pytest.mark.parametrize("model,loss", [("sg", "hs"),
                                        *(pytest.param(m, lo, marks=pytest.mark.slow)
                                          for m, lo in [("cbow", "nce"), ("sg", "nce"), ("sg", "softmax"),
                                                        ("cbow", "hs"), ("cbow", "softmax")])])
def test_every_loss_trains_with_subwords(demo_head, model, loss):
    """Every loss trains with n-grams to the fit the plain model reaches (last epoch's loss).

    The epochs' losses are not compared with each other: with n-grams skip-gram's
    first epoch is the lowest (shared rows learn fast, then interfere), in the
    fastText-exact loop as well; by the last epoch both meet (ns, text8 head,
    4 epochs: 2.16 -> 2.48 with n-grams, 2.83 -> 2.49 without).
    """
    kw = dict(model=model, loss=loss, dim=16, epochs=3, min_count=2, threads=2, alpha=0.05, seed=2)
    sub = fastw2v.Word2Vec(subwords=True, buckets=20000, **kw).fit(demo_head)
    plain = fastw2v.Word2Vec(**kw).fit(demo_head)
    losses = [h["loss"] for h in sub.history]
    assert all(np.isfinite(losses)) and np.isfinite(sub.wv.vectors).all()
    assert losses[-1] < 1.1 * plain.history[-1]["loss"]
    assert np.isfinite(sub.wv["qwertyish"]).all()


def test_misspelled_words_find_their_spelling_on_text8():
    """On the text8 sample, unseen misspellings find their correct spelling among their nearest words.

    Measured (2 threads, so Hogwild varies a little): government, communist and
    philosophy first; university 4th, musicians 3rd; fastText 0.9.2 with the same
    settings puts 2 of the 6 first and all 6 in its top 5.
    """
    m = fastw2v.Word2Vec(dim=100, epochs=5, sample=1e-4, threads=2, seed=1, subwords=True,
                         buckets=200_000).fit(DEMO)
    assert m.config.alpha == 0.05  # fastText's rate, the default with subwords
    pairs = {"goverment": "government", "univercity": "university", "comunist": "communist",
             "philosphy": "philosophy", "langauge": "language", "musicains": "musicians"}
    first = top5 = 0
    for wrong, right in pairs.items():
        assert wrong not in m.wv and right in m.wv
        near = [w for w, _ in m.wv.most_similar(wrong, topn=5)]
        first += near[0] == right
        top5 += right in near
    assert first >= 2 and top5 >= 4


# ------------------------------------------------------------ fastText .bin
def write_fasttext_bin(path, words, rows, minn, maxn, bucket, dim, matrix_rows=None, version=12):
    """A minimal model in fastText's binary layout (header, dictionary, input and output matrices)."""
    import struct

    out = [struct.pack("<ii", 793712314, version),
           struct.pack("<12id", dim, 5, 5, 1, 5, 1, 2, 2, bucket, minn, maxn, 100, 1e-4),
           struct.pack("<iiiqq", len(words), len(words), 0, 100, -1)]
    for w in words:
        out.append(w.encode("utf-8") + b"\0" + struct.pack("<qb", 10, 0))
    m = rows.shape[0] if matrix_rows is None else matrix_rows
    out += [b"\0", struct.pack("<qq", m, dim), rows.astype("<f4").tobytes(),
            b"\0", struct.pack("<qq", len(words), dim), np.zeros((len(words), dim), "<f4").tobytes()]
    path.write_bytes(b"".join(out))
    return path


def test_fasttext_bin_written_by_hand_loads_and_composes(tmp_path):
    words, bucket, dim = ["</s>", "hello", "wörld"], 50, 4
    rows = np.random.default_rng(0).normal(size=(len(words) + bucket, dim)).astype(np.float32)
    p = write_fasttext_bin(tmp_path / "m.bin", words, rows, 3, 5, bucket, dim)
    kv = fastw2v.KeyedVectors.load_fasttext(p)
    assert kv.index_to_key == ["hello", "wörld"]  # </s> left out
    grams = ngram_rows("wörld", 3, 5, bucket, 0)
    assert np.allclose(kv["wörld"], np.vstack([rows[2:3], rows[3 + grams]]).mean(axis=0), atol=1e-6)
    assert np.allclose(kv["hellö"], rows[3 + ngram_rows("hellö", 3, 5, bucket, 0)].mean(axis=0), atol=1e-6)


def test_fasttext_bin_lies_are_refused_before_allocation(tmp_path):
    from fastw2v.errors import FormatError

    words, bucket, dim = ["hello"], 10, 4
    rows = np.zeros((len(words) + bucket, dim), np.float32)
    huge = write_fasttext_bin(tmp_path / "huge.bin", words, rows, 3, 6, bucket, dim, matrix_rows=10 ** 12)
    with pytest.raises(FormatError, match="claims"):
        fastw2v.KeyedVectors.load_fasttext(huge)
    good = write_fasttext_bin(tmp_path / "good.bin", words, rows, 3, 6, bucket, dim)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(good.read_bytes()[:120])
    with pytest.raises(FormatError):
        fastw2v.KeyedVectors.load_fasttext(cut)
    old = write_fasttext_bin(tmp_path / "old.bin", words, rows, 3, 6, bucket, dim, version=99)
    with pytest.raises(FormatError, match="version"):
        fastw2v.KeyedVectors.load_fasttext(old)
    with pytest.raises(FormatError, match="not a fastText"):
        fastw2v.KeyedVectors.load_fasttext(DEMO)


def test_fasttext_bin_equals_fasttexts_own_vectors(tmp_path):
    fasttext = pytest.importorskip("fasttext")
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat\nthe café was naïve\na dog\nok\nyes\n" * 30, encoding="utf-8")
    m = fasttext.train_unsupervised(str(corpus), model="skipgram", minCount=1, minn=2, maxn=5, bucket=3000,
                                    dim=8, epoch=2, verbose=0, thread=1)
    assert m.words[0] == "</s>"  # the frequent end of line comes first: its removal shifts every row
    path = tmp_path / "ft.bin"
    m.save_model(str(path))
    kv = fastw2v.KeyedVectors.load_fasttext(path)
    assert kv.index_to_key == [w for w in m.words if w != "</s>"]
    for w in kv.index_to_key + ["cafés", "unseen", "日本"]:
        assert np.allclose(kv[w], m.get_word_vector(w), atol=1e-6), w
    r = subprocess.run([sys.executable, "-m", "fastw2v", "similar", str(path), "cafés", "-n", "2"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
