"""Phrases: join frequent collocations into single tokens (word2vec C's word2phrase).

A bigram "a b" (adjacent in one sentence) becomes the token "a_b" when

    score = (count(ab) - min_count) / (count(a) * count(b)) * total_words > threshold

and both words occur at least ``min_count`` times. Joining is greedy, left to
right, and each pass can join phrases again ("new_york" "times" ->
"new_york_times"). The text is read once with the trainer's tokenizer into an
int32 id file; every pass streams that file in chunks of whole sentences, so
memory grows with the number of distinct words and bigrams, not the corpus.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .corpus import WorkDir, _read_array, check_stop, corpus_files, read_files
from .errors import ConfigError, CorpusError
from .io import atomic_write

CHUNK = 1 << 20


def _chunks(ids_file, ends_file, n_tokens: int, n_sentences: int):
    """(ids int32, sentence ends relative to the chunk int64) for runs of whole sentences.

    ids_file / ends_file: the unnamed cache files (binary file objects), read from their start.
    """
    ends_file.seek(0)
    ends = _read_array(ends_file, np.int64, n_sentences)
    ids_file.seek(0)
    lo = 0
    e_lo = 0
    while lo < n_tokens:
        check_stop()
        e_hi = int(np.searchsorted(ends, lo + CHUNK, side="right"))
        if e_hi == e_lo:  # one sentence longer than a chunk: take it whole
            e_hi = e_lo + 1
        hi = int(ends[e_hi - 1])
        yield _read_array(ids_file, np.int32, hi - lo), ends[e_lo:e_hi] - lo
        lo, e_lo = hi, e_hi


def _pair_keys(ids: np.ndarray, ends: np.ndarray, n_words: int) -> np.ndarray:
    """int64 keys a * n_words + b of the adjacent pairs inside sentences."""
    if ids.size < 2:
        return np.zeros(0, np.int64)
    ok = np.ones(ids.size - 1, dtype=bool)
    inner = ends[:-1] if ends.size and ends[-1] == ids.size else ends
    ok[inner[inner > 0] - 1] = False  # the pair across a sentence end
    a = ids[:-1][ok].astype(np.int64)
    b = ids[1:][ok].astype(np.int64)
    return a * n_words + b


def _count_pairs(ids_f, ends_f, n_tokens, n_sentences, n_words):
    keys = np.zeros(0, np.int64)
    counts = np.zeros(0, np.int64)
    for ids, ends in _chunks(ids_f, ends_f, n_tokens, n_sentences):
        k, c = np.unique(_pair_keys(ids, ends, n_words), return_counts=True)
        keys, inv = np.unique(np.concatenate([keys, k]), return_inverse=True)
        counts = np.bincount(inv, weights=np.concatenate([counts, c]), minlength=keys.size).astype(np.int64)
    return keys, counts


@njit(cache=True)
def _join(ids, ends, accepted, out_ids, out_ends, first_new):
    """Greedy left-to-right joining inside each sentence.

    accepted: sorted int64 pair keys a * first_new + b; pair j becomes id first_new + j.
    Returns (n_out, n_ends).
    """
    n_out = 0
    start = 0
    for e in range(ends.shape[0]):
        stop = ends[e]
        p = start
        while p < stop:
            a = ids[p]
            if p + 1 < stop:
                key = np.int64(a) * first_new + ids[p + 1]
                j = np.searchsorted(accepted, key)
                if j < accepted.shape[0] and accepted[j] == key:
                    out_ids[n_out] = first_new + j
                    n_out += 1
                    p += 2
                    continue
            out_ids[n_out] = a
            n_out += 1
            p += 1
        out_ends[e] = n_out
        start = stop
    return n_out, ends.shape[0]


def find_phrases(corpus, output, min_count: int = 5, threshold: float = 100.0, passes: int = 2,
                 cache_dir=None) -> dict:
    """Write ``corpus`` to ``output`` with collocations joined by '_'.

    Returns a dict: ``passes`` (per pass: phrases found, tokens before and after)
    and ``phrases`` (the distinct phrase tokens in the output, most frequent first).
    """
    if not isinstance(min_count, int) or min_count < 1:
        raise ConfigError(f"min_count must be an integer >= 1, got {min_count!r}")
    if not threshold > 0:
        raise ConfigError(f"threshold must be > 0, got {threshold!r}")
    if not isinstance(passes, int) or passes < 1:
        raise ConfigError(f"passes must be an integer >= 1, got {passes!r}")
    with WorkDir(cache_dir) as work:
        raw = read_files(corpus_files(corpus), work)
        if raw.n_tokens == 0:
            raise CorpusError("corpus is empty: no words found")
        words = [k.decode("utf-8", "replace") for k in raw.keys]
        counts = raw.counts
        ids_f, ends_f, n_tokens, n_sent = raw.ids_file, raw.ends_file, raw.n_tokens, raw.n_sentences
        report = []
        for p in range(passes):
            n_words = len(words)
            keys, pair_counts = _count_pairs(ids_f, ends_f, n_tokens, n_sent, n_words)
            a, b = keys // n_words, keys % n_words
            ca, cb = counts[a], counts[b]
            total = float(counts.sum())
            with np.errstate(divide="ignore", invalid="ignore"):
                score = (pair_counts - min_count) / (ca.astype(np.float64) * cb) * total
            ok = (ca >= min_count) & (cb >= min_count) & (score > threshold)
            accepted = keys[ok]
            # renumber the accepted pairs on the joined stream's id space: a * n_words + b as before
            new_ids_f, new_ends_f = work.new_file(), work.new_file()  # unnamed, like the trainer's cache
            n_out_total = 0
            for ids, ends in _chunks(ids_f, ends_f, n_tokens, n_sent):
                out_ids = np.empty(ids.size, np.int32)
                out_ends = np.empty(ends.size, np.int64)
                n_out, n_e = _join(ids, ends, accepted, out_ids, out_ends, n_words)
                work.append(new_ids_f, out_ids[:n_out])
                work.append(new_ends_f, out_ends[:n_e] + n_out_total)
                n_out_total += n_out
            new_ids_f.flush()
            new_ends_f.flush()
            words = words + [words[x] + "_" + words[y] for x, y in zip(a[ok].tolist(), b[ok].tolist())]
            counts = np.zeros(len(words), np.int64)
            for ids, _ in _chunks(new_ids_f, new_ends_f, n_out_total, n_sent):
                counts += np.bincount(ids, minlength=len(words))
            report.append({"pass": p + 1, "phrases": int(ok.sum()), "tokens_before": n_tokens,
                           "tokens_after": n_out_total})
            work.close(ids_f, ends_f)  # the previous pass's stream: frees its disk space
            ids_f, ends_f, n_tokens = new_ids_f, new_ends_f, n_out_total
        with atomic_write(output) as f:
            for ids, ends in _chunks(ids_f, ends_f, n_tokens, n_sent):
                start = 0
                lines = []
                for e in ends.tolist():
                    lines.append(" ".join([words[i] for i in ids[start:e].tolist()]))
                    start = e
                f.write(("\n".join(lines) + "\n").encode("utf-8"))
        phrase_ids = [i for i in np.argsort(-counts, kind="stable").tolist() if counts[i] and "_" in words[i]
                      and i >= len(raw.keys)]
        return {"passes": report, "phrases": [words[i] for i in phrase_ids]}
