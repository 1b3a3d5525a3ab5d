#!/usr/bin/env bash
# Stop the single-node SLURM that setup.sh started: by the PIDs in its PID
# files, never by process name (other engineers' processes share the box).
# Safe to run when nothing is running. The packages and config stay.
#
# Usage: sudo scripts/slurm/teardown.sh   (env: STRATOPT_SLURM_STATE;
#        STRATOPT_SLURM_KEEP_MUNGE=1 leaves munged running)
set -euo pipefail

STATE=${STRATOPT_SLURM_STATE:-/var/lib/stratopt-slurm}

log() { printf 'slurm-teardown: %s\n' "$*" >&2; }

stop_pidfile() { # pidfile expected-command
    local pidfile=$1 expected=$2 pid comm
    if [ ! -s "$pidfile" ]; then
        log "$expected: no PID file ($pidfile)"
        return 0
    fi
    pid=$(cat "$pidfile")
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    if [ "$comm" != "$expected" ]; then
        # Dead, or the PID was reused by an unrelated process: leave it.
        log "$expected: pid $pid is not running it (found '${comm:-nothing}')"
        rm -f "$pidfile"
        return 0
    fi
    log "stopping $expected (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do # up to 10 s
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$expected (pid $pid) ignored SIGTERM for 10 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

stop_pidfile "$STATE/slurmd.pid" slurmd
stop_pidfile "$STATE/slurmctld.pid" slurmctld
if [ "${STRATOPT_SLURM_KEEP_MUNGE:-0}" != 1 ]; then
    stop_pidfile "$STATE/munge/munged.pid" munged
fi
