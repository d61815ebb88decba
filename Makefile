# persona: `make reports` renders every notebook on the built-in simulated data; `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# optional extras on top of dev, e.g. `make test EXTRAS=dev,spark` (what .ci/run does)
EXTRAS ?= dev
comma := ,
STAMP := $(VENV)/.setup-$(subst $(comma),-,$(EXTRAS))
PRESET ?= default
SEED ?= 0
OUT ?= reports
# a folder of your own logs for `make reports DATA=my_logs` (empty: the simulated world)
DATA ?=
export OPENBLAS_NUM_THREADS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

# a second OpenBLAS code path for `make test-kernel` (Haswell, Sandybridge, Prescott, Zen: each
# CPU picks its own, and float results differ in the last bits between them)
KERNEL ?= Sandybridge

.PHONY: setup reports test test-kernel bench lint clean

setup: $(STAMP)

# Reinstalls when pyproject.toml changes; rfc3987-syntax only slows every jsonschema import
# (1-2.5 s per kernel and per papermill call, ../shared/TOOLCHAIN.md) and nothing here needs it.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --prefer-binary -e '.[$(EXTRAS)]'
	-$(BIN)/python -m pip uninstall -q -y rfc3987-syntax
	$(BIN)/python -m ipykernel install --sys-prefix --name persona --display-name "Python (persona)" \
		--env OPENBLAS_NUM_THREADS 1 > /dev/null
	@touch $(STAMP)

reports: setup
	$(BIN)/persona run --preset $(PRESET) --seed $(SEED) --out $(OUT)$(if $(DATA), --data $(DATA))

# One pytest session on pytest-xdist workers (one per core of CI's 2-core machine); --dist
# loadfile keeps a file's tests (and a notebook's nbval cells, in order) on one worker. The
# notebook tests share one smoke run across the workers (tests/notebooks/conftest.py);
# test_notebooks.py comes first so that the run starts at once, two notebooks at a time, while
# the other worker goes through the unit tests (pytest collects the file once).
TEST_JOBS ?= 2

test: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_JOBS) --dist loadfile --nbval-lax \
		tests/notebooks/test_notebooks.py tests/unit tests/regression notebooks \
		tests/notebooks tests/browser

# The numerics-sensitive part (unit tests and the notebooks on smoke) under another BLAS kernel,
# as another CPU would compute it; Spark (JVM) and the browser check do not touch OpenBLAS.
test-kernel: setup
	OPENBLAS_CORETYPE=$(KERNEL) $(BIN)/python -m pytest -q -p no:cacheprovider \
		-n $(TEST_JOBS) --dist loadfile -m "not spark and not browser" \
		tests/notebooks/test_notebooks.py tests/unit tests/notebooks

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: setup
	$(BIN)/ruff check persona_lib tests benchmarks
	$(BIN)/ruff format --check persona_lib tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
