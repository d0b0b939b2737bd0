"""Keyed vectors: word -> row lookups, queries and evaluation."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import io
from .errors import FormatError
from .subwords import compose_rows, ngram_rows, subword_table

DATA_DIR = Path(__file__).parent / "data"


class KeyedVectors:
    """Words and their vectors, in frequency order.

    vectors: float32 (n_words, dim); row i is the vector of ``index_to_key[i]``.
    counts: int64 (n_words,) corpus counts, or None when unknown (word2vec files).

    With character n-grams (a model trained with ``subwords``, or a fastText
    model): ``vectors_ngrams`` float32 (buckets, dim) holds the n-gram rows,
    ``vectors_vocab`` the words' own rows (then ``vectors`` is not given: it is
    composed, row i the mean of word i's own row and its n-gram rows, as
    fastText's word vectors), and ``minn``/``maxn`` the n-gram lengths. Any
    string then has a vector when it has an n-gram (:meth:`has_vector`):
    ``wv["unseen"]`` is the mean of its n-gram rows. ``"w" in wv`` stays
    vocabulary membership. Without n-grams ``vectors_vocab is vectors``.
    """

    def __init__(self, index_to_key, vectors=None, counts=None, vectors_ngrams=None, minn: int = 3, maxn: int = 6,
                 vectors_vocab=None):
        self.vectors_ngrams = None
        self._table = None
        self.minn, self.maxn = int(minn), int(maxn)
        if vectors_ngrams is not None:
            if vectors_vocab is None:
                raise ValueError("n-gram rows need the words' own rows (vectors_vocab)")
            vectors_vocab = np.asarray(vectors_vocab, dtype=np.float32)
            vectors_ngrams = np.asarray(vectors_ngrams, dtype=np.float32)
            if (vectors_ngrams.ndim != 2 or vectors_vocab.ndim != 2 or vectors_ngrams.shape[1] != vectors_vocab.shape[1]
                    or vectors_ngrams.shape[0] < 1):
                raise ValueError("vectors_ngrams must be (buckets, dim) with the words' dim")
            self.vectors_ngrams = vectors_ngrams
            self._vectors_vocab = vectors_vocab
            vectors = np.empty_like(vectors_vocab) if vectors is None else vectors
        elif vectors is None:
            raise ValueError("give the vectors")
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
        if self.vectors_ngrams is not None:
            self.compose()

    @property
    def vectors_vocab(self) -> np.ndarray:
        """float32 (V, d): the words' own rows; without n-grams, ``vectors`` itself (whatever it is now)."""
        return self.vectors if self.vectors_ngrams is None else self._vectors_vocab

    @vectors_vocab.setter
    def vectors_vocab(self, rows):
        if self.vectors_ngrams is None:
            self.vectors = rows
        else:
            self._vectors_vocab = rows

    # ------------------------------------------------------------- subwords
    @property
    def has_ngrams(self) -> bool:
        """True when out-of-vocabulary words get vectors from character n-grams."""
        return self.vectors_ngrams is not None

    @property
    def buckets(self) -> int:
        return 0 if self.vectors_ngrams is None else self.vectors_ngrams.shape[0]

    def subword_table(self):
        """(ptr, ids) of every vocabulary word's rows (see :func:`fastw2v.subwords.subword_table`), cached."""
        if self._table is None:
            self._table = subword_table(self.index_to_key, self.minn, self.maxn, self.buckets)
        return self._table

    def compose(self):
        """Recompute ``vectors`` from the word and n-gram rows (after they were trained further)."""
        if self.vectors_ngrams is None:
            return
        ptr, ids = self.subword_table()
        compose_rows(self.vectors_vocab, self.vectors_ngrams, ptr, ids, self.vectors)
        self._norms = None

    def ngram_ids(self, word) -> np.ndarray:
        """Rows of ``vectors_ngrams`` (int64) that make up ``word``'s n-grams (empty without n-grams)."""
        if self.vectors_ngrams is None:
            return np.zeros(0, dtype=np.int64)
        return ngram_rows(str(word), self.minn, self.maxn, self.buckets, 0)

    def has_vector(self, word) -> bool:
        """True if ``wv[word]`` gives a vector: ``word`` is in the vocabulary, or it has an n-gram."""
        return word in self.key_to_index or (isinstance(word, str) and self.ngram_ids(word).size > 0)

    can_build = has_vector

    def _oov_vector(self, word):
        """Mean of ``word``'s n-gram rows (float32 (dim,)), or None when it has none."""
        if not isinstance(word, str):
            return None
        rows = self.ngram_ids(word)
        if rows.size == 0:
            return None
        return self.vectors_ngrams[rows].mean(axis=0, dtype=np.float32)

    def _vector_and_index(self, word):
        """(vector, vocabulary index or None); KeyError when no vector can be built."""
        i = self.key_to_index.get(word)
        if i is not None:
            return self.vectors[i], i
        v = self._oov_vector(word)
        if v is None:
            raise KeyError(self._unknown_message(word))
        return v, None

    def _unit_and_index(self, word):
        """(unit vector, vocabulary index or None) of a word, composed from n-grams when unknown."""
        i = self.key_to_index.get(word)
        if i is not None:
            return self.get_normed_vectors()[i], i
        v, _ = self._vector_and_index(word)
        return _unit(v.astype(np.float32)), None

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
            return self._vector_and_index(word)[0]
        return np.stack([self._vector_and_index(w)[0] for w in word])

    def get_vector(self, word, norm: bool = False):
        if norm:
            return self._unit_and_index(word)[0]
        return self._vector_and_index(word)[0]

    def _unknown_message(self, word) -> str:
        import difflib

        if self.vectors_ngrams is not None:
            return f"word {word!r} is not in the vocabulary and has no character n-gram of {self.minn}-{self.maxn}"

        close = difflib.get_close_matches(str(word), self.index_to_key[:200_000], n=3, cutoff=0.6)
        hint = f"; closest words: {', '.join(close)}" if close else ""
        return f"word {word!r} not in vocabulary{hint}"

    # ---------------------------------------------------------------- norms
    def get_normed_vectors(self) -> np.ndarray:
        """Unit-length rows (float32 (n_words, dim), computed once and cached); zero rows stay zero."""
        if self._norms is None:
            out = np.empty_like(self.vectors)
            step = 65536  # chunks keep the float32 temporaries small
            for lo in range(0, len(out), step):
                block = self.vectors[lo:lo + step]
                norms = np.sqrt(np.einsum("ij,ij->i", block, block))
                norms[norms == 0] = 1.0
                np.divide(block, norms[:, None], out=out[lo:lo + step])
            self._norms = out
        return self._norms

    def fill_norms(self, force: bool = False):
        if force:
            self._norms = None
        self.get_normed_vectors()

    # --------------------------------------------------------------- queries
    def similarity(self, w1, w2) -> float:
        """Cosine similarity of two words."""
        return float(self._unit_and_index(w1)[0] @ self._unit_and_index(w2)[0])

    def distance(self, w1, w2) -> float:
        """1 - cosine similarity."""
        return 1.0 - self.similarity(w1, w2)

    def n_similarity(self, ws1, ws2) -> float:
        """Cosine similarity between the means of two word sets."""
        ws1, ws2 = list(ws1), list(ws2)
        if not ws1 or not ws2:
            raise ValueError("n_similarity needs two non-empty word lists")
        v1 = self[ws1].mean(axis=0)
        v2 = self[ws2].mean(axis=0)
        return float(_unit(v1) @ _unit(v2))

    def _query(self, positive, negative):
        """Unit-normalised mean of +/- unit vectors (words or raw vectors) and the word ids used."""
        if isinstance(positive, (str, np.ndarray)):
            positive = [positive]
        if isinstance(negative, (str, np.ndarray)):
            negative = [negative]
        positive, negative = list(positive or []), list(negative or [])
        if not positive and not negative:
            raise ValueError("give at least one positive or negative word")
        query = np.zeros(self.vector_size, dtype=np.float64)
        used = []
        for items, sign in ((positive, 1.0), (negative, -1.0)):
            for item in items:
                if isinstance(item, np.ndarray):
                    if item.shape != (self.vector_size,):
                        raise ValueError(f"vector must have shape ({self.vector_size},)")
                    query += sign * item
                else:
                    v, i = self._unit_and_index(item)
                    if i is not None:
                        used.append(i)
                    query += sign * v
        query /= len(positive) + len(negative)
        return _unit(query).astype(np.float32), used

    def most_similar(self, positive=(), negative=(), topn: int = 10, restrict_vocab: int | None = None):
        """Words nearest to mean(positive) - mean(negative) by cosine (3CosAdd).

        positive, negative: words (or raw vectors of shape (dim,)).
        restrict_vocab: only the N most frequent words are candidates.
        Returns a list of (word, cosine similarity), best first, query words excluded.
        """
        query, used = self._query(positive, negative)
        return self._top(query, topn, exclude=set(used), restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=(), negative=(), topn: int = 10, restrict_vocab: int | None = None):
        """Levy & Goldberg's 3CosMul: prod over positive of s / (prod over negative of s + 1e-6).

        s = (1 + cos) / 2 maps cosines to [0, 1]. Returns a list of (word, score).
        """
        if isinstance(positive, str):
            positive = [positive]
        if isinstance(negative, str):
            negative = [negative]
        positive, negative = list(positive or []), list(negative or [])
        if not positive:
            raise ValueError("most_similar_cosmul needs at least one positive word")
        normed = self._limited(restrict_vocab)
        pos = [self._unit_and_index(w)[0] for w in positive]
        neg = [self._unit_and_index(w)[0] for w in negative]
        pos_s = [(1.0 + normed @ v) / 2.0 for v in pos]
        neg_s = [(1.0 + normed @ v) / 2.0 for v in neg]
        score = np.prod(pos_s, axis=0) / (np.prod(neg_s, axis=0) + 1e-6)
        exclude = {self.key_to_index[w] for w in positive + negative if w in self.key_to_index}
        return self._best(score, topn, exclude)

    def similar_by_vector(self, vector, topn: int = 10, restrict_vocab: int | None = None):
        """Words nearest to a raw vector by cosine; a list of (word, similarity)."""
        return self._top(_unit(np.asarray(vector, dtype=np.float32)), topn, exclude=set(),
                         restrict_vocab=restrict_vocab)

    def similar_by_word(self, word, topn: int = 10, restrict_vocab: int | None = None):
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    def doesnt_match(self, words) -> str:
        """The word furthest from the mean of the others' unit vectors."""
        words = list(words)
        if not words:
            raise ValueError("doesnt_match needs at least one word")
        vecs = np.stack([self._unit_and_index(w)[0] for w in words])
        mean = _unit(vecs.mean(axis=0))
        return words[int(np.argmin(vecs @ mean))]

    def closer_than(self, w1, w2) -> list:
        """Words closer to w1 than w2 is (w1 itself excluded)."""
        normed = self.get_normed_vectors()
        i = self.get_index(w1)
        sims = normed @ normed[i]
        limit = sims[self.get_index(w2)]
        sims[i] = -np.inf
        return [self.index_to_key[j] for j in np.flatnonzero(sims > limit)]

    def rank(self, w1, w2) -> int:
        """Rank of w2 among the neighbours of w1 (1 = nearest)."""
        return len(self.closer_than(w1, w2)) + 1

    def _limited(self, restrict_vocab):
        normed = self.get_normed_vectors()
        if restrict_vocab is None:
            return normed
        return normed[: max(0, min(int(restrict_vocab), len(self)))]

    def _top(self, query, topn, exclude, restrict_vocab):
        return self._best(self._limited(restrict_vocab) @ query, topn, exclude)

    def _best(self, scores, topn, exclude):
        if topn is None or topn < 1:
            raise ValueError("topn must be a positive integer")
        k = min(topn + len(exclude), scores.shape[0])
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k] if k < scores.shape[0] else np.arange(scores.shape[0])
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.index_to_key[i], float(scores[i])) for i in best if i not in exclude][:topn]

    # ------------------------------------------------------------ evaluation
    def evaluate_word_analogies(self, path=None, restrict_vocab: int = 30000, case_insensitive: bool = True,
                                batch_size: int = 1024):
        """Accuracy on an analogy set in the questions-words format (3CosAdd).

        ``: section`` lines start sections; other lines hold four words "a b c
        expected" (a is to b as c is to expected). Questions with a word
        outside the ``restrict_vocab`` most frequent words are skipped and
        counted. The answer is the first of the 5 nearest words to b - a + c
        (unit vectors) that is not a question word, as gensim does. Questions
        are scored in batches by matrix products.

        Returns a dict: ``accuracy`` (correct / answered), ``correct``,
        ``incorrect``, ``oov`` (questions skipped), ``oov_ratio``,
        ``questions`` (all lines with four words) and ``sections``: a list of
        dicts with ``section``, ``correct`` and ``incorrect`` lists of
        (a, b, c, expected) tuples, ending with the "Total accuracy" section.
        """
        path = Path(path) if path is not None else DATA_DIR / "questions-words.txt"
        limit, fold, ok_vocab = self._benchmark_vocab(restrict_vocab, case_insensitive)
        sections, questions, oov = [], [], 0
        for lineno, line in _read_lines(path):
            if line.startswith(":"):
                sections.append({"section": line[1:].strip(), "correct": [], "incorrect": []})
                continue
            words = line.split()
            if len(words) != 4:
                raise FormatError(f"{path}: line {lineno}: expected four words, got {len(words)}")
            if not sections:
                raise FormatError(f"{path}: line {lineno}: question before the first ': section' line")
            words = tuple(fold(w) for w in words)
            if any(w not in ok_vocab for w in words):
                oov += 1
                continue
            questions.append((len(sections) - 1, words))
        normed = self.get_normed_vectors()[:limit]
        for lo in range(0, len(questions), batch_size):
            batch = questions[lo:lo + batch_size]
            ids = np.array([[ok_vocab[w] for w in q[:3]] for _, q in batch], dtype=np.int64)
            query = normed[ids[:, 1]] - normed[ids[:, 0]] + normed[ids[:, 2]]
            query /= np.maximum(np.linalg.norm(query, axis=1, keepdims=True), 1e-12)
            sims = query @ normed.T
            rows = np.arange(len(batch))[:, None]
            sims[rows, ids] = -np.inf  # most_similar leaves out the query words
            best = sims.argmax(axis=1)
            for r, ((sec, (a, b, c, expected)), i) in enumerate(zip(batch, best.tolist())):
                predicted = fold(self.index_to_key[i])
                if predicted in (a, b, c):
                    # a case variant of a question word: take the first of the top 5 that is not one
                    k = min(5, limit)
                    cands = np.argpartition(-sims[r], k - 1)[:k]
                    for j in cands[np.argsort(-sims[r, cands], kind="stable")].tolist():
                        predicted = fold(self.index_to_key[j])
                        if predicted in ok_vocab and predicted not in (a, b, c):
                            break
                key = "correct" if predicted == expected else "incorrect"
                sections[sec][key].append((a, b, c, expected))
        correct = sum(len(s["correct"]) for s in sections)
        incorrect = sum(len(s["incorrect"]) for s in sections)
        total_q = correct + incorrect + oov
        sections = [s for s in sections if s["correct"] or s["incorrect"]]
        sections.append({"section": "Total accuracy",
                         "correct": [q for s in sections for q in s["correct"]],
                         "incorrect": [q for s in sections for q in s["incorrect"]]})
        return {
            "accuracy": correct / (correct + incorrect) if correct + incorrect else 0.0,
            "correct": correct,
            "incorrect": incorrect,
            "oov": oov,
            "oov_ratio": oov / total_q if total_q else 0.0,
            "questions": total_q,
            "sections": sections,
        }

    def evaluate_word_pairs(self, path=None, delimiter=None, restrict_vocab: int = 300000,
                            case_insensitive: bool = True):
        """Correlation of cosine similarity with human scores (WordSim-353 style).

        Lines are ``word1 word2 score`` split by ``delimiter``; by default a tab
        when the line has one, else any whitespace; ``#`` starts a comment;
        CRLF is fine. Only the ``restrict_vocab`` most frequent words count as
        known. Returns a dict: ``pearson``, ``spearman`` (ties get their
        average rank), ``oov_ratio`` (share of pairs with an unknown word, 0..1)
        and ``pairs`` (pairs used).
        """
        path = Path(path) if path is not None else DATA_DIR / "wordsim353.tsv"
        limit, fold, ok_vocab = self._benchmark_vocab(restrict_vocab, case_insensitive)
        normed = self.get_normed_vectors()
        human, model, total = [], [], 0
        for lineno, line in _read_lines(path):
            if line.startswith("#"):
                continue
            sep = delimiter if delimiter else ("\t" if "\t" in line else None)
            parts = [p.strip() for p in line.split(sep) if p.strip()]
            if len(parts) != 3:
                raise FormatError(f"{path}: line {lineno}: expected 'word1 word2 score', got {line[:80]!r}")
            try:
                score = float(parts[2])
            except ValueError:
                raise FormatError(f"{path}: line {lineno}: score {parts[2]!r} is not a number") from None
            total += 1
            a, b = ok_vocab.get(fold(parts[0])), ok_vocab.get(fold(parts[1]))
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

    def _benchmark_vocab(self, restrict_vocab, case_insensitive):
        """(limit, fold, folded word -> id) over the ``restrict_vocab`` most frequent words.

        With case folding the most frequent spelling of a word wins, as in gensim.
        """
        limit = min(int(restrict_vocab), len(self))
        fold = str.upper if case_insensitive else (lambda w: w)
        ok_vocab = {}
        for i in range(limit - 1, -1, -1):
            ok_vocab[fold(self.index_to_key[i])] = i
        return limit, fold, ok_vocab

    # ------------------------------------------------------------ pipelines
    def embedding_matrix(self, word_index=None, oov: str | None = None, padding_idx: int | None = 0,
                         seed: int = 0):
        """A float32 weight matrix for an Embedding layer, row i = the vector of token id i.

        word_index: mapping word -> id (e.g. Keras ``Tokenizer.word_index``, whose ids
        start at 1). None means fastw2v's own ids shifted by one (word
        ``index_to_key[i]`` gets id i + 1), with row 0 for padding.
        oov: rows of words fastw2v does not know: "subword" (composed from their
        character n-grams, as ``wv[word]``; the default when the vectors have
        n-grams; a word without any n-gram gets zeros), "random" (normal with
        the vectors' standard deviation, seeded; the default otherwise),
        "zeros" or "mean" (the mean vector).
        padding_idx: this row is all zeros (None: no padding row).

        Returns ``(matrix, n_missing)``: matrix float32 (max id + 1, dim) and the
        number of words in ``word_index`` that fastw2v does not know.
        """
        if oov is None:
            oov = "subword" if self.has_ngrams else "random"
        if oov not in ("subword", "random", "zeros", "mean"):
            raise ValueError(f"oov must be 'subword', 'random', 'zeros' or 'mean', not {oov!r}")
        if oov == "subword" and not self.has_ngrams:
            raise ValueError("oov='subword' needs vectors trained with subwords (character n-grams)")
        d = self.vector_size
        if word_index is None:
            matrix = np.zeros((len(self) + 1, d), dtype=np.float32)
            matrix[1:] = self.vectors
            if padding_idx not in (None, 0):
                raise ValueError("with fastw2v's own ids the padding row is 0")
            return matrix, 0
        ids = np.fromiter((int(i) for i in word_index.values()), dtype=np.int64, count=len(word_index))
        if ids.size and ids.min() < 0:
            raise ValueError("word_index ids must be >= 0")
        rows = int(ids.max()) + 1 if ids.size else 0
        if padding_idx is not None:
            rows = max(rows, int(padding_idx) + 1)
        matrix = np.zeros((rows, d), dtype=np.float32)
        missing = []
        for word, i in word_index.items():
            j = self.key_to_index.get(word)
            if j is None:
                missing.append(int(i))
                if oov == "subword":
                    v = self._oov_vector(word)
                    if v is not None:
                        matrix[int(i)] = v
            else:
                matrix[int(i)] = self.vectors[j]
        if missing and oov != "subword":
            miss = np.asarray(missing, dtype=np.int64)
            if oov == "random":
                rng = np.random.default_rng(seed)
                matrix[miss] = rng.normal(0.0, float(self.vectors.std()), size=(miss.size, d))
            elif oov == "mean":
                matrix[miss] = self.vectors.mean(axis=0)
        if padding_idx is not None:
            if np.any(ids == padding_idx):
                raise ValueError(f"padding_idx {padding_idx} is also the id of a word in word_index")
            matrix[padding_idx] = 0.0
        return matrix, len(missing)

    def encode(self, texts, maxlen: int | None = None, padding: str = "post", truncating: str = "post",
               oov_id: int | None = None, word_index=None):
        """Token lists (or whitespace-separated strings) -> padded int32 ids, shape (n, maxlen).

        Ids match :meth:`embedding_matrix` with the same ``word_index`` (by default
        fastw2v's ids + 1, 0 = padding). Unknown tokens get ``oov_id``, or are
        dropped when it is None. ``maxlen=None`` uses the longest text. padding /
        truncating: "post" pads or cuts at the end, "pre" at the start.
        """
        for name, v in (("padding", padding), ("truncating", truncating)):
            if v not in ("pre", "post"):
                raise ValueError(f"{name} must be 'pre' or 'post', not {v!r}")
        if isinstance(texts, str):
            raise TypeError("texts must be a list of texts, not one string")
        if word_index is None:
            lookup = lambda w: (self.key_to_index[w] + 1) if w in self.key_to_index else None  # noqa: E731
        else:
            lookup = word_index.get
        seqs = []
        for text in texts:
            tokens = text.split() if isinstance(text, str) else text
            seq = []
            for t in tokens:
                i = lookup(t)
                if i is None:
                    if oov_id is None:
                        continue
                    i = oov_id
                seq.append(int(i))
            seqs.append(seq)
        if maxlen is None:
            maxlen = max((len(q) for q in seqs), default=0)
        if maxlen < 0:
            raise ValueError("maxlen must be >= 0")
        out = np.zeros((len(seqs), maxlen), dtype=np.int32)
        for row, seq in enumerate(seqs):
            if len(seq) > maxlen:
                seq = seq[:maxlen] if truncating == "post" else seq[len(seq) - maxlen:]
            if not seq:
                continue
            if padding == "post":
                out[row, :len(seq)] = seq
            else:
                out[row, maxlen - len(seq):] = seq
        return out

    def to_torch(self, freeze: bool = True, word_index=None, oov: str | None = None):
        """A ``torch.nn.Embedding`` holding :meth:`embedding_matrix` (row 0 = padding).

        torch is imported only here; it is not a dependency of fastw2v.
        """
        try:
            import torch
        except ImportError:
            raise ImportError("to_torch needs PyTorch: pip install torch") from None
        matrix, _ = self.embedding_matrix(word_index=word_index, oov=oov, padding_idx=0)
        return torch.nn.Embedding.from_pretrained(torch.from_numpy(matrix), freeze=freeze, padding_idx=0)

    # ------------------------------------------------------------------ files
    def save_word2vec_format(self, path, binary: bool = False):
        """Write word2vec C's text (default) or binary format, atomically."""
        io.save_word2vec(path, self.index_to_key, self.vectors, binary=binary)

    @classmethod
    def load_fasttext(cls, path) -> "KeyedVectors":
        """Word and n-gram vectors from a model fastText saved (``.bin``, as the published pretrained ones).

        The vocabulary's vectors are composed as fastText's ``get_word_vector``;
        unseen words get vectors from their n-grams. Read with struct reads and
        size checks before any allocation, nothing unpickled. (``</s>`` is left out.)
        """
        ft = io.load_fasttext_bin(path)
        if ft["maxn"] <= 0 or ft["ngram_rows"].shape[0] == 0:
            return cls(ft["words"], ft["word_rows"], ft["counts"])
        return cls(ft["words"], counts=ft["counts"], vectors_vocab=ft["word_rows"], vectors_ngrams=ft["ngram_rows"],
                   minn=ft["minn"], maxn=ft["maxn"])

    @classmethod
    def load_word2vec_format(cls, path, binary: bool | None = None) -> "KeyedVectors":
        """Read word2vec C's text or binary format (binary when ``.bin`` unless told)."""
        words, vectors = io.load_word2vec(path, binary=binary)
        return cls(words, vectors)


def _read_lines(path):
    """(line number, stripped line) for the non-blank lines of a UTF-8 text file."""
    try:
        text = Path(path).read_bytes().decode("utf-8", "replace")
    except OSError as e:
        raise FormatError(f"cannot read {path}: {e.strerror or e}") from None
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line:
            yield lineno, line


def _unit(v):
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


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
