#!/usr/bin/env bash
# A long fuzzing run of ingest (tests/data/test_ingest_fuzz.py): rounds of fresh random
# examples until the time is up; the first failure stops it (Hypothesis keeps the
# failing example in .hypothesis/ and replays it first next time).
# Usage: scripts/ci/fuzz.sh [SECONDS]   (or: make fuzz SECONDS=600)
set -euo pipefail
budget=${1:-600}
per_round=${STRATOPT_FUZZ_EXAMPLES:-300}
cd "$(dirname "$0")/../.."
py=${PYTHON:-.venv/bin/python}
start=$(date +%s)
end=$((start + budget))
rounds=0
while [ "$(date +%s)" -lt "$end" ]; do
    STRATOPT_FUZZ_EXAMPLES=$per_round "$py" -m pytest tests/data/test_ingest_fuzz.py -q -x \
        -p no:cacheprovider -p no:logging -W ignore
    rounds=$((rounds + 1))
done
echo "fuzz: $rounds round(s) of up to $per_round examples per property in $(($(date +%s) - start)) s, no failure"
