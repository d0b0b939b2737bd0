"""gensim's Word2Vec API on fastw2v: change one import.

    from fastw2v.compat import Word2Vec, KeyedVectors      # was: from gensim.models import ...

:class:`Word2Vec` takes ``gensim.models.Word2Vec``'s constructor (gensim's
names and defaults: CBOW, alpha 0.025, ``workers``, ``vector_size``...),
``build_vocab`` (with ``update=True`` for online growth) and ``train``;
``model.wv`` is a :class:`KeyedVectors` that answers gensim's queries with
gensim's return shapes. Training, vocabulary and queries are fastw2v's own
(:class:`fastw2v.Word2Vec`, :class:`fastw2v.KeyedVectors`); this module only
translates names, defaults and return values.

Where a gensim setting has no counterpart here it raises :class:`ConfigError`
(it would change the model) or warns (it only concerns speed or memory);
nothing is changed silently. ``save``/``load`` use fastw2v's native format,
which never unpickles; gensim's pickled models are refused unless the caller
opts in for a file they trust (``allow_gensim_pickle=True``, needs gensim).
"""
from __future__ import annotations

import dataclasses
import math
import os
import types
import warnings
from collections import namedtuple
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from . import io
from .corpus import open_text_binary
from .errors import ConfigError, CorpusError, FormatError
from .keyedvectors import DATA_DIR, KeyedVectors as _KeyedVectors, _read_lines
from .model import Word2Vec as _Word2Vec
from .trainer import init_weights, init_bias
from .vocab import build_vocab as _build_vocab

__all__ = ["Word2Vec", "KeyedVectors", "LineSentence", "PathLineSentences", "CallbackAny2Vec",
           "RULE_DEFAULT", "RULE_DISCARD", "RULE_KEEP"]

#: gensim.utils' trim_rule answers
RULE_DEFAULT, RULE_DISCARD, RULE_KEEP = 0, 1, 2
#: gensim's MAX_WORDS_IN_BATCH: LineSentence splits longer lines into pieces of this many words
MAX_WORDS_IN_BATCH = 10000

PearsonResult = namedtuple("PearsonResult", ["statistic", "pvalue"])
SpearmanResult = namedtuple("SpearmanResult", ["statistic", "pvalue"])
PearsonResult.correlation = property(lambda self: self.statistic)
SpearmanResult.correlation = property(lambda self: self.statistic)


class CompatCorpusError(CorpusError, RuntimeError):
    """An empty corpus or vocabulary (gensim raises RuntimeError there; this is both)."""


class _corpus_errors:
    """Re-raise fastw2v's CorpusError as :class:`CompatCorpusError`, same message."""

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        if err is not None and isinstance(err, CorpusError) and not isinstance(err, CompatCorpusError):
            raise CompatCorpusError(str(err)) from None
        return False


class CompatWarning(UserWarning):
    """A gensim setting that fastw2v accepts but does not use (speed or memory knobs only)."""


def _warn(msg):
    warnings.warn(msg, CompatWarning, stacklevel=3)


# ------------------------------------------------------------------ corpora
class LineSentence:
    """gensim's LineSentence: one line = one sentence of whitespace-separated tokens.

    source: a path (``.gz``, ``.bz2``, ``.xz`` are decompressed) or an open file
    object with ``seek``. Lines longer than ``max_sentence_length`` words are
    split. ``limit``: only the first ``limit`` lines. Iterating yields lists of
    str; given to :class:`Word2Vec` as a path with no ``limit``, the file is read
    by fastw2v's native tokenizer instead (the same tokens for ASCII whitespace).
    """

    def __init__(self, source, max_sentence_length: int = MAX_WORDS_IN_BATCH, limit: int | None = None):
        self.source = source
        self.max_sentence_length = max_sentence_length
        self.limit = limit

    def _lines(self):
        if hasattr(self.source, "seek"):
            self.source.seek(0)
            yield from _limited(self.source, self.limit)
        else:
            with open_text_binary(Path(self.source)) as f:
                yield from _limited(f, self.limit)

    def __iter__(self):
        for line in self._lines():
            if isinstance(line, bytes):
                line = line.decode("utf-8", "replace")
            words = line.split()
            for i in range(0, len(words), self.max_sentence_length):
                yield words[i:i + self.max_sentence_length]


class PathLineSentences(LineSentence):
    """gensim's PathLineSentences: every file of a folder (sorted by name) as :class:`LineSentence`.

    ``limit`` applies to each file. A single file is accepted too.
    """

    def __init__(self, source, max_sentence_length: int = MAX_WORDS_IN_BATCH, limit: int | None = None):
        super().__init__(source, max_sentence_length, limit)
        p = Path(source)
        if p.is_file():
            self.input_files = [str(p)]
        elif p.is_dir():
            self.input_files = sorted(str(q) for q in p.iterdir() if q.is_file())
        else:
            raise ValueError("input is neither a file nor a path")

    def __iter__(self):
        for name in self.input_files:
            yield from LineSentence(name, self.max_sentence_length, self.limit)


def _limited(lines, limit):
    for i, line in enumerate(lines):
        if limit is not None and i >= limit:
            return
        yield line


def _native_source(corpus):
    """The path(s) fastw2v can read itself for a LineSentence-like corpus, else None.

    Duck-typed so that gensim's own LineSentence / PathLineSentences objects
    take the fast path too. Only whole files qualify (no ``limit``, and the
    default sentence length, which is also fastw2v's).
    """
    name = type(corpus).__name__
    if name not in ("LineSentence", "PathLineSentences") or getattr(corpus, "limit", None) is not None:
        return None
    if getattr(corpus, "max_sentence_length", MAX_WORDS_IN_BATCH) != MAX_WORDS_IN_BATCH:
        return None
    if name == "PathLineSentences":
        files = [f for f in getattr(corpus, "input_files", []) if os.path.isfile(f)]
        return files or None
    source = getattr(corpus, "source", None)
    if isinstance(source, (str, os.PathLike)) and os.path.isfile(source):
        return str(source)
    return None


def _corpus(corpus_iterable, corpus_file, passes: int):
    """What fastw2v reads: a path, a list of paths or the iterable itself (gensim's checks first)."""
    if corpus_iterable is None and corpus_file is None:
        raise TypeError("Either one of corpus_file or corpus_iterable value must be provided")
    if corpus_iterable is not None and corpus_file is not None:
        raise TypeError("Both corpus_file and corpus_iterable must not be provided at the same time")
    if corpus_file is not None:
        if not os.path.isfile(corpus_file):
            raise TypeError(f"Parameter corpus_file must be a valid path to a file, got {corpus_file!r} instead")
        return str(corpus_file)
    if isinstance(corpus_iterable, (str, bytes)) or not isinstance(corpus_iterable, Iterable):
        raise TypeError(f"The corpus_iterable must be an iterable of lists of strings, got {corpus_iterable!r} "
                        "instead (for a file, pass corpus_file= or LineSentence(path))")
    if isinstance(corpus_iterable, types.GeneratorType) and passes > 1:
        raise TypeError(f"Using a generator as corpus_iterable can't support {passes} passes. "
                        "Try a re-iterable sequence.")
    native = _native_source(corpus_iterable)
    return native if native is not None else corpus_iterable


# ------------------------------------------------------------- callbacks
class CallbackAny2Vec:
    """gensim's callback base class; subclass it and override what you need.

    Each method gets the :class:`Word2Vec` being trained, at a point where its
    weights are consistent (between kernel calls), so saving it there is safe.
    gensim's own ``CallbackAny2Vec`` subclasses work the same way.
    """

    def on_epoch_begin(self, model):
        pass

    def on_epoch_end(self, model):
        pass

    def on_batch_begin(self, model):
        pass

    def on_batch_end(self, model):
        pass

    def on_train_begin(self, model):
        pass

    def on_train_end(self, model):
        pass


def _call(callbacks, name, model):
    for cb in callbacks:
        method = getattr(cb, name, None)
        if method is not None:
            method(model)


# ------------------------------------------------------------ vectors
class KeyedVectors(_KeyedVectors):
    """gensim's KeyedVectors calls on fastw2v's vectors.

    ``KeyedVectors(vector_size)`` starts empty (fill it with ``add_vectors``),
    as in gensim. Query results have gensim's shapes: lists of (key, float),
    floats, ``(score, sections)`` and ``((pearson, p), (spearman, p), oov %)``.
    """

    def __init__(self, vector_size: int, count: int = 0, dtype=np.float32, mapfile_path=None):
        if mapfile_path is not None:
            raise ConfigError("mapfile_path is not supported: fastw2v keeps vectors in memory")
        super().__init__([], np.zeros((0, int(vector_size)), dtype=np.float32), np.zeros(0, dtype=np.int64))
        if count:
            _warn("KeyedVectors(count=...) preallocation is ignored; add_vectors grows the arrays")
        if np.dtype(dtype) != np.float32:
            raise ConfigError("fastw2v's vectors are float32")

    @classmethod
    def _wrap(cls, kv: _KeyedVectors) -> "KeyedVectors":
        """A compat view sharing ``kv``'s arrays (no copy)."""
        out = cls.__new__(cls)
        out._adopt(kv)
        return out

    def _adopt(self, kv: _KeyedVectors) -> None:
        """Take over the words, arrays and caches of ``kv`` (after training replaced them)."""
        if kv is self:
            return
        self.__dict__.update(kv.__dict__)  # words, arrays, caches and the n-gram state, all shared

    # --------------------------------------------------------------- lookup
    def get_index(self, key, default=None):
        """Row of ``key``; an int in range is its own index; ``default`` (if not None) for unknown keys."""
        i = self.key_to_index.get(key, -1) if not isinstance(key, np.ndarray) else -1
        if i >= 0:
            return i
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool) and 0 <= key < len(self):
            return int(key)
        if default is not None:
            return default
        raise KeyError(f"Key '{key}' not present")

    def has_index_for(self, key) -> bool:
        return self.get_index(key, -1) >= 0

    def __getitem__(self, key_or_keys):
        if isinstance(key_or_keys, (str, int, np.integer)):
            return self.vectors[self.get_index(key_or_keys)]
        return np.vstack([self.vectors[self.get_index(k)] for k in key_or_keys])

    def get_vector(self, key, norm: bool = False):
        i = self.get_index(key)
        return self.get_normed_vectors()[i] if norm else self.vectors[i]

    word_vec = get_vector

    def get_vecattr(self, key, attr):
        """Only ``'count'`` is kept (the corpus count of the word)."""
        if attr != "count":
            raise KeyError(f"fastw2v keeps only the 'count' attribute, not {attr!r}")
        if self.counts is None:
            raise KeyError("these vectors have no counts (loaded from a word2vec file without fvocab)")
        return int(self.counts[self.get_index(key)])

    def set_vecattr(self, key, attr, val):
        if attr != "count":
            raise KeyError(f"fastw2v keeps only the 'count' attribute, not {attr!r}")
        if self.counts is None:
            self.counts = np.zeros(len(self), dtype=np.int64)
        self.counts[self.get_index(key)] = int(val)

    @property
    def vectors_lockf(self):
        """gensim's experimental per-word learning-rate factors: always 1 here (every vector trains)."""
        return np.ones(1, dtype=np.float32)

    @vectors_lockf.setter
    def vectors_lockf(self, value):
        if not np.all(np.asarray(value) == 1.0):
            raise ConfigError("vectors_lockf (freezing some vectors during training) is not supported by fastw2v")

    @property
    def norms(self):
        """L2 norm of every row (float32 (n,))."""
        return np.linalg.norm(self.vectors, axis=1).astype(np.float32)

    def fill_norms(self, force: bool = False):
        super().fill_norms(force=force)

    def unit_normalize_all(self):
        """Replace the vectors by their unit-length versions (irreversible, as in gensim)."""
        self.vectors = self.get_normed_vectors().copy()
        self._norms = None

    # ------------------------------------------------------------- growing
    def add_vectors(self, keys, weights, extras=None, replace: bool = False):
        """Append ``keys`` with ``weights`` (n, vector_size); known keys are kept unless ``replace``."""
        if extras:
            raise ConfigError("extras are not supported (fastw2v keeps only 'count')")
        if isinstance(keys, (str, int)):
            keys = [keys]
            weights = np.asarray(weights).reshape(1, -1)
        weights = np.asarray(weights, dtype=np.float32)
        keys = list(keys)
        if weights.shape != (len(keys), self.vector_size):
            raise ValueError(f"weights must be ({len(keys)}, {self.vector_size})")
        new_keys, new_rows = [], []
        for k, row in zip(keys, weights):
            i = self.key_to_index.get(k)
            if i is None:
                if k in new_keys:
                    raise ValueError(f"key {k!r} given twice")
                new_keys.append(k)
                new_rows.append(row)
            elif replace:
                self.vectors[i] = row
        if new_keys:
            counts = self.counts if self.counts is not None else np.zeros(len(self), dtype=np.int64)
            self.vectors = np.concatenate([self.vectors, np.stack(new_rows)])
            self.counts = np.concatenate([counts, np.zeros(len(new_keys), dtype=np.int64)])
            for k in new_keys:
                self.key_to_index[k] = len(self.index_to_key)
                self.index_to_key.append(k)
        self._norms = None

    def add_vector(self, key, vector) -> int:
        self.add_vectors([key], np.asarray(vector).reshape(1, -1), replace=True)
        return self.get_index(key)

    def __setitem__(self, keys, weights):
        if isinstance(keys, (str, int)):
            keys, weights = [keys], np.asarray(weights).reshape(1, -1)
        self.add_vectors(keys, weights, replace=True)

    # --------------------------------------------------------------- queries
    def get_mean_vector(self, keys, weights=None, pre_normalize: bool = True, post_normalize: bool = False,
                        ignore_missing: bool = True):
        """Weighted mean of the keys' vectors (or raw vectors), divided by the sum of |weights| used."""
        if len(keys) == 0:
            raise ValueError("cannot compute mean with no input")
        weights = np.ones(len(keys)) if weights is None else np.asarray(weights, dtype=np.float64)
        if weights.shape[0] != len(keys):
            raise ValueError("keys and weights array must have same number of elements")
        mean = np.zeros(self.vector_size, dtype=np.float64)
        total = 0.0
        for key, w in zip(keys, weights.tolist()):
            if isinstance(key, np.ndarray):
                mean += w * key
            elif self.has_index_for(key):
                mean += w * self.get_vector(key, norm=pre_normalize)
            elif not ignore_missing:
                raise KeyError(f"Key '{key}' not present in vocabulary")
            else:
                continue
            total += abs(w)
        if total > 0:
            mean /= total
        if post_normalize:
            n = np.linalg.norm(mean)
            mean = mean / n if n > 0 else mean
        return mean.astype(np.float32)

    def most_similar(self, positive=None, negative=None, topn=10, clip_start: int = 0, clip_end=None,
                     restrict_vocab=None, indexer=None):
        """gensim's most_similar: keys, indexes, vectors or (item, weight) pairs; topn=None -> all cosines.

        Returns a list of (key, cosine) best first, the query keys left out, or
        with ``topn`` None/0 a float32 array of the cosine to every key in the range.
        """
        if indexer is not None:
            raise ConfigError("indexer is not supported (fastw2v searches exactly)")
        if isinstance(topn, (int, np.integer)) and topn < 1:
            return []
        positive, negative = _ensure_list(positive), _ensure_list(negative)
        items, weights = [], []
        for sign, group in ((1.0, positive), (-1.0, negative)):
            for item in group:
                if isinstance(item, tuple) and len(item) == 2 and not isinstance(item[0], tuple):
                    items.append(item[0])
                    weights.append(float(item[1]))
                else:
                    items.append(item)
                    weights.append(sign)
        for item in items:  # unknown words are an error, as in gensim
            if not isinstance(item, np.ndarray):
                self.get_index(item)
        mean = self.get_mean_vector(items, weights, pre_normalize=True, post_normalize=True, ignore_missing=False)
        used = {self.get_index(k) for k in items if not isinstance(k, np.ndarray)}
        if restrict_vocab:
            clip_start, clip_end = 0, restrict_vocab
        clip_end = len(self) if clip_end is None else min(int(clip_end), len(self))
        sims = self.get_normed_vectors()[clip_start:clip_end] @ mean
        if not topn:
            return sims
        return self._ranked(sims, topn, used, offset=clip_start)

    def _ranked(self, scores, topn, exclude, offset=0):
        k = min(int(topn) + len(exclude), scores.shape[0])
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k] if k < scores.shape[0] else np.arange(scores.shape[0])
        best = best[np.argsort(-scores[best], kind="stable")]
        out = [(self.index_to_key[i + offset], float(scores[i])) for i in best.tolist() if i + offset not in exclude]
        return out[:int(topn)]

    def similar_by_key(self, key, topn=10, restrict_vocab=None):
        return self.most_similar(positive=[key], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_word(self, word, topn=10, restrict_vocab=None):
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None):
        return self.most_similar(positive=[np.asarray(vector, dtype=np.float32)], topn=topn,
                                 restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """Levy & Goldberg's 3CosMul (cosines shifted to [0, 1]); keys or raw vectors.

        Returns a list of (key, score), or with ``topn`` None/0 the scores of every key.
        """
        if isinstance(topn, (int, np.integer)) and topn < 1:
            return []
        positive, negative = _ensure_list(positive), _ensure_list(negative)
        if not positive:
            raise ValueError("cannot compute similarity with no input")
        normed = self.get_normed_vectors()
        if restrict_vocab:
            normed = normed[:int(restrict_vocab)]
        used = {self.get_index(k) for k in positive + negative if not isinstance(k, np.ndarray)}

        def unit(item):
            if isinstance(item, np.ndarray):
                return item  # gensim takes raw vectors as given
            return self.get_vector(item, norm=True)

        pos = [(1.0 + normed @ unit(x)) / 2.0 for x in positive]
        neg = [(1.0 + normed @ unit(x)) / 2.0 for x in negative]
        scores = np.prod(pos, axis=0) / (np.prod(neg, axis=0) + 1e-6)
        if not topn:
            return scores
        return self._ranked(scores, topn, used)

    def similarity(self, w1, w2) -> float:
        return super().similarity(w1, w2)

    @staticmethod
    def cosine_similarities(vector_1, vectors_all):
        """Cosine of ``vector_1`` (dim,) with every row of ``vectors_all`` (n, dim); float array (n,)."""
        norm = np.linalg.norm(vector_1)
        all_norms = np.linalg.norm(vectors_all, axis=1)
        return vectors_all @ vector_1 / (norm * all_norms)

    def distances(self, word_or_vector, other_words=()):
        """1 - cosine from a key or vector to ``other_words`` (all keys when empty); float32 array."""
        v = self.get_vector(word_or_vector, norm=True) if not isinstance(word_or_vector, np.ndarray) else \
            word_or_vector / max(np.linalg.norm(word_or_vector), 1e-12)
        normed = self.get_normed_vectors()
        rows = normed if not other_words else normed[[self.get_index(w) for w in other_words]]
        return (1.0 - rows @ v).astype(np.float32)

    def words_closer_than(self, word1, word2):
        return self.closer_than(word1, word2)

    def most_similar_to_given(self, key1, keys_list):
        return keys_list[int(np.argmax([self.similarity(key1, k) for k in keys_list]))]

    def rank_by_centrality(self, words, use_norm: bool = True):
        """(cosine to the centroid, word) pairs, most central first; unknown words are dropped."""
        used = [w for w in words if self.has_index_for(w)]
        if not used:
            raise ValueError("cannot select a word from an empty list")
        vecs = np.stack([self.get_vector(w, norm=use_norm) for w in used])
        mean = vecs.mean(axis=0)
        mean /= max(np.linalg.norm(mean), 1e-12)
        dists = vecs @ mean
        return sorted(zip(dists.tolist(), used), reverse=True)

    def doesnt_match(self, words) -> str:
        """The key furthest from the centroid of the others (unknown keys are ignored, as in gensim)."""
        return self.rank_by_centrality(words)[-1][1]

    # ------------------------------------------------------------ evaluation
    def evaluate_word_analogies(self, analogies=None, restrict_vocab: int = 300000, case_insensitive: bool = True,
                                dummy4unknown: bool = False, similarity_function: str = "most_similar"):
        """gensim's analogy evaluation: returns ``(score, sections)``.

        analogies: a questions-words file (default: the bundled one). sections
        is a list of dicts (``section``, ``correct``, ``incorrect``: lists of
        4-tuples of words, upper-cased when ``case_insensitive``), one per section
        of the file in order, then "Total accuracy". score = correct / answered.
        """
        if dummy4unknown:
            raise ConfigError("dummy4unknown=True is not supported: questions with unknown words are skipped")
        if similarity_function != "most_similar":
            raise ConfigError("only similarity_function='most_similar' (3CosAdd) is supported")
        path = Path(analogies) if analogies is not None else DATA_DIR / "questions-words.txt"
        result = super().evaluate_word_analogies(path, restrict_vocab=restrict_vocab,
                                                 case_insensitive=case_insensitive)
        answered = iter(result["sections"][:-1])
        pending = next(answered, None)
        sections = []
        for _, line in _read_lines(path):  # gensim lists every section of the file, answered or not
            if line.startswith(":"):
                name = line.lstrip(": ").strip()
                if pending is not None and pending["section"] == line[1:].strip():
                    sections.append(dict(pending, section=name))
                    pending = next(answered, None)
                else:
                    sections.append({"section": name, "correct": [], "incorrect": []})
        sections.append(result["sections"][-1])
        return float(result["accuracy"]), sections

    def evaluate_word_pairs(self, pairs=None, delimiter: str = "\t", encoding: str = "utf8",
                            restrict_vocab: int = 300000, case_insensitive: bool = True,
                            dummy4unknown: bool = False):
        """gensim's word-pair evaluation: ``((pearson, p), (spearman, p), oov_ratio in %)``.

        pairs: a ``word1<delimiter>word2<delimiter>score`` file (default: the
        bundled WordSim-353). The two results are named tuples
        (``statistic``/``correlation``, ``pvalue``); p-values need scipy (else NaN).
        """
        if dummy4unknown:
            raise ConfigError("dummy4unknown=True is not supported: pairs with unknown words are skipped")
        if encoding.lower().replace("-", "") != "utf8":
            raise ConfigError("only UTF-8 pair files are supported")
        path = Path(pairs) if pairs is not None else DATA_DIR / "wordsim353.tsv"
        r = super().evaluate_word_pairs(path, delimiter=delimiter, restrict_vocab=restrict_vocab,
                                        case_insensitive=case_insensitive)
        n = r["pairs"]
        return (PearsonResult(r["pearson"], _pvalue(r["pearson"], n)),
                SpearmanResult(r["spearman"], _pvalue(r["spearman"], n)),
                100.0 * r["oov_ratio"])

    # ------------------------------------------------------------------ files
    def save_word2vec_format(self, fname, fvocab=None, binary: bool = False, total_vec=None,
                             write_header: bool = True, prefix: str = "", append: bool = False,
                             sort_attr: str = "count"):
        """word2vec C's text or binary file, most frequent words first (gensim's order).

        fvocab: also write ``word count`` lines there.
        """
        if total_vec not in (None, len(self)) or not write_header or prefix or append:
            raise ConfigError("total_vec, write_header=False, prefix and append are not supported")
        order = np.arange(len(self))
        vectors, words = self.vectors, self.index_to_key
        if sort_attr == "count" and self.counts is not None and np.any(np.diff(self.counts) > 0):
            order = np.argsort(-self.counts, kind="stable")  # after a vocabulary update the rows are not sorted
            vectors, words = self.vectors[order], [self.index_to_key[i] for i in order.tolist()]
        io.save_word2vec(fname, words, vectors, binary=binary)
        if fvocab is not None:
            counts = self.counts if self.counts is not None else np.zeros(len(self), dtype=np.int64)
            with io.atomic_write(fvocab) as f:
                f.write("".join(f"{w} {int(counts[i])}\n" for w, i in zip(words, order.tolist())).encode("utf-8"))

    @classmethod
    def load_word2vec_format(cls, fname, fvocab=None, binary: bool = False, encoding: str = "utf8",
                             unicode_errors: str = "strict", limit=None, datatype=np.float32,
                             no_header: bool = False) -> "KeyedVectors":
        """Read word2vec C's text (default, as in gensim) or binary format; ``limit``: first N vectors only.

        Vectors are float32 (``datatype`` other than float32 is refused).
        """
        if no_header:
            raise ConfigError("no_header=True is not supported: the file needs word2vec's 'count dim' header")
        if encoding.lower().replace("-", "") != "utf8":
            raise ConfigError("only UTF-8 word2vec files are supported")
        if np.dtype(datatype) != np.float32:
            raise ConfigError("fastw2v's vectors are float32")
        words, vectors = io.load_word2vec(fname, binary=bool(binary), limit=limit)
        counts = None
        if fvocab is not None:
            known = {}
            for _, line in _read_lines(fvocab):
                parts = line.split()
                if len(parts) == 2:
                    known[parts[0]] = int(parts[1])
            counts = np.array([known.get(w, 0) for w in words], dtype=np.int64)
        return cls._wrap(_KeyedVectors(words, vectors, counts))

    def save(self, fname, *args, **kwargs):
        """fastw2v's native format (no pickle): words, vectors and counts."""
        if args or kwargs:
            _warn("gensim's save options (separately, sep_limit, ignore, pickle_protocol) do not apply "
                  "to the native format and were ignored")
        arrays = {"syn0": self.vectors}
        if self.counts is not None:
            arrays["counts"] = self.counts
        io.save_native(fname, arrays, self.index_to_key, {"kind": "keyedvectors"})

    @classmethod
    def load(cls, fname, mmap=None, allow_gensim_pickle: bool = False) -> "KeyedVectors":
        """Load vectors saved by :meth:`save` (or a fastw2v model's).

        A gensim pickle is refused unless ``allow_gensim_pickle=True`` (it runs
        code: only for files you trust; needs gensim). ``mmap`` is accepted and
        ignored (the vectors are read into memory).
        """
        if _is_pickle(fname):
            if not allow_gensim_pickle:
                raise FormatError(_pickle_message(fname, "KeyedVectors"))
            return _from_gensim_keyedvectors(fname)
        arrays, words, _ = io.load_native(fname, required=("syn0",))
        counts = arrays.get("counts")
        return cls._wrap(_KeyedVectors(words, arrays["syn0"], counts))

    def __str__(self):
        return f"KeyedVectors<vector_size={self.vector_size}, {len(self)} keys>"

    __repr__ = __str__


def _ensure_list(value):
    if value is None:
        return []
    if isinstance(value, (str, int, np.integer, np.ndarray)):
        return [value]
    return list(value)


def _pvalue(r: float, n: int) -> float:
    """Two-sided p-value of a correlation r over n pairs (t-test, as scipy's pearsonr and spearmanr)."""
    if not math.isfinite(r) or n < 3:
        return float("nan")
    try:
        from scipy import stats
    except ImportError:
        return float("nan")
    if abs(r) >= 1.0:
        return 0.0
    t = r * math.sqrt((n - 2) / ((1.0 - r) * (1.0 + r)))
    return float(2.0 * stats.t.sf(abs(t), n - 2))


# ------------------------------------------------------------------ pickles
def _is_pickle(fname) -> bool:
    """gensim's save() writes a pickle (first byte 0x80, protocol 2-5); fastw2v's files are zip archives."""
    try:
        with open(fname, "rb") as f:
            head = f.read(2)
    except OSError:
        return False
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _pickle_message(fname, what):
    return (f"{fname} is a gensim pickle; fastw2v never unpickles by default (a pickle can run any code). "
            f"To move a gensim model over, on the gensim side run model.wv.save_word2vec_format('vectors.bin', "
            f"binary=True) and load it with fastw2v.compat.KeyedVectors.load_word2vec_format('vectors.bin', "
            f"binary=True); or, for a file you trust, {what}.load(path, allow_gensim_pickle=True) (needs gensim)")


def _gensim():
    try:
        import gensim.models
    except ImportError:
        raise ImportError("allow_gensim_pickle=True needs gensim installed (pip install gensim)") from None
    return gensim.models


def _gensim_counts(gwv):
    try:
        return np.array([gwv.get_vecattr(w, "count") for w in gwv.index_to_key], dtype=np.int64)
    except (KeyError, AttributeError):
        return None


def _from_gensim_keyedvectors(fname) -> KeyedVectors:
    g = _gensim().KeyedVectors.load(str(fname))
    return KeyedVectors._wrap(_KeyedVectors(list(g.index_to_key), np.asarray(g.vectors, dtype=np.float32),
                                            _gensim_counts(g)))


# -------------------------------------------------------------------- model
class Word2Vec:
    """gensim's ``Word2Vec`` on fastw2v: the same constructor, names and defaults.

    Passing ``sentences`` (alias ``corpus_iterable``) or ``corpus_file`` builds
    the vocabulary and trains at once, in one read of the corpus. Otherwise call
    :meth:`build_vocab` then :meth:`train`. See the module docstring and the
    README's "Coming from gensim" for what differs.
    """

    def __init__(self, sentences=None, corpus_file=None, vector_size=100, alpha=0.025, window=5, min_count=5,
                 max_vocab_size=None, sample=1e-3, seed=1, workers=3, min_alpha=0.0001, sg=0, hs=0, negative=5,
                 ns_exponent=0.75, cbow_mean=1, hashfxn=hash, epochs=5, null_word=0, trim_rule=None,
                 sorted_vocab=1, batch_words=MAX_WORDS_IN_BATCH, compute_loss=False, callbacks=(), comment=None,
                 max_final_vocab=None, shrink_windows=True, corpus_iterable=None):
        if corpus_iterable is not None:
            if sentences is not None:
                raise TypeError("give sentences or corpus_iterable, not both")
            sentences = corpus_iterable
        if hs and negative:
            raise ConfigError(f"hs=1 with negative={negative}: fastw2v trains one loss at a time; use "
                              "negative=0 for hierarchical softmax, or hs=0 for negative sampling")
        if not hs and not negative:
            raise ConfigError("You must set either 'hs' or 'negative' to be positive for proper training")
        if not sg and not cbow_mean:
            raise ConfigError("cbow_mean=0 (sum of the context vectors) is not supported: fastw2v's CBOW "
                              "uses the mean (cbow_mean=1)")
        if not shrink_windows:
            raise ConfigError("shrink_windows=False is not supported: fastw2v samples the window size of every "
                              "centre word in 1..window, as word2vec C and gensim's default")
        if null_word:
            raise ConfigError("null_word is not supported (it only serves Doc2Vec's dm_concat)")
        if sample is not None and sample >= 1:
            raise ConfigError("sample >= 1 (gensim's 'downsample words above this count' shorthand) is not "
                              "supported; give a fraction such as 1e-3")
        if max_vocab_size is not None:
            _warn("max_vocab_size (gensim's memory cap while counting) is ignored: fastw2v counts every word "
                  "exactly; use max_final_vocab to limit the vocabulary")
        if not sorted_vocab:
            _warn("sorted_vocab=0 is ignored: fastw2v always sorts the vocabulary by descending count")
        if hashfxn is not hash:
            _warn("hashfxn is ignored: fastw2v draws the initial vectors from the seed")
        if batch_words != MAX_WORDS_IN_BATCH:
            _warn("batch_words is ignored: fastw2v sizes its own work blocks")
        self.vector_size = int(vector_size)
        self.alpha = float(alpha)
        self.min_alpha = float(min_alpha)
        self.window = int(window)
        self.min_count = int(min_count)
        self.max_vocab_size = max_vocab_size
        self.max_final_vocab = max_final_vocab
        self.sample = float(sample or 0.0)
        self.seed = int(seed)
        self.workers = int(workers)
        self.sg = int(sg)
        self.hs = int(hs)
        self.negative = int(negative)
        self.ns_exponent = float(ns_exponent)
        self.cbow_mean = int(cbow_mean)
        self.epochs = int(epochs)
        self.sorted_vocab = sorted_vocab
        self.compute_loss = bool(compute_loss)
        self.shrink_windows = True
        self.comment = comment
        self.corpus_count = 0
        self.corpus_total_words = 0
        self.train_count = 0
        self.total_train_time = 0.0
        self.min_alpha_yet_reached = self.alpha
        self.running_training_loss = 0.0
        self.layer1_size = self.vector_size
        self._model = _Word2Vec(quiet=True, **self._settings())
        self.wv = KeyedVectors(self.vector_size)
        if sentences is not None or corpus_file is not None:
            corpus = _corpus(sentences, corpus_file, passes=1)  # one read: vocabulary and training together
            self._fit(corpus, trim_rule, list(callbacks or ()))
        elif trim_rule is not None:
            _warn("trim_rule is only used when the vocabulary is built; without a corpus it is ignored "
                  "(pass it to build_vocab)")

    # -------------------------------------------------------------- settings
    def _settings(self, **override) -> dict:
        """fastw2v's settings for gensim's current attributes."""
        s = dict(model="sg" if self.sg else "cbow", loss="hs" if self.hs else "ns", dim=self.vector_size,
                 window=self.window, negative=self.negative if self.negative else 5, alpha=self.alpha,
                 min_alpha=self.min_alpha, epochs=self.epochs, min_count=max(1, self.min_count),
                 sample=self.sample, seed=self.seed, threads=max(1, self.workers), ns_exponent=self.ns_exponent)
        s.update(override)
        return s

    def _config(self):
        """The underlying model's settings with gensim's current attributes applied (other fields kept)."""
        return dataclasses.replace(self._model.config, **self._settings())

    def _keep_rule(self, trim_rule):
        """fastw2v's vocabulary rule for gensim's min_count, max_final_vocab and trim_rule."""
        if trim_rule is None and self.max_final_vocab is None:
            return None
        max_final = self.max_final_vocab

        def keep(words, counts, min_count):
            effective = min_count
            if max_final is not None and max_final < len(counts):
                # gensim raises min_count until at most max_final_vocab words are left
                effective = max(min_count, int(np.sort(counts)[::-1][max_final]) + 1)
            kept = counts >= effective
            if trim_rule is not None:
                for i, (w, c) in enumerate(zip(words, counts.tolist())):
                    rule = trim_rule(w, c, effective)
                    if rule == RULE_KEEP:
                        kept[i] = True
                    elif rule == RULE_DISCARD:
                        kept[i] = False
            return kept

        return keep

    def _sync(self, training: bool = False):
        """Point ``wv`` at the trained model's words and arrays; keep one wv object for the model's life.

        training: the vectors are moving, so unit vectors cached by a callback's query are dropped.
        """
        self.wv._adopt(self._model.wv)
        self._model.wv = self.wv
        if training:
            self.wv._norms = None

    # -------------------------------------------------------------- training
    def _fit(self, corpus, trim_rule, callbacks):
        self._model.config = self._config()
        hook, finish = self._epoch_hook(callbacks)
        _call(callbacks, "on_train_begin", self)
        with _corpus_errors():
            self._model.fit(corpus, keep=self._keep_rule(trim_rule), on_epoch=hook)
        finish()
        self._after_training(callbacks, fresh_vocab=True)

    def _epoch_hook(self, callbacks):
        """(on_epoch for fastw2v's trainer, finish): gensim's epoch callbacks with the latest epoch's loss.

        An epoch's ``on_epoch_end`` is delivered just before the next epoch
        begins (or by ``finish`` after the last), once the trainer has filled in
        that epoch's statistics; nothing happens to the weights in between.
        """
        pending = []

        def deliver():
            while pending:
                pending.pop()
                self._sync(training=True)
                history = self._model.history
                if history:
                    self.running_training_loss = float(history[-1].get("loss_sum", 0.0))
                _call(callbacks, "on_epoch_end", self)

        def on_epoch(event, epoch):
            if event == "begin":
                deliver()
                self._sync(training=True)
                _call(callbacks, "on_epoch_begin", self)
            else:
                pending.append(epoch)

        return on_epoch, deliver

    def _after_training(self, callbacks, fresh_vocab=False):
        self._sync()
        m = self._model
        if fresh_vocab:
            self.corpus_count = int(m.report.get("corpus_sentences", 0))
            self.corpus_total_words = int(m.report.get("corpus_words", 0))
        if m.history:
            self.running_training_loss = float(m.history[-1].get("loss_sum", 0.0))
        self.total_train_time += float(m.report.get("seconds", {}).get("training", 0.0))
        self.train_count += 1
        self.min_alpha_yet_reached = self.min_alpha
        _call(callbacks, "on_train_end", self)
        trained = sum(int(h.get("effective_words", 0)) for h in m.history)
        raw = int(m.report.get("corpus_words", 0)) * len(m.history)  # every word read, known or not (as gensim)
        return trained, raw

    def build_vocab(self, corpus_iterable=None, corpus_file=None, update: bool = False, progress_per: int = 10000,
                    keep_raw_vocab: bool = False, trim_rule=None, **kwargs):
        """Count the corpus and fix the vocabulary (``update=True``: add its new words to the model's)."""
        if kwargs:
            raise TypeError(f"unexpected arguments: {', '.join(sorted(kwargs))}")
        if keep_raw_vocab:
            _warn("keep_raw_vocab is ignored: fastw2v does not keep the raw counts of pruned words")
        corpus = _corpus(corpus_iterable, corpus_file, passes=1)
        if update and not len(self.wv):
            raise RuntimeError("You cannot do an online vocabulary-update of a model which has no prior "
                               "vocabulary. First build the vocabulary of your model with a corpus before "
                               "doing an online update.")
        self._model.config = self._config()
        with _corpus_errors():
            self._model.build_vocab(corpus, keep=self._keep_rule(trim_rule), update=update)
        self._sync()
        self.corpus_count = int(self._model.report["corpus_sentences"])
        self.corpus_total_words = int(self._model.report["corpus_words"])

    def build_vocab_from_freq(self, word_freq, keep_raw_vocab: bool = False, corpus_count=None, trim_rule=None,
                              update: bool = False):
        """Vocabulary from a {word: count} dict instead of a corpus (``update=True`` grows it)."""
        words = [str(w) for w in word_freq]
        counts = np.array([int(c) for c in word_freq.values()], dtype=np.int64)
        if update and not len(self.wv):
            raise RuntimeError("You cannot do an online vocabulary-update of a model which has no prior "
                               "vocabulary. First build the vocabulary of your model with a corpus before "
                               "doing an online update.")
        cfg = self._config().resolved()
        keep = self._keep_rule(trim_rule)
        with _corpus_errors():
            if update:
                self._model._grow_vocab(types.SimpleNamespace(keys=words, counts=counts), cfg, keep)
            else:
                vocab, _ = _build_vocab(words, counts, cfg.min_count, None, keep=keep)
                syn0, syn1, _ = init_weights(len(vocab), cfg.dim, cfg.seed, padded=True)
                self._model._set_weights(vocab.words, vocab.counts, syn0, syn1, init_bias(vocab.counts, cfg.loss))
                self._model.config = cfg
                self._model.history = []
        self._sync()
        self.corpus_count = int(corpus_count or 0)
        self.corpus_total_words = int(counts.sum())

    def train(self, corpus_iterable=None, corpus_file=None, total_examples=None, total_words=None, epochs=None,
              start_alpha=None, end_alpha=None, word_count=0, queue_factor=2, report_delay=1.0,
              compute_loss=False, callbacks=(), **kwargs):
        """Train on a corpus with the current vocabulary; returns (trained words, raw words) over all epochs.

        ``total_examples``/``total_words`` are required as in gensim, but fastw2v
        measures the corpus itself: the learning rate falls linearly from
        ``start_alpha`` (default ``alpha``) to ``end_alpha`` (default
        ``min_alpha``) over exactly the words trained.
        """
        if kwargs:
            raise TypeError(f"unexpected arguments: {', '.join(sorted(kwargs))}")
        if word_count:
            _warn("word_count is ignored: every train() call runs its own schedule from start_alpha to end_alpha")
        if not len(self.wv):
            raise RuntimeError("you must first build vocabulary before training the model")
        if total_words is None and total_examples is None:
            raise ValueError("You must specify either total_examples or total_words, for proper learning-rate "
                             "and progress calculations. If you've just built the vocabulary using the same "
                             "corpus, using the count cached in the model is sufficient: "
                             "total_examples=model.corpus_count.")
        if epochs is None or epochs <= 0:
            raise ValueError("You must specify an explicit epochs count. The usual value is epochs=model.epochs.")
        self.alpha = start_alpha or self.alpha
        self.min_alpha = end_alpha or self.min_alpha
        self.epochs = int(epochs)
        self.compute_loss = bool(compute_loss)
        if self.alpha > self.min_alpha_yet_reached:
            _warn("Effective 'alpha' higher than previous training cycles")
        corpus = _corpus(corpus_iterable, corpus_file, passes=epochs)
        callbacks = list(callbacks or ())
        self._model.config = self._config()
        hook, finish = self._epoch_hook(callbacks)
        _call(callbacks, "on_train_begin", self)
        # every train() call draws new random streams, as gensim's would
        with _corpus_errors():
            self._model.continue_training(corpus, empty_ok=True, epochs=self.epochs, alpha=self.alpha,
                                          min_alpha=min(self.min_alpha, self.alpha), sample=self.sample,
                                          seed=self.seed + 7919 * (self.train_count + 1),
                                          threads=max(1, self.workers), on_epoch=hook)
        finish()
        return self._after_training(callbacks)

    def get_latest_training_loss(self) -> float:
        """Summed training loss of the latest finished epoch (float64).

        Unlike gensim's (a float32 running sum over a whole ``train()`` call,
        which saturates on large corpora), this is one epoch's sum of the
        per-example losses, accumulated in float64: it falls as training
        converges and stays comparable between epochs. fastw2v always computes
        it; ``compute_loss`` is kept for compatibility only.
        """
        return self.running_training_loss

    # ------------------------------------------------------------- weights
    @property
    def syn1neg(self):
        """Output weights of negative sampling (float32 (n_words, vector_size))."""
        if self.hs:
            raise AttributeError("syn1neg exists with negative sampling (hs=0); this model uses hs")
        return self._model.syn1

    @property
    def syn1(self):
        """Output weights of hierarchical softmax (Huffman tree nodes)."""
        if not self.hs:
            raise AttributeError("syn1 exists with hierarchical softmax (hs=1); use syn1neg")
        return self._model.syn1

    @property
    def fastw2v_model(self) -> _Word2Vec:
        """The underlying :class:`fastw2v.Word2Vec`."""
        return self._model

    # ------------------------------------------------------------------ files
    def save(self, fname_or_handle, *args, **kwargs):
        """fastw2v's native model (no pickle), whatever the extension; it loads with :meth:`load`."""
        if args or kwargs:
            _warn("gensim's save options (separately, sep_limit, ignore, pickle_protocol) do not apply "
                  "to the native format and were ignored")
        if not isinstance(fname_or_handle, (str, os.PathLike)):
            raise ConfigError("save needs a file path (the native format is written atomically)")
        if not len(self.wv):
            raise ConfigError("nothing to save yet: build the vocabulary (build_vocab) or train first")
        self._model.save(fname_or_handle, fmt="native")

    @classmethod
    def load(cls, fname, mmap=None, allow_gensim_pickle: bool = False) -> "Word2Vec":
        """Load a model saved by :meth:`save` (fastw2v's native format, never unpickled).

        A gensim pickle is refused with directions, unless
        ``allow_gensim_pickle=True`` for a file you trust (needs gensim): its
        vectors, counts and negative-sampling output weights are carried over.
        ``mmap`` is accepted and ignored.
        """
        if _is_pickle(fname):
            if not allow_gensim_pickle:
                raise FormatError(_pickle_message(fname, "Word2Vec"))
            return cls._from_gensim(fname)
        return cls._from_fastw2v(_Word2Vec.load(fname))

    @classmethod
    def _from_fastw2v(cls, m: _Word2Vec) -> "Word2Vec":
        c = m.config
        out = cls(vector_size=c.dim, alpha=c.alpha if c.alpha is not None else 0.025, window=c.window,
                  min_count=c.min_count, sample=c.sample, seed=c.seed, workers=c.threads or 3,
                  min_alpha=c.min_alpha, sg=int(c.model == "sg"), hs=int(c.loss == "hs"),
                  negative=0 if c.loss == "hs" else c.negative, ns_exponent=c.ns_exponent, epochs=c.epochs)
        if c.loss not in ("ns", "hs"):
            raise ConfigError(f"this model was trained with loss {c.loss!r}, which gensim's API cannot express; "
                              "use fastw2v.load")
        out._model = m
        out.wv = KeyedVectors._wrap(m.wv)
        m.wv = out.wv
        out.corpus_count = int(m.report.get("corpus_sentences", 0))
        out.corpus_total_words = int(m.report.get("corpus_words", 0))
        if m.history:
            out.running_training_loss = float(m.history[-1].get("loss_sum", 0.0))
        return out

    @classmethod
    def _from_gensim(cls, fname) -> "Word2Vec":
        g = _gensim().Word2Vec.load(str(fname))
        out = cls(vector_size=g.vector_size, alpha=g.alpha, window=g.window, min_count=g.min_count,
                  sample=g.sample, seed=g.seed, workers=g.workers, min_alpha=g.min_alpha, sg=g.sg, hs=g.hs,
                  negative=g.negative, ns_exponent=g.ns_exponent, epochs=g.epochs)
        words = list(g.wv.index_to_key)
        counts = _gensim_counts(g.wv)
        if counts is None:
            counts = np.ones(len(words), dtype=np.int64)
        vectors = np.array(g.wv.vectors, dtype=np.float32)
        if g.negative:
            syn1 = np.array(g.syn1neg, dtype=np.float32)
        else:
            _warn("gensim's hierarchical-softmax output layer is not carried over (its Huffman tree numbers "
                  "nodes differently); further training starts that layer from zero")
            syn1 = np.zeros_like(vectors)
        cfg = out._config().resolved()
        out._model._set_weights(words, counts, vectors, syn1, np.zeros(len(words), dtype=np.float32))
        out._model.config = cfg
        out._sync()
        out.corpus_count = int(getattr(g, "corpus_count", 0))
        out.corpus_total_words = int(getattr(g, "corpus_total_words", 0))
        return out

    def __str__(self):
        return f"Word2Vec<vocab={len(self.wv)}, vector_size={self.vector_size}, alpha={self.alpha}>"

    __repr__ = __str__
