"""Data-parallel training on Dask: the combiner, the sync schedule, the reader, and small clusters.

The cluster tests start a LocalCluster of at most two worker processes on tiny
corpora; the text8 quality comparisons and the kill-a-worker run are slow.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from fastw2v.distributed import combine

from .conftest import DEMO, ROOT


# ------------------------------------------------------------------ combiner
def test_combine_row_touched_by_one_worker_gets_its_full_change():
    base = np.zeros((3, 2), np.float32)
    d1 = np.array([[1.0, 2.0], [0, 0], [0, 0]], np.float32)
    d2 = np.zeros((3, 2), np.float32)
    new = combine.combine(base, [d1, d2], [np.array([1, 0, 0]), np.array([0, 0, 0])])
    np.testing.assert_array_equal(new[0], [1.0, 2.0])


def test_combine_row_touched_by_two_workers_gets_the_mean_change():
    base = np.full((2, 2), 10.0, np.float32)
    d1 = np.array([[1.0, -2.0], [0, 0]], np.float32)
    d2 = np.array([[3.0, 4.0], [0, 0]], np.float32)
    new = combine.combine(base, [d1, d2], [np.array([1, 0]), np.array([1, 0])])
    np.testing.assert_allclose(new[0], [12.0, 11.0])


def test_combine_untouched_rows_stay_and_one_dimensional_rows_work():
    base = np.array([[5.0, 6.0], [7.0, 8.0]], np.float32)
    zero = np.zeros_like(base)
    new = combine.combine(base, [zero, zero, zero], [np.zeros(2, np.uint8)] * 3)
    np.testing.assert_array_equal(new, base)
    b = np.array([1.0, 2.0, 3.0], np.float32)
    nb = combine.combine(b, [np.array([1.0, 0, 3.0], np.float32), np.array([3.0, 0, 0], np.float32)],
                         [np.array([1, 0, 1]), np.array([1, 0, 0])])
    np.testing.assert_allclose(nb, [3.0, 2.0, 6.0])


def test_sum_and_average_controls_differ_from_the_combiner():
    """The point of the divisor: summing doubles a shared step, averaging halves a lone one."""
    base = np.zeros((2, 1), np.float32)
    d1 = np.array([[1.0], [1.0]], np.float32)
    d2 = np.array([[1.0], [0.0]], np.float32)
    t1, t2 = np.array([1, 1]), np.array([1, 0])
    new = combine.combine(base, [d1, d2], [t1, t2])
    np.testing.assert_allclose(new[:, 0], [1.0, 1.0])  # sum would give [2, 1], the mean over W [1, 0.5]


def test_delta_and_touched_flags():
    base = np.zeros((3, 2), np.float32)
    cur = base.copy()
    cur[1, 0] = 0.5
    d, t = combine.delta_of(cur, base)
    assert t.tolist() == [0, 1, 0] and d.dtype == np.float32 and d[1, 0] == 0.5


def test_sync_schedule_is_pword2vec_doubling():
    assert [combine.trailing_zeros(n) for n in (1, 2, 3, 4, 8, 12)] == [0, 1, 0, 2, 3, 2]
    assert [combine.sync_rows(n, 10**6) for n in (1, 2, 3, 4, 8)] == [1024, 2048, 1024, 4096, 8192]
    assert combine.sync_rows(1 << 20, 5000) == 5000
    with pytest.raises(ValueError):
        combine.trailing_zeros(0)


def test_layout_hs_syncs_inner_nodes_next_to_the_root():
    lay = combine.Layout(n_words=10, dim=4, loss="hs")
    assert lay.syn1_slice(3) == slice(6, 9)  # root is row V - 2 = 8
    assert lay.syn0_slice(3) == slice(0, 3)
    assert lay.bias_slice(3) == slice(0, 0)
    assert combine.Layout(10, 4, "nce").bias_slice(3) == slice(0, 3)


def test_sync_bytes_formula():
    lay = combine.Layout(n_words=5000, dim=100, loss="ns")
    k = 1024
    # (W - 1) workers send deltas + flags of k rows of syn0 and syn1 and get the new rows back
    assert lay.sync_bytes(k, 2) == 2 * 4 * 2 * k * 100 + 2 * k
    assert lay.sync_bytes(k, 4) == 3 * lay.sync_bytes(k, 2)
    assert lay.sync_bytes(k, 1) == 0
    nce = combine.Layout(n_words=5000, dim=100, loss="nce")
    assert nce.sync_bytes(k, 2) == 2 * 4 * (2 * k * 100 + k) + 3 * k
