"""Keyed vectors: word -> row lookups, queries and evaluation."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import io
from .errors import FormatError

DATA_DIR = Path(__file__).parent / "data"


class KeyedVectors:
    """Words and their vectors, in frequency order.

    vectors: float32 (n_words, dim); row i is the vector of ``index_to_key[i]``.
    counts: int64 (n_words,) corpus counts, or None when unknown (word2vec files).
    """

    def __init__(self, index_to_key, vectors, counts=None):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(index_to_key):
            raise ValueError("vectors must be (len(index_to_key), dim)")
        self.index_to_key = list(index_to_key)
        self.key_to_index = {w: i for i, w in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            raise ValueError("duplicate words in index_to_key")
        self.vectors = vectors
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self._norms = None

    # ---------------------------------------------------------------- lookup
    def __len__(self):
        return len(self.index_to_key)

    def __contains__(self, word):
        return word in self.key_to_index

    @property
    def vector_size(self) -> int:
        return self.vectors.shape[1]

    def get_index(self, word) -> int:
        try:
            return self.key_to_index[word]
        except KeyError:
            raise KeyError(self._unknown_message(word)) from None

    def __getitem__(self, word):
        if isinstance(word, str):
            return self.vectors[self.get_index(word)]
        return np.stack([self.vectors[self.get_index(w)] for w in word])

    def get_vector(self, word, norm: bool = False):
        i = self.get_index(word)
        return self.get_normed_vectors()[i] if norm else self.vectors[i]

    def _unknown_message(self, word) -> str:
        import difflib

        close = difflib.get_close_matches(str(word), self.index_to_key[:200_000], n=3, cutoff=0.6)
        hint = f"; closest words: {', '.join(close)}" if close else ""
        return f"word {word!r} not in vocabulary{hint}"

    # ---------------------------------------------------------------- norms
    def get_normed_vectors(self) -> np.ndarray:
        """Unit-length rows (float32, cached); all-zero rows stay zero."""
        if self._norms is None:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            self._norms = (self.vectors / norms).astype(np.float32)
        return self._norms

    def fill_norms(self, force: bool = False):
        if force:
            self._norms = None
        self.get_normed_vectors()

    # --------------------------------------------------------------- queries
    def similarity(self, w1, w2) -> float:
        n = self.get_normed_vectors()
        return float(n[self.get_index(w1)] @ n[self.get_index(w2)])

    def most_similar(self, positive=(), negative=(), topn: int = 10, restrict_vocab: int | None = None):
        """Nearest words by cosine to mean(positive) - mean(negative) of unit vectors (3CosAdd).

        Returns a list of (word, similarity), query words excluded.
        """
        if isinstance(positive, str):
            positive = [positive]
        if isinstance(negative, str):
            negative = [negative]
        positive, negative = list(positive), list(negative)
        if not positive and not negative:
            raise ValueError("most_similar needs at least one word")
        normed = self.get_normed_vectors()
        idx = [self.get_index(w) for w in positive + negative]
        weights = [1.0] * len(positive) + [-1.0] * len(negative)
        query = np.zeros(self.vector_size, dtype=np.float32)
        for i, wt in zip(idx, weights):
            query += wt * normed[i]
        return self._top(query, topn, exclude=set(idx), restrict_vocab=restrict_vocab)

    def similar_by_vector(self, vector, topn: int = 10, restrict_vocab: int | None = None):
        return self._top(np.asarray(vector, dtype=np.float32), topn, exclude=set(), restrict_vocab=restrict_vocab)

    def _top(self, query, topn, exclude, restrict_vocab):
        normed = self.get_normed_vectors()
        limit = len(self) if restrict_vocab is None else min(int(restrict_vocab), len(self))
        qn = np.linalg.norm(query)
        if qn > 0:
            query = query / qn
        sims = normed[:limit] @ query
        k = min(topn + len(exclude), limit)
        if k <= 0:
            return []
        best = np.argpartition(-sims, k - 1)[:k]
        best = best[np.argsort(-sims[best], kind="stable")]
        out = [(self.index_to_key[i], float(sims[i])) for i in best if i not in exclude]
        return out[:topn]

    # ------------------------------------------------------------ evaluation
    def evaluate_word_pairs(self, path=None, delimiter=None, case_insensitive: bool = True):
        """Correlation of cosine similarity with human scores (WordSim-353 style).

        Lines are ``word1 word2 score`` split by tab, or by whitespace when no tab
        is present; ``#`` starts a comment. Returns a dict with ``pearson``,
        ``spearman`` (ties get their average rank), ``oov_ratio`` (share of pairs
        with a word not in the vocabulary) and ``pairs`` (pairs used).
        """
        path = Path(path) if path is not None else DATA_DIR / "wordsim353.tsv"
        lookup = self._lookup(case_insensitive)
        normed = self.get_normed_vectors()
        human, model, total = [], [], 0
        try:
            text = path.read_bytes().decode("utf-8", "replace")
        except OSError as e:
            raise FormatError(f"cannot read {path}: {e.strerror or e}") from None
        for lineno, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(delimiter if delimiter else ("\t" if "\t" in line else None))
            parts = [p.strip() for p in parts if p.strip()]
            if len(parts) != 3:
                raise FormatError(f"{path}: line {lineno}: expected 'word1 word2 score', got {line[:80]!r}")
            try:
                score = float(parts[2])
            except ValueError:
                raise FormatError(f"{path}: line {lineno}: score {parts[2]!r} is not a number") from None
            total += 1
            a, b = lookup(parts[0]), lookup(parts[1])
            if a is None or b is None:
                continue
            human.append(score)
            model.append(float(normed[a] @ normed[b]))
        if total == 0:
            raise FormatError(f"{path}: no word pairs found")
        h, m = np.asarray(human), np.asarray(model)
        return {
            "pearson": _pearson(h, m),
            "spearman": _pearson(_rank(h), _rank(m)),
            "oov_ratio": 1.0 - len(human) / total,
            "pairs": len(human),
        }

    def _lookup(self, case_insensitive):
        if not case_insensitive:
            return self.key_to_index.get
        lower = {}
        for i, w in enumerate(self.index_to_key):  # most frequent spelling wins
            lower.setdefault(w.lower(), i)
        return lambda w: lower.get(w.lower())

    # ------------------------------------------------------------------ files
    def save_word2vec_format(self, path, binary: bool = False):
        """Write word2vec C's text (default) or binary format, atomically."""
        io.save_word2vec(path, self.index_to_key, self.vectors, binary=binary)

    @classmethod
    def load_word2vec_format(cls, path, binary: bool | None = None) -> "KeyedVectors":
        """Read word2vec C's text or binary format (binary when ``.bin`` unless told)."""
        words, vectors = io.load_word2vec(path, binary=binary)
        return cls(words, vectors)


def _rank(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    sx = x[order]
    i = 0
    n = len(x)
    while i < n:
        j = i
        while j + 1 < n and sx[j + 1] == sx[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2:
        return float("nan")
    a = a - a.mean()
    b = b - b.mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else float("nan")
