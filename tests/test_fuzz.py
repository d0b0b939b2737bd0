"""Property-based tests (hypothesis): random and mutated bytes into every reader.

Each reader must either give the correct result or refuse with a
:class:`fastw2v.FastW2VError` (the CLI's one ``Error:`` line): no other
exception, no crash, no hang.

- the corpus reader (plain, gzip, bz2, xz; NULs, invalid UTF-8, huge tokens,
  every Unicode space) against ``bytes.decode('utf-8', 'replace')`` + ``str.split()``;
- the word2vec text and binary loaders on mutated valid files;
- the native loader on mutated model and checkpoint files, byte by byte and
  field by field (the JSON metadata, the arrays).

The default run tries about 4,900 cases (derandomized: the same every time)
in under a minute. The ``_long`` twins run the same properties on fresh random
cases, ``FASTW2V_FUZZ_EXAMPLES`` per property; they are skipped unless that
variable is set: ``python bench/fuzz.py`` (or ``make fuzz``).
"""
import bz2
import gzip
import io as _io
import json
import lzma
import os
import zipfile
import zlib

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import fastw2v  # noqa: E402
from fastw2v import io  # noqa: E402
from fastw2v.corpus import WorkDir, build_token_cache, read_files  # noqa: E402
from fastw2v.errors import CorpusError, FastW2VError, FormatError  # noqa: E402
from fastw2v.model import Word2Vec  # noqa: E402
from fastw2v.vocab import build_vocab  # noqa: E402

# a warning would be a second line on stderr next to the CLI's one Error: line
pytestmark = pytest.mark.filterwarnings("error")

_COMMON = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=True)


def fast(n):
    """The default run: n derandomized cases."""
    return settings(max_examples=n, derandomize=True, **_COMMON)


LONG = settings(max_examples=int(os.environ.get("FASTW2V_FUZZ_EXAMPLES", "20000")), derandomize=False, **_COMMON)
long_run = pytest.mark.skipif("FASTW2V_FUZZ_EXAMPLES" not in os.environ,
                              reason="long fuzzing: set FASTW2V_FUZZ_EXAMPLES (python bench/fuzz.py)")


def twin(check, examples, **strategies):
    """(default test, slow test) running ``check`` with ``strategies``: ``examples`` fixed cases, or many random ones."""
    return (fast(examples)(given(**strategies)(check)),
            long_run(pytest.mark.slow(LONG(given(**strategies)(check)))))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


# ------------------------------------------------------------- mutations
SAMPLE_TEXT = ("the quick brown fox\njumps over\tthe lazy dog\r\n東京 ñandú café \u3000 naïve\u00a0x\n"
               "a b c d e f\n\nlast line no newline").encode("utf-8")
INTERESTING = [b"\x00", b"\n", b" ", b"\t", b"\r", b"\xff", b"\xc3", b"\xe2\x80", b"\xe2\x80\x80", b"\xc2\xa0",
               b"\xe3\x80\x80", b"\xef\xbf\xbd", b"\x1c", b"\x0b", b"\xf0\x9f\x98\x80", b"-", b"1", b"9" * 12,
               b"e", b"nan", b"inf", b"\x80", b"\"", b"{", b"}", b"[", b"]", b","]


@st.composite
def mutated(draw, base: bytes, max_ops=6):
    """``base`` after a few byte flips, inserts (of random or interesting bytes), deletions or a truncation."""
    data = bytearray(base)
    for _ in range(draw(st.integers(0, max_ops))):
        op = draw(st.sampled_from(["flip", "insert", "insert", "delete", "truncate", "dup"]))
        pos = draw(st.integers(0, max(len(data), 1) - 1)) if data else 0
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.one_of(st.sampled_from(INTERESTING), st.binary(min_size=1, max_size=8)))
        elif op == "delete" and data:
            del data[pos:pos + draw(st.integers(1, 16))]
        elif op == "truncate":
            del data[pos:]
        elif op == "dup" and data:
            data[pos:pos] = data[pos:pos + draw(st.integers(1, 64))]
    return bytes(data)


text_like = st.lists(st.one_of(st.sampled_from(INTERESTING), st.text(max_size=6).map(lambda s: s.encode("utf-8",
                                                                                                          "surrogatepass")),
                               st.binary(max_size=6)), max_size=80).map(b"".join)
CHUNKS = st.sampled_from([1, 2, 3, 7, 64, 1 << 22])


# ---------------------------------------------------------- corpus reader
def _expected(plain: bytes):
    text = plain.decode("utf-8", "replace")
    return [line.split() for line in text.split("\n") if line.split()], \
        text.count("\ufffd") - plain.count(b"\xef\xbf\xbd")


def _read_back(scratch, path, chunk):
    """(sentences, invalid count) through the real reader and token cache, or the FastW2VError raised."""
    with WorkDir(scratch / "cache") as w:
        try:
            raw = read_files([path], w, chunk_size=chunk)
        except FastW2VError as e:
            return e
        if raw.n_tokens == 0:
            return [], raw.n_invalid_utf8
        vocab, remap = build_vocab(raw.keys, raw.counts, 1, None)
        cache = build_token_cache(raw, remap, 1 << 30, w)
        toks, st_ = np.asarray(cache.tokens), np.asarray(cache.starts)
        sents = [[vocab.words[t] for t in toks[st_[i]:st_[i + 1]].tolist()] for i in range(len(st_) - 1)]
        return sents, raw.n_invalid_utf8


def check_reader(scratch, data, chunk):
    path = scratch / "c.txt"
    path.write_bytes(data)
    got = _read_back(scratch, path, chunk)
    event("refused" if isinstance(got, Exception) else "read")
    if b"\x00" in data:
        assert isinstance(got, CorpusError) and "binary" in str(got)
        return
    assert not isinstance(got, Exception), got
    assert got == _expected(data)


def check_reader_huge_token(scratch, n, chunk, tail):
    data = b"x" * n + tail + b"y" * (n // 2) + b"\n"
    check_reader(scratch, data, chunk)


_COMPRESS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}
_DECOMPRESS = {".gz": gzip.decompress, ".bz2": bz2.decompress, ".xz": lzma.decompress}


def check_reader_compressed(scratch, data, suffix, damage, chunk):
    blob = _COMPRESS[suffix](data)
    if damage:
        blob = damage(blob)
    path = scratch / f"c.txt{suffix}"
    path.write_bytes(blob)
    try:
        plain = _DECOMPRESS[suffix](blob)
    except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError):
        plain = None
    got = _read_back(scratch, path, chunk)
    event("refused" if isinstance(got, Exception) else "read")
    if plain is None or b"\x00" in plain:
        # a broken stream may be refused at any point, or (gzip/bz2 trailing garbage) read as the valid part
        assert isinstance(got, CorpusError) or plain is None, got
        return
    if isinstance(got, CorpusError):  # the streaming reader is stricter about trailing garbage than decompress()
        assert "cannot read" in str(got), got
        return
    assert got == _expected(plain)


@st.composite
def damages(draw):
    flips = draw(st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255)), max_size=3))
    cut = draw(st.one_of(st.none(), st.integers(0, 10 ** 6)))
    extra = draw(st.sampled_from([b"", b"\x00" * 4, b"garbage", b"\x1f\x8b"]))

    def damage(blob):
        b = bytearray(blob)
        for pos, val in flips:
            if b:
                b[pos % len(b)] = val
        if cut is not None and b:
            del b[cut % len(b):]
        return bytes(b) + extra

    return damage


test_reader_random_bytes, test_reader_random_bytes_long = twin(
    check_reader, 1000, data=st.one_of(st.binary(max_size=400), text_like), chunk=CHUNKS)
test_reader_mutated_text, test_reader_mutated_text_long = twin(
    check_reader, 1000, data=mutated(SAMPLE_TEXT, 10), chunk=CHUNKS)
test_reader_huge_tokens, test_reader_huge_tokens_long = twin(
    check_reader_huge_token, 30, n=st.integers(1, 3 << 20), chunk=st.sampled_from([1 << 16, 1 << 22]),
    tail=st.sampled_from([b" ", b"\n", b"\xe3\x80\x80", b"\xc2\xa0", b"\xff", b"\x00"]))
test_reader_compressed, test_reader_compressed_long = twin(
    check_reader_compressed, 400, data=st.one_of(mutated(SAMPLE_TEXT, 4), text_like),
    suffix=st.sampled_from(sorted(_COMPRESS)), damage=st.one_of(st.none(), damages()), chunk=CHUNKS)


# ------------------------------------------------------- word2vec formats
W2V_WORDS = ["the", "東京", "café", "x\ufffd", "a\x01b", "\U0001f600", "w7"]
W2V_VECTORS = (np.arange(len(W2V_WORDS) * 3, dtype=np.float32).reshape(-1, 3) - 5.5) / 3


@pytest.fixture(scope="module")
def w2v_files(scratch):
    out = {}
    for binary in (False, True):
        p = scratch / ("valid.bin" if binary else "valid.txt")
        io.save_word2vec(p, W2V_WORDS, W2V_VECTORS, binary=binary)
        out[binary] = p.read_bytes()
    return out


def check_w2v(scratch, w2v_files, binary, mutate):
    original = w2v_files[binary]
    data = mutate(original)
    path = scratch / ("m.bin" if binary else "m.txt")
    path.write_bytes(data)
    try:
        kv = fastw2v.KeyedVectors.load_word2vec_format(path)
    except FastW2VError:
        event("refused")
        assert data != original
        return
    event("loaded")
    words, vectors = kv.index_to_key, kv.vectors
    assert vectors.dtype == np.float32 and vectors.ndim == 2 and vectors.shape[0] == len(words)
    assert np.isfinite(vectors).all() and len(set(words)) == len(words)
    assert all(isinstance(w, str) for w in words)
    if data == original:
        assert words == W2V_WORDS and np.allclose(vectors, W2V_VECTORS, atol=1e-5)
    if len(words):
        kv.most_similar(words[0], topn=2)  # a loaded file can be queried


@st.composite
def byte_mutator(draw, max_ops=5):
    ops = draw(st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete", "truncate"]),
                                  st.floats(0, 1, exclude_max=True), st.sampled_from(INTERESTING),
                                  st.integers(0, 255)), max_size=max_ops))

    def mutate(data):
        b = bytearray(data)
        for op, where, ins, val in ops:
            pos = int(where * len(b)) if b else 0
            if op == "flip" and b:
                b[pos] = val
            elif op == "insert":
                b[pos:pos] = ins
            elif op == "delete" and b:
                del b[pos:pos + 1 + val % 8]
            elif op == "truncate":
                del b[pos:]
        return bytes(b)

    return mutate


test_w2v_mutated, test_w2v_mutated_long = twin(
    check_w2v, 1200, binary=st.booleans(), mutate=byte_mutator())


# ------------------------------------------------------------------ native
@pytest.fixture(scope="module")
def native_files(scratch):
    """A real tiny model and checkpoint, as bytes and as their parts (arrays, words, meta)."""
    corpus = scratch / "tiny.txt"
    corpus.write_text("a b c a b d e a\nb c a e\n" * 30)
    ckpt = scratch / "tiny.ckpt"
    m = fastw2v.Word2Vec(dim=4, epochs=2, min_count=1, threads=1, seed=1).fit(corpus, checkpoint=ckpt,
                                                                               checkpoint_every=0.0)
    model = scratch / "tiny.fw2v"
    m.save(model)
    parts = {}
    for name, path in (("model", model), ("checkpoint", ckpt)):
        with np.load(path) as z:
            parts[name] = {k: z[k] for k in z.files}
    return {"model": model.read_bytes(), "checkpoint": ckpt.read_bytes()}, parts


def _use_loaded(path, kind):
    """What the CLI does with a native file: load it (as a model, or as a checkpoint for --resume) and query it."""
    if kind == "checkpoint":
        m, arrays, info = Word2Vec._load_checkpoint(path)
        assert isinstance(info, dict)
    else:
        m = fastw2v.load(path)
    assert m.wv.vectors.shape == m.syn1.shape == (len(m.wv), m.config.dim)
    assert isinstance(m.history, list) and isinstance(m.report, dict)
    if len(m.wv):
        m.wv.most_similar(m.wv.index_to_key[0], topn=2)
    return m


def check_native_bytes(scratch, native_files, kind, mutate):
    original = native_files[0][kind]
    data = mutate(original)
    path = scratch / f"m.{kind}"
    path.write_bytes(data)
    try:
        _use_loaded(path, kind)
        event("loaded")
    except FastW2VError:
        event("refused")
        assert data != original


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                 max_size=3), max_leaves=8)


def _paths(meta, prefix=()):
    """Every key path into a JSON value."""
    yield prefix
    if isinstance(meta, dict):
        for k, v in meta.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(meta, list):
        for i, v in enumerate(meta):
            yield from _paths(v, prefix + (i,))


def _set(meta, path, value):
    if not path:
        return value
    meta = json.loads(json.dumps(meta))
    node = meta
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return meta


def check_native_fields(scratch, native_files, kind, which, value, raw_json, array_change):
    """Rewrite one part of a valid file: a metadata field, the JSON text, or one array."""
    arrays = dict(native_files[1][kind])
    meta = json.loads(arrays["meta_json"].tobytes())
    if raw_json is not None:
        arrays["meta_json"] = np.frombuffer(raw_json(json.dumps(meta).encode()), np.uint8)
    else:
        paths = list(_paths(meta))
        arrays["meta_json"] = np.frombuffer(json.dumps(_set(meta, paths[which % len(paths)], value)).encode(),
                                            np.uint8)
    if array_change is not None:
        names = sorted(arrays)
        name, dtype, shape, fill = array_change
        name = names[name % len(names)]
        arrays[name] = np.full(shape, fill).astype(dtype) if dtype != "same" else arrays[name].reshape(-1)[:shape[0]]
    path = scratch / f"f.{kind}"
    buf = _io.BytesIO()
    np.savez(buf, **arrays)
    path.write_bytes(buf.getvalue())
    try:
        _use_loaded(path, kind)
        event("loaded")
    except FastW2VError:
        event("refused")


ARRAY_CHANGES = st.one_of(st.none(), st.tuples(
    st.integers(0, 20), st.sampled_from(["same", np.float32, np.float64, np.int64, np.uint8, np.uint64, np.int8,
                                         np.bool_, "U3", np.complex64]),
    st.sampled_from([(0,), (1,), (3,), (7,), (7, 4), (4, 7), (7, 8), (2, 8), (0, 4), (1, 1, 1)]),
    st.sampled_from([0, 1, -1, 255])))

test_native_bytes, test_native_bytes_long = twin(
    check_native_bytes, 500, kind=st.sampled_from(["model", "checkpoint"]), mutate=byte_mutator(4))
test_native_fields, test_native_fields_long = twin(
    check_native_fields, 800, kind=st.sampled_from(["model", "checkpoint"]), which=st.integers(0, 10 ** 4),
    value=JSON, raw_json=st.one_of(st.none(), st.none(), byte_mutator(3)), array_change=ARRAY_CHANGES)


def test_native_archive_that_claims_a_huge_array_is_refused_without_allocating(scratch, native_files):
    """An .npy header claiming 10^12 floats, a compressed member (a zip bomb) or a bare .npy is refused at once."""
    arrays = dict(native_files[1]["model"])
    lying = _io.BytesIO()
    with zipfile.ZipFile(lying, "w") as z:
        for name, arr in arrays.items():
            member = _io.BytesIO()
            np.save(member, arr)
            body = member.getvalue()
            if name == "syn0":
                body = _npy_header((10 ** 12, 4)) + body[-64:]
            z.writestr(name + ".npy", body)
    compressed = _io.BytesIO()
    np.savez_compressed(compressed, **arrays)
    bare = _io.BytesIO()
    np.save(bare, arrays["syn0"])  # a lone .npy array (np.load returns an ndarray, not an archive)
    for blob, message in ((lying.getvalue(), "syn0"), (compressed.getvalue(), "compressed"),
                          (bare.getvalue(), "bare .npy")):
        path = scratch / "huge.fw2v"
        path.write_bytes(blob)
        with pytest.raises(FormatError, match=message):
            fastw2v.load(path)


def _npy_header(shape):
    buf = _io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buf.getvalue()
