"""Byte tokenizer: whitespace split and word -> provisional id, in Numba.

Tokens are maximal runs of bytes without whitespace, where whitespace is what
Python's ``str.split()`` splits on: ASCII space, \\t, \\n, \\v, \\f, \\r,
U+001C-U+001F, and the UTF-8 sequences of U+0085, U+00A0, U+1680,
U+2000-U+200A, U+2028, U+2029, U+202F, U+205F and U+3000. So a token never
holds a character that word2vec files use as a separator, and splitting the
bytes gives the same tokens as decoding and then ``str.split()``. A newline
(\\n) ends a sentence. Ids are
given in first-seen order through an open-addressing hash table (64-bit
FNV-1a). A hash match is confirmed by comparing the bytes with the token's
first occurrence, kept in a byte pool, so a collision can never merge two words.

The table and pool are plain arrays owned by :class:`ByteVocab`; when either
is nearly full the kernel stops early and Python grows them and calls again.
"""
import numpy as np
from numba import njit

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@njit(inline="always")
def _space_len(buf, pos, n):
    """Length in bytes of the whitespace character at ``buf[pos]``, 0 if there is none.

    ASCII costs two range checks; only the lead bytes 0xC2, 0xE1, 0xE2 and 0xE3
    of the multi-byte spaces look further. A lead byte is never a continuation
    byte, so a match cannot be the tail of another character, even in invalid UTF-8.
    """
    b = buf[pos]
    if b < 0x80:
        return 1 if (b == 32 or (9 <= b <= 13) or (28 <= b <= 31)) else 0
    if b < 0xC2 or b > 0xE3:
        return 0
    if b == 0xC2:  # U+0085, U+00A0
        return 2 if pos + 1 < n and (buf[pos + 1] == 0x85 or buf[pos + 1] == 0xA0) else 0
    if pos + 2 >= n:
        return 0
    c = buf[pos + 1]
    d = buf[pos + 2]
    if b == 0xE1:  # U+1680
        return 3 if c == 0x9A and d == 0x80 else 0
    if b == 0xE2:  # U+2000-U+200A, U+2028, U+2029, U+202F; U+205F
        if c == 0x80 and ((0x80 <= d <= 0x8A) or d == 0xA8 or d == 0xA9 or d == 0xAF):
            return 3
        return 3 if c == 0x81 and d == 0x9F else 0
    if b == 0xE3:  # U+3000
        return 3 if c == 0x80 and d == 0x80 else 0
    return 0


@njit(cache=True)
def tokenize_piece(buf, pos, slot_hash, slot_id, pool, pool_off, tok_off, tok_len, n_words,
                   ids, n_ids, ends, n_ends, total_before):
    """Tokenise ``buf[pos:]`` into ``ids`` and sentence ``ends``.

    buf: uint8 bytes (cut at whitespace by the caller). slot_hash uint64 /
    slot_id int64: the hash table (id -1 = empty, size a power of two).
    pool uint8 with fill ``pool_off``; tok_off / tok_len int64: each word's bytes.
    ids int32 / ends int64: outputs with fills n_ids / n_ends; ends are global
    offsets (``total_before`` + index in this call's output).

    Returns (pos reached, pool_off, n_words, n_ids, n_ends, status):
    status 0 = done, 1 = table or pool nearly full (grow and call again from pos).
    """
    n = buf.shape[0]
    mask = np.uint64(slot_hash.shape[0] - 1)
    max_words = slot_hash.shape[0] // 2
    while pos < n:
        space = _space_len(buf, pos, n)
        if space:
            if buf[pos] == 10:
                end = total_before + n_ids
                if end != 0 and (n_ends == 0 or ends[n_ends - 1] != end):
                    ends[n_ends] = end
                    n_ends += 1
            pos += space
            continue
        start = pos
        h = _FNV_OFFSET
        while pos < n:
            c = buf[pos]
            # fast path: printable ASCII (33-127) is never a space; only the rest needs _space_len
            if (c <= 32 or c >= 0x80) and _space_len(buf, pos, n) != 0:
                break
            h = (h ^ np.uint64(c)) * _FNV_PRIME
            pos += 1
        length = pos - start
        i = h & mask
        while True:
            wid = slot_id[i]
            if wid < 0:
                # a new word: make sure there is room, else stop before it
                if n_words >= max_words or pool_off + length > pool.shape[0] or n_words >= tok_off.shape[0]:
                    return start, pool_off, n_words, n_ids, n_ends, 1
                slot_hash[i] = h
                slot_id[i] = n_words
                pool[pool_off:pool_off + length] = buf[start:pos]
                tok_off[n_words] = pool_off
                tok_len[n_words] = length
                pool_off += length
                wid = n_words
                n_words += 1
                break
            if slot_hash[i] == h and tok_len[wid] == length:
                o = tok_off[wid]
                same = True
                for q in range(length):
                    if pool[o + q] != buf[start + q]:
                        same = False
                        break
                if same:
                    break
            i = (i + np.uint64(1)) & mask
        ids[n_ids] = wid
        n_ids += 1
    return pos, pool_off, n_words, n_ids, n_ends, 0


@njit(cache=True)
def rehash(slot_hash, slot_id, new_hash, new_id):
    """Move every entry of one table into a larger empty one."""
    mask = np.uint64(new_hash.shape[0] - 1)
    for s in range(slot_hash.shape[0]):
        wid = slot_id[s]
        if wid >= 0:
            i = slot_hash[s] & mask
            while new_id[i] >= 0:
                i = (i + np.uint64(1)) & mask
            new_hash[i] = slot_hash[s]
            new_id[i] = wid
