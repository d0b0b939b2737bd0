#!/bin/bash
# The learning-rate sweep behind fastw2v's defaults (issue 15): quality only, resumable
# (runs already in bench/sweep.jsonl are skipped), then the tables in bench/SWEEP.md.
#   bench/sweep_grid.sh [python]        (make bench-sweep)
set -e
cd "$(dirname "$0")/.."
PYTHON=${1:-python3}
PY="$PYTHON bench/sweep.py --jsonl bench/sweep.jsonl --threads 2 --seeds 1"
echo "realmix ns $(date +%T)"; $PY --corpus realmix --models sg cbow --losses ns --dims 100 --epochs 1 5 --alphas 0.025 0.05 0.075 0.1 --samples 1e-4 1e-3
echo "text8 losses $(date +%T)"; $PY --corpus text8 --models sg cbow --losses ns hs nce softmax --dims 100 --epochs 1 5 --alphas 0.025 0.05 0.1 --samples 1e-3
echo "text8 exact $(date +%T)"; $PY --corpus text8 --models sg --losses ns --dims 100 --epochs 1 5 --alphas 0.025 0.05 --samples 1e-3 --exact
echo "text8 dim 300 $(date +%T)"; $PY --corpus text8 --models sg cbow --losses ns --dims 300 --epochs 1 5 --alphas 0.025 0.05 0.1 --samples 1e-3
echo "small $(date +%T)"; $PY --corpus small --models sg cbow --losses ns --dims 100 --epochs 5 --alphas 0.025 0.05 0.1 --samples 1e-3
echo "done $(date +%T)"
$PYTHON bench/sweep.py --table --jsonl bench/sweep.jsonl --out bench/SWEEP.md
