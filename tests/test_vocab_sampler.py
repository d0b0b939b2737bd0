import numpy as np
import pytest
from scipy.stats import chisquare

from fastw2v.errors import CorpusError
from fastw2v.kernels.rng import seed_states
from fastw2v.sampler import build_alias, noise_weights, sample_many
from fastw2v.vocab import build_vocab, keep_probabilities


def test_vocab_order_min_count_and_max_vocab():
    keys = ["b", "a", "c", "d", "e"]
    counts = np.array([5, 5, 9, 1, 2])
    vocab, remap = build_vocab(keys, counts, min_count=2, max_vocab=None)
    assert vocab.words == ["c", "a", "b", "e"]  # count descending, then the word
    assert list(vocab.counts) == [9, 5, 5, 2]
    assert list(remap) == [2, 1, 0, -1, 3]
    vocab, remap = build_vocab(keys, counts, min_count=1, max_vocab=2)
    assert vocab.words == ["c", "a"] and list(remap) == [-1, 1, 0, -1, -1]
    with pytest.raises(CorpusError, match="min_count=10"):
        build_vocab(keys, counts, min_count=10, max_vocab=None)


def test_byte_keys_that_decode_alike_are_merged():
    vocab, remap = build_vocab([b"x\xff", b"x\xfe", b"y"], np.array([3, 4, 2]), 1, None)
    assert vocab.words == ["x\ufffd", "y"] and list(vocab.counts) == [7, 2]
    assert list(remap) == [0, 0, 1]


def _reference_vocab(keys, counts, min_count):
    """Every key decoded and merged, then pruned: what build_vocab must equal."""
    merged = {}
    for k, c in zip(keys, counts.tolist()):
        w = k.decode("utf-8", "replace")
        merged[w] = merged.get(w, 0) + c
    kept = sorted((w for w, c in merged.items() if c >= min_count), key=lambda w: (-merged[w], w))
    final = {w: i for i, w in enumerate(kept)}
    return kept, [merged[w] for w in kept], [final.get(k.decode("utf-8", "replace"), -1) for k in keys]


@pytest.mark.parametrize("seed", range(6))
def test_rare_keys_pruned_undecoded_give_the_merged_vocabulary(seed):
    # Rare ASCII keys are pruned without being decoded; rare keys that decode alike (invalid bytes,
    # or the literal U+FFFD) can still add up to min_count and must be kept, with ties in order.
    rng = np.random.default_rng(seed)
    pieces = [b"a", b"b", b"\xff", b"\xfe", b"\xc3", b"\xef\xbf\xbd", b"\xc3\xa9", b"z"]
    keys = set()
    while len(keys) < 300:
        keys.add(b"".join(pieces[i] for i in rng.integers(0, len(pieces), rng.integers(1, 4))))
    keys = sorted(keys)
    counts = rng.integers(1, 6, len(keys)) ** 2
    for min_count in (1, 5, 12):
        vocab, remap = build_vocab(keys, counts, min_count, None)
        words, wcounts, wremap = _reference_vocab(keys, counts, min_count)
        assert vocab.words == words and list(vocab.counts) == wcounts and list(remap) == wremap


def test_a_vocabulary_rule_sees_every_byte_key():
    # rare ASCII keys are pruned undecoded only under the min_count test; a keep= rule decides them
    vocab, remap = build_vocab([b"a", b"b", b"x\xff"], np.array([1, 5, 1]), 3, None,
                               keep=lambda w, c, m: np.ones(len(w), bool))
    assert vocab.words == ["b", "a", "x\ufffd"] and list(remap) == [1, 0, 2]


def test_empty_vocabulary_error_counts_every_distinct_word():
    with pytest.raises(CorpusError, match=r"\(3 distinct words"):
        build_vocab([b"a", b"b", b"x\xff", b"x\xfe"], np.array([1, 1, 1, 1]), 3, None)


def test_keep_probability_is_word2vec_formula():
    counts = np.array([100000, 5000, 300, 7])
    sample = 1e-3
    t = sample * counts.sum()
    expected = np.minimum((np.sqrt(counts / t) + 1) * t / counts, 1.0)
    assert np.allclose(keep_probabilities(counts, sample), expected, rtol=1e-6)
    assert np.all(keep_probabilities(counts, 0.0) == 1.0)


@pytest.mark.parametrize("noise", ["unigram", "log-uniform"])
def test_alias_sampler_matches_target_distribution(noise):
    counts = (50000 / np.arange(1, 201) ** 1.1).astype(np.int64) + 1
    weights = noise_weights(counts, noise)
    prob, alias = build_alias(weights)
    draws = sample_many(prob, alias, seed_states(7, 1)[0], 400_000)
    observed = np.bincount(draws, minlength=len(counts))
    expected = weights / weights.sum() * draws.size
    stat, p = chisquare(observed, expected)
    assert p > 1e-4, (stat, p)


def test_alias_sampler_detects_wrong_distribution():
    """The chi-square check above can fail: a skewed target is rejected."""
    counts = np.arange(1, 101, dtype=np.float64)
    prob, alias = build_alias(counts)
    draws = sample_many(prob, alias, seed_states(1, 1)[0], 200_000)
    observed = np.bincount(draws, minlength=100)
    wrong = counts ** 0.9
    _, p = chisquare(observed, wrong / wrong.sum() * draws.size)
    assert p < 1e-6


def test_alias_rejects_bad_weights():
    with pytest.raises(ValueError):
        build_alias(np.array([0.0, 0.0]))
    with pytest.raises(ValueError):
        build_alias(np.array([1.0, -1.0]))
