import numpy as np
import pytest

import fastw2v
from fastw2v import KeyedVectors
from fastw2v.errors import FormatError

gensim_models = pytest.importorskip("gensim.models")


@pytest.mark.parametrize("name,binary", [("v.txt", False), ("v.vec", False), ("v.bin", True)])
def test_word2vec_formats_round_trip_and_load_in_gensim(trained_small, tmp_path, name, binary):
    path = tmp_path / name
    trained_small.save(path)
    wv = trained_small.wv
    ours = KeyedVectors.load_word2vec_format(path)
    assert ours.index_to_key == wv.index_to_key
    tol = 0 if binary else 1e-5
    assert np.allclose(ours.vectors, wv.vectors, atol=tol, rtol=1e-5)
    theirs = gensim_models.KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert list(theirs.index_to_key) == wv.index_to_key
    assert np.allclose(theirs.vectors, wv.vectors, atol=tol, rtol=1e-5)


@pytest.mark.parametrize("binary", [False, True])
def test_reads_files_written_by_gensim(tmp_path, binary):
    kv = gensim_models.KeyedVectors(4)
    kv.add_vectors(["alpha", "béta", "γ"], np.arange(12, dtype=np.float32).reshape(3, 4) / 7)
    path = tmp_path / ("g.bin" if binary else "g.txt")
    kv.save_word2vec_format(str(path), binary=binary)
    ours = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert ours.index_to_key == ["alpha", "béta", "γ"]
    assert np.allclose(ours.vectors, kv.vectors, atol=1e-6)


def test_native_model_round_trip(trained_small, tmp_path):
    path = tmp_path / "m.fw2v"
    trained_small.save(path)
    m = fastw2v.load(path)
    assert m.wv.index_to_key == trained_small.wv.index_to_key
    assert np.array_equal(m.wv.vectors, trained_small.wv.vectors)
    assert np.array_equal(m.syn1, trained_small.syn1)
    assert np.array_equal(m.wv.counts, trained_small.wv.counts)
    assert m.config == trained_small.config
    assert m.history == trained_small.history
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left


def test_native_model_with_pickle_payload_is_refused(trained_small, tmp_path):
    path = tmp_path / "evil.fw2v"
    trained_small.save(path)
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    data["syn0"] = np.array([{"payload": 1}], dtype=object)
    with open(path, "wb") as f:
        np.savez(f, **data)
    with pytest.raises(FormatError, match="pickled|objects|not a fastw2v"):
        fastw2v.load(path)


def test_non_native_files_are_named_not_unpickled(trained_small, tmp_path):
    """fastw2v.load on a word2vec file, a plain text file or a pickle: a FormatError that says which,
    never NumPy's advice to allow pickles."""
    import pickle
    for name in ("v.bin", "v.txt"):
        trained_small.save(tmp_path / name)
        with pytest.raises(FormatError, match="word2vec-format file") as e:
            fastw2v.load(tmp_path / name)
        assert "allow_pickle" not in str(e.value)
    other = tmp_path / "notes.txt"
    other.write_text("the quick brown fox\n")
    pkl = tmp_path / "m.pkl"
    pkl.write_bytes(pickle.dumps({"syn0": [1.0]}))
    for path in (other, pkl):
        with pytest.raises(FormatError, match="not a fastw2v model") as e:
            fastw2v.load(path)
        assert "allow_pickle" not in str(e.value)
    from fastw2v import compat
    with pytest.raises(FormatError, match="word2vec-format file"):
        compat.KeyedVectors.load(tmp_path / "v.bin")


def test_broken_files_are_refused(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("3 4\nfoo 1 2 3 4\n")
    with pytest.raises(FormatError):
        KeyedVectors.load_word2vec_format(bad)
    bad.write_text("2 3\nfoo 1 2 3\nbar 1 2\n")
    with pytest.raises(FormatError, match="line 3"):
        KeyedVectors.load_word2vec_format(bad)
    huge = tmp_path / "huge.bin"
    huge.write_bytes(b"1000000000000 300\nfoo " + b"\0" * 1200)
    with pytest.raises(FormatError, match="declares"):
        KeyedVectors.load_word2vec_format(huge)
    trunc = tmp_path / "t.bin"
    trunc.write_bytes(b"2 4\nfoo " + np.ones(4, np.float32).tobytes() + b"\nbar " + b"\0" * 10)
    with pytest.raises(FormatError, match="truncated"):
        KeyedVectors.load_word2vec_format(trunc)
    junk = tmp_path / "junk.fw2v"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(FormatError):
        fastw2v.load(junk)


@pytest.mark.parametrize("which", ["in", "out", "sum"])
def test_vectors_choice_and_biases_saved(small_corpus, tmp_path, which):
    m = fastw2v.Word2Vec(loss="nce", dim=8, epochs=1, min_count=2, threads=1, vectors=which).fit(small_corpus)
    m.save(tmp_path / "v.txt")
    kv = KeyedVectors.load_word2vec_format(tmp_path / "v.txt")
    expected = {"in": m.wv.vectors, "out": m.syn1, "sum": m.wv.vectors + m.syn1}[which]
    assert np.allclose(kv.vectors, expected, atol=1e-5)
    m.save(tmp_path / "m.fw2v")
    back = fastw2v.load(tmp_path / "m.fw2v")
    assert back.config.loss == "nce" and back.bias.any()
    assert np.array_equal(back.bias, m.bias) and np.array_equal(back.syn1, m.syn1)


def test_hs_refuses_output_vectors():
    with pytest.raises(fastw2v.ConfigError, match="hs"):
        fastw2v.Word2Vec(loss="hs", vectors="sum")
