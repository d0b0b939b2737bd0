"""Character n-grams of words and their hashed rows, as fastText computes them.

A word w gets the n-grams of ``"<" + w + ">"`` for n in [minn, maxn], counted in
UTF-8 *characters* (a continuation byte never starts or ends an n-gram). The
whole ``"<w>"`` is one of them when it is short enough; a 1-gram that is just a
boundary character is not (that matters only for minn = 1). Each n-gram's bytes
are hashed with 32-bit FNV-1a, where every byte is sign-extended as a signed
char before the xor (fastText's ``uint32_t(int8_t(c))``: bytes >= 0x80, i.e.
non-ASCII text, hash differently from textbook FNV-1a); the n-gram's row is
``V + hash % buckets`` in an input matrix of V word rows plus ``buckets`` rows.

A vocabulary word's input vector is the mean of its own row and its n-gram
rows; a word outside the vocabulary gets the mean of its n-gram rows alone
(none: no vector). :func:`subword_table` lays out every vocabulary word's row
list once, in CSR form, for the kernels; :func:`ngrams` and :func:`ngram_rows`
are the one-word versions for queries and tests.
"""
from __future__ import annotations

import numpy as np
from numba import njit

BOW, EOW = "<", ">"
FNV_OFFSET = 2166136261
FNV_PRIME = 16777619
_MASK32 = 0xFFFFFFFF


def fnv1a_fasttext(data: bytes) -> int:
    """fastText's 32-bit FNV-1a of ``data``, bytes sign-extended before the xor (an int in [0, 2**32))."""
    h = FNV_OFFSET
    for b in data:
        h ^= (b | 0xFFFFFF00) if b >= 0x80 else b
        h = (h * FNV_PRIME) & _MASK32
    return h


def ngrams(word: str, minn: int, maxn: int) -> list:
    """The character n-grams of ``"<word>"`` for n in [minn, maxn], in fastText's order.

    Order: by start character, then by length. ``maxn = 0`` (or maxn < minn) gives none.
    """
    chars = BOW + word + EOW
    out = []
    L = len(chars)
    for i in range(L):
        for n in range(max(minn, 1), maxn + 1):
            if i + n > L:
                break
            if n == 1 and (i == 0 or i + n == L):
                continue  # a lone boundary character is no n-gram
            out.append(chars[i:i + n])
    return out


def ngram_rows(word: str, minn: int, maxn: int, buckets: int, n_words: int) -> np.ndarray:
    """Input-matrix rows (int64) of ``word``'s n-grams: n_words + hash % buckets, one per n-gram."""
    if buckets <= 0 or maxn <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.array([n_words + fnv1a_fasttext(g.encode("utf-8")) % buckets for g in ngrams(word, minn, maxn)],
                    dtype=np.int64)


# ------------------------------------------------------------------ Numba
@njit(cache=True)
def _hash_ngrams(blob, lo, hi, minn, maxn, buckets, base, out, pos, write):
    """Walk the n-grams of the bytes ``"<" + blob[lo:hi] + ">"``; returns pos + their count.

    With ``write`` it stores ``base + hash % buckets`` (int32) into out[pos:...].
    The boundary characters are virtual: index -1 is '<' and index hi - lo is '>'.
    """
    n_bytes = hi - lo + 2
    for i in range(n_bytes):
        b = _byte(blob, lo, hi, i)
        if (b & 0xC0) == 0x80:
            continue  # a continuation byte starts no character
        h = np.uint64(FNV_OFFSET)
        j = i
        n = 0
        while j < n_bytes and n < maxn:
            # one more character: its lead byte, then its continuation bytes
            h = _fnv_step(h, _byte(blob, lo, hi, j))
            j += 1
            while j < n_bytes and (_byte(blob, lo, hi, j) & 0xC0) == 0x80:
                h = _fnv_step(h, _byte(blob, lo, hi, j))
                j += 1
            n += 1
            if n >= minn and not (n == 1 and (i == 0 or j == n_bytes)):
                if write:
                    out[pos] = np.int32(base + np.int64(h % np.uint64(buckets)))
                pos += 1
    return pos


@njit(inline="always")
def _byte(blob, lo, hi, i):
    """Byte i of "<" + blob[lo:hi] + ">" (as an int)."""
    if i == 0:
        return 60  # '<'
    if i == hi - lo + 1:
        return 62  # '>'
    return np.int64(blob[lo + i - 1])


@njit(inline="always")
def _fnv_step(h, b):
    x = np.uint64(b) if b < 0x80 else np.uint64(b) | np.uint64(0xFFFFFF00)  # sign-extended int8
    return ((h ^ x) * np.uint64(FNV_PRIME)) & np.uint64(_MASK32)


@njit(cache=True)
def _build_table(blob, offsets, minn, maxn, buckets):
    n_words = offsets.shape[0] - 1
    ptr = np.zeros(n_words + 1, dtype=np.int64)
    dummy = np.zeros(1, dtype=np.int32)
    for w in range(n_words):
        k = _hash_ngrams(blob, offsets[w], offsets[w + 1], minn, maxn, buckets, n_words, dummy, 0, False)
        ptr[w + 1] = ptr[w] + 1 + k
    ids = np.empty(ptr[n_words], dtype=np.int32)
    for w in range(n_words):
        p = ptr[w]
        ids[p] = w  # the word's own row first, then its n-grams
        _hash_ngrams(blob, offsets[w], offsets[w + 1], minn, maxn, buckets, n_words, ids, p + 1, True)
    return ptr, ids


def subword_table(words, minn: int, maxn: int, buckets: int):
    """Row lists of every vocabulary word, in CSR form, for the kernels.

    Returns (ptr int64 (V+1,), ids int32 (ptr[-1],)): word w's rows are
    ids[ptr[w]:ptr[w+1]], its own row w first, then V + bucket of each n-gram
    in :func:`ngrams` order (duplicates kept, as fastText keeps them).
    """
    encoded = [w.encode("utf-8") for w in words]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    blob = np.frombuffer(b"".join(encoded), dtype=np.uint8) if encoded else np.zeros(0, np.uint8)
    if len(words) + buckets >= 2 ** 31:
        raise ValueError("vocabulary + buckets must stay below 2**31 rows")
    if maxn <= 0:
        minn, maxn, buckets = 1, 0, 1
    return _build_table(blob, offsets, int(minn), int(maxn), int(max(buckets, 1)))


@njit(cache=True, fastmath=True)
def compose_rows(word_rows, ngram_rows_m, ptr, ids, out):
    """out[w] = mean of the rows ids[ptr[w]:ptr[w+1]] for every w; an empty list gives 0.

    Row r < V is word_rows[r] (float32 (V, d)), row V + b is ngram_rows_m[b]
    (float32 (buckets, d)); out: float32 (n, d) with n = ptr.shape[0] - 1.
    """
    d = out.shape[1]
    n_words = word_rows.shape[0]
    for w in range(out.shape[0]):
        lo, hi = ptr[w], ptr[w + 1]
        for q in range(d):
            out[w, q] = 0.0
        for p in range(lo, hi):
            r = ids[p]
            if r < n_words:
                for q in range(d):
                    out[w, q] += word_rows[r, q]
            else:
                for q in range(d):
                    out[w, q] += ngram_rows_m[r - n_words, q]
        if hi > lo:
            inv = np.float32(1.0 / (hi - lo))
            for q in range(d):
                out[w, q] *= inv
