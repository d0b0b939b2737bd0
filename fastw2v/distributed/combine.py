"""What a sync exchanges and how the changes of several replicas are merged.

No Dask here: the driver, the worker tasks and ``bench/simulate.py`` all use
these functions, so the simulation measures the combiner that really runs.

Rows are synced in frequency order (the vocabulary's order). After round n
(counted from 1 over the whole run) the first ``sync_rows(n, V)`` rows are
exchanged: 1024 * 2**tz(n), tz the number of trailing zero bits of n (the
schedule of Intel's pWord2Vec), so the hottest rows go every round and a row
of rank r about every r / 1024 rounds; at each epoch end all V rows go
(:func:`round_rows`: with late merges, rows the epoch end will sync soon wait for it).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rows import whole_rows

HOT_ROWS = 1024


def trailing_zeros(n: int) -> int:
    """Trailing zero bits of n >= 1."""
    if n < 1:
        raise ValueError("round numbers start at 1")
    return (n & -n).bit_length() - 1


def sync_rows(n: int, n_rows: int, hot: int = HOT_ROWS) -> int:
    """Rows synced after round n (1-based): min(hot * 2**tz(n), n_rows)."""
    return min(hot << trailing_zeros(n), n_rows)


def round_rows(n: int, rnd: int, rounds_per_epoch: int, n_rows: int, hot: int = HOT_ROWS,
               defer: bool = True) -> int:
    """Rows synced after round n of the run, round ``rnd`` (0-based) of its epoch: all at the epoch's last
    round, else :func:`sync_rows`, with ``defer`` less the rows the epoch end will sync soon.

    Rows past ``hot * 2**(t - 1)`` are synced every 2**t rounds; when the epoch end (every row) comes in
    fewer than half that many rounds, they wait for it: with 34 rounds an epoch, round 32 syncs 4,096
    rows instead of 32,768, two rounds before all of them go. A row is then synced at most half a period
    late, never skipped. The driver defers with 32 rounds an epoch or more (late merges): on the text8
    sample (32 rounds) WordSim-353 and analogy moved by 0.001 or less (sg and cbow ns, seeds 1-3); with 5
    rounds an epoch (200k words) the frequent words' neighbours agreed with local training's slightly
    less often in three seeds out of three (1.9-2.15 of 10 against 2.0-2.2).
    """
    left = rounds_per_epoch - 1 - rnd  # rounds until the epoch end's sync
    if left <= 0:
        return n_rows
    k = sync_rows(n, n_rows, hot)
    return min(k, hot << left.bit_length()) if defer else k


def combine(base: np.ndarray, deltas, touched) -> np.ndarray:
    """new = base + sum(delta) / (number of replicas that touched the row); untouched rows keep base.

    base: float32 (K, ...) the rows as they were after the last sync.
    deltas: W float32 arrays shaped like base, each replica's change since then.
    touched: W bool/uint8 arrays (K,), whether the replica changed the row.
    Returns a new float32 array shaped like base.

    Summing the changes of W replicas that each saw a different part of the
    data would move a row W times too far; averaging over all W would shrink
    the change of a row only one replica saw. Dividing by the number of
    replicas that touched the row gives one full step for a row one replica
    saw and the mean step for a row several saw.
    """
    total = np.zeros(base.shape, dtype=np.float32)
    n = np.zeros(base.shape[0], dtype=np.float32)
    for d, t in zip(deltas, touched):
        total += d
        n += np.asarray(t, dtype=np.float32)
    scale = 1.0 / np.maximum(n, 1.0)
    return (base + total * scale.reshape((-1,) + (1,) * (base.ndim - 1))).astype(np.float32)


def sum_changes(base: np.ndarray, deltas, touched=None) -> np.ndarray:
    """new = base + sum(delta): every replica's change in full (not the default; see bench/SIMULATION.md).

    To first order this is what one process would do with the same tokens in
    sequence; the changes were all computed from the same stale base, so a
    row every replica pushes the same way can overshoot when rounds are long.
    """
    return _merged(base, deltas, 0.0, 0.0)


#: the agreement limit of the default merge: |merged step| <= AGREE * sum |d_i|^2 / |sum d_i| (see capped_sum);
#: 2 is the smallest that never binds with two replicas (|d1 + d2|^2 <= 2 (|d1|^2 + |d2|^2)), and the best
#: measured at W = 16 (bench/SIMULATION.md: 1.5, 2.5 and 3 learn less)
AGREE = 2.0
#: the earlier default's limit, |merged step| <= CAP * max_i |d_i| (bench/SIMULATION.md compares them);
#: it also shortens the sum of independent changes once more than about CAP**2 replicas meet in a row
CAP = 2.0


def widen(a: np.ndarray) -> np.ndarray:
    """float32 values of a delta: bfloat16 bits (uint16, a 16-bit sync's deltas) widened, float32 as they are."""
    a = np.asarray(a)
    if a.dtype == np.uint16:
        return (a.astype(np.uint32) << 16).view(np.float32)
    return a


def _rows2d(a: np.ndarray) -> np.ndarray:
    """a (K, ...) as a C-contiguous float32 (K, D) view (or copy): the merge kernel's shape (bfloat16 deltas,
    uint16, stay as they are: the kernels read them)."""
    a = np.ascontiguousarray(a, dtype=np.uint16 if np.asarray(a).dtype == np.uint16 else np.float32)
    return a.reshape(a.shape[0], int(np.prod(a.shape[1:], dtype=np.int64)))


def _padded_rows(a: np.ndarray) -> bool:
    """A float32 (K, D) view of a row-padded store (:mod:`fastw2v.rows`: a replica's rows): contiguous
    rows further apart than D floats."""
    return a.dtype == np.float32 and a.ndim == 2 and a.strides[1] == 4 and a.strides[0] > 4 * a.shape[1]


def _in_place(a: np.ndarray, shape) -> np.ndarray:
    """``a`` as the merge kernels read and write it: C-contiguous (K, D), or a padded store's rows widened
    to the whole store row (C-contiguous again: the kernels, which loop over the D columns of ``base``,
    never touch the pad columns, and are compiled once for both)."""
    return a.reshape(shape) if a.flags.c_contiguous else whole_rows(a)


def _kernel_inputs(name: str, base: np.ndarray, deltas, *outs):
    """((K, D), deltas as (K, D) float32 or bfloat16 bits): the merge kernels' shape; the arrays they write
    must be written through (C-contiguous float32, or a padded store's rows), or the merge would land in
    a copy."""
    if base.dtype != np.float32 or not base.flags.c_contiguous:
        raise ValueError(f"{name} needs a C-contiguous float32 base")
    for a in outs:
        if a.dtype != np.float32 or not (a.flags.c_contiguous or _padded_rows(a)):
            raise ValueError(f"{name} needs C-contiguous float32 (or padded rows) outputs")
    shape = (base.shape[0], int(np.prod(base.shape[1:], dtype=np.int64)))
    return shape, tuple(_rows2d(d).reshape(shape) for d in deltas) if shape[0] else ()


def merge_into(base: np.ndarray, deltas, cap: float, agree: float, out_a: np.ndarray, out_b: np.ndarray) -> None:
    """out_a = out_b = base + t * sum(delta) in one pass, t per row as in :func:`capped_sum` (limits <= 0 are off).

    base, out_a, out_b: float32 (K, ...) C-contiguous, out_a and out_b may be base
    itself (a worker writes the merged rows straight into its replica and its base).
    deltas: shaped like base, all float32 or all bfloat16 bits (uint16).
    cap, agree: the two limits of :func:`capped_sum` (``CAPS`` holds them by merge name).
    """
    from ..kernels.merge import capped_merge_into

    shape, ds = _kernel_inputs("merge_into", base, deltas, out_a, out_b)
    if shape[0] == 0:
        return
    capped_merge_into(base.reshape(shape), ds, float(cap), float(agree), _in_place(out_a, shape),
                      _in_place(out_b, shape))


def merge_late(base: np.ndarray, deltas, own: np.ndarray, cap: float, agree: float, replica: np.ndarray) -> None:
    """Apply a merge one round late, in one pass: base += s and replica += s - own, s = t * sum(delta).

    The worker sent ``own`` (its entry of ``deltas``) a round ago and trained on since, so its replica
    holds own plus a round of changes not yet sent; the merge must add only what the others brought.
    base, replica: float32 (K, ...) C-contiguous, updated in place; own, deltas: shaped like base, all
    float32 or all bfloat16 bits (uint16, a late round's deltas: read as the float32 values they stand for).
    """
    from ..kernels.merge import capped_merge_late

    shape, ds = _kernel_inputs("merge_late", base, deltas, replica)
    if shape[0] == 0:
        return
    capped_merge_late(base.reshape(shape), ds, _rows2d(own).reshape(shape), float(cap), float(agree),
                      _in_place(replica, shape))


def delta_since(cur: np.ndarray, base: np.ndarray, prev: np.ndarray, lo: int, hi: int, out=None,
                half: bool = False) -> np.ndarray:
    """cur - base, less prev on rows [lo, hi), in ``out`` if given, else a new array (one pass).

    cur, base: float32 (K, ...) (views of a replica, whose rows may be padded, and its base);
    prev: (hi - lo, ...), the delta already sent for those rows whose merge is not applied yet
    (float32 or bfloat16 bits, uint16).
    half: a new array of bfloat16 bits (uint16, rounded to nearest) instead of float32.
    """
    from ..kernels.merge import delta_since as kernel

    shape = (cur.shape[0], int(np.prod(cur.shape[1:], dtype=np.int64)))
    if out is None:
        out = np.empty(cur.shape, dtype=np.uint16 if half else np.float32)
    if shape[0] == 0 or shape[1] == 0:
        return out
    p = _rows2d(prev).reshape(max(hi - lo, 0), shape[1]) if hi > lo else np.zeros((0, shape[1]), out.dtype)
    cur = _in_place(cur, shape) if _padded_rows(cur) else _rows2d(cur).reshape(shape)
    kernel(cur, _rows2d(base).reshape(shape), p, int(lo), int(hi), out.reshape(shape))
    return out


def increment(merge: str, deltas, touched) -> np.ndarray:
    """The step a merge adds to the base rows, t * sum(delta) (or the "mean" step): float32 like deltas[0].

    Every merge is base + a step that depends on the deltas alone, so one worker can compute the step
    and every replica add it to its own base, now or a round later.
    """
    deltas = [widen(d) for d in deltas]
    zero = np.zeros_like(np.asarray(deltas[0], dtype=np.float32))
    return MERGES[merge](zero, deltas, touched)


def overlap(a: slice, b: slice):
    """(lo, hi) of the rows two slices of one matrix share (hi <= lo: none)."""
    return max(a.start, b.start), min(a.stop, b.stop)


def _merged(base: np.ndarray, deltas, cap: float, agree: float) -> np.ndarray:
    b = _rows2d(base)
    new = np.empty_like(b)
    merge_into(b, deltas, cap, agree, new, new)
    return new.reshape(base.shape)


def capped_sum(base: np.ndarray, deltas, touched=None, cap: float = 0.0, agree: float = AGREE) -> np.ndarray:
    """new = base + t * sum(delta), per row t = min(1, agree * sum_i |delta_i|^2 / |sum(delta)|^2).

    Every change in full, as ``sum_changes``, unless the changes agree: with
    R = |sum(delta)|^2 / sum |delta_i|^2 (about 1 when the replicas' changes are
    independent, as for a row each replica saw a few times in different
    contexts: they add like a random walk; n when n replicas pushed it the same
    way) the merged step is 1 / R of the sum once R > agree, i.e. for n equal
    agreeing changes ``agree`` single steps instead of n. Why: a row every
    replica updates many times in a round has nearly reached the same target in
    each of them, so their changes agree and the plain sum overshoots by a factor
    W (it diverges from W = 8 in bench/SIMULATION.md); the earlier rule
    (``cap``: at most cap times the longest single change) held those rows too,
    but also shortened the random-walk sums of rows more than cap**2 replicas
    touched, which then learned less (W = 16, three seeds: WordSim-353
    0.86-0.89x of W = 1 with cap 2, 0.93-0.98x with agree 2; analogy 0.56-0.69x
    and 0.69-0.90x). R <= 2 for two changes, so with two replicas and
    agree >= 2 this is ``sum_changes``.

    base: float32 (K, ...); deltas: W float32 arrays shaped like base;
    touched: unused (an untouched row has a zero change); cap > 0 also applies
    the earlier limit |step| <= cap * max_i |delta_i|; agree <= 0 turns the
    agreement limit off (``capped_sum(b, d, cap=2, agree=0)`` is the earlier
    default). Returns float32 like base. One pass over the rows in
    ``kernels.merge`` (norms in float64, sums in float32 in the order given).
    """
    return _merged(base, deltas, cap, agree)


#: merge name -> function(base, deltas, touched); "capped" is the default (bench/SIMULATION.md:
#: "sum" collapses from 8 replicas, "mean" learns 1/W as much)
MERGES = {"capped": capped_sum, "sum": sum_changes, "mean": combine}
DEFAULT_MERGE = "capped"
#: the merges that are base + t * sum(delta), by their limits (cap, agree) (0: off): a worker can write
#: them straight into its rows
CAPS = {"capped": (0.0, AGREE), "sum": (0.0, 0.0)}


def needs_flags(merge: str) -> bool:
    """Whether the merge reads the touched flags (only "mean" does): the others' syncs send none."""
    return merge == "mean"


def touched_of(delta: np.ndarray) -> np.ndarray:
    """uint8 (K,): whether each row of a delta (K, ...) changed at all (the "mean" merge's flags)."""
    flat = delta.reshape(delta.shape[0], -1) if delta.ndim > 1 else delta.reshape(-1, 1)
    return np.any(flat != 0, axis=1).astype(np.uint8)


def delta_of(current: np.ndarray, base: np.ndarray):
    """(delta float32, touched uint8 (K,)) of current rows against base rows; touched = any value changed."""
    delta = np.subtract(current, base, dtype=np.float32)
    return delta, touched_of(delta)


@dataclass(frozen=True)
class Layout:
    """Which rows of (syn0, syn1, bias) the first k rows of the sync order are.

    syn0: word rows, frequency order, so rows [0, k).
    syn1: word rows [0, k) too, except for hs, whose V - 1 output rows are the
    Huffman tree's inner nodes with the root last (row V - 2): there the hot
    rows are the nodes next to the root, rows [V - 1 - k, V - 1).
    bias: rows [0, k) for nce and softmax, which learn biases; ns and hs have none.
    """

    n_words: int
    dim: int
    loss: str

    @property
    def n_rows(self) -> int:
        """Length of the sync order (rows that can ever change)."""
        return self.n_words if self.loss != "hs" else max(self.n_words, 1)

    def syn0_slice(self, k: int) -> slice:
        return slice(0, min(k, self.n_words))

    def syn1_slice(self, k: int) -> slice:
        if self.loss == "hs":
            inner = max(self.n_words - 1, 0)
            k = min(k, inner)
            return slice(inner - k, inner)
        return slice(0, min(k, self.n_words))

    @property
    def has_bias(self) -> bool:
        return self.loss in ("nce", "softmax")

    def bias_slice(self, k: int) -> slice:
        return slice(0, min(k, self.n_words) if self.has_bias else 0)

    def payload_bytes(self, k: int, itemsize: int = 4) -> int:
        """Bytes of the rows of one replica's share of a k-row sync (deltas or new rows; itemsize 4: float32,
        2: bfloat16)."""
        s0, s1, sb = self.syn0_slice(k), self.syn1_slice(k), self.bias_slice(k)
        rows = (s0.stop - s0.start) + (s1.stop - s1.start)
        return itemsize * (rows * self.dim + (sb.stop - sb.start))

    def flag_bytes(self, k: int) -> int:
        """Bytes of the touched flags (one uint8 per synced row of each matrix)."""
        s0, s1, sb = self.syn0_slice(k), self.syn1_slice(k), self.bias_slice(k)
        return (s0.stop - s0.start) + (s1.stop - s1.start) + (sb.stop - sb.start)

    def sync_bytes(self, k: int, n_workers: int, flags: bool = True, parted: bool = False, half: bool = False,
                   peer: bool | None = None) -> int:
        """Bytes that cross the network in one k-row sync of n_workers replicas.

        The combine runs on one of the workers: the other W - 1 send it their
        deltas (and touched flags when the merge reads them, ``flags``), and it sends each of them the
        new rows back: (W - 1) * (2 * 4 * (k0 + k1) * dim + 2 * 4 * kb [+ k0 + k1 + kb]) bytes, with
        k0, k1, kb the synced rows of syn0, syn1 and bias (k each, capped by the matrix). With two
        workers each merges the other's deltas itself: the same 2 * payload.
        parted (the run's last sync): worker j merges part j of the rows and gets part j of every
        other worker's deltas, nothing comes back: (W - 1) * (4 * (k0 + k1) * dim + 4 * kb [+ k0 + k1 + kb]).
        half: the deltas travel as bfloat16 (2 bytes a value); the rows a combine sends back stay float32.
        peer: every worker merges the others' deltas itself (the driver does with 2 workers, the default
        here for n_workers <= 2): deltas and flags then go both ways, nothing comes back.
        """
        if n_workers <= 1:
            return 0
        peer = n_workers <= 2 if peer is None else peer
        flag = self.flag_bytes(k) if flags else 0
        if parted:
            return (n_workers - 1) * (self.payload_bytes(k) + flag)
        sent = self.payload_bytes(k, 2 if half else 4)
        if peer:  # W (W - 1) deltas with their flags
            return n_workers * (n_workers - 1) * (sent + flag)
        return (n_workers - 1) * (sent + flag + self.payload_bytes(k))


def take(syn0, syn1, bias, layout: Layout, k: int):
    """The synced rows (views) of the three arrays: (syn0 rows, syn1 rows, bias rows)."""
    return syn0[layout.syn0_slice(k)], syn1[layout.syn1_slice(k)], bias[layout.bias_slice(k)]


def put(syn0, syn1, bias, layout: Layout, k: int, rows) -> None:
    """Write rows = (syn0 rows, syn1 rows, bias rows) back into the synced slices, in place."""
    syn0[layout.syn0_slice(k)] = rows[0]
    syn1[layout.syn1_slice(k)] = rows[1]
    bias[layout.bias_slice(k)] = rows[2]
