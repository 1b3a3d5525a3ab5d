#!/usr/bin/env bash
# Debian packages the tests need: Chromium (the report is checked in a real
# browser). The SLURM packages are installed by scripts/slurm/setup.sh.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: missing ${need[*]}; install them as root (apt-get install ${need[*]}) or the browser tests skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" fonts-dejavu-core >/dev/null
