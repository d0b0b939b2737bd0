"""Corpus readers and the memory-mapped int32 token cache.

The text is read once, streaming, in chunks cut at whitespace (a 100 MB
line without a newline is never held whole). Every token gets a provisional id
in first-seen order and is appended to a raw id file; the sentence ends go to a
second file. After the vocabulary is fixed, :func:`build_token_cache` rewrites
the raw ids into final ids with a vectorised pass over fixed-size chunks,
dropping pruned words and splitting sentences longer than
``max_sentence_length``. Peak memory grows with the number of distinct words,
not with the corpus.

Tokens are separated by whitespace as Python's ``str.split()`` defines it:
ASCII space, \\t, \\n, \\v, \\f, \\r, the separators U+001C-U+001F and the
Unicode White_Space characters (U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028,
U+2029, U+202F, U+205F, U+3000). A newline (\\n) ends a sentence.

Every cache file is unnamed (:class:`WorkDir`): nothing is left on disk after
any exit, SIGKILL included.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import stat
import sys
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
# UTF-8 of the non-ASCII whitespace characters (str.isspace()); the tokenizer kernel splits on them too
UNICODE_SPACES = tuple(chr(c).encode("utf-8") for c in (0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028,
                                                           0x2029, 0x202F, 0x205F, 0x3000))


# ----------------------------------------------------------------- file access
def open_text_binary(path: Path, raw=None):
    """Open ``path`` for binary reading, decompressing by extension.

    raw: an already open binary file of ``path`` to read from (its ``tell()``
    then counts the compressed bytes consumed, for progress).
    """
    suffix = path.suffix.lower()
    src = raw if raw is not None else path
    if suffix == ".gz":
        return gzip.GzipFile(fileobj=raw, mode="rb") if raw is not None else gzip.open(path, "rb")
    if suffix == ".bz2":
        return bz2.BZ2File(src, "rb")
    if suffix in (".xz", ".lzma"):
        return lzma.LZMAFile(src, "rb")
    return raw if raw is not None else open(path, "rb")


def _file_size(path: Path) -> int | None:
    """Bytes on disk of a regular file; None for pipes, devices and the like."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


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
    """Yield byte pieces of a stream, each cut just after whitespace.

    A cut at whitespace never splits a token or a UTF-8 sequence. A token
    longer than ``chunk_size`` is accumulated until its end (in a list, so a
    long token costs linear time).
    """
    parts: list[bytes] = []  # the start of a piece that has no whitespace yet
    while True:
        chunk = fileobj.read(chunk_size)
        if not chunk:
            if parts:
                yield b"".join(parts)
            return
        cut = _last_space_end(chunk)
        if cut == 0:
            parts.append(chunk)
            continue
        parts.append(chunk[:cut])
        yield b"".join(parts) if len(parts) > 1 else parts[0]
        parts = [chunk[cut:]] if cut < len(chunk) else []


def _last_space_end(buf: bytes) -> int:
    """Offset just after the last whitespace character in ``buf`` (ASCII first), or 0 if none."""
    cut = max(buf.rfind(ws) for ws in _WS)
    if cut >= 0:
        return cut + 1
    # no ASCII whitespace: text separated only by, say, U+3000; a multi-byte
    # space is never the tail of another character (lead bytes are never continuations)
    ends = [i + len(ws) for ws in UNICODE_SPACES for i in (buf.rfind(ws),) if i >= 0]
    single = max(buf.rfind(b) for b in (b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f"))
    if single >= 0:
        ends.append(single + 1)
    return max(ends) if ends else 0


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

    ids_file: unnamed int32 file (a binary file object), one provisional id per token, in corpus order.
    ends_file: unnamed int64 file, the exclusive end offset of every sentence.
    keys: provisional id -> token (``bytes`` from files, ``str`` from iterables).
    counts: int64 array, occurrences of each provisional id.
    """

    ids_file: object
    ends_file: object
    keys: list
    counts: np.ndarray
    n_tokens: int
    n_sentences: int
    n_invalid_utf8: int


class _RawWriter:
    """Accumulates provisional ids and sentence ends, flushing to disk in blocks."""

    FLUSH = 1 << 20

    def __init__(self, work: "WorkDir", byte_vocab: "ByteVocab | None" = None):
        self.work = work
        self._ids_f = work.new_file()
        self._ends_f = work.new_file()
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
            self.work.append(self._ends_f, ends)
            self.n_sentences += int(ends.size)
        if ids.size:
            self._count(ids)
            self.work.append(self._ids_f, ids)
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
            self.work.append(self._ids_f, arr)
            self.n_tokens += len(self.buf)
            self.buf = []
        if self.ends:
            self.work.append(self._ends_f, np.array(self.ends, dtype=np.int64))
            self.n_sentences += len(self.ends)
            self.ends = []

    def close(self, n_invalid: int) -> RawStream:
        self.end_sentence()
        self.flush()
        keys = list(self.vocab) if self.byte_vocab is None else self.byte_vocab.keys()
        return RawStream(self._ids_f, self._ends_f, keys, self.counts[: len(keys)].copy(),
                         self.n_tokens, self.n_sentences, n_invalid)

    def abort(self):
        self.work.close(self._ids_f, self._ends_f)


def read_files(files: list[Path], work: "WorkDir", chunk_size: int = READ_CHUNK, progress=None) -> RawStream:
    """Tokenise text files into a :class:`RawStream` (one pass over the text).

    progress(done_bytes, total_bytes): called after every piece with the bytes
    of the files (compressed, as on disk) read so far; total_bytes is None when
    some input has no known size (a pipe).

    Tokens are split on whitespace (``str.split()``'s, Unicode included); every
    newline ends a sentence (CR is whitespace, so CRLF files read like LF
    ones); blank lines yield nothing. Stops with :class:`TrainingInterrupted`
    between pieces once a stop was requested (SIGINT, SIGTERM, SIGHUP).
    """
    w = _RawWriter(work, ByteVocab())
    n_invalid = 0
    sizes = [_file_size(p) for p in files]
    total = None if any(s is None for s in sizes) else sum(sizes)
    done_before = 0
    try:
        for path, size in zip(files, sizes):
            try:
                raw = open(path, "rb")
            except OSError as e:
                raise CorpusError(f"cannot open {path}: {e.strerror or e}") from None
            try:
                with raw, open_text_binary(path, raw) as f:
                    for piece in iter_pieces(f, chunk_size):
                        check_stop()
                        if progress is not None:
                            progress(done_before + raw.tell(), total)
                        if b"\x00" in piece:
                            raise CorpusError(f"{path} looks like a binary file (NUL bytes), not UTF-8 text")
                        n_invalid += count_invalid_utf8(piece)
                        ids, ends = w.byte_vocab.tokenize(piece, w.n_tokens)
                        w.add_arrays(ids, ends)
            except (OSError, EOFError, lzma.LZMAError, zlib.error) as e:
                raise CorpusError(f"cannot read {path}: {e}") from None
            done_before += size or 0
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


def read_sentences(sentences: Iterable, work: "WorkDir") -> RawStream:
    """Turn an iterable of token lists (of ``str``) into a :class:`RawStream`."""
    w = _RawWriter(work)
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

    @property
    def n_tokens(self) -> int:
        return int(self.starts[-1])

    @property
    def n_sentences(self) -> int:
        return self.starts.shape[0] - 1


def build_token_cache(raw: RawStream, remap: np.ndarray, max_sentence_length: int,
                      work: "WorkDir") -> TokenCache:
    """Rewrite provisional ids through ``remap`` (int32, -1 = drop) into a :class:`TokenCache`.

    The raw files are read sequentially in ``ID_CHUNK`` pieces (no memory map),
    so memory stays flat whatever the corpus size. The final arrays are memory
    maps of two more unnamed files of ``work``.
    """
    kept_total = 0
    prev_end = 0  # last sentence end written, in kept-token coordinates
    rf = raw.ids_file
    rf.seek(0)
    ends = _EndsReader(raw.ends_file, raw.n_sentences)
    tf, sf = work.new_file(), work.new_file()
    work.append(sf, np.zeros(1, np.int64))
    n_starts = 1
    for lo in range(0, raw.n_tokens, ID_CHUNK):
        check_stop()
        hi = min(lo + ID_CHUNK, raw.n_tokens)
        new = remap[_read_array(rf, np.int32, hi - lo)]
        keep = new >= 0
        work.append(tf, new[keep])
        csum = np.cumsum(keep, dtype=np.int32)
        chunk_ends = ends.take_until(hi)
        new_ends = kept_total + csum[chunk_ends - lo - 1].astype(np.int64)
        kept_total += int(csum[-1]) if csum.size else 0
        n_starts += _write_ends(work, sf, new_ends, prev_end, max_sentence_length)
        if new_ends.size:
            prev_end = int(new_ends[-1])
        del new, keep, csum
    # anything after the last recorded end (cannot happen: files end sentences) is closed here
    if kept_total > prev_end:
        n_starts += _write_ends(work, sf, np.array([kept_total], np.int64), prev_end, max_sentence_length)
    tokens = work.memmap(tf, np.int32, kept_total) if kept_total else np.zeros(0, np.int32)
    starts = work.memmap(sf, np.int64, n_starts)
    return TokenCache(tokens=tokens, starts=starts)


def _read_array(f, dtype, count: int) -> np.ndarray:
    """The next ``count`` items of ``dtype`` from binary file ``f``; a short file is a bug, not user error."""
    arr = np.empty(count, dtype=dtype)
    view = memoryview(arr).cast("B")
    got = 0
    while got < view.nbytes:
        n = f.readinto(view[got:])
        if not n:
            raise RuntimeError(f"token cache file ended early ({got} of {view.nbytes} bytes)")
        got += n
    return arr


class _EndsReader:
    """Sentence ends from the raw int64 file, handed out in order, a block at a time."""

    def __init__(self, f, n: int, block: int = 1 << 20):
        self.f = f
        if n:
            f.seek(0)
        self.left = n
        self.block = block
        self.buf = np.zeros(0, np.int64)

    def take_until(self, hi: int) -> np.ndarray:
        """All remaining ends <= hi."""
        parts = []
        while True:
            if self.buf.size == 0 and self.left:
                self.buf = _read_array(self.f, np.int64, min(self.block, self.left))
                self.left -= self.buf.size
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


def release_free_heap() -> None:
    """Hand the C heap's free pages back to the operating system (glibc's ``malloc_trim``; nothing
    where the C library has none).

    Reading a corpus and building its vocabulary free tens of MB of blocks (the tokenizer's
    buffers, the provisional keys, Python objects) that glibc keeps mapped, behind blocks still in
    use, so they would stay in RSS through training. Called once the token cache is built and the
    provisional keys dropped, RSS went from 230.9 MB (after the token cache) to 198.0 MB at the
    start of training on realmix (bench/RESULTS.md). Only saves memory, so it never raises.
    """
    global _malloc_trim
    if _malloc_trim is None:
        _malloc_trim = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                trim = ctypes.CDLL(None).malloc_trim
                trim.argtypes = [ctypes.c_size_t]
                trim.restype = ctypes.c_int
                _malloc_trim = trim
            except (ImportError, OSError, AttributeError):  # no ctypes, or a C library without it (musl)
                pass
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim = None


def _write_ends(work, sf, ends: np.ndarray, prev_end: int, max_len: int) -> int:
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
    work.append(sf, ends.astype(np.int64))
    return int(ends.size)


def check_stop() -> None:
    """Raise :class:`TrainingInterrupted` if a stop was requested (the CLI's SIGINT/SIGTERM/SIGHUP handler)."""
    from .checkpoint import STOP, stop_message

    if STOP.is_set():
        from .errors import TrainingInterrupted

        raise TrainingInterrupted(stop_message("while reading the corpus, before training started"))


class WorkDir:
    """Unnamed temporary files for the token cache, in ``cache_dir`` or the system temporary folder.

    Every file is opened with O_TMPFILE where the system has it (Linux), or
    created and unlinked at once (``tempfile.TemporaryFile``), so it has no
    name from the start: its space is freed when the last descriptor or memory
    map goes away, on any exit, SIGKILL and power loss included. There is
    nothing to clean up and nothing a killed run can leak. ``cleanup`` closes
    the files still open (memory maps keep their own reference).
    """

    def __init__(self, cache_dir: str | os.PathLike | None = None):
        if cache_dir is not None:
            cache_dir = Path(cache_dir)
            try:
                cache_dir.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise CorpusError(f"cannot create cache directory {cache_dir}: {e.strerror or e}") from None
        self.dir = Path(cache_dir) if cache_dir is not None else Path(tempfile.gettempdir())
        self._files: list = []
        self.close(self.new_file())  # a folder we cannot write to fails here, before the corpus is read

    def new_file(self):
        """A new empty unnamed file opened for reading and writing (a binary file object)."""
        try:
            f = tempfile.TemporaryFile(mode="w+b", prefix="fastw2v-cache-", dir=self.dir)
        except OSError as e:
            raise CorpusError(f"cannot create a token cache in {self.dir}: {e.strerror or e}") from None
        self._files.append(f)
        return f

    def append(self, f, arr: np.ndarray) -> None:
        """Write the bytes of contiguous ``arr`` at the end of ``f``; a full disk is a user error."""
        try:
            f.write(memoryview(np.ascontiguousarray(arr)).cast("B"))
        except OSError as e:
            raise CorpusError(f"cannot write the token cache in {self.dir}: {e.strerror or e} "
                              f"(--cache-dir puts it elsewhere)") from None

    def memmap(self, f, dtype, count: int) -> np.ndarray:
        """A read-only memory map of the first ``count`` items of ``f``."""
        try:
            f.flush()
        except OSError as e:
            raise CorpusError(f"cannot write the token cache in {self.dir}: {e.strerror or e} "
                              f"(--cache-dir puts it elsewhere)") from None
        return np.memmap(f, dtype=dtype, mode="r", shape=(count,))

    def close(self, *files) -> None:
        """Close ``files`` (their disk space is freed once no memory map uses it)."""
        for f in files:
            try:
                f.close()
            except OSError:
                pass
            if f in self._files:
                self._files.remove(f)

    def __enter__(self) -> "WorkDir":
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def cleanup(self):
        self.close(*list(self._files))
