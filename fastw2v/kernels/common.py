"""Data layout and small numeric helpers shared by the loss kernels."""
from collections import namedtuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

from ..sampler import alias_draw

#: LLVM fast-math flags of every kernel: everything but 'nnan' and 'ninf', so that a
#: NaN is still compared honestly (the sigmoid table's range checks must see it) while
#: the dot products may still be reassociated and vectorised.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


def _noalias_option() -> dict:
    """``{"noalias": True}`` where this Numba can mark a function's array arguments noalias, else {}.

    The hot loops store into one array (the gradients GH, an output row) while loading
    from others. Arguments that may alias make LLVM guard every vectorised loop with
    runtime overlap checks between all of its pointers (tens of instructions per loop
    entry, on loops of 12-40 iterations) and a scalar fallback. Numba has the compiler
    flag (its parallel gufuncs use it) but no decorator option for it; this maps one.
    Only for functions whose array arguments never overlap in memory where one is
    written: the sentence loops (weights, scratch, stats and random state are separate
    arrays). Any surprise from Numba's internals leaves the option out (slower, same results).
    """
    try:
        from numba.core.compiler import Flags
        from numba.core.cpu import CPUTargetOptions
        from numba.core.options import TargetOptions

        if not hasattr(Flags, "noalias"):
            return {}
        if not isinstance(getattr(CPUTargetOptions, "noalias", None), TargetOptions.Mapping):
            CPUTargetOptions.noalias = TargetOptions.Mapping("noalias")
        return {"noalias": True}
    except Exception:  # noqa: BLE001 - internals moved: compile without it
        return {}


#: jit options of the sentence loops: array arguments that never overlap (see _noalias_option)
NOALIAS = _noalias_option()

#: The kernels' lookup tables, read by name.
#: noise_prob float64 (V,) / noise_alias int32 (V,): Vose alias table of the noise distribution Q;
#: noise_logq float32 (V,): log(k Q(w)); hs_points int32 (V, depth), hs_codes int8 (V, depth),
#: hs_lens int32 (V,): Huffman paths (1-element dummies unless the loss is hs);
#: dim int: the weights' d, where their rows are stored padded past it (:mod:`fastw2v.rows`; 0: the arrays'
#: own row width). Every loop over a row runs to :func:`row_dim`.
Tables = namedtuple("Tables", "noise_prob noise_alias noise_logq hs_points hs_codes hs_lens dim", defaults=(0,))


@njit(inline="always")
def row_dim(tables, width):
    """The length of the loops over a row: ``tables.dim``, the weights' d, never past ``width`` (the row
    width of the arrays at hand, which their stores may pad past d: the loops then sum exactly what they
    sum over unpadded rows, in the same order); ``width`` when tables.dim is 0."""
    return min(tables.dim, width) if tables.dim > 0 else width


@njit(inline="always")
def dot_rows(A, i, B, k, d):
    """A[i] . B[k] with 2-D indexing (row views cost more inside the hot loops)."""
    s = np.float32(0.0)
    for j in range(d):
        s += A[i, j] * B[k, j]
    return s


# Interpolated tables for sigmoid and softplus on [-TABLE_MAX, TABLE_MAX], step 1/256.
# Linear interpolation errs by at most h^2/8 * max|f''|: 2e-7 for sigmoid, 5e-7 for
# softplus; beyond the range sigmoid is 0 or 1 within 1.2e-7. A table read costs a
# few cycles where math.exp and math.log1p cost tens, on the kernels' hottest line.
TABLE_MAX = 16.0
_STEPS = 256
_GRID = np.linspace(-TABLE_MAX, TABLE_MAX, int(2 * TABLE_MAX * _STEPS) + 1)
SIGMOID_TABLE = (1.0 / (1.0 + np.exp(-_GRID))).astype(np.float32)
SOFTPLUS_TABLE = np.logaddexp(0.0, _GRID).astype(np.float32)
_LAST = SIGMOID_TABLE.shape[0] - 1


@njit(inline="always")
def sigmoid_and_softplus(x):
    """(sigmoid(x), softplus(-x), softplus(x)), interpolated from tables.

    softplus(-x) = -log(sigmoid(x)) is the loss of label 1, softplus(x) that of label 0.
    A NaN (diverged weights) takes no table index: it returns (0, NaN, NaN), so the
    loss turns NaN and the trainer stops with its divergence error.
    """
    if x > -TABLE_MAX and x < TABLE_MAX:
        pos = (x + TABLE_MAX) * _STEPS
        i = min(max(int(pos), 0), _LAST - 1)  # the clamp guards the reads against rounding
        frac = np.float32(pos - i)
        j = _LAST - i  # softplus(-x) sits mirrored in the same grid
        f = SIGMOID_TABLE[i] + frac * (SIGMOID_TABLE[i + 1] - SIGMOID_TABLE[i])
        sp_pos = SOFTPLUS_TABLE[i] + frac * (SOFTPLUS_TABLE[i + 1] - SOFTPLUS_TABLE[i])
        sp_neg = SOFTPLUS_TABLE[j] + frac * (SOFTPLUS_TABLE[j - 1] - SOFTPLUS_TABLE[j])
        return f, sp_neg, sp_pos
    if x >= TABLE_MAX:
        return np.float32(1.0), np.float32(0.0), np.float32(x)
    if x <= -TABLE_MAX:
        return np.float32(0.0), np.float32(-x), np.float32(0.0)
    return np.float32(0.0), np.float32(x), np.float32(x)  # NaN


# Bit casts between float32 and integers (the fast sigmoid's 2^k; the sync's bfloat16 deltas).
@intrinsic
def f32_bits(typingctx, x):
    """The bits of a float32 as a uint32 (no conversion)."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.uint32))
    return types.uint32(types.float32), codegen


@intrinsic
def bits_f32(typingctx, x):
    """The float32 whose bits are the low 32 bits of the integer x (Numba widens integer arithmetic)."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        low = builder.trunc(args[0], context.get_value_type(types.uint32)) if x.bitwidth > 32 else args[0]
        return builder.bitcast(low, context.get_value_type(types.float32))
    return types.float32(x), codegen


#: the vector width vector_width(0) asks for
NARROW_BITS = 256


@intrinsic
def vector_width(typingctx, bits):
    """Mark the function this is called in (after Numba's inlining: the compiled function it ends up in) to
    vectorise with ``bits``-wide registers; ``bits`` a compile-time literal, 0 for NARROW_BITS.

    LLVM's default depends on the CPU: 256-bit vectors on Intel even where AVX-512 is there (512-bit code once
    cost clock speed), 512-bit on AMD's Zen 4. Here it depends on the kernel too: skip-gram hs ran 1.13-1.18x
    faster (medians, one thread) with 512-bit loops at d 128 to 300 on Intel, while ns at d 300 and the
    kernels at d 100 ran slower; on Zen 4 the d 100 kernels ran up to 1.07x faster at 256 bits than at its
    default 512 (trainer.vector_width has the figures). So 0 asks for 256 bits on every CPU, not for the
    default. Numba fixes one set of CPU features per process, so the width is a function attribute, set per
    kernel. A CPU without 512-bit (or 256-bit) registers uses its widest.
    """
    if not isinstance(bits, types.IntegerLiteral):
        raise TypingError(f"vector_width needs a compile-time literal, not {bits}")
    n = int(bits.literal_value) or NARROW_BITS

    def codegen(context, builder, signature, args):
        # a string attribute llvmlite's list of known attributes lacks, hence set.add past its check;
        # should llvmlite change that set, the loops keep the compiler's default width (a test says so)
        # rather than fail to compile
        try:
            set.add(builder.function.attributes, f'"prefer-vector-width"="{n}"')
        except (AttributeError, TypeError):
            pass
        return context.get_dummy_value()
    return types.void(bits), codegen


@intrinsic
def fetch_add(typingctx, a, i, v):
    """Atomically add v to a[i] (a: int64 1-D array) and return a[i]'s value before the add.

    The threads of a parallel loop take work from one counter with it: Numba has no atomic operations
    of its own, and its OpenMP and workqueue layers hand a prange's iterations out in fixed contiguous
    shares whatever ``set_parallel_chunksize`` says (only TBB balances them).
    """
    if not (isinstance(a, types.Array) and a.ndim == 1 and a.dtype == types.int64):
        raise TypingError(f"fetch_add needs a 1-D int64 array, not {a}")

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig.args[:2], args[:2])
        val = context.cast(builder, args[2], sig.args[2], types.int64)
        return builder.atomic_rmw("add", ptr, val, "seq_cst")
    return types.int64(a, i, v), codegen


def _borrowed(context, builder, ty, val):
    """val (of Numba type ty) with every array in it, at any depth of tuples, made meminfo-less."""
    if isinstance(ty, types.Array):
        src = context.make_array(ty)(context, builder, value=val)
        out = context.make_array(ty)(context, builder)
        for field in ("nitems", "itemsize", "data", "shape", "strides"):
            setattr(out, field, getattr(src, field))
        out.meminfo = cgutils.get_null_value(out.meminfo.type)
        out.parent = cgutils.get_null_value(out.parent.type)
        return out._getvalue()
    if isinstance(ty, types.BaseTuple):
        for k, item in enumerate(ty):
            val = builder.insert_value(val, _borrowed(context, builder, item, builder.extract_value(val, k)), k)
    return val


@intrinsic
def borrow(typingctx, x):
    """x (an array, or a tuple or namedtuple holding arrays and scalars) as views that carry no reference
    count: the same data, shapes and strides, with a null meminfo, so neither they nor any view or row
    taken of them counts references. The caller must hold x for as long as they are used: the kernels
    borrow their arguments for the length of one call, and nothing borrowed outlives it.

    Why: Numba counts every array it passes to a function that is not inlined, or stores in a tuple, with
    an atomic add on the array's one meminfo, and all threads of a call count the same meminfos. The
    sg-ns sentence loop did a dozen or more such adds per centre word; made non-atomic (an unsafe probe)
    they gave two threads 5-6% more words/s on an Intel host. On a null meminfo Numba's incref and decref
    return at once. (bench/RESULTS.md, 2026-12-07 and 2026-12-08.)
    """
    if not isinstance(x, (types.Array, types.BaseTuple)):
        raise TypingError(f"borrow takes an array or a tuple, not {x}")
    return x(x), lambda context, builder, sig, args: _borrowed(context, builder, sig.args[0], args[0])


def _element_pointer(context, builder, tys, vals):
    """The LLVM pointer to the element vals[1:] (indices of types tys[1:]) of the array vals[0] (type tys[0])."""
    aryty = tys[0]
    ary = context.make_array(aryty)(context, builder, vals[0])
    inds = [context.cast(builder, v, t, types.intp) for v, t in zip(vals[1:], tys[1:])]
    return cgutils.get_item_pointer2(context, builder, data=ary.data, shape=cgutils.unpack_tuple(builder, ary.shape),
                                     strides=cgutils.unpack_tuple(builder, ary.strides), layout=aryty.layout,
                                     inds=inds)


def _prefetch_codegen(context, builder, sig, args):
    """llvm.prefetch of the element args[1:] of the array args[0]: read, keep in all levels, data."""
    ptr = _element_pointer(context, builder, sig.args, args)
    i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                        "llvm.prefetch.p0")
    builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
    return context.get_dummy_value()


@intrinsic
def prefetch(typingctx, arr, i):
    """A hint to bring the cache line of arr[i] (a 1-D array) in before it is read; changes no value, and an
    index out of range faults nowhere (the instruction never faults)."""
    if not (isinstance(arr, types.Array) and arr.ndim == 1 and isinstance(i, types.Integer)):
        return None
    return types.void(arr, i), _prefetch_codegen


@intrinsic
def prefetch2(typingctx, arr, i, j):
    """:func:`prefetch` of arr[i, j] (a 2-D array)."""
    if not (isinstance(arr, types.Array) and arr.ndim == 2 and isinstance(i, types.Integer)
            and isinstance(j, types.Integer)):
        return None
    return types.void(arr, i, j), _prefetch_codegen


# sigmoid(x) = 1 / (1 + exp(-x)) in float32 arithmetic only, no table and no branch, so a
# loop of them vectorises (8 lanes): exp(-x) = 2^k e^r with k = round(-x / ln 2) and
# |r| <= ln 2 / 2, e^r by its Taylor series to r^6 (truncation 1.2e-8), 2^k put straight
# into a float's exponent bits. Within 1.2e-7 of sigmoid on every float32 (as the table);
# x is clamped to [-16, 16] first (beyond, sigmoid is 0 or 1 within 1.2e-7), and a NaN
# comes out as sigmoid(-16), as the table's 0, so the gradient stays finite and the loss
# (from the table) reports the divergence.
_LOG2E = np.float32(1.4426950408889634)
_LN2 = np.float32(0.6931471805599453)


@njit(inline="always")
def fast_sigmoid(x):
    """sigmoid(x) for a float32 x, vectorisable (see the note above)."""
    x = x if x > np.float32(-TABLE_MAX) else np.float32(-TABLE_MAX)  # a NaN fails the test: -16
    x = x if x < np.float32(TABLE_MAX) else np.float32(TABLE_MAX)
    k = np.floor(-x * _LOG2E + np.float32(0.5))
    r = -x - k * _LN2
    e_r = np.float32(1.0) + r * (np.float32(1.0) + r * (np.float32(1 / 2) + r * (np.float32(1 / 6) + r * (
        np.float32(1 / 24) + r * (np.float32(1 / 120) + r * np.float32(1 / 720))))))
    two_k = bits_f32((np.int32(k) + np.int32(127)) << np.int32(23))
    return np.float32(1.0) / (np.float32(1.0) + e_r * two_k)


@njit(inline="always")
def draw_candidates(target, tables, negative, state, cand):
    """cand[0] = target, cand[1:1+k] = k draws from the noise table; returns 1 + k."""
    cand[0] = target
    for s in range(negative):
        cand[1 + s] = alias_draw(tables.noise_prob, tables.noise_alias, state)
    return 1 + negative


@njit(inline="always")
def corrected_logit(H, r, syn1, bias, logq, w, d):
    """h.u_w + b_w - log(k Q(w)): the logit NCE and sampled softmax score."""
    return dot_rows(H, r, syn1, w, d) + bias[w] - logq[w]


# ---------------------------------------------------------------- register tiles
# The loops below are bound by loads and stores, not by FMAs: a plain dot product
# loads two floats per FMA and keeps one accumulator. Each helper takes a tile of
# input rows x output rows per pass over j, so every loaded vector feeds several
# FMAs into separate accumulators. Plain 2-D indexing (no row views) lets LLVM
# vectorise the j loops (packed FMAs on ymm; see bench/tiles.py).


@njit(inline="always")
def _dots_2x4(H, r, U, w0, w1, w2, w3, d):
    """Eight dot products H[r + a] . U[w_b] for a < 2, b < 4, in one pass over j."""
    s00 = s01 = s02 = s03 = np.float32(0.0)
    s10 = s11 = s12 = s13 = np.float32(0.0)
    for j in range(d):
        h0 = H[r, j]
        h1 = H[r + 1, j]
        u0 = U[w0, j]
        u1 = U[w1, j]
        u2 = U[w2, j]
        u3 = U[w3, j]
        s00 += h0 * u0
        s01 += h0 * u1
        s02 += h0 * u2
        s03 += h0 * u3
        s10 += h1 * u0
        s11 += h1 * u1
        s12 += h1 * u2
        s13 += h1 * u3
    return s00, s01, s02, s03, s10, s11, s12, s13


@njit(inline="always")
def _dots_2x1(H, r, U, w0, d):
    """H[r] . U[w0] and H[r + 1] . U[w0] in one pass over j."""
    s0 = s1 = np.float32(0.0)
    for j in range(d):
        u0 = U[w0, j]
        s0 += H[r, j] * u0
        s1 += H[r + 1, j] * u0
    return s0, s1


@njit(inline="always")
def _dots_1x4(H, r, U, w0, w1, w2, w3, d):
    """H[r] . U[w_b] for b < 4 in one pass over j."""
    s0 = s1 = s2 = s3 = np.float32(0.0)
    for j in range(d):
        h0 = H[r, j]
        s0 += h0 * U[w0, j]
        s1 += h0 * U[w1, j]
        s2 += h0 * U[w2, j]
        s3 += h0 * U[w3, j]
    return s0, s1, s2, s3


@njit(inline="always")
def score_block(H, n_in, U, cand, n_c, S, d):
    """S[r, c] = H[r] . U[cand[c]] for r < n_in, c < n_c: the score block H U^T.

    H: (n_in, d) float32, U: (V, d) float32, cand: int (n_c,), S: (n_in, n_c) float32.
    """
    score_range(H, n_in, U, cand, 0, n_c, S, d)


@njit(inline="always")
def score_range(H, n_in, U, cand, c_lo, c_hi, S, d):
    """S[r, c] = H[r] . U[cand[c]] for r < n_in and c_lo <= c < c_hi (rows of U picked by cand).

    Tiles of 2 input rows x 4 candidates: 6 loads feed 8 FMAs (a dot alone: 2 loads per FMA).
    One block of candidates may take its rows from two matrices, a range from each
    (hierarchical softmax's thread-private root rows, :func:`fastw2v.kernels.hs.step_hot`).
    """
    r = 0
    while r + 1 < n_in:
        c = c_lo
        while c + 3 < c_hi:
            s00, s01, s02, s03, s10, s11, s12, s13 = _dots_2x4(H, r, U, cand[c], cand[c + 1], cand[c + 2],
                                                               cand[c + 3], d)
            S[r, c], S[r, c + 1], S[r, c + 2], S[r, c + 3] = s00, s01, s02, s03
            S[r + 1, c], S[r + 1, c + 1], S[r + 1, c + 2], S[r + 1, c + 3] = s10, s11, s12, s13
            c += 4
        while c < c_hi:
            s0, s1 = _dots_2x1(H, r, U, cand[c], d)
            S[r, c], S[r + 1, c] = s0, s1
            c += 1
        r += 2
    if r < n_in:
        score_row(H, r, U, cand, c_lo, c_hi, S, d)


@njit(inline="always")
def score_row(H, r, U, cand, c_lo, c_hi, S, d):
    """S[r, c] = H[r] . U[cand[c]] for c_lo <= c < c_hi: one input row, tiles of 4 candidates (the last
    row of :func:`score_range`; hs's CBOW step calls it alone, without the 2-row tiles' code)."""
    c = c_lo
    while c + 3 < c_hi:
        s0, s1, s2, s3 = _dots_1x4(H, r, U, cand[c], cand[c + 1], cand[c + 2], cand[c + 3], d)
        S[r, c], S[r, c + 1], S[r, c + 2], S[r, c + 3] = s0, s1, s2, s3
        c += 4
    while c < c_hi:
        S[r, c] = dot_rows(H, r, U, cand[c], d)
        c += 1


@njit(inline="always")
def _logistic_gradient(G, r, c, w, positive, bias, logq, alpha, corrected):
    """Turn the logit G[r, c] = h_r . u_w into its gradient times alpha, label 1 when ``positive``
    else 0 (NCE's correction + b_w - log(kQ(w)) first when ``corrected``); returns its loss term."""
    z = G[r, c]
    if corrected:
        z = z + bias[w] - logq[w]
    f, l_pos, l_neg = sigmoid_and_softplus(z)
    if positive:
        G[r, c] = (1.0 - f) * alpha
        return l_pos
    G[r, c] = -f * alpha
    return l_neg


@njit(inline="always")
def sigmoid_scores(H, n_in, target, syn1, bias, tables, cand, n_c, G, alpha, corrected, want_loss):
    """Logistic scoring of [target, candidates] for every input row; fills G, returns the loss.

    corrected: NCE's logits h.u + b - log(kQ); else negative sampling's h.u.
    Label 1 for the target (column 0), 0 for the rest; accidental hits get no gradient.
    The dot products come first, as one block (score_block, into G), then each is
    turned into its gradient in place.
    """
    d = row_dim(tables, H.shape[1])
    logq = tables.noise_logq
    score_block(H, n_in, syn1, cand, n_c, G, d)
    loss = 0.0
    for r in range(n_in):
        for c in range(n_c):
            w = cand[c]
            if c > 0 and w == target:
                G[r, c] = 0.0
                continue
            lv = _logistic_gradient(G, r, c, w, c == 0, bias, logq, alpha, corrected)
            if want_loss:
                loss += lv
    return loss


@njit(inline="always")
def sigmoid_block(H, n_in, GH, syn1, bias, tables, negative, alpha, state, cand, G, want_loss, corrected):
    """Negative sampling (NCE when ``corrected``) for n_in examples with targets of their own.

    Row r of H (n_in, d) predicts cand[r] (the caller fills cand[:n_in]); the k noise draws,
    cand[n_in:n_in + k], are shared by every row. G[r, r] is row r's target's gradient and
    G[r, n_in:] its draws'; the other targets' columns are not scored (no row is a negative of
    another's target). A draw equal to row r's target gets no gradient from row r. The draws'
    products are one tiled block (every draw's row loaded once for the n_in rows); each target's
    row is used by its own row only. GH[r] is row r's input gradient, from the rows before they move.
    Returns the summed loss (when ``want_loss``).
    """
    d = row_dim(tables, H.shape[1])
    logq = tables.noise_logq
    n_c = n_in + negative
    for s in range(negative):
        cand[n_in + s] = alias_draw(tables.noise_prob, tables.noise_alias, state)
    for r in range(n_in):
        G[r, r] = dot_rows(H, r, syn1, cand[r], d)
    score_range(H, n_in, syn1, cand, n_in, n_c, G, d)
    loss = 0.0
    for r in range(n_in):
        t = cand[r]
        lv = _logistic_gradient(G, r, r, t, True, bias, logq, alpha, corrected)
        if want_loss:
            loss += lv
        for c in range(n_in, n_c):
            w = cand[c]
            if w == t:
                G[r, c] = 0.0
                continue
            lv = _logistic_gradient(G, r, c, w, False, bias, logq, alpha, corrected)
            if want_loss:
                loss += lv
    input_grads(n_in, GH, syn1, cand, n_in, n_c, G, d, True)
    for r in range(n_in):
        g, t = G[r, r], cand[r]
        for j in range(d):
            GH[r, j] += g * syn1[t, j]
    output_updates(H, n_in, syn1, cand, n_in, n_c, G, d)
    for r in range(n_in):
        g, t = G[r, r], cand[r]
        for j in range(d):
            syn1[t, j] += g * H[r, j]
    if corrected:
        for r in range(n_in):
            bias[cand[r]] += G[r, r]
        for c in range(n_in, n_c):
            g = 0.0
            for r in range(n_in):
                g += G[r, c]
            bias[cand[c]] += g
    return loss


@njit(inline="always")
def apply_batch(H, n_in, GH, syn1, cand, n_c, G, d):
    """Shared tail of every loss: GH = G @ U (old U), then U += G^T @ H.

    H: (n_in, d) inputs, G: (n_in, n_c) gradients already scaled by alpha,
    U = syn1[cand[:n_c]]. GH must use the output rows before they move, so it
    is computed first; the output rows are then updated in place (Hogwild).
    A candidate drawn twice is two sequential updates of one row, as in the
    reference (LLVM's runtime alias check sends that pass to its scalar loop).
    """
    input_grads(n_in, GH, syn1, cand, 0, n_c, G, d, True)
    output_updates(H, n_in, syn1, cand, 0, n_c, G, d)


@njit(inline="always")
def input_grads(n_in, GH, U, cand, c_lo, c_hi, G, d, zero):
    """GH[r] (= 0 first when ``zero``) += sum over c_lo <= c < c_hi of G[r, c] U[cand[c]], for r < n_in.

    Tiles of 2 input rows x 4 candidates per pass over j (4 output rows loaded,
    2 GH rows loaded and stored, 8 FMAs).
    """
    r = 0
    while r + 1 < n_in:
        if zero:
            for j in range(d):
                GH[r, j] = 0.0
                GH[r + 1, j] = 0.0
        c = c_lo
        while c + 3 < c_hi:
            a0, a1, a2, a3 = G[r, c], G[r, c + 1], G[r, c + 2], G[r, c + 3]
            b0, b1, b2, b3 = G[r + 1, c], G[r + 1, c + 1], G[r + 1, c + 2], G[r + 1, c + 3]
            w0, w1, w2, w3 = cand[c], cand[c + 1], cand[c + 2], cand[c + 3]
            for j in range(d):
                u0 = U[w0, j]
                u1 = U[w1, j]
                u2 = U[w2, j]
                u3 = U[w3, j]
                GH[r, j] += a0 * u0 + a1 * u1 + a2 * u2 + a3 * u3
                GH[r + 1, j] += b0 * u0 + b1 * u1 + b2 * u2 + b3 * u3
            c += 4
        while c < c_hi:
            a0, b0 = G[r, c], G[r + 1, c]
            w0 = cand[c]
            for j in range(d):
                u0 = U[w0, j]
                GH[r, j] += a0 * u0
                GH[r + 1, j] += b0 * u0
            c += 1
        r += 2
    if r < n_in:
        if zero:
            for j in range(d):
                GH[r, j] = 0.0
        c = c_lo
        while c + 3 < c_hi:
            g0, g1, g2, g3 = G[r, c], G[r, c + 1], G[r, c + 2], G[r, c + 3]
            w0, w1, w2, w3 = cand[c], cand[c + 1], cand[c + 2], cand[c + 3]
            for j in range(d):
                GH[r, j] += g0 * U[w0, j] + g1 * U[w1, j] + g2 * U[w2, j] + g3 * U[w3, j]
            c += 4
        while c < c_hi:
            g0 = G[r, c]
            w0 = cand[c]
            for j in range(d):
                GH[r, j] += g0 * U[w0, j]
            c += 1


@njit(inline="always")
def output_updates(H, n_in, U, cand, c_lo, c_hi, G, d):
    """U[cand[c]] += sum over r < n_in of G[r, c] H[r], for c_lo <= c < c_hi.

    Tiles of 2 candidates x 4 input rows (4 H rows loaded, 2 output rows loaded
    and stored, 8 FMAs).
    """
    c = c_lo
    while c + 1 < c_hi:
        w0, w1 = cand[c], cand[c + 1]
        r = 0
        while r + 3 < n_in:
            a0, a1, a2, a3 = G[r, c], G[r + 1, c], G[r + 2, c], G[r + 3, c]
            b0, b1, b2, b3 = G[r, c + 1], G[r + 1, c + 1], G[r + 2, c + 1], G[r + 3, c + 1]
            for j in range(d):
                h0 = H[r, j]
                h1 = H[r + 1, j]
                h2 = H[r + 2, j]
                h3 = H[r + 3, j]
                U[w0, j] += a0 * h0 + a1 * h1 + a2 * h2 + a3 * h3
                U[w1, j] += b0 * h0 + b1 * h1 + b2 * h2 + b3 * h3
            r += 4
        while r < n_in:
            a0, b0 = G[r, c], G[r, c + 1]
            for j in range(d):
                h0 = H[r, j]
                U[w0, j] += a0 * h0
                U[w1, j] += b0 * h0
            r += 1
        c += 2
    if c < c_hi:
        w = cand[c]
        r = 0
        while r + 3 < n_in:
            g0, g1, g2, g3 = G[r, c], G[r + 1, c], G[r + 2, c], G[r + 3, c]
            for j in range(d):
                U[w, j] += g0 * H[r, j] + g1 * H[r + 1, j] + g2 * H[r + 2, j] + g3 * H[r + 3, j]
            r += 4
        while r < n_in:
            g0 = G[r, c]
            for j in range(d):
                U[w, j] += g0 * H[r, j]
            r += 1
