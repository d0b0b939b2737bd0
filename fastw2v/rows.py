"""Row layout of the weight matrices the kernels train: rows padded to whole 64-byte lines.

A (V, d) float32 matrix stored C-contiguously puts its rows at multiples of 4 d bytes, and numpy's
large arrays start 16 bytes past a page: at d 300 (1,200 bytes) three rows in four start inside a
cache line, so every vector load and store of the kernels' tile loops straddles two lines. Stored
as (V, dp) with dp = d rounded up to 16 floats and the first row on a 64-byte boundary, every row
starts on a line: a 1-thread sg-hs run at d 300 trains about 1.15x faster (bench/MATRIX.md and
bench/ROOFLINE.md, 2026-12-07).

The model keeps ``store[:, :d]`` views (what users see: ``wv.vectors``, ``syn1``), and
:func:`kernel_view` hands the kernels the whole (V, dp) store, C-contiguous as they are compiled for.
Their loops still run to d (``Tables.dim``, :func:`fastw2v.kernels.common.row_dim`), so padded and
unpadded weights train to bit-identical vectors, and the pad columns stay as they are: zero.
"""
import numpy as np

from .kernels.driver import aligned_zeros

#: rows start on 64-byte boundaries: 16 float32
LINE_FLOATS = 16


def padded_width(d: int) -> int:
    """d rounded up to a whole number of 64-byte lines of float32."""
    return -(-int(d) // LINE_FLOATS) * LINE_FLOATS


def padded_zeros(n_rows: int, d: int) -> np.ndarray:
    """float32 (n_rows, d) zeros: the ``[:, :d]`` view of a 64-byte aligned (n_rows, padded_width(d)) store."""
    return aligned_zeros((n_rows, padded_width(d)), np.float32, 4 * LINE_FLOATS)[:, :d]


def whole_rows(a: np.ndarray) -> np.ndarray:
    """A float32 (n, d) view whose rows are contiguous and ``a.strides[0]`` bytes apart, widened to
    (n, a.strides[0] // 4): C-contiguous, the whole rows of the store it is a view of. Nothing is
    copied or checked (:func:`kernel_view` checks)."""
    return np.lib.stride_tricks.as_strided(a, shape=(a.shape[0], a.strides[0] // 4), strides=(a.strides[0], 4))


def padded_copy(a: np.ndarray) -> np.ndarray:
    """``a`` (float32 (n, d)) copied into a :func:`padded_zeros` store."""
    out = padded_zeros(a.shape[0], a.shape[1])
    out[:] = a
    return out


def _store(a: np.ndarray):
    """The C-contiguous (n, padded_width(d)) float32 array whose first d columns are ``a`` and whose
    other columns are zero, or None when ``a`` is not such a view. Reads every row's pad columns."""
    if a.ndim != 2 or a.dtype != np.float32 or a.shape[0] == 0:
        return None
    d, dp = a.shape[1], padded_width(a.shape[1])
    if a.strides != (4 * dp, 4) or a.ctypes.data % 64:
        return None
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    lo = root.ctypes.data
    hi = lo + root.nbytes
    start = a.ctypes.data
    if not (lo <= start and start + 4 * dp * a.shape[0] <= hi):
        return None
    store = whole_rows(a)
    # the pad columns must be zero: they are in every sum the kernels make over a row (a view such as
    # a (V, 112) matrix's [:, :100] has the same layout and other data there)
    return store if not store[:, d:].any() else None


def is_padded(a: np.ndarray) -> bool:
    """True when ``a`` is the (n, d) view of a padded store (:func:`padded_zeros`), or needs none (d a
    multiple of 16 and every row on a 64-byte line)."""
    return _store(a) is not None


def kernel_view(syn0: np.ndarray, syn1: np.ndarray):
    """(syn0, syn1) as the kernels take them: C-contiguous (V, dp) when both are padded views (the
    pad columns included), else the arrays as they are (then C-contiguous (V, d), trained as before).
    Reads every row's pad columns: call it once per pair of arrays, not once per kernel call."""
    s0, s1 = _store(syn0), _store(syn1)
    if s0 is None or s1 is None:
        return syn0, syn1
    return s0, s1
