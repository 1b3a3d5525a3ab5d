#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: install CuPy if missing, run the GPU tests
# and the GPU correlation benchmark (all pairs on the GPU; goal < 0.1 s).
#   scripts/gpu/check.sh            # from the repository root
# Uses .venv/bin/python when present, else python3. Needs the real data in
# ../shared/data for the sample test, and builds the twin for the benchmark
# (or a seeded stand-in when the reference data is absent).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || {
  echo "check.sh: no NVIDIA GPU visible (nvidia-smi failed)" >&2; exit 1; }
if ! "$PY" -c "import cupy" 2>/dev/null; then
  "$PY" -m pip install -q "cupy-cuda12x>=13"
fi
"$PY" -c "import cupy; print('cupy', cupy.__version__, 'devices:', cupy.cuda.runtime.getDeviceCount())"
"$PY" -m pip install -q -e . --no-deps 2>/dev/null || true

echo "== GPU tests (pytest -m gpu)"
"$PY" -m pytest -m gpu -q -rs tests

echo "== GPU benchmark: all pairs on the GPU"
"$PY" -m stratopt bench correlation --backend cupy --shards 1 --tile "${TILE:-8192}" --dtype both \
  --strategies "${STRATEGIES:-25544}" --reference-data "${REFERENCE_DATA:-../shared/data}"
