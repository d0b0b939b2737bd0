"""Embedding layers, encoding, export and pictures."""
import subprocess
import sys

import numpy as np
import pytest

from fastw2v import KeyedVectors


@pytest.fixture()
def wv():
    rng = np.random.default_rng(0)
    return KeyedVectors(["the", "cat", "sat", "mat"], rng.normal(size=(4, 6)).astype(np.float32))


def test_embedding_matrix_default_ids_shifted_by_one(wv):
    m, missing = wv.embedding_matrix()
    assert m.dtype == np.float32 and m.shape == (5, 6) and missing == 0
    assert not m[0].any()
    for w in wv.index_to_key:
        assert np.array_equal(m[wv.key_to_index[w] + 1], wv[w])


@pytest.mark.parametrize("oov", ["random", "zeros", "mean"])
def test_embedding_matrix_for_a_keras_word_index(wv, oov):
    word_index = {"cat": 1, "dog": 2, "mat": 3, "zebra": 7}  # Keras ids start at 1
    m, missing = wv.embedding_matrix(word_index, oov=oov)
    assert m.shape == (8, 6) and missing == 2
    assert np.array_equal(m[1], wv["cat"]) and np.array_equal(m[3], wv["mat"])
    assert not m[0].any() and not m[4:7].any()  # padding and unused ids
    if oov == "zeros":
        assert not m[2].any() and not m[7].any()
    elif oov == "mean":
        assert np.allclose(m[2], wv.vectors.mean(axis=0)) and np.allclose(m[7], m[2])
    else:
        assert m[2].any() and not np.allclose(m[2], m[7])
        again, _ = wv.embedding_matrix(word_index, oov=oov)
        assert np.array_equal(again, m)  # seeded
    with pytest.raises(ValueError):
        wv.embedding_matrix({"cat": 0})  # a word on the padding row


def test_encode_matches_embedding_matrix(wv):
    ids = wv.encode(["the cat sat", ["mat", "dog", "the"], ""], maxlen=4)
    assert ids.dtype == np.int32 and ids.shape == (3, 4)
    assert ids.tolist() == [[1, 2, 3, 0], [4, 1, 0, 0], [0, 0, 0, 0]]
    m, _ = wv.embedding_matrix()
    assert np.array_equal(m[ids[0, :3]], wv[["the", "cat", "sat"]])
    assert wv.encode(["the cat sat mat"], maxlen=2, truncating="pre").tolist() == [[3, 4]]
    assert wv.encode(["the cat"], maxlen=3, padding="pre").tolist() == [[0, 1, 2]]
    assert wv.encode(["the dog"], oov_id=9).tolist() == [[1, 9]]
    assert wv.encode(["cat dog"], word_index={"cat": 5}).tolist() == [[5]]


def test_to_torch_returns_the_same_rows(wv):
    torch = pytest.importorskip("torch")
    layer = wv.to_torch()
    assert isinstance(layer, torch.nn.Embedding) and not layer.weight.requires_grad
    ids = torch.from_numpy(wv.encode(["the cat sat mat"]).astype(np.int64))
    out = layer(ids).detach().numpy()[0]
    assert np.array_equal(out, wv[["the", "cat", "sat", "mat"]])
    assert not layer(torch.tensor([0])).detach().numpy().any()
    assert wv.to_torch(freeze=False).weight.requires_grad


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "fastw2v", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_export_formats(text8_vectors, tmp_path):
    r = run("export", text8_vectors, "--format", "projector", "-o", tmp_path / "proj", "--top", 500)
    assert r.returncode == 0, r.stderr
    vec = np.loadtxt(tmp_path / "proj" / "vectors.tsv", delimiter="\t")
    meta = (tmp_path / "proj" / "metadata.tsv").read_text().splitlines()
    src = KeyedVectors.load_word2vec_format(text8_vectors)
    assert vec.shape == (500, src.vector_size) and meta == src.index_to_key[:500]
    assert np.allclose(vec, src.vectors[:500], atol=1e-5)
    r = run("export", text8_vectors, "--format", "npy", "-o", tmp_path / "npy")
    assert r.returncode == 0, r.stderr
    arr = np.load(tmp_path / "npy" / "vectors.npy", allow_pickle=False)
    assert np.array_equal(arr, src.vectors)
    assert (tmp_path / "npy" / "vocab.txt").read_text().splitlines() == src.index_to_key
    r = run("export", text8_vectors, "--format", "text", "-o", tmp_path / "v.txt", "--top", 10)
    assert r.returncode == 0 and len(KeyedVectors.load_word2vec_format(tmp_path / "v.txt")) == 10


def test_plots_are_written(text8_vectors, small_corpus, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "map.png"
    r = run("plot", text8_vectors, "king", "france", "music", "-n", 4, "-o", png)
    assert r.returncode == 0, r.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    loss_png = tmp_path / "loss.png"
    r = run("train", small_corpus, "-o", tmp_path / "m.fw2v", "--dim", 8, "--epochs", 3, "--min-count", 2,
            "--plot-loss", loss_png, "-q")
    assert r.returncode == 0, r.stderr
    assert loss_png.read_bytes()[:4] == b"\x89PNG" and loss_png.stat().st_size > 10_000
    r = run("plot", text8_vectors, "kingg", "-o", tmp_path / "x.png")
    assert r.returncode != 0 and r.stderr.strip().startswith("Error:") and not (tmp_path / "x.png").exists()
