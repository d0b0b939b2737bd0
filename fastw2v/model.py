"""Word2Vec: the public training API (fit / save / load -> .wv)."""
from __future__ import annotations

import dataclasses
import numbers
import os
import time
from pathlib import Path

import numpy as np

from . import io, rows
from .config import TrainConfig
from .corpus import WorkDir, build_token_cache, corpus_files, read_files, read_sentences, release_free_heap
from .checkpoint import Checkpointer, validate_info
from .errors import ConfigError, CorpusError, FormatError
from .keyedvectors import KeyedVectors
from .trainer import (CALL_TOKENS_PER_THREAD, Position, Progress, init_bias, init_input_rows, init_weights,
                      stretch_bounds, train)
from .vocab import Vocab, build_vocab

CONFIG_NAMES = [f.name for f in dataclasses.fields(TrainConfig) if f.name != "extra"]


class Word2Vec:
    """Skip-gram / CBOW word2vec trained by Numba Hogwild kernels.

    Parameters are :class:`~fastw2v.config.TrainConfig`'s (the CLI flags with
    underscores): ``model`` ('sg' or 'cbow'), ``loss`` ('ns', 'hs', 'nce' or
    'softmax'), ``dim``,
    ``window``, ``negative``, ``alpha`` (None: 0.05 sg, 0.075 cbow),
    ``min_alpha``, ``epochs``, ``min_count``, ``max_vocab``, ``sample``,
    ``seed``, ``threads`` (None: all cores), ``max_sentence_length``,
    ``noise``, ``batch`` (share the k noise draws across a centre word's
    context, the fast default), ``vectors`` (what word2vec outputs hold) and
    ``subwords``, ``minn``, ``maxn``, ``buckets`` (fastText-style character
    n-grams: every string gets a vector; see :mod:`fastw2v.subwords`) and
    ``share_noise`` (subword skip-gram: noise draws shared across a window).
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
        self._syn0 = None  # with n-grams: the (V + buckets, d) input matrix the kernels train
        self.history: list = []
        self.trace: list = []  # loss, words/s and alpha after every kernel call (for plots)
        self.report: dict = {}

    # ------------------------------------------------------------------ fit
    def fit(self, corpus, progress: Progress | None = None, checkpoint=None, checkpoint_every: float = 600.0,
            checkpoint_info: dict | None = None, keep=None, on_epoch=None, client=None,
            workers: int | None = None, scheduler: str | None = None, merge: str = "capped",
            round_tokens: int | None = None) -> "Word2Vec":
        """Build the vocabulary from ``corpus`` and train.

        corpus: a path (file or directory; .gz/.bz2/.xz read by extension), a
        list of paths, or an iterable of token lists (each a list of str).
        checkpoint: write a resumable checkpoint there every ``checkpoint_every``
        seconds (see :meth:`resume`). keep: a vocabulary rule, as for
        :meth:`build_vocab`. on_epoch(event, epoch): called with "begin" and
        "end" around every epoch, where the weights are consistent (``history``
        then holds the epochs finished before the latest). Returns self.
        client / scheduler / workers: train data-parallel on a Dask cluster
        instead (a ``distributed.Client``, a scheduler address, or the size of
        a new LocalCluster); see :mod:`fastw2v.distributed`. Checkpoints are
        then written at epoch ends; ``merge`` ("capped", the default, "sum" or
        "mean") is how the workers' changes of a row are merged
        (:mod:`fastw2v.distributed.combine`); ``round_tokens`` the tokens each
        worker trains between syncs (None: one kernel call, shortened on a small
        corpus to 32 syncs an epoch). Shorter rounds keep more of one process's
        quality with many workers, at the cost of more syncs (README: More than
        one machine).
        """
        if round_tokens is not None:
            if isinstance(round_tokens, bool) or not isinstance(round_tokens, numbers.Integral) or round_tokens < 1:
                raise ConfigError(f"round_tokens must be a whole number of tokens >= 1, not {round_tokens!r}")
            round_tokens = int(round_tokens)
        if client is not None or workers is not None or scheduler is not None:
            from .distributed import fit as fit_distributed

            if keep is not None:
                raise ConfigError("a vocabulary rule (keep=) works in local training only")
            if self.config.ngrams:
                raise ConfigError("subwords train on one machine only for now (no --workers/--scheduler)")

            return fit_distributed(self, corpus, client=client, workers=workers, scheduler=scheduler,
                                   progress=progress, checkpoint=checkpoint, checkpoint_info=checkpoint_info,
                                   on_epoch=on_epoch, merge=merge, round_tokens=round_tokens)
        if round_tokens is not None:
            raise ConfigError("round_tokens is for training on a Dask cluster (client=, workers= or scheduler=)")
        cfg = self.config.resolved()

        def build(raw, work, progress):
            remap = self._new_vocab(raw, cfg, keep)
            cache = build_token_cache(raw, remap, cfg.max_sentence_length, work)
            return cache, len(raw.keys)

        return self._run(corpus, build, progress, checkpoint, checkpoint_every, checkpoint_info, on_epoch=on_epoch)

    def build_vocab(self, corpus, progress: Progress | None = None, keep=None, update: bool = False) -> "Word2Vec":
        """Count ``corpus`` and fix the vocabulary without training (then :meth:`continue_training`).

        update=False: a new vocabulary and freshly initialised weights, as :meth:`fit` starts with.
        update=True: grow the model's vocabulary. Words of ``corpus`` that pass
        ``min_count`` (or ``keep``) and are new get rows appended at the end
        (input rows drawn like the initial ones, output rows zero, biases as at
        the start); the counts of known words grow by their counts in ``corpus``.
        The noise tables and the Huffman tree are rebuilt from the counts when
        training starts. ``max_vocab`` applies to new vocabularies only.
        keep: ``keep(words, counts, min_count) -> bool array`` replacing the
        ``counts >= min_count`` test (see :func:`fastw2v.vocab.build_vocab`).

        Returns self; ``report`` holds corpus_words, corpus_sentences,
        distinct_words, vocabulary_size and new_words.
        """
        cfg = self.config.resolved()
        if update:
            self._need_trained()
        progress = progress if progress is not None else Progress(quiet=self.quiet)
        with WorkDir(self.cache_dir) as work:
            raw = self._read(corpus, work, progress)
            if update:
                new_words = self._grow_vocab(raw, cfg, keep)
            else:
                self._new_vocab(raw, cfg, keep)
                new_words = len(self.wv)
                self.history, self.trace = [], []
        self.report = {"corpus_words": raw.n_tokens, "corpus_sentences": raw.n_sentences,
                       "distinct_words": len(raw.keys), "vocabulary_size": len(self.wv), "new_words": new_words,
                       "invalid_utf8": raw.n_invalid_utf8}
        return self

    @classmethod
    def resume(cls, path, corpus=None, progress: Progress | None = None, checkpoint=None,
               checkpoint_every: float = 600.0, threads: int | None = None, cache_dir=None,
               quiet: bool = True, client=None, workers: int | None = None,
               scheduler: str | None = None) -> "Word2Vec":
        """Continue the run a checkpoint was written by, to its last epoch.

        corpus: the training corpus (default: the paths stored in the checkpoint);
        it must give the same token stream. New checkpoints go to ``checkpoint``
        (default: ``path`` itself). ``threads`` may differ from the original run.
        """
        m, arrays, info = cls._load_checkpoint(path)
        m.cache_dir, m.quiet = cache_dir, quiet
        saved_threads = m.config.threads
        if threads is not None:
            m.config = dataclasses.replace(m.config, threads=threads).resolved()
        corpus = corpus if corpus is not None else info.get("corpus")
        if not corpus:
            raise CorpusError(f"{path} does not record its corpus (it was trained from Python objects): "
                              "give the corpus again")
        if client is not None or workers is not None or scheduler is not None:
            from .distributed.driver import resume as resume_distributed

            return resume_distributed(m, path, arrays, info, corpus, client=client, workers=workers,
                                      scheduler=scheduler, progress=progress, checkpoint=checkpoint or path)

        def build(raw, work, progress):
            cache, _ = _cache_for_vocab(raw, m.wv.index_to_key, m.config.max_sentence_length, work)
            if cache.n_tokens != info.get("corpus_tokens"):
                raise CorpusError(f"the corpus has {cache.n_tokens:,} in-vocabulary words, the checkpoint's had "
                                  f"{info.get('corpus_tokens'):,}: not the corpus this run was started on")
            return cache, len(m.wv)

        keep = {k: v for k, v in info.items() if k != "position"}
        return m._run(corpus, build, progress, checkpoint or path, checkpoint_every, keep,
                      start=Position.from_dict(info["position"]), states=arrays["states"])

    def continue_training(self, corpus, progress: Progress | None = None, checkpoint=None,
                          checkpoint_every: float = 600.0, checkpoint_info: dict | None = None,
                          empty_ok: bool = False, on_epoch=None, **overrides) -> "Word2Vec":
        """Train further on new text with the vocabulary fixed (``fastw2v train --init``).

        Words the model does not know are skipped; ``report`` counts them
        (``unknown_tokens``, ``unknown_words``). overrides: epochs, alpha,
        min_alpha, sample, seed, threads for this run. A corpus with no known
        word is an error unless ``empty_ok`` (then nothing is trained).
        """
        self._need_trained()
        allowed = {"epochs", "alpha", "min_alpha", "sample", "seed", "threads"}
        bad = set(overrides) - allowed
        if bad:
            raise ConfigError(f"continuing a model cannot change {', '.join(sorted(bad))} "
                              f"(only {', '.join(sorted(allowed))})")
        overrides.setdefault("alpha", None)  # the model's default for a fresh schedule
        cfg = dataclasses.replace(self.config, **overrides).resolved()
        unknown = (0, 0)

        def build(raw, work, progress):
            nonlocal unknown
            cache, unknown = _cache_for_vocab(raw, self.wv.index_to_key, cfg.max_sentence_length, work)
            if cache.n_tokens == 0 and not empty_ok:
                raise CorpusError("no word of the new corpus is in the model's vocabulary")
            if unknown[0]:
                progress.message(f"Warning: {unknown[0]:,} tokens ({unknown[1]:,} distinct words) are not in the "
                                 f"model's vocabulary and were skipped")
            self.config = cfg
            return cache, len(self.wv)

        self._run(corpus, build, progress, checkpoint, checkpoint_every, checkpoint_info, on_epoch=on_epoch)
        self.report["unknown_tokens"], self.report["unknown_words"] = unknown
        return self

    # ------------------------------------------------------------- helpers
    def _run(self, corpus, build, progress, checkpoint, checkpoint_every, info, start=None, states=None,
             on_epoch=None):
        """Read ``corpus``, make the token cache with ``build(raw, work, progress) -> (cache, distinct
        words)`` (which also sets weights and settings), train, and fill history and report."""
        progress = progress if progress is not None else Progress(quiet=self.quiet)
        timings = {}
        t0 = time.perf_counter()
        with WorkDir(self.cache_dir) as work:
            raw = self._read(corpus, work, progress)
            timings["read"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            cache, distinct = build(raw, work, progress)
            _drop_raw(raw, work)
            timings["vocabulary"] = time.perf_counter() - t1
            if callable(start):  # a position that needs the cache (an old checkpoint's)
                start = start()
            result = self._train_cache(cache, raw, corpus, progress, checkpoint, checkpoint_every, info,
                                       start=start, states=states, on_epoch=on_epoch)
            timings["compile"] = result.compile_seconds
            timings["training"] = result.seconds
        self._finish(result, raw, timings, distinct_words=distinct)
        return self

    def _read(self, corpus, work, progress):
        t0 = time.perf_counter()

        def reading(done, total):
            progress.reading("reading and counting the corpus", done, total, time.perf_counter() - t0)

        raw = _read_corpus(corpus, work, reading)
        progress.close()
        if raw.n_invalid_utf8:
            progress.message(f"Warning: {raw.n_invalid_utf8} invalid UTF-8 sequences replaced by U+FFFD")
        if raw.n_tokens == 0:
            raise CorpusError("corpus is empty: no words found")
        return raw

    def _train_cache(self, cache, raw, corpus, progress, checkpoint, checkpoint_every, info, start=None,
                     states=None, on_epoch=None):
        ckpt_info = dict(info or {})
        ckpt_info.setdefault("corpus", _corpus_paths(corpus))
        ckpt_info["corpus_tokens"] = cache.n_tokens
        ckpt_info["corpus_raw_tokens"] = raw.n_tokens
        checkpointer = Checkpointer(checkpoint, checkpoint_every, self, ckpt_info)

        def safe_point(position, states):
            self.history = position.history  # the finished epochs, readable from on_epoch hooks
            checkpointer(position, states)

        table = self.wv.subword_table() if self.config.ngrams else None
        self._pad_rows()
        return train(cache, self.wv.counts, self._input_matrix(), self.syn1, self.bias, self.config, raw.n_tokens,
                     progress, start=start, states=states, on_safe_point=safe_point, on_epoch=on_epoch,
                     subwords=table)

    def _finish(self, result, raw, timings, distinct_words):
        self.wv._norms = None  # the vectors moved in place: cached unit vectors are stale
        self.wv.compose()  # with n-grams: the word vectors are means of rows that moved
        self.history = result.history
        self.trace = result.trace
        self.report = {
            "corpus_words": raw.n_tokens,
            "corpus_sentences": raw.n_sentences,
            "distinct_words": distinct_words,
            "vocabulary_size": len(self.wv),
            "invalid_utf8": raw.n_invalid_utf8,
            "seconds": timings,
            "training_words_per_sec": result.words / max(result.seconds, 1e-9),
            "loss_per_epoch": [h["loss"] for h in result.history],
            "threads": self.config.threads,
        }

    @classmethod
    def _load_checkpoint(cls, path):
        """(model, arrays, checkpoint info) of a checkpoint file, every field checked (FormatError otherwise)."""
        arrays, words, meta = io.load_native(path, required=("syn0", "syn1", "bias", "counts"))
        info = validate_info(path, meta.get("checkpoint"))
        states = arrays.get("states")
        # 16 columns since the per-block rows were padded to 128 bytes; 0.1 checkpoints have 8
        if states is None or states.dtype != np.uint64 or states.ndim != 2 or states.shape[1] not in (8, 16):
            raise FormatError(f"{path}: corrupt checkpoint (random states)")
        m = cls._from_arrays(path, arrays, words, meta)
        try:
            m.config = m.config.resolved()
        except ConfigError as e:
            raise FormatError(f"{path}: corrupt settings ({e})") from None
        return m, arrays, info

    def _new_vocab(self, raw, cfg, keep=None):
        """Vocabulary of ``raw`` and initial weights; sets ``config``; returns the provisional -> final id map."""
        vocab, remap = build_vocab(raw.keys, raw.counts, cfg.min_count, cfg.max_vocab, keep=keep)
        if cfg.ngrams:  # V word rows and cfg.buckets n-gram rows, one matrix for the kernels
            syn0 = init_input_rows(len(vocab) + cfg.buckets, cfg.dim, cfg.seed, padded=_pads(cfg))
            syn1 = rows.padded_zeros(len(vocab), cfg.dim) if _pads(cfg) else np.zeros((len(vocab), cfg.dim), np.float32)
        else:
            syn0, syn1, _ = init_weights(len(vocab), cfg.dim, cfg.seed, padded=True)
        self.config = cfg  # before _set_weights, which reads whether there are n-gram rows
        self._set_weights(vocab.words, vocab.counts, syn0, syn1, init_bias(vocab.counts, cfg.loss))
        return remap

    def _grow_vocab(self, raw, cfg, keep=None) -> int:
        """Append the new words of ``raw`` that pass the vocabulary rule; returns how many."""
        if self.config.ngrams:
            raise ConfigError("growing the vocabulary of a model with subwords is not supported: train a new "
                              "model (unseen words already get vectors from their n-grams)")
        everything, _ = build_vocab(raw.keys, raw.counts, 1, None, keep=lambda w, c, m: np.ones(len(w), bool))
        rule = keep if keep is not None else (lambda w, c, m: c >= m)
        kept = np.asarray(rule(everything.words, everything.counts, cfg.min_count), dtype=bool)
        index = self.wv.key_to_index
        counts = self.wv.counts.copy()
        new_words, new_counts = [], []
        for w, c, k in zip(everything.words, everything.counts.tolist(), kept.tolist()):
            i = index.get(w)
            if i is not None:
                counts[i] += c  # known words count their new occurrences, kept or not (as gensim)
            elif k:
                new_words.append(w)
                new_counts.append(c)
        n_old, n_new = len(self.wv), len(new_words)
        counts = np.concatenate([counts, np.asarray(new_counts, dtype=np.int64)])
        # a stream of its own per growth step, so new rows never repeat the first rows' draws
        syn0_new, syn1_new, _ = init_weights(n_new, cfg.dim, cfg.seed + 1_000_033 * (n_old + 1))
        bias = np.concatenate([self.bias, init_bias(counts, cfg.loss)[n_old:]]).astype(np.float32)
        self._set_weights(self.wv.index_to_key + new_words, counts, np.concatenate([self.wv.vectors, syn0_new]),
                          np.concatenate([self.syn1, syn1_new]), bias)
        self.config = cfg
        return n_new

    def _set_weights(self, words, counts, syn0, syn1, bias):
        """syn0: the input rows the kernels train: (V, d), or (V + buckets, d) when ``config.ngrams``."""
        cfg = self.config
        if cfg.ngrams:
            n = len(words)
            self.wv = KeyedVectors(words, counts=counts, vectors_vocab=syn0[:n], vectors_ngrams=syn0[n:],
                                   minn=cfg.minn, maxn=cfg.maxn)
            self._syn0 = syn0
        else:
            self.wv = KeyedVectors(words, syn0, counts)
            self._syn0 = None
        self.syn1 = syn1
        self.bias = bias

    def _input_matrix(self) -> np.ndarray:
        """The input rows the kernels train (with n-grams: word rows then n-gram rows, one array).

        A loaded subword model keeps its two blocks apart until it is trained
        again; then they are joined once and the KeyedVectors rebound to views.
        """
        if not self.config.ngrams:
            return self.wv.vectors
        if self._syn0 is None:
            wv = self.wv
            n = len(wv)
            full = (rows.padded_zeros(n + wv.buckets, wv.vector_size) if _pads(self.config)
                    else np.empty((n + wv.buckets, wv.vector_size), dtype=np.float32))
            full[:n] = wv.vectors_vocab
            full[n:] = wv.vectors_ngrams
            wv.vectors_vocab, wv.vectors_ngrams = full[:n], full[n:]
            self._syn0 = full
        return self._syn0

    def _pad_rows(self):
        """Put the weights the kernels train in row-padded stores (:mod:`fastw2v.rows`) if they are not:
        a loaded, resumed or grown model's arrays; new models are made padded. Same values, the
        KeyedVectors rebound to the new views. Nothing when :func:`_pads` says no."""
        if not _pads(self.config):
            return
        if not rows.is_padded(self.syn1):
            self.syn1 = rows.padded_copy(self.syn1)
        syn0 = self._input_matrix()
        if rows.is_padded(syn0):
            return
        syn0 = rows.padded_copy(syn0)
        wv = self.wv
        if self.config.ngrams:
            n = len(wv)
            wv.vectors_vocab, wv.vectors_ngrams = syn0[:n], syn0[n:]
            self._syn0 = syn0
        else:
            wv.vectors = syn0
        wv._norms = None

    def _native_arrays(self) -> dict:
        """The arrays of the native model: word rows ("syn0"), outputs, biases, counts, and n-gram rows."""
        arrays = {"syn0": self.wv.vectors_vocab, "syn1": self.syn1, "bias": self.bias, "counts": self.wv.counts}
        if self.wv.has_ngrams:
            arrays["ngrams"] = self.wv.vectors_ngrams
        return arrays

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
            io.save_native(path, self._native_arrays(), self.wv.index_to_key,
                           {"config": self.config.to_dict(), "history": self.history, "report": self.report})
        else:
            io.save_word2vec(path, self.wv.index_to_key, self.output_vectors(vectors), binary=(kind == "binary"))
        return kind

    @classmethod
    def load(cls, path) -> "Word2Vec":
        """Load a native model (or checkpoint) written by :meth:`save` (never unpickles)."""
        arrays, words, meta = io.load_native(path, required=("syn0", "syn1", "bias", "counts"))
        return cls._from_arrays(path, arrays, words, meta)

    @classmethod
    def _from_arrays(cls, path, arrays, words, meta) -> "Word2Vec":
        try:
            cfg = TrainConfig.from_dict(meta.get("config", {}))
        except (TypeError, ValueError) as e:
            raise FormatError(f"{path}: corrupt settings ({e})") from None
        history, report = meta.get("history", []), meta.get("report", {})
        if not (isinstance(history, list) and all(isinstance(h, dict) for h in history) and isinstance(report, dict)):
            raise FormatError(f"{path}: corrupt metadata (history or report)")
        syn0, syn1, bias, counts = arrays["syn0"], arrays["syn1"], arrays["bias"], arrays["counts"]
        if (syn0.dtype != np.float32 or syn1.dtype != np.float32 or syn0.ndim != 2 or syn0.shape != syn1.shape
                or bias.shape != (len(words),) or syn0.shape[1] != cfg.dim or counts.shape != (len(words),)
                or not np.issubdtype(counts.dtype, np.integer)):
            raise FormatError(f"{path}: corrupt model (matrix shapes do not match)")
        if counts.size and counts.min() < 0:  # the noise tables of further training need counts >= 0
            raise FormatError(f"{path}: corrupt model (negative word counts)")
        ngrams = arrays.get("ngrams")
        if cfg.ngrams != (ngrams is not None) or (ngrams is not None and (
                ngrams.dtype != np.float32 or ngrams.shape != (cfg.buckets, cfg.dim))):
            raise FormatError(f"{path}: corrupt model (n-gram rows do not match the settings)")
        m = cls(**{k: getattr(cfg, k) for k in CONFIG_NAMES})
        m.config = cfg
        if ngrams is not None:
            m.wv = KeyedVectors(words, counts=counts.astype(np.int64), vectors_vocab=syn0, vectors_ngrams=ngrams,
                                minn=cfg.minn, maxn=cfg.maxn)
            m._syn0, m.syn1, m.bias = None, syn1, bias.astype(np.float32)
        else:
            m._set_weights(words, counts.astype(np.int64), syn0, syn1, bias.astype(np.float32))
        m.history = list(history)
        m.report = dict(report)
        return m

    def _need_trained(self):
        if self.wv is None:
            raise RuntimeError("model is not trained yet: call fit() first")

    @property
    def vocab(self) -> Vocab:
        self._need_trained()
        return Vocab(self.wv.index_to_key, self.wv.counts)


def _pads(cfg) -> bool:
    """Whether a model with settings ``cfg`` trains on row-padded stores (:mod:`fastw2v.rows`; the same
    vectors either way, bit for bit): always, except a subword model whose pad columns would add more than
    5% to its n-gram rows, the most of its memory (at --dim 100, 112 floats a row for 100: 12%)."""
    return not cfg.ngrams or rows.padded_width(cfg.dim) <= 1.05 * cfg.dim


def load(path) -> Word2Vec:
    """Load a native fastw2v model."""
    return Word2Vec.load(path)


def _read_corpus(corpus, work, progress=None):
    """Paths (a path, or a list/tuple of paths) are read as files; anything else as token lists.

    progress(done_bytes, total_bytes) is passed to :func:`~fastw2v.corpus.read_files`.
    """
    if corpus is None:
        raise CorpusError("no corpus given")
    if isinstance(corpus, (str, os.PathLike)):
        return read_files(corpus_files(corpus), work, progress=progress)
    if isinstance(corpus, (list, tuple)) and corpus and all(isinstance(c, (str, os.PathLike)) for c in corpus):
        return read_files(corpus_files(list(corpus)), work, progress=progress)
    return read_sentences(corpus, work)


def _corpus_paths(corpus):
    """Absolute corpus paths for a checkpoint, or None for Python iterables."""
    if isinstance(corpus, (str, os.PathLike)):
        corpus = [corpus]
    if isinstance(corpus, (list, tuple)) and corpus and all(isinstance(c, (str, os.PathLike)) for c in corpus):
        return [str(Path(c).resolve()) for c in corpus]
    return None


def _cache_for_vocab(raw, words, max_sentence_length, work):
    """Token cache of ``raw`` on a fixed vocabulary; returns (cache, (unknown tokens, unknown words))."""
    index = {w: i for i, w in enumerate(words)}
    keys = raw.keys
    if keys and isinstance(keys[0], bytes):
        keys = [k.decode("utf-8", "replace") for k in keys]
    remap = np.fromiter((index.get(k, -1) for k in keys), dtype=np.int32, count=len(keys))
    missing = remap < 0
    unknown = (int(raw.counts[missing].sum()), int(missing.sum()))
    return build_token_cache(raw, remap, max_sentence_length, work), unknown


def _drop_raw(raw, work):
    """Free the provisional id files (unnamed: closing them frees the disk) and keys once the final cache exists,
    and hand the heap that reading freed back to the operating system before training starts."""
    work.close(raw.ids_file, raw.ends_file)
    raw.keys = None
    release_free_heap()
