"""Long property-based fuzzing of every reader (tests/test_fuzz.py's ``_long`` twins).

    python bench/fuzz.py                 # 20000 fresh random cases per property (7 properties)
    python bench/fuzz.py --examples 2000

Prints hypothesis's statistics: cases per property, how many were read and how
many refused. Any failure is printed with the input that caused it.
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=20000, help="cases per property")
    args = ap.parse_args()
    env = dict(os.environ, FASTW2V_FUZZ_EXAMPLES=str(args.examples))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "pytest", "-q", str(ROOT / "tests" / "test_fuzz.py"), "-k", "_long",
           "--hypothesis-show-statistics", "-p", "no:cacheprovider"]
    sys.exit(subprocess.call(cmd, cwd=ROOT, env=env))


if __name__ == "__main__":
    main()
