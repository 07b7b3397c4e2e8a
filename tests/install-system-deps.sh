#!/usr/bin/env bash
# Install the system programs the tests drive: Debian's slurmctld, slurmd, slurm-client and
# munge (tests/test_slurm.py starts a one-node SLURM) and chromium (tests/test_report.py opens
# the Snakemake report headless). Idempotent: does nothing when they are installed.
# Needs root (CI runs it from .ci/run; `make test` runs it when you are root).
set -euo pipefail

packages=(slurmctld slurmd slurm-client munge chromium)
commands=(slurmctld slurmd sbatch squeue sinfo scontrol munged mungekey chromium)

missing=0
for cmd in "${commands[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing=1
done
if [ "$missing" = 0 ]; then
    echo "tests/install-system-deps.sh: SLURM, munge and chromium already installed"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "tests/install-system-deps.sh: needs root to install ${packages[*]} (or: sudo $0)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "tests/install-system-deps.sh: no apt-get; install ${packages[*]} with your package manager" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# `apt-get update` only when the package lists do not know the packages yet (fresh images).
if ! apt-cache show "${packages[@]}" >/dev/null 2>&1; then
    apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "tests/install-system-deps.sh: installed ${packages[*]}"
