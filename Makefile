# The README's two commands: `make start` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kiroku-installed
# Tests keep their assembled models inside the venv they build: a clean CI venv is self-contained.
TEST_HOME := $(abspath $(VENV))/kiroku-home

.PHONY: start test lint typecheck bench mutation

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,diarization]'
	# GiNZA (personal data in 公開用 copies): declares SudachiPy<0.7, runs on our 0.7.0 (docs/personal_data.md).
	$(BIN)/python -m pip install --quiet --no-deps ginza==5.3.0 ja-ginza==5.3.0
	touch $(STAMP)

start: $(STAMP)
	$(BIN)/kiroku models install
	$(BIN)/kiroku serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The browser tests drive Debian's Chromium (no browser download); installed here when missing.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && apt-get install -y -q chromium fonts-noto-cjk; \
	else echo "browser tests will be skipped: install Debian's chromium (apt-get install chromium)"; fi

test: lint typecheck $(CHROMIUM)
	KIROKU_HOME=$(TEST_HOME) $(BIN)/kiroku models install
	KIROKU_HOME=$(TEST_HOME) $(BIN)/python -m pytest

# One table: RTF, the ratio to bare faster-whisper, diarization share, peak memory (the dev set by
# default; KIROKU_EVAL_SET=folder for another); then memory on a 60-minute recording.
bench: $(STAMP)
	$(BIN)/kiroku bench
	$(BIN)/python bench/long_recording_memory.py

# Mutation testing of the modules listed in pyproject's [tool.mutmut] (docs/mutation.md): long, so not
# part of `make test` or CI. A clean run each time (mutants/ is rebuilt), then killed / survived /
# equivalent per module. One worker at low priority by default; MUTATION_CHILDREN=4 on a bigger machine.
# stdin is /dev/null: a mutant's test touching the terminal would stop a run in the background.
MUTATION_CHILDREN ?= 1
mutation: $(STAMP)
	rm -rf mutants
	KIROKU_HOME=$(TEST_HOME) $(BIN)/kiroku models install
	KIROKU_HOME=$(TEST_HOME) nice -n 19 $(BIN)/mutmut run --max-children $(MUTATION_CHILDREN) < /dev/null
	$(BIN)/python bench/mutation_report.py --fail-under 85
