"""Corpus readers and the memory-mapped int32 token cache.

The text is read once, streaming, in chunks cut at ASCII whitespace (a 100 MB
line without a newline is never held whole). Every token gets a provisional id
in first-seen order and is appended to a raw id file; the sentence ends go to a
second file. After the vocabulary is fixed, :func:`build_token_cache` rewrites
the raw ids into final ids with a vectorised pass over fixed-size chunks,
dropping pruned words and splitting sentences longer than
``max_sentence_length``. Peak memory grows with the number of distinct words,
not with the corpus.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import shutil
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .errors import CorpusError

READ_CHUNK = 1 << 22  # bytes of text read at a time
ID_CHUNK = 1 << 20  # token ids remapped at a time
_WS = (b"\n", b" ", b"\t", b"\r")


# ----------------------------------------------------------------- file access
def open_text_binary(path: Path):
    """Open ``path`` for binary reading, decompressing by extension."""
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return gzip.open(path, "rb")
    if suffix == ".bz2":
        return bz2.open(path, "rb")
    if suffix in (".xz", ".lzma"):
        return lzma.open(path, "rb")
    return open(path, "rb")


def corpus_files(paths) -> list[Path]:
    """Expand corpus paths: a file is itself, a directory every file in it (sorted).

    Hidden files (starting with '.') inside a directory are skipped.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            inside = sorted(q for q in p.iterdir() if q.is_file() and not q.name.startswith("."))
            if not inside:
                raise CorpusError(f"directory has no files: {p}")
            files.extend(inside)
        elif p.is_file():
            files.append(p)
        elif p.exists():
            raise CorpusError(f"not a regular file: {p}")
        else:
            raise CorpusError(f"no such file or directory: {p}")
    if not files:
        raise CorpusError("no corpus given")
    for f in files:
        if not os.access(f, os.R_OK):
            raise CorpusError(f"cannot read {f}: permission denied")
    return files


def iter_pieces(fileobj, chunk_size: int = READ_CHUNK) -> Iterator[bytes]:
    """Yield byte pieces of a stream, each cut just after ASCII whitespace.

    A cut at whitespace never splits a token or a UTF-8 sequence. A token
    longer than ``chunk_size`` is accumulated until its end.
    """
    leftover = b""
    while True:
        chunk = fileobj.read(chunk_size)
        if not chunk:
            if leftover:
                yield leftover
            return
        buf = leftover + chunk if leftover else chunk
        cut = max(buf.rfind(ws) for ws in _WS)
        if cut < 0:
            leftover = buf
            continue
        yield buf[: cut + 1]
        leftover = buf[cut + 1 :]


def count_invalid_utf8(piece: bytes) -> int:
    """Number of invalid UTF-8 sequences (each becomes one U+FFFD on decoding)."""
    try:
        piece.decode("utf-8")
        return 0
    except UnicodeDecodeError:
        text = piece.decode("utf-8", "replace")
        return text.count("\ufffd") - piece.count(b"\xef\xbf\xbd")


# ------------------------------------------------------------- raw id stream
@dataclass
class RawStream:
    """The corpus as provisional ids, on disk.

    ids_path: int32 file, one provisional id per token, in corpus order.
    ends_path: int64 file, the exclusive end offset of every sentence.
    keys: provisional id -> token (``bytes`` from files, ``str`` from iterables).
    counts: int64 array, occurrences of each provisional id.
    """

    ids_path: Path
    ends_path: Path
    keys: list
    counts: np.ndarray
    n_tokens: int
    n_sentences: int
    n_invalid_utf8: int


class _RawWriter:
    """Accumulates provisional ids and sentence ends, flushing to disk in blocks."""

    FLUSH = 1 << 20

    def __init__(self, workdir: Path, byte_vocab: "ByteVocab | None" = None):
        self.ids_path = workdir / "raw_ids.i32"
        self.ends_path = workdir / "raw_ends.i64"
        self._ids_f = open(self.ids_path, "wb")
        self._ends_f = open(self.ends_path, "wb")
        self.vocab: dict = {}  # str token -> provisional id, for iterables of token lists
        self.byte_vocab = byte_vocab  # the Numba tokenizer's table, for files
        self.counts = np.zeros(1024, dtype=np.int64)
        self.buf: list[int] = []
        self.ends: list[int] = []
        self.n_tokens = 0
        self.n_sentences = 0
        self._last_end = 0

    def end_sentence(self):
        """Close the current sentence; an empty one is not recorded."""
        pos = self.n_tokens + len(self.buf)
        if pos != self._last_end:
            self.ends.append(pos)
            self._last_end = pos

    def add_arrays(self, ids: np.ndarray, ends: np.ndarray):
        """Append int32 ids and int64 global sentence ends produced by the byte tokenizer."""
        self.flush()
        if ends.size and ends[0] == self._last_end:
            ends = ends[1:]
        if ends.size:
            self._last_end = int(ends[-1])
            ends.tofile(self._ends_f)
            self.n_sentences += int(ends.size)
        if ids.size:
            self._count(ids)
            ids.tofile(self._ids_f)
            self.n_tokens += int(ids.size)

    def _count(self, arr: np.ndarray):
        n = self.n_keys()
        if n > self.counts.shape[0]:
            grown = np.zeros(max(n, 2 * self.counts.shape[0]), dtype=np.int64)
            grown[: self.counts.shape[0]] = self.counts
            self.counts = grown
        self.counts[:n] += np.bincount(arr, minlength=n)[:n]

    def n_keys(self) -> int:
        return len(self.vocab) if self.byte_vocab is None else self.byte_vocab.n_words

    def maybe_flush(self):
        if len(self.buf) >= self.FLUSH or len(self.ends) >= self.FLUSH:
            self.flush()

    def flush(self):
        if self.buf:
            arr = np.array(self.buf, dtype=np.int32)
            self._count(arr)
            arr.tofile(self._ids_f)
            self.n_tokens += len(self.buf)
            self.buf = []
        if self.ends:
            np.array(self.ends, dtype=np.int64).tofile(self._ends_f)
            self.n_sentences += len(self.ends)
            self.ends = []

    def close(self, n_invalid: int) -> RawStream:
        self.end_sentence()
        self.flush()
        self._ids_f.close()
        self._ends_f.close()
        keys = list(self.vocab) if self.byte_vocab is None else self.byte_vocab.keys()
        return RawStream(self.ids_path, self.ends_path, keys, self.counts[: len(keys)].copy(),
                         self.n_tokens, self.n_sentences, n_invalid)

    def abort(self):
        for f in (self._ids_f, self._ends_f):
            try:
                f.close()
            except OSError:
                pass


def read_files(files: list[Path], workdir: Path, chunk_size: int = READ_CHUNK) -> RawStream:
    """Tokenise text files into a :class:`RawStream` (one pass over the text).

    Tokens are split on ASCII whitespace; every newline ends a sentence (CR is
    whitespace, so CRLF files read like LF ones); blank lines yield nothing.
    """
    w = _RawWriter(workdir, ByteVocab())
    n_invalid = 0
    try:
        for path in files:
            try:
                f = open_text_binary(path)
            except OSError as e:
                raise CorpusError(f"cannot open {path}: {e.strerror or e}") from None
            try:
                with f:
                    for piece in iter_pieces(f, chunk_size):
                        if b"\x00" in piece:
                            raise CorpusError(f"{path} looks like a binary file (NUL bytes), not UTF-8 text")
                        n_invalid += count_invalid_utf8(piece)
                        ids, ends = w.byte_vocab.tokenize(piece, w.n_tokens)
                        w.add_arrays(ids, ends)
            except (OSError, EOFError, lzma.LZMAError, zlib.error) as e:
                raise CorpusError(f"cannot read {path}: {e}") from None
            w.end_sentence()  # a file's last line ends a sentence even without newline
        return w.close(n_invalid)
    except BaseException:
        w.abort()
        raise


class ByteVocab:
    """Distinct tokens (as bytes) and their provisional ids, grown as the text is read."""

    def __init__(self, slots: int = 1 << 16, pool: int = 1 << 20):
        self.slot_hash = np.zeros(slots, dtype=np.uint64)
        self.slot_id = np.full(slots, -1, dtype=np.int64)
        self.pool = np.zeros(pool, dtype=np.uint8)
        self.tok_off = np.zeros(slots // 2, dtype=np.int64)
        self.tok_len = np.zeros(slots // 2, dtype=np.int64)
        self.pool_off = 0
        self.n_words = 0

    def tokenize(self, piece: bytes, total_before: int):
        """Ids (int32) and global sentence ends (int64) of one piece of text."""
        from .kernels.tokenize import tokenize_piece

        buf = np.frombuffer(piece, dtype=np.uint8)
        ids = np.empty(len(piece) // 2 + 1, dtype=np.int32)
        ends = np.empty(piece.count(b"\n") + 1, dtype=np.int64)
        pos = n_ids = n_ends = 0
        while True:
            pos, self.pool_off, self.n_words, n_ids, n_ends, status = tokenize_piece(
                buf, pos, self.slot_hash, self.slot_id, self.pool, self.pool_off, self.tok_off, self.tok_len,
                self.n_words, ids, n_ids, ends, n_ends, total_before)
            if status == 0:
                return ids[:n_ids], ends[:n_ends]
            self._grow(len(piece) - pos)

    def _grow(self, need_bytes: int):
        from .kernels.tokenize import rehash

        if self.n_words >= self.slot_hash.shape[0] // 2 or self.n_words >= self.tok_off.shape[0]:
            size = self.slot_hash.shape[0] * 2
            new_hash = np.zeros(size, dtype=np.uint64)
            new_id = np.full(size, -1, dtype=np.int64)
            rehash(self.slot_hash, self.slot_id, new_hash, new_id)
            self.slot_hash, self.slot_id = new_hash, new_id
            for name in ("tok_off", "tok_len"):
                old = getattr(self, name)
                grown = np.zeros(size // 2, dtype=np.int64)
                grown[: old.shape[0]] = old
                setattr(self, name, grown)
        if self.pool_off + need_bytes > self.pool.shape[0] or self.pool_off * 2 > self.pool.shape[0]:
            grown = np.zeros(max(2 * self.pool.shape[0], self.pool_off + need_bytes), dtype=np.uint8)
            grown[: self.pool_off] = self.pool[: self.pool_off]
            self.pool = grown

    def keys(self) -> list:
        raw = self.pool[: self.pool_off].tobytes()
        return [raw[o:o + n] for o, n in zip(self.tok_off[: self.n_words].tolist(),
                                              self.tok_len[: self.n_words].tolist())]


def read_sentences(sentences: Iterable, workdir: Path) -> RawStream:
    """Turn an iterable of token lists (of ``str``) into a :class:`RawStream`."""
    w = _RawWriter(workdir)
    try:
        vocab = w.vocab
        setdefault = vocab.setdefault
        for sent in sentences:
            if isinstance(sent, (str, bytes)):
                raise TypeError("each sentence must be a list of tokens, not a string "
                                "(did you pass a file path inside a list of sentences?)")
            w.buf.extend([setdefault(str(t), len(vocab)) for t in sent])
            w.end_sentence()
            w.maybe_flush()
        return w.close(0)
    except BaseException:
        w.abort()
        raise


# --------------------------------------------------------------- final cache
@dataclass
class TokenCache:
    """Final token ids, memory-mapped.

    tokens: int32 array (n_tokens,), vocabulary ids, pruned words removed.
    starts: int64 array (n_sentences + 1,), sentence i is tokens[starts[i]:starts[i+1]].
    """

    tokens: np.ndarray
    starts: np.ndarray
    workdir: Path | None = None

    @property
    def n_tokens(self) -> int:
        return int(self.starts[-1])

    @property
    def n_sentences(self) -> int:
        return self.starts.shape[0] - 1


def build_token_cache(raw: RawStream, remap: np.ndarray, max_sentence_length: int,
                      workdir: Path) -> TokenCache:
    """Rewrite provisional ids through ``remap`` (int32, -1 = drop) into a :class:`TokenCache`.

    The raw files are read sequentially in ``ID_CHUNK`` pieces (no memory map),
    so memory stays flat whatever the corpus size.
    """
    tok_path = workdir / "tokens.i32"
    starts_path = workdir / "starts.i64"
    kept_total = 0
    prev_end = 0  # last sentence end written, in kept-token coordinates
    ends = _EndsReader(raw.ends_path, raw.n_sentences)
    with open(raw.ids_path, "rb") as rf, open(tok_path, "wb") as tf, open(starts_path, "wb") as sf:
        np.zeros(1, np.int64).tofile(sf)
        n_starts = 1
        for lo in range(0, raw.n_tokens, ID_CHUNK):
            hi = min(lo + ID_CHUNK, raw.n_tokens)
            new = remap[np.fromfile(rf, dtype=np.int32, count=hi - lo)]
            keep = new >= 0
            new[keep].tofile(tf)
            csum = np.cumsum(keep, dtype=np.int32)
            chunk_ends = ends.take_until(hi)
            new_ends = kept_total + csum[chunk_ends - lo - 1].astype(np.int64)
            kept_total += int(csum[-1]) if csum.size else 0
            n_starts += _write_ends(sf, new_ends, prev_end, max_sentence_length)
            if new_ends.size:
                prev_end = int(new_ends[-1])
            del new, keep, csum
        # anything after the last recorded end (cannot happen: files end sentences) is closed here
        if kept_total > prev_end:
            n_starts += _write_ends(sf, np.array([kept_total], np.int64), prev_end, max_sentence_length)
    tokens = (np.memmap(tok_path, dtype=np.int32, mode="r") if kept_total
              else np.zeros(0, np.int32))
    starts = np.memmap(starts_path, dtype=np.int64, mode="r")
    assert starts.shape[0] == n_starts
    return TokenCache(tokens=tokens, starts=starts, workdir=workdir)


class _EndsReader:
    """Sentence ends from the raw int64 file, handed out in order, a block at a time."""

    def __init__(self, path: Path, n: int, block: int = 1 << 20):
        self.f = open(path, "rb") if n else None
        self.left = n
        self.block = block
        self.buf = np.zeros(0, np.int64)

    def take_until(self, hi: int) -> np.ndarray:
        """All remaining ends <= hi."""
        parts = []
        while True:
            if self.buf.size == 0 and self.left:
                self.buf = np.fromfile(self.f, dtype=np.int64, count=min(self.block, self.left))
                self.left -= self.buf.size
                if self.left == 0:
                    self.f.close()
            cut = int(np.searchsorted(self.buf, hi, side="right"))
            parts.append(self.buf[:cut])
            self.buf = self.buf[cut:]
            if self.buf.size or not self.left:
                break
        return np.concatenate(parts) if len(parts) > 1 else parts[0]


def release_pages(arr: np.ndarray, lo: int, hi: int) -> None:
    """Tell the kernel we are done with elements lo:hi of a memory-mapped array.

    Resident pages of a file mapping count in RSS; dropping those behind the
    training position keeps memory flat for corpora of any size (the data stays
    on disk and in the page cache, and is read again next epoch).
    """
    import mmap

    mm = getattr(arr, "_mmap", None)
    if mm is None or not hasattr(mm, "madvise") or hi <= lo:
        return
    item = arr.itemsize
    page = mmap.PAGESIZE
    offset = getattr(arr, "offset", 0)
    start = ((offset + lo * item) // page) * page
    stop = ((offset + hi * item) // page) * page
    if stop > start:
        try:
            mm.madvise(mmap.MADV_DONTNEED, start, stop - start)
        except (OSError, ValueError):
            pass


def _write_ends(sf, ends: np.ndarray, prev_end: int, max_len: int) -> int:
    """Write non-empty sentence ends, splitting long sentences; returns how many were written."""
    if ends.size == 0:
        return 0
    begins = np.empty_like(ends)
    begins[0] = prev_end
    begins[1:] = ends[:-1]
    nonempty = ends > begins
    ends, begins = ends[nonempty], begins[nonempty]
    lengths = ends - begins
    if lengths.size and lengths.max() > max_len:
        parts = []
        for b, e in zip(begins.tolist(), ends.tolist()):
            if e - b > max_len:
                parts.append(np.arange(b + max_len, e, max_len, dtype=np.int64))
            parts.append(np.array([e], np.int64))
        ends = np.concatenate(parts)
    ends.astype(np.int64).tofile(sf)
    return int(ends.size)


class WorkDir:
    """A temporary folder for the token cache, removed on exit, error or Ctrl-C."""

    def __init__(self, cache_dir: str | os.PathLike | None = None):
        if cache_dir is not None:
            cache_dir = Path(cache_dir)
            try:
                cache_dir.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise CorpusError(f"cannot create cache directory {cache_dir}: {e.strerror or e}") from None
        try:
            self.path = Path(tempfile.mkdtemp(prefix="fastw2v-cache-", dir=cache_dir))
        except OSError as e:
            raise CorpusError(f"cannot create a token cache in {cache_dir or tempfile.gettempdir()}: "
                              f"{e.strerror or e}") from None

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc):
        self.cleanup()

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)
