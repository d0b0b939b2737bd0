"""Files: word2vec text and binary formats, the native model, atomic writes.

Every writer goes through :func:`atomic_write`: the data goes to a temporary
file beside the target, is flushed and fsynced, then renamed over the target,
so a crash never leaves a half-written file under the real name.

The native model is a NumPy ``.npz`` archive read with ``allow_pickle=False``:
arrays plus one JSON metadata blob. Nothing in it can run code.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .errors import FormatError

NATIVE_FORMAT = "fastw2v-model"
NATIVE_VERSION = 1
NATIVE_SUFFIX = ".fw2v"
TEXT_SUFFIXES = (".txt", ".vec")
BINARY_SUFFIXES = (".bin",)
MAX_DIM = 100_000


def format_for(path, fmt: str | None = None) -> str:
    """'text', 'binary' or 'native', from ``fmt`` or else the file extension."""
    if fmt:
        fmt = fmt.lower()
        if fmt in ("text", "txt", "vec"):
            return "text"
        if fmt in ("binary", "bin"):
            return "binary"
        if fmt in ("native", "model", "fw2v"):
            return "native"
        raise FormatError(f"unknown format {fmt!r} (expected text, binary or native)")
    suffix = Path(path).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return "text"
    if suffix in BINARY_SUFFIXES:
        return "binary"
    return "native"


@contextlib.contextmanager
def atomic_write(path):
    """Open a temporary binary file beside ``path``; rename it over ``path`` on success only.

    Where the system allows (Linux: O_TMPFILE and /proc), the temporary file
    has no name while it is written and is linked in only once complete, so
    even ``kill -9`` during a long write (a checkpoint of gigabytes) leaves
    no stray file; elsewhere it is a hidden ``.NAME.XXXX.tmp`` beside the target.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    try:
        special = not stat.S_ISREG(os.stat(path).st_mode) and not path.is_dir()
    except OSError:
        special = False
    if special:
        # /dev/null, a FIFO: renaming over it would replace the device itself, so the data goes into it;
        # written to an unnamed file first, because writers such as zipfile need to seek
        with tempfile.TemporaryFile() as f:
            yield f
            f.seek(0)
            with open(path, "wb") as out:
                shutil.copyfileobj(f, out, 1 << 22)
        return
    fd = _unnamed_file(parent)
    if fd is None:
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
        except OSError as e:
            raise FormatError(f"cannot write {path}: {e.strerror or e}") from None
        os.close(fd)
        tmp_name = tmp
    else:
        tmp_name = None
    try:
        with open(tmp_name, "wb") if tmp_name else os.fdopen(fd, "w+b") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
            if tmp_name is None:
                tmp_name = _give_name(f, parent, path.name)
        if fd is None:
            os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs get the usual mode
        os.replace(tmp_name, path)
    except BaseException:
        if tmp_name:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
        raise


def _unnamed_file(folder: Path):
    """A descriptor of a new unnamed file in ``folder`` (mode 0666 less the umask), or None where impossible."""
    if not hasattr(os, "O_TMPFILE") or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(folder, os.O_TMPFILE | os.O_RDWR, 0o666)
    except OSError:
        return None  # an old kernel or a file system without O_TMPFILE; mkstemp says why if the folder is bad


def _give_name(f, folder: Path, name: str) -> str:
    """Link the complete unnamed file ``f`` into ``folder`` under a fresh hidden name; returns that name."""
    for _ in range(100):
        tmp = os.path.join(folder, f".{name}.{os.urandom(4).hex()}.tmp")
        try:
            os.link(f"/proc/self/fd/{f.fileno()}", tmp, follow_symlinks=True)
            return tmp
        except FileExistsError:
            continue
        except OSError:
            break
    # linking refused (unusual /proc): copy the data into an ordinary temporary file
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            f.seek(0)
            while True:
                block = f.read(1 << 22)
                if not block:
                    break
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# ----------------------------------------------------------------- word2vec
# \s of a str pattern is exactly str.isspace(): what the tokenizer splits on, and what word2vec readers split on
_UNSTORABLE = re.compile(r"[\s\ud800-\udfff]")


def word_problem(word) -> str | None:
    """Why ``word`` cannot be stored in every output format, or None if it can.

    The one rule for the word2vec text and binary writers and the check
    before training (the native model stores a superset): a word is a non-empty ``str`` with no
    whitespace (``str.isspace()``, which the files use as separators) and no
    lone surrogate (which UTF-8 cannot encode). Anything else (control
    characters, U+FFFD, any script) is stored and read back as it is.
    """
    if not isinstance(word, str):
        return f"it is a {type(word).__name__}, not a str"
    if not word:
        return "it is empty"
    m = _UNSTORABLE.search(word)
    if m is None:
        return None
    ch = m.group()
    kind = "whitespace" if ch.isspace() else "a lone surrogate, which UTF-8 cannot encode"
    return f"it contains U+{ord(ch):04X} ({kind})"


def first_unstorable(words):
    """(index, word, reason) of the first word :func:`word_problem` refuses, or None.

    Fast for large vocabularies: one regular-expression scan over all words
    joined by a character that is never refused.
    """
    words = words if isinstance(words, list) else list(words)
    if all(isinstance(w, str) for w in words):
        joined = "\x00".join(words)
        if _UNSTORABLE.search(joined) is None and all(words):
            return None
    for i, w in enumerate(words):
        reason = word_problem(w)
        if reason:
            return i, w, reason
    return None


def save_word2vec(path, words, vectors: np.ndarray, binary: bool) -> None:
    """Write word2vec C's text or binary format.

    vectors: float array (n, d), row i is the vector of ``words[i]``. Every
    word must pass :func:`word_problem` (checked before anything is written).
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 2 and vectors.strides[1] != 4:
        vectors = np.ascontiguousarray(vectors)  # rows are written whole: each must be contiguous
    n, d = vectors.shape
    if len(words) != n:
        raise ValueError("words and vectors differ in length")
    bad = first_unstorable(words)
    if bad is not None:
        raise FormatError(f"word {bad[1]!r} cannot be stored in word2vec format: {bad[2]}")
    with atomic_write(path) as f:
        f.write(f"{n} {d}\n".encode())
        if binary:
            for w, row in zip(words, vectors):
                f.write(w.encode("utf-8") + b" " + row.tobytes() + b"\n")
        else:
            block = 4096
            for lo in range(0, n, block):
                rows = vectors[lo:lo + block]
                lines = []
                for w, row in zip(words[lo:lo + block], rows):
                    lines.append(w + " " + " ".join(f"{x:.6g}" for x in row.tolist()))
                f.write(("\n".join(lines) + "\n").encode("utf-8"))


def _parse_header(line: bytes, path, size: int, binary: bool):
    parts = line.split()
    if len(parts) != 2:
        raise FormatError(f"{path}: line 1: expected a header 'count dim', got {line[:80]!r}")
    try:
        n, d = int(parts[0]), int(parts[1])
    except ValueError:
        raise FormatError(f"{path}: line 1: header is not two integers: {line[:80]!r}") from None
    if n < 0 or d < 1 or d > MAX_DIM:
        raise FormatError(f"{path}: line 1: header declares {n} words of dimension {d}, out of range")
    # refuse before allocating: each row needs at least d*4 bytes (binary) or 2*d bytes (text)
    per_row = 4 * d + 2 if binary else 2 * d + 1
    if n * per_row > size:
        raise FormatError(f"{path}: header declares {n} words of dimension {d}, but the file has only "
                          f"{size} bytes: truncated or not a word2vec file")
    return n, d


def load_word2vec(path, binary: bool | None = None, limit: int | None = None):
    """Read word2vec text or binary format.

    ``binary=None`` decides from the extension (``.bin`` is binary).
    ``limit``: read only the first ``limit`` vectors (the rest of the file is not read).
    Returns (words: list of str, vectors: float32 (n, d)).
    """
    path = Path(path)
    if binary is None:
        binary = path.suffix.lower() in BINARY_SUFFIXES
    try:
        size = path.stat().st_size
        f = open(path, "rb")
    except OSError as e:
        raise FormatError(f"cannot open {path}: {e.strerror or e}") from None
    with f:
        header = f.readline()
        n, d = _parse_header(header, path, size, binary)
        declared = n
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise ValueError(f"limit must be an integer >= 0, got {limit!r}")
            n = min(n, limit)
        vectors = np.empty((n, d), dtype=np.float32)
        words = []
        if binary:
            for i in range(n):
                word = bytearray()
                while True:
                    ch = f.read(1)
                    if not ch:
                        raise FormatError(f"{path}: truncated after {i} of {n} vectors")
                    if ch == b" ":
                        break
                    if ch != b"\n" or word:
                        word += ch
                buf = f.read(4 * d)
                if len(buf) != 4 * d:
                    raise FormatError(f"{path}: truncated after {i} of {n} vectors")
                vectors[i] = np.frombuffer(buf, dtype="<f4")
                words.append(word.decode("utf-8", "replace"))
        else:
            for i in range(n):
                line = f.readline()
                if not line:
                    raise FormatError(f"{path}: header declares {n} vectors but the file has {i}")
                parts = line.rstrip().split(b" ")
                if len(parts) != d + 1:
                    raise FormatError(f"{path}: line {i + 2}: expected a word and {d} numbers, got {len(parts) - 1}")
                try:
                    with np.errstate(over="ignore", invalid="ignore"):  # 1e99 becomes inf, refused below
                        vectors[i] = np.array(parts[1:], dtype=np.float32)
                except ValueError:
                    raise FormatError(f"{path}: line {i + 2}: not a number in the vector") from None
                words.append(parts[0].decode("utf-8", "replace"))
            if n == declared and f.readline().strip():
                raise FormatError(f"{path}: header declares {n} vectors but the file has more")
    if not np.isfinite(vectors).all():
        raise FormatError(f"{path}: vectors contain NaN or inf")
    if len(set(words)) != len(words):
        raise FormatError(f"{path}: the same word appears twice")
    return words, vectors


# ------------------------------------------------------------------- native
def _pack_words(words):
    # the native format stores any str UTF-8 can encode (whitespace included); training checks the
    # stricter word_problem() rule, so whatever was trained fits every format
    try:
        encoded = [w.encode("utf-8") for w in words]
    except (UnicodeEncodeError, AttributeError):
        bad = first_unstorable(words)
        raise FormatError(f"word {bad[1]!r} cannot be stored: {bad[2]}") from None
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    return blob, offsets


def _unpack_words(blob, offsets):
    raw = blob.tobytes()
    off = offsets.tolist()
    return [raw[off[i]:off[i + 1]].decode("utf-8") for i in range(len(off) - 1)]


def save_native(path, arrays: dict, words, meta: dict) -> None:
    """Write the native model: ``arrays`` (name -> ndarray), the word list and JSON metadata."""
    blob, offsets = _pack_words(words)
    meta = dict(meta, format=NATIVE_FORMAT, version=NATIVE_VERSION)
    payload = dict(arrays)
    payload["words_blob"] = blob
    payload["words_offsets"] = offsets
    payload["meta_json"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    with atomic_write(path) as f:
        np.savez(f, **payload)


def _check_members(path, archive: zipfile.ZipFile) -> None:
    """Refuse, before anything is allocated, an archive member whose array would not fit in it.

    np.savez stores members uncompressed, so each member is exactly its .npy
    header plus the array's bytes. A header claiming 10^12 rows, or a
    compressed member (a zip bomb), would otherwise make NumPy allocate it all
    before finding out.
    """
    for info in archive.infolist():
        name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if info.compress_type != zipfile.ZIP_STORED:
            raise FormatError(f"{path}: not a fastw2v model (member {name} is compressed)")
        if info.flag_bits & 0x61:  # encrypted, strongly encrypted, patched: zipfile cannot or must not read them
            raise FormatError(f"{path}: not a fastw2v model (member {name} is encrypted or patched)")
        with archive.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise FormatError(f"{path}: member {name}: unsupported .npy version {version}")
            header = f.tell()
        if dtype.hasobject:
            raise FormatError(f"{path}: refused: array {name} holds Python objects")
        if header + int(np.prod(shape, dtype=object)) * dtype.itemsize != info.file_size:
            raise FormatError(f"{path}: array {name} claims shape {shape} of {dtype}, which does not match its "
                              f"{info.file_size} bytes: truncated or corrupt")


_WORD2VEC_HEADER = re.compile(rb"\s*\d+[ \t]+\d+[ \t]*\r?\n")


def _refuse_other_formats(path, head: bytes) -> None:
    """Raise :class:`FormatError` when ``head``, a file's first bytes, is neither a zip archive (.npz) nor
    a .npy file: say what it is where a word2vec file can be told (the CLI's ``-o NAME.bin`` / ``.txt``
    output, which holds the vectors only), instead of NumPy's answer about pickles."""
    if head.startswith((b"PK", b"\x93NUMPY")):
        return
    if _WORD2VEC_HEADER.match(head):
        raise FormatError(
            f"{path} is a word2vec-format file: it holds the vectors only, not the output weights and word "
            "counts of a model or checkpoint. Query it with `fastw2v similar` or "
            "KeyedVectors.load_word2vec_format; to train further, save the model as NAME.fw2v")
    raise FormatError(f"{path}: not a fastw2v model (neither a fastw2v archive nor a word2vec file)")


def load_native(path, required=("syn0",)):
    """Read a native model; returns (arrays: dict, words: list, meta: dict).

    Raises :class:`FormatError` for anything that is not a whole fastw2v model
    of a known version; never unpickles.
    """
    path = Path(path)
    try:
        # our own handle: np.load leaves its file open when the archive is corrupt
        with open(path, "rb") as fh:
            _refuse_other_formats(path, fh.read(64))
            fh.seek(0)
            z = np.load(fh, allow_pickle=False)
            if not hasattr(z, "zip"):
                raise FormatError(f"{path}: not a fastw2v model (a bare .npy array, not an archive)")
            with z:
                data = _read_archive(path, z, required)
    except FormatError:
        raise
    except FileNotFoundError:
        raise FormatError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise FormatError(f"{path} is a directory, not a model file") from None
    except PermissionError as e:
        raise FormatError(f"cannot open {path}: {e.strerror}") from None
    except ValueError:
        # np.load raises ValueError for pickled object arrays when allow_pickle=False (numpy's message
        # suggests allow_pickle=True, which fastw2v never offers: not repeated to the user)
        raise FormatError(f"{path}: refused: not a fastw2v model, or it holds pickled objects (fastw2v "
                          "never unpickles a file)") from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError, NotImplementedError, RuntimeError) as e:
        # RuntimeError / NotImplementedError: zipfile's answers to encryption and other flags it cannot read
        raise FormatError(f"{path}: not a fastw2v model or corrupt ({e})") from None
    return _parse_native(path, data)


def _read_archive(path, z, required) -> dict:
    """Every array of an open archive, after checking names and sizes."""
    names = set(z.files)
    for need in ("meta_json", "words_blob", "words_offsets") + tuple(required):
        if need not in names:
            raise FormatError(f"{path}: not a fastw2v model (missing {need})")
    _check_members(path, z.zip)
    return {k: z[k] for k in z.files}


def _parse_native(path, data: dict):
    """(arrays, words, meta) from the raw arrays of a native file, checked."""
    try:
        meta = json.loads(data.pop("meta_json").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FormatError(f"{path}: corrupt metadata") from None
    if not isinstance(meta, dict) or meta.get("format") != NATIVE_FORMAT:
        raise FormatError(f"{path}: not a fastw2v model")
    if meta.get("version") != NATIVE_VERSION:
        raise FormatError(f"{path}: model format version {meta.get('version')} is not supported "
                          f"(this fastw2v reads version {NATIVE_VERSION})")
    blob, offsets = data.pop("words_blob"), data.pop("words_offsets")
    if (blob.dtype != np.uint8 or offsets.dtype != np.int64 or offsets.ndim != 1 or offsets.size < 1
            or offsets[0] != 0 or offsets[-1] != blob.size or np.any(np.diff(offsets) < 0)):
        raise FormatError(f"{path}: corrupt vocabulary")
    try:
        words = _unpack_words(blob, offsets)
    except UnicodeDecodeError:
        raise FormatError(f"{path}: corrupt vocabulary") from None
    n = len(words)
    if len(set(words)) != n:
        raise FormatError(f"{path}: corrupt vocabulary (the same word twice)")
    for name, arr in data.items():
        if arr.dtype == object:
            raise FormatError(f"{path}: refused: array {name} holds Python objects")
        if arr.ndim >= 1 and arr.shape[0] != n and name in ("syn0", "syn1", "bias", "counts"):
            raise FormatError(f"{path}: array {name} has {arr.shape[0]} rows for {n} words")
    return data, words, meta


# ------------------------------------------------------------------- export
def export_projector(out_dir, words, vectors: np.ndarray) -> list:
    """TensorFlow Embedding Projector files: vectors.tsv (tab-separated floats) and metadata.tsv.

    Returns the paths written. Each file is written atomically.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    vec_path, meta_path = out_dir / "vectors.tsv", out_dir / "metadata.tsv"
    with atomic_write(vec_path) as f:
        for lo in range(0, len(words), 4096):
            rows = vectors[lo:lo + 4096]
            f.write(("\n".join("\t".join(f"{x:.6g}" for x in row) for row in rows.tolist()) + "\n").encode())
    with atomic_write(meta_path) as f:
        # the projector reads a one-column metadata file without a header; tabs and newlines would split it
        f.write(("\n".join(w.replace("\t", " ").replace("\n", " ") for w in words) + "\n").encode("utf-8"))
    return [vec_path, meta_path]


def export_npy(out_dir, words, vectors: np.ndarray) -> list:
    """vectors.npy (float32 (n, dim), row i = line i of vocab.txt) and vocab.txt (UTF-8, one word a line)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    npy_path, vocab_path = out_dir / "vectors.npy", out_dir / "vocab.txt"
    with atomic_write(npy_path) as f:
        np.save(f, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
    with atomic_write(vocab_path) as f:
        f.write(("\n".join(words) + "\n").encode("utf-8"))
    return [npy_path, vocab_path]


# ------------------------------------------------------------------ fastText
FASTTEXT_MAGIC = 793712314
FASTTEXT_VERSIONS = (12,)  # fastText 0.9's format (the published cc.*.bin models)
_FT_MODELS = {1: "cbow", 2: "sg", 3: "supervised"}


def is_fasttext_bin(path) -> bool:
    """True if the file starts with fastText's magic number (its .bin/.ftz models)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) == 4 and int.from_bytes(head, "little", signed=True) == FASTTEXT_MAGIC


class _Reader:
    """Little-endian struct reads that refuse to run past the end of the file."""

    def __init__(self, f, path, size):
        self.f, self.path, self.size = f, path, size

    def left(self) -> int:
        return self.size - self.f.tell()

    def take(self, n: int) -> bytes:
        if n > self.left():
            raise FormatError(f"{self.path}: truncated fastText model")
        return self.f.read(n)

    def ints(self, fmt: str):
        import struct

        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def matrix(self, what: str):
        m, n = self.ints("qq")
        if m < 0 or n < 1 or n > MAX_DIM or m * n * 4 > self.left():
            raise FormatError(f"{self.path}: the {what} matrix claims {m} x {n} floats, more than the "
                              f"{self.left()} bytes left: truncated or not a fastText model")
        out = np.fromfile(self.f, dtype="<f4", count=m * n)
        if out.size != m * n:
            raise FormatError(f"{self.path}: truncated fastText model")
        return out.reshape(m, n).astype(np.float32, copy=False)


def load_fasttext_bin(path):
    """Read a model fastText saved (``.bin``; not quantized ``.ftz``), without trusting its header.

    Every count is checked against the bytes left in the file before anything is
    allocated; nothing is unpickled or executed. Returns a dict: ``words`` (list
    of str, the vocabulary without labels and without ``</s>``), ``counts``
    (int64), ``word_rows`` float32 (len(words), dim), ``ngram_rows`` float32
    (bucket, dim), ``minn``, ``maxn``, ``dim``, ``model`` ('sg', 'cbow' or 'supervised').
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        f = open(path, "rb")
    except OSError as e:
        raise FormatError(f"cannot open {path}: {e.strerror or e}") from None
    with f:
        r = _Reader(f, path, size)
        magic, version = r.ints("ii")
        if magic != FASTTEXT_MAGIC:
            raise FormatError(f"{path}: not a fastText model (no magic number)")
        if version not in FASTTEXT_VERSIONS:
            raise FormatError(f"{path}: fastText model version {version} is not supported")
        (dim, _ws, _epoch, _min_count, _neg, word_ngrams, _loss, model, bucket, minn, maxn, _lr_update,
         _t) = r.ints("12id")
        if not (0 < dim <= MAX_DIM) or bucket < 0 or minn < 0 or maxn < 0 or model not in _FT_MODELS:
            raise FormatError(f"{path}: corrupt fastText header (dim {dim}, bucket {bucket}, minn {minn}, "
                              f"maxn {maxn}, model {model})")
        n_entries, n_words, n_labels, _n_tokens, prune_size = r.ints("iiiqq")
        # each entry takes at least 10 bytes (a terminating 0, an int64 count, a type byte)
        if n_entries < 0 or n_words < 0 or n_labels < 0 or n_words + n_labels != n_entries \
                or n_entries * 10 > r.left():
            raise FormatError(f"{path}: corrupt fastText dictionary header ({n_entries} entries)")
        if prune_size > 0:
            raise FormatError(f"{path}: pruned (quantized) fastText models are not supported")
        words, counts = [], []
        buf, pos = b"", 0  # words are NUL-terminated: parse a read-ahead buffer, not byte by byte
        for _ in range(n_entries):
            end = buf.find(b"\0", pos)
            while end < 0 or len(buf) < end + 10:
                more = f.read(1 << 20)
                if not more:
                    raise FormatError(f"{path}: truncated fastText dictionary")
                buf, pos = buf[pos:] + more, 0
                end = buf.find(b"\0")
            word = buf[pos:end].decode("utf-8", "replace")
            count = int.from_bytes(buf[end + 1:end + 9], "little", signed=True)
            kind = buf[end + 9]
            pos = end + 10
            if kind == 0:  # a word (1: a label of a supervised model)
                words.append(word)
                counts.append(count)
        f.seek(f.tell() - (len(buf) - pos))  # give back what was read ahead
        quant_input = r.take(1)[0]
        if quant_input:
            raise FormatError(f"{path}: quantized fastText models (.ftz) are not supported")
        rows = r.matrix("input")
    if rows.shape[1] != dim or rows.shape[0] != n_words + bucket or len(words) != n_words:
        raise FormatError(f"{path}: the input matrix is {rows.shape[0]} x {rows.shape[1]}, the header says "
                          f"{n_words} words + {bucket} buckets of dimension {dim}")
    word_rows, ngram_rows = rows[:n_words], rows[n_words:]
    # </s> (the end of line) has no n-grams in fastText: keep it out of the vocabulary
    if "</s>" in words:
        j = words.index("</s>")
        words.pop(j)
        counts.pop(j)
        word_rows = np.delete(word_rows, j, axis=0)
    if not np.isfinite(rows[:: max(1, rows.shape[0] // 1000)]).all():
        raise FormatError(f"{path}: vectors contain NaN or inf")
    return {"words": words, "counts": np.asarray(counts, dtype=np.int64), "word_rows": word_rows,
            "ngram_rows": ngram_rows, "minn": int(minn), "maxn": int(maxn), "dim": int(dim),
            "model": _FT_MODELS[model], "word_ngrams": int(word_ngrams)}
