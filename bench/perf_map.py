"""Name the compiled kernels for Linux ``perf``: train once in this process, then write
/tmp/perf-<pid>.map, the file perf reads to symbolise JIT code.

Numba's code has no symbols perf can see, so a profile shows only addresses. This script trains one
run through :class:`fastw2v.Word2Vec`, then lists every function of every compiled kernel library
(the sentence loops, and the loops they call rather than inline, such as hs's tile loops) with its
address. The functions' LLVM modules are only there when the kernels were compiled in this process,
so run it with an empty Numba cache:

    NUMBA_CACHE_DIR=$(mktemp -d) perf record -F 4000 -o /tmp/pf.data \\
        .venv/bin/python bench/perf_map.py CORPUS --model sg --loss hs --dim 300
    perf report -i /tmp/pf.data --sort sym

Sizes in the map are the gaps between consecutive functions (perf needs one). A function that
inlines its whole step (CBOW's sentence loop) shows as one line; ``--dump NAME`` also writes the
machine code of the functions whose name contains NAME, to disassemble and hold perf's sample
addresses against (``perf script -F ip``; the offset of a sample is its address less the start
the script prints):

    objdump -D -b binary -mi386:x86-64 --no-show-raw-insn /tmp/perf_map_<start>.bin

What was seen with it is in bench/ROOFLINE.md (the bullets of 2026-12-07 on sg-hs-d300 by
function and cbow-hs-d300 by instruction).
"""
import argparse
import ctypes
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from numba.core.registry import CPUDispatcher  # noqa: E402

from fastw2v.kernels import common, driver, hs, merge  # noqa: E402
from fastw2v.model import Word2Vec  # noqa: E402


def kernel_functions(modules=(driver, hs, common, merge)):
    """(address, LLVM name) of every function defined in the compiled overloads of the modules' kernels."""
    rows, seen = set(), set()
    for mod in modules:
        for obj in vars(mod).values():
            if not isinstance(obj, CPUDispatcher):
                continue
            for cres in obj.overloads.values():
                lib = cres.library
                if id(lib) in seen:
                    continue
                seen.add(id(lib))
                for fn in lib._final_module.functions:
                    if fn.is_declaration:
                        continue
                    addr = lib.get_pointer_to_function(fn.name)
                    if addr:
                        rows.add((addr, fn.name))
    return sorted(rows)


def write_map(rows, path):
    """perf's map format: hex start, hex size, name (one per line)."""
    with open(path, "w") as f:
        for i, (addr, name) in enumerate(rows):
            size = rows[i + 1][0] - addr if i + 1 < len(rows) else 4096
            short = re.sub(r"_3clocals_3e|\$\d+", "", name)[:120]
            f.write(f"{addr:x} {min(size, 1 << 20):x} {short}\n")


def _mapped_end(addr: int) -> int:
    """The end of the mapping (/proc/self/maps) that holds ``addr``: reading beyond it would fault."""
    for line in open("/proc/self/maps"):
        lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
        if lo <= addr < hi:
            return hi
    return addr


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus")
    ap.add_argument("--model", default="sg")
    ap.add_argument("--loss", default="hs")
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--sample", type=float, default=1e-4)
    ap.add_argument("--dump", metavar="NAME", help="write the machine code of the functions whose name has NAME")
    a = ap.parse_args()
    m = Word2Vec(model=a.model, loss=a.loss, dim=a.dim, window=5, sample=a.sample, epochs=a.epochs,
                 threads=a.threads)
    t = time.perf_counter()
    m.fit(a.corpus)
    rows = kernel_functions()
    path = f"/tmp/perf-{os.getpid()}.map"
    write_map(rows, path)
    print(f"fit {time.perf_counter() - t:.1f} s (training {m.report['seconds']['training']:.1f} s, "
          f"{m.report['training_words_per_sec'] / 1e6:.2f}M words/s); {len(rows)} functions named in {path}")
    if not rows:
        print("no functions found: the kernels came from the Numba cache; set NUMBA_CACHE_DIR to an empty folder")
    for i, (addr, name) in enumerate(rows):
        if a.dump and a.dump in name:
            # up to the next function, and never past the end of the mapping the code sits in
            size = min(rows[i + 1][0] - addr if i + 1 < len(rows) else 1 << 20, _mapped_end(addr) - addr)
            out = f"/tmp/perf_map_{addr:x}.bin"
            Path(out).write_bytes(ctypes.string_at(addr, size))
            print(f"{name[:80]}: {size} bytes from {addr:#x} in {out}")


if __name__ == "__main__":
    main()
