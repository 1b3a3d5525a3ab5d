#!/usr/bin/env bash
# Set up a real single-node SLURM cluster on a fresh Debian machine, from
# Debian's own packages, so that CI submits the pipeline to a real scheduler.
#
# Why this shape:
# - no systemd and no cgroups in CI containers: proctrack/linuxproc,
#   task/none, jobacct_gather/none, no accounting database;
# - the config lives in /etc/slurm (the default path) because the SLURM
#   executor plugin's job step drops SLURM_CONF before its nested `srun`;
# - MinJobAge=600 keeps finished jobs visible to `squeue`, the status command
#   the profile uses (there is no `sacct` without accounting);
# - a GRES gpu:1 whose File= is a fake character device (mknod): SLURM then
#   schedules --gpus=1 jobs and sets CUDA_VISIBLE_DEVICES (a count-only GRES
#   leaves the node INVAL in 22.05).
# The daemons run in the background with PID files under $STATE; teardown.sh
# stops them by PID. Running this again is harmless (idempotent).
#
# Usage: sudo scripts/slurm/setup.sh        (env: STRATOPT_SLURM_STATE,
#        STRATOPT_SLURM_WAIT seconds to wait for an idle node, default 60)
set -euo pipefail

STATE=${STRATOPT_SLURM_STATE:-/var/lib/stratopt-slurm}
WAIT=${STRATOPT_SLURM_WAIT:-60}
CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf

log() { printf 'slurm-setup: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and starts daemons)"

install_packages() {
    local missing=()
    for cmd in slurmctld slurmd sinfo munged; do
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "packages already installed"
        return
    fi
    log "installing slurmctld slurmd slurm-client munge (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    # Another engineer's apt may hold the dpkg lock: wait for it, boundedly.
    apt-get -o DPkg::Lock::Timeout=300 update -q
    # policy-rc.d: keep the packages' maintainer scripts from starting
    # daemons through init scripts; this script starts them itself.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        created_policy=1
    fi
    apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
        slurmctld slurmd slurm-client munge
    [ "$created_policy" -eq 1 ] && rm -f "$policy"
    return 0
}

pid_alive() { # pidfile
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

setup_munge() {
    install -d -m 700 -o munge -g munge /etc/munge /var/lib/munge
    install -d -m 755 -o munge -g munge /run/munge /var/log/munge
    if [ ! -s /etc/munge/munge.key ]; then
        log "creating the munge key"
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
    if pid_alive "$STATE/munge/munged.pid" && munge -n </dev/null | unmunge >/dev/null 2>&1; then
        log "munged already running (pid $(cat "$STATE/munge/munged.pid"))"
        return
    fi
    log "starting munged"
    # munged runs as the munge user and daemonises itself; its PID file
    # goes into a state sub-folder that user owns.
    install -d -m 755 -o munge -g munge "$STATE/munge"
    runuser -u munge -- munged --pid-file="$STATE/munge/munged.pid" \
        --log-file=/var/log/munge/munged.log
    for _ in $(seq 50); do
        munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "munge does not round-trip; see /var/log/munge/munged.log"
}

write_config() {
    local host node_line
    host=$(hostname -s)
    # The node's real layout (CPUs, sockets, cores, threads, memory).
    node_line=$(slurmd -C | head -n 1)
    [[ "$node_line" == NodeName=* ]] || die "unexpected 'slurmd -C' output: $node_line"
    install -d -m 755 "$CONF_DIR"
    # A fake GPU: a character device node (NVIDIA's major number 195);
    # nothing ever opens it, SLURM only needs a device file to bind.
    if [ ! -c "$STATE/fake-nvidia0" ]; then
        rm -f "$STATE/fake-nvidia0"
        mknod -m 666 "$STATE/fake-nvidia0" c 195 0
    fi
    local new
    new=$(
        cat <<EOF
# Written by stratopt scripts/slurm/setup.sh: a single-node test cluster.
ClusterName=stratopt
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No systemd, no cgroups:
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Finished jobs stay visible to squeue for 10 minutes (status checks).
MinJobAge=600
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
GresTypes=gpu
${node_line} NodeAddr=127.0.0.1 Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    )
    local new_gres="NodeName=${host} Name=gpu File=$STATE/fake-nvidia0"
    CONFIG_CHANGED=0
    if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$new" ] ||
        [ ! -f "$CONF_DIR/gres.conf" ] || [ "$(cat "$CONF_DIR/gres.conf")" != "$new_gres" ]; then
        printf '%s\n' "$new" >"$CONF.tmp" && mv "$CONF.tmp" "$CONF"
        printf '%s\n' "$new_gres" >"$CONF_DIR/gres.conf.tmp" && mv "$CONF_DIR/gres.conf.tmp" "$CONF_DIR/gres.conf"
        CONFIG_CHANGED=1
        log "wrote $CONF and $CONF_DIR/gres.conf"
    fi
}

start_slurm() {
    if [ "$CONFIG_CHANGED" -eq 1 ] && { pid_alive "$STATE/slurmctld.pid" || pid_alive "$STATE/slurmd.pid"; }; then
        log "config changed: restarting the SLURM daemons"
        STRATOPT_SLURM_KEEP_MUNGE=1 "$(dirname "$0")/teardown.sh"
    fi
    if pid_alive "$STATE/slurmctld.pid"; then
        log "slurmctld already running (pid $(cat "$STATE/slurmctld.pid"))"
    else
        log "starting slurmctld"
        slurmctld # daemonises; PID file from SlurmctldPidFile
    fi
    if pid_alive "$STATE/slurmd.pid"; then
        log "slurmd already running (pid $(cat "$STATE/slurmd.pid"))"
    else
        log "starting slurmd"
        slurmd # daemonises; PID file from SlurmdPidFile
    fi
}

wait_idle() {
    local host state deadline
    host=$(hostname -s)
    deadline=$((SECONDS + WAIT))
    while [ $SECONDS -lt $deadline ]; do
        for daemon in slurmctld slurmd; do
            pid_alive "$STATE/$daemon.pid" || {
                sleep 0.5 # a daemon that forks writes its PID file a moment later
                pid_alive "$STATE/$daemon.pid" || {
                    tail -n 20 "$STATE/$daemon.log" >&2 || true
                    die "$daemon is not running (log above: $STATE/$daemon.log)"
                }
            }
        done
        state=$(sinfo -h -N -n "$host" -o '%T' 2>/dev/null || true)
        case "$state" in
        idle | mixed | allocated)
            log "node $host is $state ($(sinfo -h -N -n "$host" -o '%c CPUs, %m MB, %G'))"
            return 0
            ;;
        down* | drain* | inval*)
            scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true
            ;;
        esac
        sleep 0.5
    done
    log "node state: $(sinfo -N -l 2>&1 || true)"
    log "last lines of $STATE/slurmctld.log:"
    tail -n 20 "$STATE/slurmctld.log" >&2 || true
    log "last lines of $STATE/slurmd.log:"
    tail -n 20 "$STATE/slurmd.log" >&2 || true
    die "node $host not idle after ${WAIT}s"
}

start=$SECONDS
install_packages
install -d -m 755 "$STATE" "$STATE/ctld" "$STATE/d"
setup_munge
write_config
start_slurm
wait_idle
log "ready in $((SECONDS - start)) s (config $CONF, state $STATE)"
