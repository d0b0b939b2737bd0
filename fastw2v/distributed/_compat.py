"""TEMPORARY: KernelRunner / stretch_bounds until trainer.py exposes them (removed after the merge)."""
import numba
import numpy as np

from .. import trainer
from ..kernels import driver
from ..kernels.rng import seed_states
from ..vocab import keep_probabilities


def stretch_bounds(starts, s_from, s_to, call_tokens):
    base = int(starts[s_from])
    end = int(starts[s_to])
    cuts = np.searchsorted(starts, np.arange(base + call_tokens, end, call_tokens), side="left")
    return np.unique(np.concatenate(([s_from], cuts, [s_to]))).astype(np.int64)


class KernelRunner:
    def __init__(self, counts, cfg, max_sentence_length, stream=0):
        self.cfg = cfg
        self.stream = stream
        self.threads = int(cfg.threads)
        self.codes = cfg.kernel_codes()
        self.tables = trainer.build_tables(counts, cfg)
        self.keep = keep_probabilities(counts, cfg.sample)
        self.n_blocks = self.threads * trainer.BLOCKS_PER_THREAD
        self.scratch = driver.make_scratch(max(self.threads, numba.config.NUMBA_NUM_THREADS), max_sentence_length,
                                           cfg.window, cfg.dim, trainer.max_candidates(self.tables, cfg))
        self.stats = np.zeros((self.n_blocks, 8))
        self.seed_epoch(0)

    def seed_epoch(self, epoch):
        self.states = seed_states(self.cfg.seed + 7919 * self.stream + 1_000_003 * epoch, self.n_blocks)

    def run(self, tokens, starts, s_lo, s_hi, a0, a1, syn0, syn1, bias):
        before = self.stats.sum(axis=0)
        blocks = trainer.plan_blocks(starts, s_lo, s_hi, self.n_blocks)
        prev = numba.set_parallel_chunksize(1)
        try:
            driver.train_blocks(tokens, starts, blocks, syn0, syn1, bias, self.tables, self.keep, self.codes[0],
                                self.codes[1], self.cfg.window, self.cfg.negative, self.cfg.batch, a0, a1, 1,
                                self.states, self.scratch, self.stats)
        finally:
            numba.set_parallel_chunksize(prev)
        return self.stats.sum(axis=0) - before
