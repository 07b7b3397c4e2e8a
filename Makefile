# Two commands on a fresh machine with Python >= 3.11:
#   make demo   # set up .venv, then run the workflow on the embedded demo sample
#   make test   # set up .venv, then run the test suite
# Both are idempotent: the environment is rebuilt only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
CORES ?= 2
BIN := $(VENV)/bin

.PHONY: setup system-deps demo test test-fast lint bench report encoder clean

$(BIN)/.galclust-installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "galclust needs Python >= 3.11"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[tf,workflow,dev]"
	touch $@

setup: $(BIN)/.galclust-installed

demo: setup
	$(BIN)/snakemake --cores $(CORES)

# The tests drive real system programs: a one-node SLURM (tests/test_slurm.py) and headless
# Chromium (tests/test_report.py), from Debian's packages, installed here when run as root (as CI
# does). Not root and not installed: those tests fail and say to run `sudo tests/install-system-deps.sh`.
system-deps:
	@if [ "$$(id -u)" = 0 ]; then bash tests/install-system-deps.sh; fi

# Two pytest-xdist workers share the cores (tests/xdist_groups.py: a worker takes a group whole,
# so the tiny run and each module's workflow run are built once).
test: setup system-deps
	$(BIN)/python -m pytest -n $(CORES) --dist loadgroup --durations=25

# the tests that need no Snakemake run, SLURM, Chromium or long training: a change checked in minutes
test-fast: setup
	$(BIN)/python -m pytest -m "not slow" -n $(CORES) --dist loadgroup --durations=10

lint: setup
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check .

bench: setup
	$(BIN)/python bench/bench_stages.py

# The encoder shipped in models/ (models/gz2_five_encoder.md): config/examples/train_encoder.yaml
# trains it on the train split of ../shared/realdata/gz2_five (about an hour on 2 cores). It uses
# results/ like any run of the workflow.
encoder: setup
	$(BIN)/python bench/gz2_five_catalog.py --realdata ../shared/realdata --out resources/gz2_five_catalog.csv
	$(BIN)/snakemake --cores $(CORES) --configfile config/examples/train_encoder.yaml --until train_model
	cp results/models/gz2_five_encoder/model.keras models/gz2_five_encoder.keras
	cp results/models/gz2_five_encoder/model.card.json models/gz2_five_encoder.card.json

report: setup
	$(BIN)/snakemake --report results/report.html

clean:
	rm -rf results logs benchmarks .snakemake
