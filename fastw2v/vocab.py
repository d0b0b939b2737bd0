"""Vocabulary: counting, pruning, frequency order, subsampling probabilities."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import CorpusError


@dataclass
class Vocab:
    """Words in frequency order (count descending, then the word).

    words: list of str, id -> word.
    counts: int64 array (n_words,), corpus count of each word.
    """

    words: list
    counts: np.ndarray

    def __post_init__(self):
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    @property
    def total(self) -> int:
        """Sum of the counts of the kept words."""
        return int(self.counts.sum())


def build_vocab(keys: list, counts: np.ndarray, min_count: int, max_vocab: int | None, keep=None):
    """Prune and order provisional keys.

    keys: provisional id -> token, all distinct (``bytes`` are decoded as UTF-8
    with replacement; tokens that decode to the same string are merged).
    counts: int64 array, count per provisional id.
    keep: optional ``keep(words, counts, min_count) -> bool array`` that replaces
    the ``counts >= min_count`` test (gensim's ``trim_rule`` and
    ``max_final_vocab`` go through it); words are the merged distinct words
    (list of str), counts their int64 counts.

    Returns ``(vocab, remap)``: remap is an int32 array provisional id -> final
    id, or -1 for words that were pruned.
    """
    n = len(keys)
    counts = np.asarray(counts, dtype=np.int64)
    # Keys that can be neither kept nor merged are pruned without being decoded: most of a corpus's
    # distinct tokens are rare, and a str and a dict entry for each of them (253k on realmix, 61k
    # kept) left ~20 MB of freed objects in the heap through training. A key merges with another
    # only if both decode to a word with U+FFFD in it (an invalid byte run, or the character
    # itself), which needs a byte >= 0x80: so an ASCII key below min_count is pruned as it is.
    rare_ascii = np.zeros(n, dtype=bool)
    if keep is None and n and isinstance(keys[0], bytes):
        rare = np.flatnonzero(counts < min_count).tolist()
        rare_ascii[[i for i in rare if keys[i].isascii()]] = True
    cand = np.flatnonzero(~rare_ascii)
    if n and isinstance(keys[0], bytes):
        words = [keys[i].decode("utf-8", "replace") for i in cand.tolist()]
    else:
        words = list(keys)
    # merge keys that decode to the same word (distinct invalid byte runs)
    uniq: dict = {}
    group = np.full(n, -1, dtype=np.int64)
    group[cand] = [uniq.setdefault(w, len(uniq)) for w in words]
    merged_counts = (np.bincount(group[cand], weights=counts[cand], minlength=len(uniq)).astype(np.int64)
                     if cand.size else np.zeros(0, np.int64))
    merged_words = list(uniq)
    del words
    if keep is None:
        kept = merged_counts >= min_count
    else:
        kept = np.asarray(keep(merged_words, merged_counts, min_count), dtype=bool)
        if kept.shape != merged_counts.shape:
            raise ValueError("keep() must return one bool per distinct word")
    keep = np.flatnonzero(kept)
    if keep.size == 0:
        n_distinct = len(merged_words) + int(rare_ascii.sum())  # a pruned ASCII key is a word of its own
        raise CorpusError(f"vocabulary is empty: no word occurs at least min_count={min_count} times "
                          f"({n_distinct} distinct words in the corpus)")
    order = sorted(keep.tolist(), key=lambda i: (-int(merged_counts[i]), merged_words[i]))
    if max_vocab is not None:
        order = order[:max_vocab]
    final_of_group = np.full(len(merged_words), -1, dtype=np.int32)
    final_of_group[np.asarray(order, dtype=np.int64)] = np.arange(len(order), dtype=np.int32)
    remap = np.full(n, -1, dtype=np.int32)
    remap[cand] = final_of_group[group[cand]]
    vocab = Vocab([merged_words[i] for i in order], merged_counts[order].copy())
    _check_storable(vocab.words)
    return vocab, remap


def _check_storable(words):
    """Refuse, before any training, a word that no output format could store (see io.word_problem)."""
    from .io import first_unstorable

    bad = first_unstorable(words)
    if bad is not None:
        raise CorpusError(f"token {bad[1]!r} cannot be saved in any output format ({bad[2]}): split tokens on "
                          f"whitespace (str.split()) and make every token a non-empty str before training")


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec C's subsampling keep probability per word (float32, clipped to 1).

    With t = sample * total: keep(w) = (sqrt(c_w / t) + 1) * t / c_w.
    ``sample=0`` keeps every word.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones(counts.shape[0], dtype=np.float32)
    t = sample * counts.sum()
    with np.errstate(divide="ignore"):
        p = (np.sqrt(counts / t) + 1.0) * t / counts
    return np.minimum(p, 1.0).astype(np.float32)
