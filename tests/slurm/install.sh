#!/usr/bin/env bash
# Install what tests/test_slurm.py needs to start a one-node SLURM: Debian's slurmctld,
# slurmd, slurm-client and munge. Idempotent: does nothing when they are installed.
# Needs root (CI runs it from .ci/run; `make test` runs it when you are root).
set -euo pipefail

packages=(slurmctld slurmd slurm-client munge)
commands=(slurmctld slurmd sbatch squeue sinfo scontrol munged mungekey)

missing=0
for cmd in "${commands[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing=1
done
if [ "$missing" = 0 ]; then
    echo "tests/slurm/install.sh: SLURM and munge already installed"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "tests/slurm/install.sh: needs root to install ${packages[*]} (or: sudo $0)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "tests/slurm/install.sh: no apt-get; install ${packages[*]} with your package manager" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# `apt-get update` only when the package lists do not know the packages yet (fresh images).
if ! apt-cache show "${packages[@]}" >/dev/null 2>&1; then
    apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "tests/slurm/install.sh: installed ${packages[*]}"
