import gzip
import importlib.util
import os
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("FASTW2V_SHARED", ROOT.parent / "shared"))
DEMO = ROOT / "fastw2v" / "data" / "text8_head.txt.gz"
WORDSIM = ROOT / "fastw2v" / "data" / "wordsim353.tsv"


def bench_module(name: str):
    """bench/<name>.py, imported as a module (bench/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def zipf_corpus(path: Path, n_words=20000, vocab=300, seed=0, line_len=50):
    """A synthetic corpus with Zipf word frequencies and some topical structure."""
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, vocab + 1)
    p = 1.0 / ranks
    p /= p.sum()
    toks = rng.choice(vocab, size=n_words, p=p)
    lines = []
    for lo in range(0, n_words, line_len):
        lines.append(" ".join(f"w{t}" for t in toks[lo:lo + line_len]))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory):
    return zipf_corpus(tmp_path_factory.mktemp("corpus") / "small.txt")


@pytest.fixture(scope="session")
def demo_head(tmp_path_factory):
    """The first ~200k words of the demo corpus, as plain text in 2000-word lines."""
    with gzip.open(DEMO, "rt") as f:
        words = f.read(1_300_000).split()[:200_000]
    path = tmp_path_factory.mktemp("demo") / "head.txt"
    path.write_text("\n".join(" ".join(words[i:i + 2000]) for i in range(0, len(words), 2000)) + "\n")
    return path


@pytest.fixture(scope="session")
def trained_small(small_corpus):
    import fastw2v

    return fastw2v.Word2Vec(dim=16, epochs=2, min_count=2, threads=2, seed=3).fit(small_corpus)


@pytest.fixture(scope="session")
def text8_vectors(tmp_path_factory):
    """Vectors trained 1 epoch on the shipped text8 sample, saved as word2vec binary."""
    import fastw2v

    # one thread: bit-identical vectors every run, so exact comparisons with gensim cannot flake on a near-tie
    m = fastw2v.Word2Vec(epochs=1, sample=1e-4, threads=1, dim=50, seed=4).fit(DEMO)
    path = tmp_path_factory.mktemp("vec") / "t8.bin"
    m.wv.save_word2vec_format(path, binary=True)
    return path


def wait_training(proc, timeout=300):
    """Read a CLI subprocess's stderr up to its first progress line (the token cache exists and the
    kernels are running); returns the lines read.

    Call it before signalling the process: the caller's ``communicate()`` then gets every line written
    after the signal (at most a read-ahead progress line can be missed).
    """
    lines = []
    t = time.time()
    while time.time() - t < timeout:
        line = proc.stderr.readline()
        if not line:
            raise AssertionError(f"exited before training: {''.join(lines)}")
        lines.append(line)
        if "% epoch" in line:
            return lines
    raise AssertionError("no progress line")
