# The two commands of the README quick start: `make run` and `make test`.
# Both create the virtual environment on first use and are fast once it exists.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DVC_NO_ANALYTICS := 1
export PYTHONHASHSEED := 0
# pytest-xdist workers for `make test` (one per core; each test file stays on one worker).
TEST_WORKERS ?= auto
# The venv first on PATH for anything make runs (stage commands find it themselves: stages/py).
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run test lint format bench bench-memory promote clean-env

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

## Run the whole pipeline on the data named in params.yaml (the bundled CDNOW log).
run: $(STAMP)
	$(BIN)/dvc repro

## Lint (ruff format --check, ruff check, mypy --strict on the library) and the test suite.
test: $(STAMP) lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff format --check src stages tests benchmarks tools experiments
	$(BIN)/ruff check src stages tests benchmarks tools experiments
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src stages tests benchmarks tools experiments
	$(BIN)/ruff check --fix src stages tests benchmarks tools experiments

## Benchmark: synthetic logs of 100k, 1M and 10M rows. Steps (ingest, customer table beside
## pandas, scoring) then the full dvc repro per stage beside lifetimes' summary of the same log
## (requirements-bench.txt, installed here only); prints figures, writes bench-results/.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(BIN)/python benchmarks/bench.py $(if $(SIZES),--sizes $(SIZES),)
	$(BIN)/python benchmarks/pipeline_bench.py $(if $(SIZES),--sizes $(SIZES),)

## Memory: the stages that touch every row (ingest, orders, windows, features), each alone, on
## seeded synthetic logs of 10M and 60M rows (about 15 minutes; SIZES to change them).
bench-memory: $(STAMP)
	$(BIN)/python benchmarks/memory_bench.py --sizes $(if $(SIZES),$(SIZES),10000000 60000000)

## Make the current challenger (the train stage's bundle) the champion: a person's act.
## Checks the pipeline is up to date, then dvc-adds models/champion/ and writes its card.
promote: $(STAMP)
	$(BIN)/python -m clv_engine.promote

clean-env:
	rm -rf $(VENV)
