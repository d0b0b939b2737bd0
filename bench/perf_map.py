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

Sizes in the map are the gaps between consecutive functions (perf needs one). What was seen with it
is in bench/ROOFLINE.md (the section on the sampled loss).
"""
import argparse
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus")
    ap.add_argument("--model", default="sg")
    ap.add_argument("--loss", default="hs")
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--sample", type=float, default=1e-4)
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


if __name__ == "__main__":
    main()
