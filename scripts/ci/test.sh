#!/usr/bin/env bash
# The whole test suite, on a fresh machine: system packages (Chromium for the
# report's browser test, a single-node SLURM for the cluster test), then pytest.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${VENV:-.venv}/bin

bash scripts/ci/system-deps.sh

slurm_up=0
if [ -x scripts/slurm/setup.sh ] && [ "$(id -u)" = 0 ]; then
  if bash scripts/slurm/setup.sh; then slurm_up=1; else echo "test.sh: SLURM set-up failed; the SLURM tests will say so" >&2; fi
fi
# The SLURM executor plugins live beside the environment (docs/hpc.md); the SLURM tests use them.
make -s slurm-plugins VENV="${VENV:-.venv}" || echo "test.sh: could not install the SLURM plugins; the SLURM tests will say so" >&2
cleanup() { if [ "$slurm_up" = 1 ]; then bash scripts/slurm/teardown.sh || true; fi; }
trap cleanup EXIT

mkdir -p test-artifacts
"$BIN/python" -m pytest -p no:cacheprovider "$@"
