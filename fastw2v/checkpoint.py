"""Checkpoints: everything needed to continue a run where it stopped.

A checkpoint is a native model file (both matrices, biases, vocabulary and
counts, settings as JSON, no pickle) plus the random states and a
``checkpoint`` entry in its metadata: the training :class:`Position`, the
corpus paths and the token count of the corpus as cached, so that a resume
can rebuild the same token stream and refuse a different one. It is written
like every output: to a temporary file, flushed, renamed.
"""
from __future__ import annotations

import shlex
import signal
import threading
import time
from pathlib import Path

import numpy as np

from . import io
from .errors import FormatError, TrainingInterrupted

#: set by the CLI's SIGINT/SIGTERM/SIGHUP handler; checked at every safe point and while reading
STOP = threading.Event()
_stop_signal = [signal.SIGINT]  # the signal that set STOP


def request_stop(signum: int = signal.SIGINT) -> None:
    """Ask training to stop at the next safe point, recording which signal asked."""
    _stop_signal[0] = signum
    STOP.set()


def clear_stop() -> None:
    STOP.clear()
    _stop_signal[0] = signal.SIGINT


def stop_signal() -> int:
    """The signal number that requested the stop (SIGINT if none did)."""
    return int(_stop_signal[0])


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def stop_message(where: str) -> str:
    """'interrupted by SIGTERM <where>', the start of every stop message."""
    return f"interrupted by {signal_name(stop_signal())} {where}"


def validate_info(path, info) -> dict:
    """The ``checkpoint`` entry of a file's metadata, checked field by field; FormatError names what is wrong.

    A resume trusts these fields deep inside training, so a file that lies
    about them is refused here, before the corpus is read.
    """
    if not isinstance(info, dict) or "position" not in info:
        raise FormatError(f"{path} is a model, not a checkpoint (use --init to train a model further)")

    def corrupt(what):
        return FormatError(f"{path}: corrupt checkpoint ({what})")

    corpus = info.get("corpus")
    if corpus is not None and not (isinstance(corpus, list) and all(isinstance(c, str) for c in corpus)):
        raise corrupt("corpus paths")
    tokens = info.get("corpus_tokens")
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
        raise corrupt("corpus token count")
    cli = info.get("cli")
    if cli is not None and not (isinstance(cli, dict) and all(isinstance(v, str) or v is None for v in cli.values())):
        raise corrupt("recorded outputs")
    raw = info["position"]
    if not isinstance(raw, dict) or not isinstance(raw.get("history", []), list) \
            or not all(isinstance(h, dict) for h in raw.get("history", [])):
        raise corrupt("position")
    from .trainer import Position

    try:
        legacy = "token" not in raw  # fastw2v 0.1 stored a stretch index, converted on resume
        position = Position.from_dict(dict(raw, token=0) if legacy else raw)
        if legacy and (isinstance(raw["stretch"], bool) or int(raw["stretch"]) < 0):
            raise ValueError
    except (KeyError, TypeError, ValueError, OverflowError):
        raise corrupt("position") from None
    stats = np.asarray(position.ep_stats)
    if stats.shape != (8,) or not np.isfinite(stats).all() or position.epoch < 0 \
            or not 0 <= position.token <= tokens or not np.isfinite(position.ep_seconds):
        raise corrupt("position")
    return info


class Checkpointer:
    """The trainer's safe-point callback: periodic checkpoints and clean stops.

    path: where checkpoints go (None: none are written, Ctrl-C still stops cleanly).
    every: seconds between checkpoints.
    model: the Word2Vec being trained (its weights are saved as they are).
    info: corpus paths, token counts and the CLI's output settings, stored verbatim.
    """

    def __init__(self, path, every: float, model, info: dict):
        self.path = Path(path) if path is not None else None
        self.every = float(every)
        self.model = model
        self.info = info
        self.last = time.monotonic()
        self.written = 0

    def __call__(self, position, states):
        if STOP.is_set():
            if self.path is not None:
                self.write(position, states)
                raise TrainingInterrupted(
                    stop_message(f"in epoch {position.epoch + 1}; checkpoint written to {self.path}; "
                                 f"resume with: fastw2v train --resume {shlex.quote(str(self.path))}"),
                    checkpoint=self.path)
            raise TrainingInterrupted(stop_message(f"in epoch {position.epoch + 1} (no --checkpoint was given, "
                                                   f"so the run cannot be resumed)"))
        if self.path is not None and time.monotonic() - self.last >= self.every:
            self.write(position, states)

    def write(self, position, states):
        m = self.model
        meta = {"config": m.config.to_dict(), "history": position.history, "report": {},
                "checkpoint": dict(self.info, position=position.to_dict())}
        io.save_native(self.path, dict(m._native_arrays(), states=np.asarray(states)), m.wv.index_to_key, meta)
        self.last = time.monotonic()
        self.written += 1
