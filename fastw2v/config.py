"""Frozen training settings, validated once in Python before any kernel runs.

Names match the CLI flags (``min_count`` is ``--min-count``). Kernels never see
this object: :meth:`TrainConfig.kernel_codes` turns the string choices into the
small integers the Numba code branches on.
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field

from .errors import ConfigError

#: model name -> kernel code
MODELS = {"sg": 0, "cbow": 1}
#: loss name -> kernel code (the table the epoch driver dispatches on)
LOSSES = {"ns": 0, "hs": 1, "nce": 2, "softmax": 3}
#: noise distribution names
NOISES = ("unigram", "log-uniform")
#: which matrix the word2vec text/binary outputs hold
VECTOR_CHOICES = ("in", "out", "sum")

#: starting learning rate per model, chosen by the sweep in bench/SWEEP.md (realmix and the
#: text8 sample, 1 and 5 epochs): twice word2vec C's 0.025 for skip-gram, 1.5x its 0.05 for CBOW
DEFAULT_ALPHA = {"sg": 0.05, "cbow": 0.075}


def default_threads() -> int:
    """All cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class TrainConfig:
    """All settings of one training run.

    ``alpha=None`` means the model's default (0.05 for sg, 0.075 for cbow) and
    ``threads=None`` all cores; :meth:`resolved` fills both in.
    ``subwords`` adds fastText's character n-grams of ``minn``..``maxn``
    characters hashed into ``buckets`` extra input rows (``maxn=0``: none);
    ``share_noise`` lets subword skip-gram (ns, nce, batched) share the noise
    draws across a window (faster, slightly lower quality measured).
    """

    model: str = "sg"
    loss: str = "ns"
    dim: int = 100
    window: int = 5
    negative: int = 5
    alpha: float | None = None
    min_alpha: float = 0.0001
    epochs: int = 5
    min_count: int = 5
    max_vocab: int | None = None
    sample: float = 1e-3
    seed: int = 1
    threads: int | None = None
    max_sentence_length: int = 10000
    noise: str = "unigram"
    ns_exponent: float = 0.75
    batch: bool = True
    vectors: str = "in"
    subwords: bool = False
    minn: int = 3
    maxn: int = 6
    buckets: int = 2_000_000
    share_noise: bool = False
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        self.validate()

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first setting out of range."""
        if self.model not in MODELS:
            raise ConfigError(f"model must be one of {', '.join(MODELS)}, got {self.model!r}")
        if self.loss not in LOSSES:
            raise ConfigError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.noise not in NOISES:
            raise ConfigError(f"noise must be one of {', '.join(NOISES)}, got {self.noise!r}")
        if self.vectors not in VECTOR_CHOICES:
            raise ConfigError(f"vectors must be one of {', '.join(VECTOR_CHOICES)}, got {self.vectors!r}")
        if self.loss == "hs" and self.vectors != "in":
            raise ConfigError("vectors 'out' and 'sum' need a loss with one output row per word "
                              "(ns, nce, softmax); hs output rows are tree nodes")
        _int_at_least("dim", self.dim, 1, upper=100_000)
        _int_at_least("window", self.window, 1, upper=1000)
        _int_at_least("epochs", self.epochs, 1)
        _int_at_least("min_count", self.min_count, 1)
        _int_at_least("max_sentence_length", self.max_sentence_length, 1, upper=100_000_000)
        if self.loss != "hs":
            _int_at_least("negative", self.negative, 1, upper=10_000)
        elif not (isinstance(self.negative, int) and self.negative >= 0):
            raise ConfigError(f"negative must be an integer >= 0, got {self.negative!r}")
        if self.max_vocab is not None:
            _int_at_least("max_vocab", self.max_vocab, 1)
        if self.threads is not None:
            _int_at_least("threads", self.threads, 1, upper=4096)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError(f"seed must be an integer, got {self.seed!r}")
        if self.alpha is not None:
            _positive_float("alpha", self.alpha)
        _finite_float("min_alpha", self.min_alpha)
        if self.min_alpha < 0:
            raise ConfigError(f"min_alpha must be >= 0, got {self.min_alpha}")
        if self.alpha is not None and self.min_alpha > self.alpha:
            raise ConfigError(f"min_alpha ({self.min_alpha}) must not exceed alpha ({self.alpha})")
        _finite_float("ns_exponent", self.ns_exponent)
        if self.ns_exponent != 0.75 and self.noise != "unigram":
            raise ConfigError("ns_exponent shapes the unigram noise distribution; it has no meaning with "
                              f"noise={self.noise!r}")
        if not isinstance(self.subwords, bool):
            raise ConfigError(f"subwords must be True or False, got {self.subwords!r}")
        _int_at_least("minn", self.minn, 1, upper=1000)
        _int_at_least("maxn", self.maxn, 0, upper=1000)
        if self.maxn and self.maxn < self.minn:
            raise ConfigError(f"maxn ({self.maxn}) must be >= minn ({self.minn}), or 0 to turn n-grams off")
        _int_at_least("buckets", self.buckets, 1, upper=1 << 30)
        if not isinstance(self.share_noise, bool):
            raise ConfigError(f"share_noise must be True or False, got {self.share_noise!r}")
        _finite_float("sample", self.sample)
        if self.sample < 0:
            raise ConfigError(f"sample must be >= 0 (0 turns subsampling off), got {self.sample}")

    # --------------------------------------------------------------- derived
    def resolved(self) -> "TrainConfig":
        """A copy with ``alpha`` and ``threads`` filled in."""
        alpha = self.default_alpha() if self.alpha is None else self.alpha
        threads = default_threads() if self.threads is None else self.threads
        if self.min_alpha > alpha:
            raise ConfigError(f"min_alpha ({self.min_alpha}) must not exceed alpha ({alpha})")
        return dataclasses.replace(self, alpha=alpha, threads=threads)

    @property
    def ngrams(self) -> bool:
        """True when words get character n-gram rows (``subwords`` on and ``maxn`` > 0)."""
        return bool(self.subwords) and self.maxn > 0

    def default_alpha(self) -> float:
        """0.05 sg, 0.075 cbow (bench/SWEEP.md); 0.05 for both with n-grams (fastText's skip-gram
        rate: at 0.025 the n-gram rows of the text8 sample stay crowded and unseen words find poor
        neighbours, in fastText as in fastw2v)."""
        return 0.05 if self.ngrams else DEFAULT_ALPHA[self.model]

    def kernel_codes(self) -> tuple[int, int]:
        """(model code, loss code) for the kernels."""
        return MODELS[self.model], LOSSES[self.loss]

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("extra", None)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        unknown = set(d) - names
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
        return cls(**d)


def _int_at_least(name, value, lower, upper=None):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if value < lower:
        raise ConfigError(f"{name} must be >= {lower}, got {value}")
    if upper is not None and value > upper:
        raise ConfigError(f"{name} must be <= {upper}, got {value}")


def _finite_float(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")


def _positive_float(name, value):
    _finite_float(name, value)
    if value <= 0:
        raise ConfigError(f"{name} must be > 0, got {value}")
