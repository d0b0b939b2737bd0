"""Word2Vec: the public training API (fit / save / load -> .wv)."""
from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import numpy as np

from . import io
from .config import TrainConfig
from .corpus import WorkDir, build_token_cache, corpus_files, read_files, read_sentences
from .errors import CorpusError, FormatError
from .keyedvectors import KeyedVectors
from .trainer import Progress, init_bias, init_weights, train
from .vocab import Vocab, build_vocab

CONFIG_NAMES = [f.name for f in dataclasses.fields(TrainConfig) if f.name != "extra"]


class Word2Vec:
    """Skip-gram / CBOW word2vec trained by Numba Hogwild kernels.

    Parameters are :class:`~fastw2v.config.TrainConfig`'s (the CLI flags with
    underscores): ``model`` ('sg' or 'cbow'), ``loss`` ('ns'), ``dim``,
    ``window``, ``negative``, ``alpha`` (None: 0.025 sg, 0.05 cbow),
    ``min_alpha``, ``epochs``, ``min_count``, ``max_vocab``, ``sample``,
    ``seed``, ``threads`` (None: all cores), ``max_sentence_length``,
    ``noise``, ``batch`` (share the k noise draws across a centre word's
    context, the fast default) and ``vectors`` (what word2vec outputs hold).
    Plus ``cache_dir`` (where the temporary token cache goes) and ``quiet``.

    After :meth:`fit`: ``wv`` (:class:`KeyedVectors` of the input vectors),
    ``syn1`` (output weights, float32 (n_words, dim)), ``bias`` (float32
    (n_words,)), ``history`` (one dict per epoch: loss, words, seconds,
    words_per_sec) and ``report`` (corpus and timing figures).
    """

    def __init__(self, *, cache_dir=None, quiet: bool = True, **settings):
        unknown = set(settings) - set(CONFIG_NAMES)
        if unknown:
            raise TypeError(f"unknown Word2Vec settings: {', '.join(sorted(unknown))}")
        self.config = TrainConfig(**settings)
        self.cache_dir = cache_dir
        self.quiet = quiet
        self.wv: KeyedVectors | None = None
        self.syn1 = None
        self.bias = None
        self.history: list = []
        self.trace: list = []  # loss, words/s and alpha after every kernel call (for plots)
        self.report: dict = {}

    # ------------------------------------------------------------------ fit
    def fit(self, corpus, progress: Progress | None = None) -> "Word2Vec":
        """Build the vocabulary from ``corpus`` and train.

        corpus: a path (file or directory; .gz/.bz2/.xz read by extension), a
        list of paths, or an iterable of token lists (each a list of str).
        Returns self.
        """
        cfg = self.config.resolved()
        progress = progress if progress is not None else Progress(quiet=self.quiet)
        timings = {}
        t0 = time.perf_counter()
        with WorkDir(self.cache_dir) as work:
            raw = _read_corpus(corpus, work)
            timings["read"] = time.perf_counter() - t0
            if raw.n_invalid_utf8:
                progress.message(f"Warning: {raw.n_invalid_utf8} invalid UTF-8 sequences replaced by U+FFFD")
            if raw.n_tokens == 0:
                raise CorpusError("corpus is empty: no words found")
            t1 = time.perf_counter()
            vocab, remap = build_vocab(raw.keys, raw.counts, cfg.min_count, cfg.max_vocab)
            cache = build_token_cache(raw, remap, cfg.max_sentence_length, work)
            for p in (raw.ids_path, raw.ends_path):
                _unlink(p)
            n_distinct = len(raw.keys)
            raw.keys = None  # the provisional vocabulary is not needed past this point
            del remap
            timings["vocabulary"] = time.perf_counter() - t1
            syn0, syn1, _ = init_weights(len(vocab), cfg.dim, cfg.seed)
            bias = init_bias(vocab.counts, cfg.loss)
            t2 = time.perf_counter()
            result = train(cache, vocab.counts, syn0, syn1, bias, cfg, raw.n_tokens, progress)
            timings["training"] = time.perf_counter() - t2
            del cache
        self._set_weights(vocab.words, vocab.counts, syn0, syn1, bias)
        self.config = cfg
        self.history = result.history
        self.trace = result.trace
        self.report = {
            "corpus_words": raw.n_tokens,
            "corpus_sentences": raw.n_sentences,
            "distinct_words": n_distinct,
            "vocabulary_size": len(vocab),
            "invalid_utf8": raw.n_invalid_utf8,
            "seconds": timings,
            "training_words_per_sec": result.words / max(result.seconds, 1e-9),
            "loss_per_epoch": [h["loss"] for h in result.history],
            "threads": cfg.threads,
        }
        return self

    def _set_weights(self, words, counts, syn0, syn1, bias):
        self.wv = KeyedVectors(words, syn0, counts)
        self.syn1 = syn1
        self.bias = bias

    # -------------------------------------------------------------- outputs
    def output_vectors(self, which: str | None = None) -> np.ndarray:
        """The matrix word2vec files hold: 'in' (input), 'out' (output) or 'sum'."""
        which = which or self.config.vectors
        self._need_trained()
        if which == "in":
            return self.wv.vectors
        if which == "out":
            return self.syn1
        if which == "sum":
            return self.wv.vectors + self.syn1
        raise ValueError(f"vectors must be 'in', 'out' or 'sum', not {which!r}")

    def save(self, path, fmt: str | None = None, vectors: str | None = None) -> str:
        """Write the model: native by default, word2vec text/binary for .txt/.vec/.bin.

        Returns the format written ('native', 'text' or 'binary').
        """
        self._need_trained()
        kind = io.format_for(path, fmt)
        if kind == "native":
            io.save_native(path, {"syn0": self.wv.vectors, "syn1": self.syn1, "bias": self.bias,
                                  "counts": self.wv.counts},
                           self.wv.index_to_key,
                           {"config": self.config.to_dict(), "history": self.history, "report": self.report})
        else:
            io.save_word2vec(path, self.wv.index_to_key, self.output_vectors(vectors), binary=(kind == "binary"))
        return kind

    @classmethod
    def load(cls, path) -> "Word2Vec":
        """Load a native model written by :meth:`save` (never unpickles)."""
        arrays, words, meta = io.load_native(path, required=("syn0", "syn1", "bias", "counts"))
        try:
            cfg = TrainConfig.from_dict(meta.get("config", {}))
        except (TypeError, ValueError) as e:
            raise FormatError(f"{path}: corrupt settings ({e})") from None
        syn0, syn1, bias, counts = arrays["syn0"], arrays["syn1"], arrays["bias"], arrays["counts"]
        if (syn0.dtype != np.float32 or syn1.dtype != np.float32 or syn0.ndim != 2 or syn0.shape != syn1.shape
                or bias.shape != (len(words),) or syn0.shape[1] != cfg.dim):
            raise FormatError(f"{path}: corrupt model (matrix shapes do not match)")
        m = cls(**{k: getattr(cfg, k) for k in CONFIG_NAMES})
        m.config = cfg
        m._set_weights(words, counts, syn0, syn1, bias.astype(np.float32))
        m.history = list(meta.get("history", []))
        m.report = dict(meta.get("report", {}))
        return m

    def _need_trained(self):
        if self.wv is None:
            raise RuntimeError("model is not trained yet: call fit() first")

    @property
    def vocab(self) -> Vocab:
        self._need_trained()
        return Vocab(self.wv.index_to_key, self.wv.counts)


def load(path) -> Word2Vec:
    """Load a native fastw2v model."""
    return Word2Vec.load(path)


def _read_corpus(corpus, work: Path):
    """Paths (a path, or a list/tuple of paths) are read as files; anything else as token lists."""
    if corpus is None:
        raise CorpusError("no corpus given")
    if isinstance(corpus, (str, os.PathLike)):
        return read_files(corpus_files(corpus), work)
    if isinstance(corpus, (list, tuple)) and corpus and all(isinstance(c, (str, os.PathLike)) for c in corpus):
        return read_files(corpus_files(list(corpus)), work)
    return read_sentences(corpus, work)


def _unlink(p):
    try:
        os.unlink(p)
    except OSError:
        pass
