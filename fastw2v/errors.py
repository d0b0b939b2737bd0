"""Exceptions a user can cause (bad files, bad settings).

The CLI turns a :class:`FastW2VError` into one ``Error: ...`` line and a
non-zero exit; anything else is a programming error and may raise.
"""


class FastW2VError(Exception):
    """Base class for errors caused by user input (files, settings)."""


class ConfigError(FastW2VError, ValueError):
    """A training or query setting is out of range."""


class CorpusError(FastW2VError):
    """The corpus is missing, unreadable or yields no usable words."""


class FormatError(FastW2VError, ValueError):
    """A model or vector file is malformed, truncated or of an unknown version."""


class TrainingDiverged(FastW2VError, FloatingPointError):
    """NaN or inf appeared in the weights."""


class TrainingInterrupted(FastW2VError):
    """Training stopped at a safe point after Ctrl-C (a checkpoint may have been written)."""

    def __init__(self, message, checkpoint=None):
        super().__init__(message)
        self.checkpoint = checkpoint
