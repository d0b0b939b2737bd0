# Everything a fresh machine with only python3 needs: `make test`, `make demo`, `make bench`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.dev-installed
SHARED ?= ../shared
TORCH_VERSION ?= 2.13.0

.PHONY: install test test-all demo bench bench-compat bench-kernels bench-startup bench-matrix bench-pareto bench-roofline bench-sweep fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# the package and its run-time dependencies only (numba, numpy, click): all `make demo` needs
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

# the test set on top: pytest, gensim, scipy, matplotlib, hypothesis, dask, fasttext-wheel, torch
$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install -q -e ".[dev,dask]"
	# PyTorch (CPU build) only for the to_torch() test; fastw2v itself does not need it
	$(BIN)/python -m pip install -q torch==$(TORCH_VERSION)
	touch $@

install: $(DEV_STAMP)

# the default run (CI): under 15 minutes on 2 cores from a fresh clone; `slow` marks what only test-all runs
test: $(DEV_STAMP)
	$(BIN)/python -m pytest -q -m "not slow" tests

test-all: $(DEV_STAMP)
	$(BIN)/python -m pytest -q tests

demo: $(RUN_STAMP)
	mkdir -p build
	$(BIN)/fastw2v train fastw2v/data/text8_head.txt.gz -o build/demo.fw2v --sample 1e-4
	@for w in king france computer music; do $(BIN)/fastw2v similar build/demo.fw2v $$w -n 8; done

bench: $(DEV_STAMP)
	$(BIN)/python bench/compare.py --corpus $(SHARED)/data/realmix.txt.xz

# the same gensim-style script with gensim's import and with fastw2v.compat's, whole process, 5 epochs
bench-compat: $(DEV_STAMP)
	$(BIN)/python bench/compare.py --api compat --epochs 5 --corpus $(SHARED)/data/realmix.txt.xz

bench-matrix: $(DEV_STAMP)
	$(BIN)/python bench/matrix.py

# quality against whole-process time, epochs 1-5, fastw2v / gensim / fastText at their own defaults
bench-pareto: $(DEV_STAMP)
	$(BIN)/python bench/pareto.py --corpus $(SHARED)/data/realmix.txt.xz

# the learning-rate sweep behind the defaults (quality only; resumes from bench/sweep.jsonl)
bench-sweep: $(DEV_STAMP)
	bench/sweep_grid.sh $(BIN)/python

bench-startup: $(RUN_STAMP)
	$(BIN)/python bench/startup.py

# achieved FLOP/s and row bytes/s of sg and cbow (ns, dim 100 and 300) against this machine's measured peaks
bench-roofline: $(RUN_STAMP)
	$(BIN)/python bench/roofline.py --out bench/ROOFLINE.md

bench-kernels: $(DEV_STAMP)
	$(BIN)/python -m pytest -q bench --benchmark-only

fuzz: $(DEV_STAMP)
	$(BIN)/python bench/fuzz.py

# Numba's disk cache checks only the file of each cached function: after editing a module
# that kernels import (kernels/common.py, rng.py, ns.py, hs.py, sampled.py, sampler.py,
# config.py), run `make clean` or the old compiled kernels keep running.
clean:
	rm -rf build .pytest_cache
	find fastw2v -name '*.nbi' -delete -o -name '*.nbc' -delete
