"""bench/roofline.py: its corpus replica agrees with what the kernels count, its FMA kernel is packed."""
import platform

import pytest

from .conftest import bench_module, zipf_corpus


@pytest.fixture(scope="module")
def roofline():
    return bench_module("roofline")


@pytest.fixture(scope="module")
def short_lines(tmp_path_factory):
    # 4-word lines: after subsampling many sentences keep fewer than 2 words, which the
    # replica must leave out of the centre count, and most windows are cut by an edge
    return zipf_corpus(tmp_path_factory.mktemp("roof") / "short.txt", n_words=20000, line_len=4)


@pytest.mark.parametrize("model", ["sg", "cbow"])
@pytest.mark.parametrize("sample", [0.0, 1e-3])
def test_replica_matches_the_kernel_counts(roofline, short_lines, model, sample):
    """The replica's expected count equals the one the kernel reports exactly, within sampling noise.

    sg reports the context rows C (ST_EXAMPLES), cbow the centres N. Without
    subsampling N is deterministic (every word of a 2+ word sentence) and C varies
    only with the window draws; with it, which sentences keep 2+ words varies too.
    A wrong window expectation or centre rule would be off by far more.
    """
    cap = roofline.train_one(model, 8, str(short_lines), 1, sample=sample)
    counts = roofline.kernel_counts(model, 8, roofline.NEGATIVE, cap)
    what, replica, exact = counts["check"]
    assert what == ("C" if model == "sg" else "N")
    assert exact > 3000
    if sample == 0.0 and model == "cbow":
        assert replica == exact
    else:
        assert replica == pytest.approx(exact, rel=0.01 if sample == 0.0 else 0.05)
    # with short sentences the edges matter: C per centre is well below window + 1
    assert counts["C"] / counts["N"] < roofline.WINDOW + 1 - 1.0
    # FLOPs per the docstring's formula, hits aside (they remove well under 1%)
    n_c = 1 + roofline.NEGATIVE
    if model == "sg":
        plain = 8 * (6 * n_c + 1) * counts["C"]
    else:
        plain = 8 * ((6 * n_c + 1) * counts["N"] + 2 * counts["C"])
    assert counts["flops"] == pytest.approx(plain, rel=0.02)
    assert counts["flops"] < plain
    assert counts["row_bytes"] == pytest.approx(8 * 8 * (counts["C"] + n_c * counts["N"]))


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 assembly check")
def test_fma_kernel_compiles_to_packed_fmas(roofline):
    flops = roofline.measure_fma(1, quick=True)
    assert flops > 0
    counts = roofline.fma_instructions()
    info = roofline.cpu_info()
    if info["isa"] in ("AVX2", "AVX-512") and info["fma"]:
        # every one of the CH x K chain steps a packed FMA in the vector loop
        assert counts["ymm"] + counts["zmm"] >= roofline.FMA_CHAINS * roofline.FMA_STEPS, counts
