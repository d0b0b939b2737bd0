"""Roofline of the word2vec kernels: achieved FLOP/s and weight-row bytes/s against this machine's peaks.

    make bench-roofline          # or: python bench/roofline.py [--corpus text8|realmix|PATH] [--threads 2]
                                 #     [--settings sg-ns5-d100 ...] [--quick] [--out bench/ROOFLINE.md]

One process measures (1) the machine's peaks with small Numba kernels and (2) the
training kernels, 1 epoch, through the fastw2v API, then prints a markdown note
(and writes it to --out). Run it on a quiet machine: every figure is a timing.
``--quick`` shrinks every array and trains on the first ~100k words (a smoke
test: its numbers mean nothing).

Machine peaks
-------------
* FP32 FMA peak: per element of a 4 KB (L1) array, CH=8 independent chains of
  K=16 dependent ``y = y*m_i + c`` steps; LLVM's loop vectoriser makes each chain
  one ymm/zmm register, so a vector iteration has 8 independent FMA chains and 1 load
  + 1 store per 128 vector FMAs. FLOPs = 2 per FMA per lane. The script checks the
  assembly for packed FMAs and says so in the note. Threads: prange over thread
  count, each thread its own array.
* Triad: a = b + s*c over 3 float32 arrays (default 256 MB each, far beyond the L3),
  GB/s counting 12 bytes per element (STREAM's convention: the write-allocate read of
  ``a`` is NOT counted; with it the traffic is 16 bytes/element, x4/3).
* Random rows: per step one row r drawn uniformly from V (xorshift, in the loop),
  s = M[r] . x, then M[r] += (eps*s) * x: one row read and written, 2*dim FMAs.
  V = 70k (the text8 vocabulary) and a V whose matrix is far beyond the L3
  (default 512 MB). rows/s and GB/s (8*dim bytes per row: read + write).
  Uniform draws are the pessimistic case: word2vec's rows follow a Zipf law and the
  frequent ones stay in cache.

Kernel counts (derived from fastw2v/kernels/driver.py and common.py, loss ns)
-------------------------------------------------------------------------------
Notation: d = dim, k = negative, n_c = 1 + k candidates (target + k draws),
per centre word c = its context rows under the reduced window (half uniform in
1..window), h = accidental hits (draws equal to the target; their scores are
skipped, ``sigmoid_scores``' ``continue``, but ``apply_batch`` still multiplies
by their zero gradient).

Skip-gram, batched (``_sg_batched`` -> ``ns.step`` -> ``sigmoid_scores``, ``apply_batch``; ``_scatter``)
  per centre word with c context rows (n_in = c):
    scores        c*(n_c - h)*d FMAs   (dot_rows for every (context, candidate))
    GH = G @ U    c*n_c*d FMAs         (apply_batch, first loop, 4 candidates per pass)
    U += G^T @ H  n_c*c*d FMAs         (apply_batch, second loop, 4 inputs per pass)
    scatter       c*d adds             (syn0[ctx[r]] += GH[r])
    FLOPs = c*d*(6*n_c + 1) - 2*c*h*d
  summed over the epoch: FLOPs = d*((6*n_c + 1)*X - 2*Hs), X = sum of c = the kernel's
  ST_EXAMPLES (exact, reported by the kernel), Hs = sum of c*h (expected, from the corpus).
Skip-gram rows: syn0 c rows (gather read, scatter write), syn1 n_c rows (read in the
  scores, re-read from L1 in apply_batch, written): row bytes = 2*4*d*(c + n_c),
  epoch: 8*d*(X + n_c*N), N = centre words with c > 0 (not reported by the kernel:
  from the corpus, below).
CBOW (``_cbow``, n_in = 1): h = mean of c rows: c*d adds + d multiplies;
  scores (n_c - h)*d FMAs, GH n_c*d FMAs, U update n_c*d FMAs; scatter c*d adds.
    FLOPs = d*((6*n_c + 1) + 2*c) - 2*h*d
  epoch: FLOPs = d*((6*n_c + 1)*N + 2*C - 2*Hc), N = ST_EXAMPLES (exact), C = sum of c
  (from the corpus). Row bytes: 8*d*(C + n_c*N), the same rows as skip-gram per centre.
Left out: the sigmoid/softplus table interpolation (~15 scalar FLOPs per
(input, candidate) pair, about 2% of the vector FLOPs at d = 100), the noise draws, the
token stream, keep-probability and alias-table reads (a few bytes per token or draw),
and the scratch copies H, GH (L1-resident). Rows repeated inside one centre's set are
counted each time. "Row bytes" is load/store traffic on weight rows, not DRAM traffic:
consecutive centres share most context rows and frequent words' rows stay in cache.

Counts from the corpus (the replica)
  The kernels report ST_WORDS, ST_EFFECTIVE (kept after subsampling) and ST_EXAMPLES,
  not both N and C. The replica walks the same token cache (same sentences, same keep
  probabilities, its own random stream) and sums, per kept position i of a kept
  sentence of n >= 2 words, E[c_i] = (1/W) sum_{half=1..W} (min(i, half) + min(n-1-i, half))
  exactly over the window draw, and E[h] = k*Q(target) from the noise distribution Q.
  Each run also checks the replica against what its kernel reports exactly (sg: C vs
  ST_EXAMPLES; cbow: N vs ST_EXAMPLES) and prints the relative difference.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import gzip
import lzma
import os
import platform
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numba  # noqa: E402
import numpy as np  # noqa: E402
from numba import njit, prange  # noqa: E402

import fastw2v.model as fw_model  # noqa: E402
from fastw2v import Word2Vec  # noqa: E402
from fastw2v import trainer as fw_trainer  # noqa: E402
from fastw2v.kernels import driver  # noqa: E402
from fastw2v.kernels.rng import randbelow, seed_states  # noqa: E402
from fastw2v.sampler import noise_weights  # noqa: E402

CORPORA = {"text8": HERE.parent / "fastw2v" / "data" / "text8_head.txt.gz",
           "realmix": HERE.parent.parent / "shared" / "data" / "realmix.txt.xz"}
#: name -> (model, dim); all ns k5, window 5, sample 1e-4, 1 epoch
SETTINGS = {"sg-ns5-d100": ("sg", 100), "sg-ns5-d300": ("sg", 300),
            "cbow-ns5-d100": ("cbow", 100), "cbow-ns5-d300": ("cbow", 300)}
WINDOW, NEGATIVE, SAMPLE = 5, 5, 1e-4

# ------------------------------------------------------------------------ machine peaks

FMA_CHAINS, FMA_STEPS = 8, 16


def _make_fma_kernel():
    """Generated source: CH chains of K unrolled FMA steps per element (see the docstring).

    Written out rather than looped so the chains' loop is the j loop, the innermost
    one, which is what LLVM's loop vectoriser turns into packed FMAs (Numba leaves
    the SLP vectoriser off, so scalar chains would stay scalar).
    """
    lines = ["def fma_chains(a, n_rep, m, c, scale):"]
    lines += [f"    m{i} = m[{i}]" for i in range(FMA_CHAINS)]
    lines += ["    for _ in range(n_rep):",
              "        for j in range(a.shape[0]):",
              "            x = a[j]"]
    lines += [f"            y{i} = x" for i in range(FMA_CHAINS)]
    for _ in range(FMA_STEPS):
        lines += [f"            y{i} = y{i} * m{i} + c" for i in range(FMA_CHAINS)]
    lines.append("            a[j] = (" + " + ".join(f"y{i}" for i in range(FMA_CHAINS)) + ") * scale")
    ns = {}
    exec("\n".join(lines), ns)  # noqa: S102 - our own generated source
    return njit(fastmath=True, nogil=True)(ns["fma_chains"])


fma_chains = _make_fma_kernel()


@njit(parallel=True, fastmath=True)
def triad(a, b, c, s):
    for i in prange(a.shape[0]):
        a[i] = b[i] + s * c[i]


@njit(parallel=True, fastmath=True)
def row_updates(M, x, states, n_steps, eps, out):
    """states uint64 (T, 16): thread t does n_steps random-row read-dot-write steps on M (V, d)."""
    V, d = M.shape
    for t in prange(states.shape[0]):
        st = states[t]
        acc = np.float32(0.0)
        for _ in range(n_steps):
            r = randbelow(st, V)
            s = np.float32(0.0)
            for j in range(d):
                s += M[r, j] * x[j]
            g = eps * s
            for j in range(d):
                M[r, j] += g * x[j]
            acc += s
        out[t] = acc


def _best(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def fma_instructions() -> dict:
    """How many FMA instructions of each width the FMA kernel compiled to (from its assembly)."""
    asm = "\n".join(fma_chains.inspect_asm(sig) for sig in fma_chains.signatures)
    return {reg: len(re.findall(rf"vfmadd\w*ps\s[^\n]*%{reg}", asm)) for reg in ("zmm", "ymm", "xmm")} | {
        "scalar": len(re.findall(r"vfmadd\w*ss", asm))}


def describe_fma(counts: dict) -> str:
    return (f"{counts['zmm']} zmm / {counts['ymm']} ymm / {counts['xmm']} xmm packed FMAs, "
            f"{counts['scalar']} scalar (the remainder loop)")


def measure_fma(threads, quick):
    """FP32 FLOP/s of ``threads`` copies of the FMA kernel running at once, one per Python thread.

    Each copy is the single-threaded kernel (nogil) on its own 4 KB row, so the
    figure is the per-core peak times the cores that really run in parallel.
    (A prange over the rows measured a quarter of one core with 2 threads: the
    kernel inlined into a parallel region did not keep its packed FMAs.)
    """
    from concurrent.futures import ThreadPoolExecutor

    n, n_rep = 1024, (2000 if quick else 20000)  # 4 KB per thread: L1
    m = np.linspace(0.4, 0.6, FMA_CHAINS).astype(np.float32)
    c, scale = np.float32(0.5), np.float32(1.0 / (2 * FMA_CHAINS))
    # rows padded by 256 bytes so that no cache line is written by two threads
    arrays = np.ascontiguousarray(np.tile(np.linspace(0.3, 0.6, n + 64, dtype=np.float32), (threads, 1)))
    rows = [arrays[t, :n] for t in range(threads)]
    fma_chains(rows[0], 1, m, c, scale)  # compile
    with ThreadPoolExecutor(threads) as pool:
        def once():
            list(pool.map(lambda r: fma_chains(r, n_rep, m, c, scale), rows))
        sec = _best(once, 3 if quick else 7)
    assert np.isfinite(arrays).all()
    return threads * n * n_rep * FMA_CHAINS * FMA_STEPS * 2 / sec


def measure_triad(threads, n):
    numba.set_num_threads(threads)
    a, b, c = np.zeros(n, np.float32), np.ones(n, np.float32), np.full(n, 2.0, np.float32)
    triad(a, b, c, np.float32(3.0))  # compile, and fault every page in
    sec = _best(lambda: triad(a, b, c, np.float32(3.0)), 5)
    return 12.0 * n / sec


def measure_rows(thread_counts, V, d, n_steps):
    """{threads: (rows/s, GB/s of row reads + writes)} for uniform random rows of one V x d float32 matrix."""
    M = np.empty((V, d), np.float32)
    rng = np.random.default_rng(0)
    for lo in range(0, V, 1 << 16):  # in chunks: no full-size float64 temporaries
        M[lo:lo + (1 << 16)] = (rng.random((min(V - lo, 1 << 16), d), dtype=np.float32) - np.float32(0.5)) / d
    x = (rng.random(d, dtype=np.float32) - np.float32(0.5)).astype(np.float32)
    res = {}
    for t in thread_counts:
        numba.set_num_threads(t)
        states = seed_states(7, t, V, d)
        out = np.zeros(t, np.float32)
        row_updates(M, x, states, 1000, np.float32(1e-6), out)  # compile, warm
        sec = _best(lambda: row_updates(M, x, states, n_steps, np.float32(1e-6), out), 3)
        rows = t * n_steps / sec
        res[t] = (rows, rows * 8.0 * d)
    return res


def cpu_info():
    """Model name, ISA and a derived per-core peak (freq x lanes x 2 FLOPs x FMA pipes)."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""

    def field(name):
        m = re.search(rf"^{name}\s*:\s*(.*)$", text, re.M)
        return m.group(1).strip() if m else ""

    flags = set(field("flags").split())
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "AVX" if "avx" in flags else "SSE"
    lanes = {"AVX-512": 16, "AVX2": 8, "AVX": 8}.get(isa, 4)
    fma = "fma" in flags
    try:
        mhz = float(field("cpu MHz"))
    except ValueError:
        mhz = float("nan")
    pipes = 2  # assumed: 2 FMA pipes of the full vector width (Zen 2/3/4 AVX2, Skylake-SP Gold/Platinum)
    derived = mhz * 1e6 * lanes * 2 * pipes if fma else float("nan")
    return dict(model=field("model name") or platform.processor(), family=field("cpu family"),
                cpu_model=field("model"), isa=isa, fma=fma, lanes=lanes, mhz=mhz, pipes=pipes,
                derived_per_core=derived, cores=os.cpu_count())


# ------------------------------------------------------------------------ corpus replica

@njit(cache=False)
def replica_counts(tokens, starts, keep_prob, q, window, negative, seed):
    """Expected kernel counts over one epoch (see the module docstring).

    tokens int32, starts int64, keep_prob float32 (V,), q float64 (V,) noise probabilities.
    Returns (effective words, centres N, context rows C, sum c*h, sum h) as float64.
    """
    state = np.zeros(1, np.uint64)
    state[0] = np.uint64(seed)
    longest = 1
    for s in range(starts.shape[0] - 1):
        longest = max(longest, starts[s + 1] - starts[s])
    sent = np.empty(longest, np.int32)
    eff = 0.0
    centres = 0.0
    ctx = 0.0
    hits_sg = 0.0
    hits_cbow = 0.0
    for s in range(starts.shape[0] - 1):
        n = driver.subsample(tokens, starts[s], starts[s + 1], keep_prob, state, sent)
        eff += n
        if n < 2:
            continue
        centres += n
        for i in range(n):
            e = 0.0
            for half in range(1, window + 1):
                e += min(i, half) + min(n - 1 - i, half)
            e /= window
            ctx += e
            hw = negative * q[sent[i]]
            hits_sg += e * hw
            hits_cbow += hw
    return eff, centres, ctx, hits_sg, hits_cbow


@contextlib.contextmanager
def observe_training(captured: dict):
    """Run Word2Vec.fit with a KernelRunner we keep, to read its summed kernel stats afterwards.

    fastw2v.model calls trainer.train(); this wraps it for the duration of the block:
    the same call, plus ``runner=`` (train's own parameter) so the runner's stats (summed
    over every kernel call of the run) stay readable, and the replica's counts over the
    same token cache, computed after train() returns (outside its timing).
    """
    real = fw_model.train

    def wrapped(cache, counts, syn0, syn1, bias, cfg, raw_words, progress=None, **kw):
        runner = fw_trainer.KernelRunner(counts, cfg, fw_trainer._longest_sentence(cache),
                                         loss_every=kw.get("loss_every", 1), subwords=kw.get("subwords"))
        result = real(cache, counts, syn0, syn1, bias, cfg, raw_words, progress, runner=runner, **kw)
        totals = runner.stats[:, :driver.SUMMED].sum(axis=0)
        w = noise_weights(counts, cfg.noise, cfg.ns_exponent)
        q = (w / w.sum()).astype(np.float64)
        captured.update(
            words=float(totals[driver.ST_WORDS]), effective=float(totals[driver.ST_EFFECTIVE]),
            examples=float(totals[driver.ST_EXAMPLES]), seconds=result.seconds, vocab=int(len(counts)),
            replica=replica_counts(np.asarray(cache.tokens), np.asarray(cache.starts), runner.keep_prob, q,
                                   int(cfg.window), int(cfg.negative), 12345))
        return result

    fw_model.train = wrapped
    try:
        yield captured
    finally:
        fw_model.train = real


def kernel_counts(model, d, k, cap):
    """FLOPs, rows touched and the counts used, for one run (formulas in the docstring).

    The replica's sums are scaled by (kept words the kernel reports) / (kept words in the
    replica), so its own subsampling draw does not leak into the figures.
    """
    eff_r, N_r, C_r, Hs, Hc = cap["replica"]
    f = cap["effective"] / eff_r if eff_r else 1.0
    n_c = 1 + k
    if model == "sg":
        X = cap["examples"]  # exact: sum of c over centres
        N = N_r * f
        flops = d * ((6 * n_c + 1) * X - 2 * Hs * f)
        C = X
        check = ("C", C_r * f, X)
    else:
        N = cap["examples"]  # exact: centres with c > 0
        C = C_r * f
        flops = d * ((6 * n_c + 1) * N + 2 * C - 2 * Hc * f)
        check = ("N", N_r * f, N)
    rows = C + n_c * N
    return dict(flops=flops, rows=rows, row_bytes=8.0 * d * rows, N=N, C=C, check=check)


def load_corpus(name, quick):
    path = CORPORA.get(name, Path(name))
    if not quick:
        return str(path), path.name
    opener = gzip.open if str(path).endswith(".gz") else lzma.open if str(path).endswith(".xz") else open
    words = []
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        while len(words) < 100_000:
            chunk = f.read(1 << 16)
            if not chunk:
                break
            words.extend(chunk.split())
    words = words[:100_000]
    return [words[i:i + 1000] for i in range(0, len(words), 1000)], f"first 100k words of {path.name}"


def train_one(model, dim, corpus, threads, sample=SAMPLE):
    """Train 1 epoch (ns k5, window 5) and return the kernel's summed stats, the replica's counts, timings."""
    cap = {}
    with observe_training(cap):
        m = Word2Vec(model=model, loss="ns", dim=dim, window=WINDOW, negative=NEGATIVE, sample=sample, epochs=1,
                     threads=threads, seed=1, quiet=True)
        m.fit(corpus)
    cap["report_seconds"] = m.report["seconds"]
    cap["history"] = m.history[0]
    return cap


# ------------------------------------------------------------------------ report

def fmt(x, unit="", digits=3):
    if x is None or not np.isfinite(x):
        return "n/a"
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.{digits}g} {prefix}{unit}"
    return f"{x:.{digits}g} {unit}".strip()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default="text8", help="text8 (the sample in fastw2v/data), realmix, or a path")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    ap.add_argument("--quick", action="store_true", help="tiny arrays, ~100k words: a smoke test, numbers meaningless")
    ap.add_argument("--out", default=None, help="also write the markdown here (e.g. bench/ROOFLINE.md)")
    a = ap.parse_args(argv)

    quick = a.quick
    T = a.threads
    thread_counts = sorted({1, T})
    info = cpu_info()
    l3_path = Path("/sys/devices/system/cpu/cpu0/cache/index3/size")
    l3 = l3_path.read_text().strip() if l3_path.exists() else "size unknown"
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731

    # machine peaks
    log("measuring FMA peak...")
    fma = {t: measure_fma(t, quick) for t in thread_counts}
    packed = describe_fma(fma_instructions())
    n_triad = (1 << 21) if quick else (64 << 20)  # elements per array: 8 MB or 256 MB
    log("measuring triad bandwidth...")
    bw = {t: measure_triad(t, n_triad) for t in thread_counts}
    big_bytes = (32 << 20) if quick else (512 << 20)
    steps = 200_000 if quick else 5_000_000
    row_cases = []
    for d in (100, 300):
        for V in (70_000 if not quick else 7_000, big_bytes // (4 * d)):
            log(f"measuring random rows V={V} d={d}...")
            for t, (rows, gbs) in measure_rows(thread_counts, V, d, steps).items():
                row_cases.append(dict(V=V, d=d, threads=t, rows=rows, gbs=gbs, mb=V * d * 4 / 2**20))

    # kernels
    corpus, corpus_name = load_corpus(a.corpus, quick)
    runs = []
    for name in a.settings:
        model, dim = SETTINGS[name]
        log(f"training {name} on {corpus_name} (1 epoch, {T} threads)...")
        cap = train_one(model, dim, corpus, T)
        cnt = kernel_counts(model, dim, NEGATIVE, cap)
        runs.append(dict(name=name, model=model, dim=dim, cap=cap, **cnt))

    # ------------------------------------------------------------ markdown
    out = []
    p = out.append
    p("# Roofline of the fastw2v kernels")
    p("")
    if quick:
        p("**--quick smoke run: tiny arrays, 100k words. These numbers mean nothing.**")
        p("")
    p(f"Generated by `bench/roofline.py` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
      f"{info['model']} (family {info['family']} model {info['cpu_model']}), {info['cores']} CPUs, {info['isa']}"
      f"{' + FMA' if info['fma'] else ''}, {info['mhz']:.0f} MHz reported, L3 {l3}; numba {numba.__version__}, "
      f"Python {platform.python_version()}. Corpus: {corpus_name}; {T} threads for the kernels. "
      f"All figures measured in this one process.")
    p("")
    p("## Machine peaks")
    p("")
    p("| measure | 1 thread | " + (f"{T} threads |" if T != 1 else ""))
    p("|---|---|" + ("---|" if T != 1 else ""))

    def row(label, vals):
        p(f"| {label} | " + " | ".join(vals) + " |")

    row("FP32 FMA peak (measured)", [fmt(fma[t], "FLOP/s") for t in thread_counts])
    if np.isfinite(info["derived_per_core"]):
        row(f"FP32 peak, derived: {info['mhz']:.0f} MHz x {info['lanes']} lanes x 2 x {info['pipes']} FMA pipes "
            "(pipes assumed; clock as reported, not boost)",
            [fmt(info["derived_per_core"] * t, "FLOP/s") for t in thread_counts])
    row(f"triad a = b + s*c, 3 x {n_triad * 4 / 2**20:.0f} MB, 12 B/element (write-allocate not counted)",
        [fmt(bw[t], "B/s") for t in thread_counts])
    row("machine balance (FMA peak / triad)", [f"{fma[t] / bw[t]:.1f} FLOP/B" for t in thread_counts])
    for rc in [r for r in row_cases if r["threads"] == thread_counts[0]]:
        vals = [next(x for x in row_cases if x["V"] == rc["V"] and x["d"] == rc["d"] and x["threads"] == t)
                for t in thread_counts]
        row(f"random rows, V={rc['V']:,} x d={rc['d']} ({rc['mb']:.0f} MB), read + dot + write",
            [f"{fmt(v['rows'], 'rows/s')}, {fmt(v['gbs'], 'B/s')}" for v in vals])
    p("")
    p(f"FMA kernel code: {packed}.")
    p("")
    p("## Kernels (ns k5, window 5, sample 1e-4, 1 epoch)")
    p("")
    p("| setting | train s | words/s | GFLOP/s | % FMA peak | rows/s | row B/s | % triad | % random-row ceiling "
      "(small V / big V) | FLOP/B |")
    p("|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        cap = r["cap"]
        sec = cap["seconds"]
        flops_s, rows_s, bytes_s = r["flops"] / sec, r["rows"] / sec, r["row_bytes"] / sec
        ceil = [x for x in row_cases if x["d"] == r["dim"] and x["threads"] == T]
        ceil_txt = " / ".join(f"{100 * rows_s / c['rows']:.0f}%" for c in ceil)
        r.update(flops_s=flops_s, rows_s=rows_s, bytes_s=bytes_s, ai=r["flops"] / r["row_bytes"], ceil=ceil)
        p(f"| {r['name']} | {sec:.2f} | {fmt(cap['history']['words'] / sec)} | {flops_s / 1e9:.2f} | "
          f"{100 * flops_s / fma[T]:.1f}% | {fmt(rows_s)} | {fmt(bytes_s, 'B/s')} | {100 * bytes_s / bw[T]:.0f}% | "
          f"{ceil_txt} | {r['ai']:.2f} |")
    p("")
    p("words/s: corpus words (out-of-vocabulary ones included, as fastw2v reports) per training second "
      "(compile excluded). FLOPs and rows from the formulas in the script's docstring.")
    p("")
    p("Counts per run (kernel = reported by the kernel's stats, replica = expected from the corpus; "
      "check = replica vs the exact kernel count):")
    p("")
    p("| setting | words | kept | centres N | context rows C | FLOPs | rows touched | check |")
    p("|---|---|---|---|---|---|---|---|")
    for r in runs:
        cap = r["cap"]
        what, rep, exact = r["check"]
        src_n = "kernel" if r["model"] == "cbow" else "replica"
        src_c = "kernel" if r["model"] == "sg" else "replica"
        p(f"| {r['name']} | {cap['words']:,.0f} | {cap['effective']:,.0f} | {r['N']:,.0f} ({src_n}) | "
          f"{r['C']:,.0f} ({src_c}) | {r['flops']:.3e} | {r['rows']:.3e} | "
          f"{what}: replica/kernel = {rep / exact:.4f} |")
    p("")
    p("## What bounds it (computed; the lead's words to follow)")
    p("")
    for r in runs:
        balance = fma[T] / bw[T]
        roof = min(fma[T], r["ai"] * bw[T])
        side = "below" if r["ai"] < balance else "above"
        bound = "bandwidth" if r["ai"] < balance else "compute"
        big = max(r["ceil"], key=lambda c: c["V"]) if r["ceil"] else None
        small = min(r["ceil"], key=lambda c: c["V"]) if r["ceil"] else None
        text = (f"- **{r['name']}**: arithmetic intensity {r['ai']:.2f} FLOP per row byte, {side} the machine "
                f"balance {balance:.1f} FLOP/B, so the naive roofline (rows streamed from DRAM) calls it "
                f"{bound}-bound at {roof / 1e9:.1f} GFLOP/s; the kernel reaches {r['flops_s'] / 1e9:.2f} GFLOP/s, "
                f"{100 * r['flops_s'] / roof:.0f}% of that roof and {100 * r['flops_s'] / fma[T]:.1f}% of the "
                f"FMA peak. Its {fmt(r['rows_s'], 'rows/s')} are ")
        limits = [("the FMA peak", r["flops_s"] / fma[T]), ("the triad bandwidth", r["bytes_s"] / bw[T])]
        if small is not None:
            text += (f"{100 * r['rows_s'] / small['rows']:.0f}% of the uniform random-row rate at V={small['V']:,} "
                     f"({small['mb']:.0f} MB) and {100 * r['rows_s'] / big['rows']:.0f}% at V={big['V']:,} "
                     f"({big['mb']:.0f} MB; L3 {l3}). ")
            limits += [(f"the random-row rate at V={small['V']:,}", r["rows_s"] / small["rows"]),
                       (f"the random-row rate at V={big['V']:,}", r["rows_s"] / big["rows"])]
        above = [(n, f) for n, f in limits if f > 1.05]
        below = [(n, f) for n, f in limits if f <= 1.05]
        if above:
            text += ("Above " + ", ".join(f"{n} ({100 * f:.0f}%)" for n, f in above) + ": for a peak that means "
                     "a disturbed measurement (rerun on a quiet machine); for a random-row rate, that the "
                     "Zipf-distributed rows are cache-hot where uniform draws are not. ")
        if below:
            name, frac = max(below, key=lambda x: x[1])
            text += f"Nearest limit not exceeded: {name}, at {100 * frac:.0f}%. "
            if frac < 0.5:
                text += ("No such limit is within 2x: the time goes elsewhere (dependent loads and stores in "
                         "apply_batch, the scalar sigmoid work per pair, noise draws, cache lines of shared rows "
                         "moving between the threads).")
            elif "random-row" in name:
                text += "Rows arrive about as fast as scattered rows can: the row accesses set the pace."
            else:
                text += f"It runs within 2x of {name}."
        p(text)
    p("")
    p("Caveats: row bytes are load/store traffic on weight rows (each row touched counted once read + once "
      "written), not DRAM traffic; word2vec's rows are Zipf-distributed and mostly cache-hot, so the DRAM roof "
      "is an upper bound on the memory side. The random-row ceiling draws rows uniformly (pessimistic). "
      "The FLOP count leaves out the scalar sigmoid work (~2% at d=100).")
    md = "\n".join(out) + "\n"
    print(md)
    if a.out:
        Path(a.out).write_text(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
