"""Row-padded weight stores (fastw2v.rows): layout, the checks that guard widening, and training on them."""
import numpy as np
import pytest

import fastw2v
from fastw2v import rows


@pytest.mark.parametrize("d", [1, 16, 20, 100, 300])
def test_padded_zeros_rows_start_on_cache_lines(d):
    a = rows.padded_zeros(7, d)
    dp = rows.padded_width(d)
    assert a.shape == (7, d) and a.dtype == np.float32 and dp % 16 == 0 and d <= dp < d + 16
    assert a.ctypes.data % 64 == 0 and a.strides == (4 * dp, 4)
    wide, _ = rows.kernel_view(a, a)
    assert wide.shape == (7, dp) and wide.flags.c_contiguous and wide.flags.writeable
    wide[3, 0] = 5.0
    assert a[3, 0] == 5.0  # the same memory


def test_widening_refuses_what_is_not_a_zero_padded_store():
    plain = np.zeros((5, 100), np.float32)
    assert rows.kernel_view(plain, plain)[0] is plain
    # the same strides as a padded store, but columns 100-111 hold the user's data
    foreign = np.ones((5, 112), np.float32)[:, :100]
    assert not rows.is_padded(foreign)
    assert rows.kernel_view(foreign, rows.padded_zeros(5, 100))[0] is foreign
    # one padded, one not: both as they are (the kernels need one row width)
    p = rows.padded_zeros(5, 100)
    s0, s1 = rows.kernel_view(p, plain)
    assert s0 is p and s1 is plain
    p2 = rows.padded_copy(plain + 1)
    assert rows.is_padded(p2) and np.array_equal(p2, plain + 1)


# (the settings other tests compile too: a kernel compiled from an empty cache takes most of a minute)
@pytest.mark.parametrize("model,loss,ngrams,dim", [("sg", "hs", False, 20), ("cbow", "ns", False, 20),
                                                   ("sg", "ns", True, 300)])
def test_padded_rows_train_bit_identical_vectors_and_keep_pads_zero(small_corpus, monkeypatch, model, loss, ngrams,
                                                                    dim):
    """The same run on padded rows and on plain (V, d) rows gives the same vectors, bit for bit (the
    loops run to d, not over the pads), and the pad columns stay zero."""
    kw = dict(dim=dim, epochs=2, min_count=2, seed=7, threads=1, model=model, loss=loss, quiet=True)
    if ngrams:
        kw.update(subwords=True, buckets=500)
    padded = fastw2v.Word2Vec(**kw).fit(str(small_corpus))
    for a in (padded._input_matrix(), padded.syn1):
        assert rows.is_padded(a)
        wide, _ = rows.kernel_view(a, a)
        assert wide.shape[1] == rows.padded_width(dim) > dim and not wide[:, dim:].any()
    monkeypatch.setattr(rows, "padded_width", lambda d: d)  # "padded" stores are now plain (V, d) arrays
    plain = fastw2v.Word2Vec(**kw).fit(str(small_corpus))
    assert plain.wv.vectors.flags.c_contiguous and plain.syn1.flags.c_contiguous
    assert np.array_equal(plain.wv.vectors, padded.wv.vectors)
    assert np.array_equal(plain.syn1, padded.syn1)
    assert np.array_equal(plain._input_matrix(), padded._input_matrix())


def test_subword_rows_are_padded_only_where_it_costs_little_memory(small_corpus):
    """The n-gram rows are most of a subword model's memory: at dim 20 padding to 32 would add 60%."""
    kw = dict(epochs=1, min_count=2, seed=7, threads=1, quiet=True, subwords=True, buckets=500)
    m = fastw2v.Word2Vec(dim=20, **kw).fit(str(small_corpus))
    assert m._input_matrix().flags.c_contiguous and m._input_matrix().shape == (len(m.wv) + 500, 20)
    assert rows.is_padded(fastw2v.Word2Vec(dim=300, **kw).fit(str(small_corpus))._input_matrix())


def test_loaded_model_trains_on_padded_rows_and_saves_plain_files(small_corpus, tmp_path):
    """A loaded model's arrays (plain, from the file) are copied into padded stores when it trains again;
    what it saves reads back as (V, d), equal to the model's vectors."""
    m = fastw2v.Word2Vec(dim=20, epochs=1, min_count=2, seed=7, threads=1, quiet=True).fit(str(small_corpus))
    m.save(tmp_path / "m.fw2v")
    again = fastw2v.load(tmp_path / "m.fw2v")
    again.continue_training(str(small_corpus))
    assert rows.is_padded(again.wv.vectors) and rows.is_padded(again.syn1)
    again.save(tmp_path / "m2.fw2v")
    back = fastw2v.load(tmp_path / "m2.fw2v")
    assert back.wv.vectors.shape == (len(m.wv), 20)
    assert np.array_equal(back.wv.vectors, again.wv.vectors) and np.array_equal(back.syn1, again.syn1)
    again.save(tmp_path / "m.bin")
    from gensim.models import KeyedVectors
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "m.bin"), binary=True)
    assert np.array_equal(kv[again.wv.index_to_key[3]], again.wv.vectors[3])
