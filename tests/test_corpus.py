import bz2
import gzip
import lzma

import numpy as np
import pytest

from fastw2v.corpus import (WorkDir, build_token_cache, corpus_files, iter_pieces, read_files,
                            read_sentences)
from fastw2v.errors import CorpusError
from fastw2v.vocab import build_vocab


def sentences_of(path_or_sents, min_count=1, max_len=10000, chunk=1 << 22):
    """Decode the token cache back into lists of words."""
    w = WorkDir()
    try:
        if isinstance(path_or_sents, list):
            raw = read_sentences(path_or_sents, w)
        else:
            raw = read_files(corpus_files(path_or_sents), w, chunk_size=chunk)
        vocab, remap = build_vocab(raw.keys, raw.counts, min_count, None)
        cache = build_token_cache(raw, remap, max_len, w)
        toks = np.asarray(cache.tokens)
        st = np.asarray(cache.starts)
        out = [[vocab.words[t] for t in toks[st[i]:st[i + 1]]] for i in range(len(st) - 1)]
        return out, raw
    finally:
        w.cleanup()


def test_lines_are_sentences_crlf_blank_and_unicode(tmp_path):
    p = tmp_path / "c.txt"
    p.write_bytes("a b  c\r\n\r\n\n  d\te\r\nñandú 東京 a\nlast line".encode("utf-8"))
    sents, raw = sentences_of(p)
    assert sents == [["a", "b", "c"], ["d", "e"], ["ñandú", "東京", "a"], ["last", "line"]]
    assert raw.n_tokens == 10 and raw.n_invalid_utf8 == 0


def test_chunk_boundaries_never_split_tokens(tmp_path):
    p = tmp_path / "c.txt"
    words = [f"tok{i % 37}" for i in range(5000)]
    p.write_text(" ".join(words[:2500]) + "\n" + " ".join(words[2500:]) + "\n")
    for chunk in (7, 64, 1000):
        sents, _ = sentences_of(p, chunk=chunk)
        assert sents == [words[:2500], words[2500:]]


def test_invalid_utf8_is_replaced_and_counted(tmp_path):
    p = tmp_path / "c.txt"
    p.write_bytes(b"good \xff\xfe bad\xc3 ok \xef\xbf\xbd\n")
    sents, raw = sentences_of(p)
    # \xff and \xfe are two invalid bytes, \xc3 a truncated sequence; the real U+FFFD is valid
    assert raw.n_invalid_utf8 == 3
    assert sents[0][0] == "good" and sents[0][-1] == "\ufffd"


def test_compressed_files_and_directories(tmp_path):
    text = b"alpha beta gamma\nbeta gamma\n"
    d = tmp_path / "d"
    d.mkdir()
    (d / "a.txt").write_bytes(text)
    with gzip.open(d / "b.txt.gz", "wb") as f:
        f.write(text)
    with bz2.open(d / "c.txt.bz2", "wb") as f:
        f.write(text)
    with lzma.open(d / "e.txt.xz", "wb") as f:
        f.write(text)
    (d / ".hidden").write_bytes(b"zzz\n")
    sents, raw = sentences_of(d)
    assert sents == [["alpha", "beta", "gamma"], ["beta", "gamma"]] * 4


def test_long_sentences_are_split_after_pruning(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text(" ".join(f"a b rare{i}" for i in range(10)) + " a\n")
    sents, _ = sentences_of(p, min_count=2, max_len=7)
    flat = [w for s in sents for w in s]
    assert flat == ["a", "b"] * 10 + ["a"]
    assert [len(s) for s in sents] == [7, 7, 7]


def test_iterable_of_token_lists():
    sents, raw = sentences_of([["x", "y"], [], ["y", "z", "x"]])
    assert sents == [["x", "y"], ["y", "z", "x"]]
    with pytest.raises(TypeError):
        sentences_of(["not a list of tokens"])


def test_hundred_megabyte_line_is_streamed(tmp_path):
    """text8-style: one 100 MB line, no newline; pieces stay chunk-sized."""
    p = tmp_path / "big.txt"
    unit = b" ".join(b"w%d" % (i % 1000) for i in range(10000)) + b" "
    reps = (100 * 1024 * 1024) // len(unit) + 1
    with open(p, "wb") as f:
        for _ in range(reps):
            f.write(unit)
    with open(p, "rb") as f:
        assert max(len(piece) for piece in iter_pieces(f, 1 << 20)) <= (1 << 20) + 8
    w = WorkDir()
    try:
        raw = read_files([p], w)
        assert raw.n_tokens == 10000 * reps
        assert raw.n_sentences == 1
        assert len(raw.keys) == 1000
        vocab, remap = build_vocab(raw.keys, raw.counts, 1, None)
        cache = build_token_cache(raw, remap, 10000, w)
        assert cache.n_sentences == reps  # split into max_sentence_length pieces
    finally:
        w.cleanup()


def test_missing_and_empty_inputs(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        corpus_files(tmp_path / "nope.txt")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match="no files"):
        corpus_files(empty)
