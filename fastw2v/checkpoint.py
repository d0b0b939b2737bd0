"""Checkpoints: everything needed to continue a run where it stopped.

A checkpoint is a native model file (both matrices, biases, vocabulary and
counts, settings as JSON, no pickle) plus the random states and a
``checkpoint`` entry in its metadata: the training :class:`Position`, the
corpus paths and the token count of the corpus as cached, so that a resume
can rebuild the same token stream and refuse a different one. It is written
like every output: to a temporary file, flushed, renamed.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from . import io
from .errors import TrainingInterrupted

#: set by the CLI's SIGINT handler; checked at every safe point
STOP = threading.Event()


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
                    f"interrupted in epoch {position.epoch + 1}; checkpoint written to {self.path}; "
                    f"resume with: fastw2v train --resume {self.path}", checkpoint=self.path)
            raise TrainingInterrupted("interrupted (no --checkpoint was given, so the run cannot be resumed)")
        if self.path is not None and time.monotonic() - self.last >= self.every:
            self.write(position, states)

    def write(self, position, states):
        m = self.model
        meta = {"config": m.config.to_dict(), "history": position.history, "report": {},
                "checkpoint": dict(self.info, position=position.to_dict())}
        io.save_native(self.path, dict(m._native_arrays(), states=np.asarray(states)), m.wv.index_to_key, meta)
        self.last = time.monotonic()
        self.written += 1
