# The two commands of the README:
#   make run   - set up .venv and run the main job on the default config
#   make test  - set up .venv and the system packages, then run every test
# On your own data: make run INPUT=path/to/pnl.csv (an .xlsx, or a folder of them);
#   CONFIG=file   a config file on top of config/config.yaml (config/quick.yaml: a first look)
#   DATASET=name  results/{name}/ (default: the input's file or folder name, e.g. pnl)
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 2
STAMP := $(VENV)/.installed
INPUT ?=
CONFIG ?=
DATASET ?=
RUN_CONFIG := $(strip $(if $(INPUT),"input={source: '$(INPUT)'}") $(if $(DATASET),dataset=$(DATASET)))

SLURM_PLUGINS := $(VENV)/slurm-plugins

.PHONY: run test test-fast setup lint bench clean fuzz slurm-plugins

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[pipeline,heavydb,dev]'
	@# Not in the environment: installed there, the SLURM executor plugin makes every
	@# snakemake call wait for a SLURM controller (up to 10 s); see slurm-plugins below.
	$(BIN)/pip uninstall -q -y snakemake-executor-plugin-slurm snakemake-executor-plugin-slurm-jobstep 2>/dev/null || true
	@# The package's bytecode, written once: pip compiles what it installs but not an
	@# editable source tree, and where Python may not write it (PYTHONDONTWRITEBYTECODE,
	@# a read-only checkout) every job compiled stratopt's modules again (docs/performance.md)
	$(BIN)/python -m compileall -q src
	@# Every numba kernel compiled once, here: else the first run compiles them in its
	@# jobs (64 s instead of 20, validate at 531 MB; docs/performance.md)
	$(BIN)/stratopt warm
	touch $@

# The SLURM executor plugins in a folder of their own, on the import path only for
# cluster runs: PYTHONPATH=$(SLURM_PLUGINS) snakemake --workflow-profile profiles/slurm
slurm-plugins: $(STAMP)
	$(BIN)/pip install -q -c constraints.txt --no-deps --upgrade --target $(SLURM_PLUGINS) \
		snakemake-executor-plugin-slurm snakemake-executor-plugin-slurm-jobstep

setup: $(STAMP)

# Snakemake prints what was read before the later stages, and the answer at the end (Snakefile)
run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) $(if $(CONFIG),--configfile $(CONFIG)) $(if $(RUN_CONFIG),--config $(RUN_CONFIG))

test: $(STAMP)
	bash scripts/ci/test.sh

# The quick loop while working: every test but the whole-pipeline runs (marked slow),
# the SLURM, GPU and browser ones, a test file per CPU at a time (pytest-xdist);
# docs/testing.md has the time it takes.
FAST := not slow and not slurm and not gpu and not browser
test-fast: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -q -n auto --dist loadfile -m "$(FAST)"

# A long property-based fuzzing run of ingest: make fuzz SECONDS=600
SECONDS ?= 600
fuzz: $(STAMP)
	bash scripts/ci/fuzz.sh $(SECONDS)

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/mypy
	$(BIN)/snakefmt --check Snakefile workflow
	$(BIN)/snakemake --lint

clean:
	rm -rf results .snakemake
