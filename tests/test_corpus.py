import bz2
import gzip
import lzma
import platform
import subprocess
import sys

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


UNICODE_SPACES = [chr(c) for c in range(0x3001) if chr(c).isspace() and c > 0x20 or c in (0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x1F)]


def test_every_unicode_space_separates_tokens_as_str_split_does(tmp_path):
    """The one rule: tokens are what str.split() gives on each line; only \\n ends a sentence."""
    assert len(UNICODE_SPACES) == 25  # \v \f U+001C-1F U+0085 U+00A0 U+1680 U+2000-200A U+2028/9 U+202F/205F U+3000
    text = "".join(f"w{i}{sp}" for i, sp in enumerate(UNICODE_SPACES)) + "last\u200bjoined\n" + "\u3000".join(
        ["東京", "大阪", "京都"]) + "\u3000\n"
    p = tmp_path / "c.txt"
    p.write_bytes(text.encode("utf-8"))
    expected = [line.split() for line in text.split("\n") if line.split()]
    for chunk in (1, 2, 3, 5, 64, 1 << 22):  # multi-byte spaces across every possible piece boundary
        sents, raw = sentences_of(p, chunk=chunk)
        assert sents == expected, chunk
    assert expected[0][-1] == "last\u200bjoined"  # U+200B ZERO WIDTH SPACE is not whitespace for str.split()


def test_split_matches_decode_then_split_on_invalid_utf8(tmp_path):
    """Broken sequences around multi-byte spaces split exactly like bytes.decode('utf-8', 'replace').split()."""
    pieces = [b"\xe2\x80\x80", b"\xe2\x80", b"\xe2", b"\xc2", b"\xc2\xa0", b"\xe3\x80\x80", b"\xe1\x9a\x80",
              b"\xf0\x9f", b"\x80", b"a", b"\xe2\x81\x9f", b"\xe2\x80\xaf", b" ", b"\xe0\xc2\xa0"]
    rng = np.random.default_rng(0)
    data = b"".join(pieces[i] for i in rng.integers(0, len(pieces), 3000)) + b"\n"
    p = tmp_path / "c.txt"
    p.write_bytes(data)
    sents, _ = sentences_of(p, chunk=7)
    assert [w for s in sents for w in s] == data.decode("utf-8", "replace").split()


def test_text_without_ascii_spaces_is_still_read_in_bounded_pieces():
    """Japanese text separated only by U+3000, without a newline, is cut at those spaces."""
    import io as _io

    text = ("東京\u3000" * 200_000).encode("utf-8")
    pieces = list(iter_pieces(_io.BytesIO(text), 1 << 16))
    assert max(len(x) for x in pieces) <= (1 << 16) + 9 and b"".join(pieces) == text  # + the previous tail
    assert all(x.endswith("\u3000".encode()) for x in pieces)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc_trim")
def test_release_free_heap_returns_freed_blocks_to_the_os():
    # 64 KB blocks come from the brk heap; with the last one still in use, glibc keeps the freed
    # ones below it mapped (RSS stays) until malloc_trim, which release_free_heap calls.
    script = r"""
import numpy as np
from fastw2v.corpus import release_free_heap
def rss():
    return [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS")][0] / 1024
blocks = [np.ones(16000, np.float32) for _ in range(1500)]
keep = blocks[-1]
del blocks
before = rss(); release_free_heap(); after = rss()
print(before - after)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert float(out) > 50, out  # 1,500 x 64 KB = 96 MB were freed
