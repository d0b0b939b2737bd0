"""Interleaved A/B of two checkouts' kernels inside one training run: kernel calls alternate A B A B.

    python bench/ab_calls.py A_DIR B_DIR [--threads 2] [--epochs 3] [--corpus PATH] [-- TRAIN OPTIONS]

bench/ab.py runs each checkout in its own process, so a host whose speed changes from one run to the next
(a shared machine, a virtual one whose cores the hypervisor moves) puts its swings into every ratio. Here
one ``fastw2v train`` run of checkout A trains one set of weights, and every other kernel call goes to
checkout B's ``train_blocks`` instead of A's: both see the same weights, the same stretch of the corpus
and, within ~0.1 s, the same machine. Each call's words/s is its tokens over its wall time; B/A is given
over the whole run and as the median of adjacent (A, B) pairs, after one untimed pair (B compiles in it,
or loads its Numba cache).

B's package is copied to ``--work``/fastw2v_b (its own module path, so its own Numba cache, kept between
runs). Both checkouts' ``train_blocks`` must take the same arguments (the kernel changes, the Python around
it does not): A builds them, and B's kernel compiles for A's types.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


class Alternating:
    """Calls kernels[0], kernels[1], kernels[0], ... with train_blocks' arguments; records each call's
    (which, tokens, seconds)."""

    def __init__(self, kernels):
        self.kernels = kernels
        self.calls = []

    def __call__(self, *args):
        which = len(self.calls) % 2
        starts, block_sent = args[1], args[2]
        tokens = int(starts[block_sent[-1]] - starts[block_sent[0]]) if len(block_sent) else 0
        t = time.perf_counter()
        self.kernels[which](*args)
        self.calls.append((which, tokens, time.perf_counter() - t))

    def summary(self, skip: int = 2) -> dict:
        calls = [c for c in self.calls[skip:] if c[1] > 0]
        wps = [sum(c[1] for c in calls if c[0] == k) / max(sum(c[2] for c in calls if c[0] == k), 1e-12)
               for k in (0, 1)]
        pairs = [(b[1] / b[2]) / (a[1] / a[2]) for a, b in zip(calls[0::2], calls[1::2]) if a[0] == 0 and b[0] == 1]
        return {"a_wps": wps[0], "b_wps": wps[1], "ratio": wps[1] / wps[0], "pairs": pairs}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--corpus", default=str(Path(__file__).resolve().parent.parent / "fastw2v/data/text8_head.txt.gz"))
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "fastw2v-ab-calls")
    argv = sys.argv[1:] if argv is None else list(argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = ap.parse_args(argv[:cut])
    args.train_options = argv[cut + 1:]  # after --: more `fastw2v train` options (--model cbow ...)
    package_b = args.work / "fastw2v_b"
    shutil.copytree(args.b.resolve() / "fastw2v", package_b, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))  # copy2 keeps the times: the cache stays valid
    sys.path[:0] = [str(args.a.resolve()), str(args.work)]

    from fastw2v import cli, trainer
    from fastw2v_b import trainer as trainer_b
    from fastw2v_b.kernels import driver as driver_b

    alternating = []
    prepare = trainer.KernelRunner.prepare

    def prepare_both(self, tokens, starts, syn0, syn1, bias, notify=None):
        seconds = prepare(self, tokens, starts, syn0, syn1, bias, notify)
        empty = np.zeros(self.n_blocks + 1, dtype=np.int64)  # trains nothing: compiles B for A's argument types
        call = self._args(tokens[:0], starts[:1], empty, syn0, syn1, bias, 0.0, 0.0)
        driver_b.train_blocks(*call)
        kernel_b = trainer_b.compiled_entry(driver_b.train_blocks, call, literal=trainer.LITERAL_ARGS)
        self._kernel = Alternating((self._kernel, kernel_b or driver_b.train_blocks))
        alternating.append(self._kernel)
        return seconds

    trainer.KernelRunner.prepare = prepare_both
    out = args.work / "ab_calls.fw2v"
    try:
        cli.main.main(["train", args.corpus, "-o", str(out), "-q", "--epochs", str(args.epochs),
                       "--threads", str(args.threads), *args.train_options], standalone_mode=False)
    finally:
        trainer.KernelRunner.prepare = prepare
    s = alternating[-1].summary()
    p = s["pairs"]
    print(f"A {s['a_wps'] / 1e3:.0f}K  B {s['b_wps'] / 1e3:.0f}K words/s  B/A {s['ratio']:.3f}  "
          f"per pair: median {statistics.median(p):.3f}, quartiles {np.percentile(p, 25):.3f}-"
          f"{np.percentile(p, 75):.3f}, {len(p)} pairs")


if __name__ == "__main__":
    main()
