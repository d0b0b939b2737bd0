"""Corpus files for workers: local paths, URLs and globs through fsspec.

A local path keeps the local reader's rules (a folder means its files,
sorted, hidden ones skipped). A URL (``s3://``, ``gs://``, ``file://``, ...)
or a glob is expanded by fsspec, sorted. Every file is read with the local
reader's pieces: compression by extension, tokens cut at ASCII whitespace,
invalid UTF-8 counted, each file's last line ends a sentence.
"""
from __future__ import annotations

import lzma
import os
import zlib
from pathlib import Path

import numpy as np

from ..corpus import ByteVocab, RawStream, WorkDir, _RawWriter, _read_array, corpus_files, count_invalid_utf8, iter_pieces
from ..errors import CorpusError

_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".lzma": "lzma"}
_GLOB = set("*?[")


def _is_url(p: str) -> bool:
    return "://" in p


def expand(paths) -> list[str]:
    """The corpus files, in order: local paths by :func:`corpus_files`, URLs and globs by fsspec."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files: list[str] = []
    for p in map(str, paths):
        if not _is_url(p) and not (_GLOB & set(p)):
            files.extend(str(f.resolve()) for f in corpus_files([p]))
            continue
        import fsspec

        try:
            fs, root = fsspec.core.url_to_fs(p)
            if _GLOB & set(p):
                found = sorted(fs.glob(root))
            elif fs.isdir(root):
                found = sorted(f for f in fs.find(root) if not Path(f).name.startswith("."))
            else:
                found = [root] if fs.exists(root) else []
        except (ImportError, ValueError) as e:
            raise CorpusError(f"cannot read {p}: {e}") from None
        except OSError as e:
            raise CorpusError(f"cannot list {p}: {e.strerror or e}") from None
        found = [f for f in found if not fs.isdir(f)]
        if not found:
            raise CorpusError(f"no such file or directory: {p}" if not (_GLOB & set(p)) else f"no file matches {p}")
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        files.extend(f if _is_url(f) or protocol in ("file", "local") else f"{protocol}://{f}" for f in found)
    if not files:
        raise CorpusError("no corpus given")
    return files


def open_binary(url: str):
    """Open a corpus file for binary reading, decompressing by extension."""
    compression = _COMPRESSION.get(Path(url.split("?")[0]).suffix.lower())
    if not _is_url(url):
        from ..corpus import open_text_binary

        return open_text_binary(Path(url))
    import fsspec

    return fsspec.open(url, "rb", compression=compression).open()


def read(files: list[str], work: WorkDir) -> RawStream:
    """Tokenise ``files`` in order into a :class:`RawStream` of unnamed files of ``work`` (as the local reader)."""
    w = _RawWriter(work, ByteVocab())
    n_invalid = 0
    try:
        for url in files:
            try:
                f = open_binary(url)
            except (OSError, ValueError) as e:
                raise CorpusError(f"cannot open {url}: {getattr(e, 'strerror', None) or e}") from None
            try:
                with f:
                    for piece in iter_pieces(f):
                        if b"\x00" in piece:
                            raise CorpusError(f"{url} looks like a binary file (NUL bytes), not UTF-8 text")
                        n_invalid += count_invalid_utf8(piece)
                        ids, ends = w.byte_vocab.tokenize(piece, w.n_tokens)
                        w.add_arrays(ids, ends)
            except (OSError, EOFError, lzma.LZMAError, zlib.error) as e:
                raise CorpusError(f"cannot read {url}: {e}") from None
            w.end_sentence()
        return w.close(n_invalid)
    except BaseException:
        w.abort()
        raise


def word_counts(raw: RawStream) -> dict:
    """str word -> count of a raw stream (byte keys decoded as the vocabulary does, duplicates merged)."""
    out: dict = {}
    keys = raw.keys
    for k, c in zip(keys, raw.counts.tolist()):
        w = k.decode("utf-8", "replace") if isinstance(k, bytes) else k
        out[w] = out.get(w, 0) + c
    return out


def slice_raw(raw: RawStream, lo: int, hi: int, work: WorkDir, chunk: int = 1 << 22) -> RawStream:
    """The raw tokens [lo, hi) of ``raw`` as a new RawStream (a sentence crossing a bound is cut there).

    Both files are copied a chunk at a time, so memory stays flat whatever the
    span. Counts are not recomputed (the caller uses global counts).
    """
    ids_f, ends_f = work.new_file(), work.new_file()
    n_ends = 0
    if hi > lo:
        raw.ids_file.seek(4 * lo)
        for a in range(lo, hi, chunk):
            work.append(ids_f, _read_array(raw.ids_file, np.int32, min(chunk, hi - a)))
        last = 0
        raw.ends_file.seek(0)
        for a in range(0, raw.n_sentences, chunk):
            e = _read_array(raw.ends_file, np.int64, min(chunk, raw.n_sentences - a))
            inner = e[(e > lo) & (e < hi)] - lo
            if inner.size:
                work.append(ends_f, inner.astype(np.int64))
                n_ends += int(inner.size)
                last = int(inner[-1])
        if last != hi - lo:  # the span's end closes its last sentence
            work.append(ends_f, np.array([hi - lo], np.int64))
            n_ends += 1
    return RawStream(ids_f, ends_f, raw.keys, raw.counts, int(hi - lo), n_ends, raw.n_invalid_utf8)
