"""Huffman tree for hierarchical softmax, built as word2vec C's CreateBinaryTree."""
import numpy as np
from numba import njit


def build_huffman(counts: np.ndarray):
    """Paths from the root for every word.

    counts: int64 (V,), usually in descending order (the vocabulary's order);
    other orders (words appended by a vocabulary update) are sorted here first.
    Returns (points int32 (V, max_depth), codes int8 (V, max_depth), lens int32 (V,)):
    word w's path visits inner nodes points[w, :lens[w]] (0 = root's row is V - 2)
    with code bits codes[w, :lens[w]]. A one-word vocabulary has empty paths.
    """
    counts = np.asarray(counts, dtype=np.int64)
    v = counts.shape[0]
    if v < 2:
        return np.zeros((v, 1), np.int32), np.zeros((v, 1), np.int8), np.zeros(v, np.int32)
    order = None
    if np.any(counts[1:] > counts[:-1]):
        # the two-queue build needs leaves in descending count order; inner nodes do not depend on it
        order = np.argsort(-counts, kind="stable")
        counts = counts[order]
    parent, binary = _tree(counts)
    lens = _depths(parent, v)
    depth = int(lens.max())
    points = np.zeros((v, depth), np.int32)
    codes = np.zeros((v, depth), np.int8)
    _paths(parent, binary, v, lens, points, codes)
    if order is not None:
        inverse = np.empty_like(order)
        inverse[order] = np.arange(v)
        points, codes, lens = points[inverse], codes[inverse], lens[inverse]
    return points, codes, lens


@njit(cache=True)
def _tree(counts):
    v = counts.shape[0]
    count = np.empty(2 * v - 1, np.int64)
    count[:v] = counts
    count[v:] = np.iinfo(np.int64).max // 4
    parent = np.zeros(2 * v - 1, np.int64)
    binary = np.zeros(2 * v - 1, np.int8)
    pos1 = v - 1
    pos2 = v
    for a in range(v - 1):
        mins = np.empty(2, np.int64)
        for m in range(2):
            if pos1 >= 0 and count[pos1] < count[pos2]:
                mins[m] = pos1
                pos1 -= 1
            else:
                mins[m] = pos2
                pos2 += 1
        count[v + a] = count[mins[0]] + count[mins[1]]
        parent[mins[0]] = v + a
        parent[mins[1]] = v + a
        binary[mins[1]] = 1
    return parent, binary


@njit(cache=True)
def _depths(parent, v):
    lens = np.zeros(v, np.int32)
    root = 2 * v - 2
    for a in range(v):
        b = a
        n = 0
        while b != root:
            n += 1
            b = parent[b]
        lens[a] = n
    return lens


@njit(cache=True)
def _paths(parent, binary, v, lens, points, codes):
    root = 2 * v - 2
    for a in range(v):
        n = lens[a]
        b = a
        i = n - 1
        while b != root:  # walk up, filling the path from its end
            codes[a, i] = binary[b]
            p = parent[b]
            points[a, i] = p - v
            b = p
            i -= 1
