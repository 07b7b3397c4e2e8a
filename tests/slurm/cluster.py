"""A throw-away one-node SLURM cluster on 127.0.0.1, for tests/test_slurm.py.

Everything lives in one temporary directory: a private MUNGE key and socket, slurm.conf,
state, spool, logs and PID files, with free TCP ports, so it never touches a SLURM or
MUNGE already running on the machine. ``munged``, ``slurmctld -D`` and ``slurmd -D`` are
started in the foreground as child processes; ``stop()`` cancels this cluster's jobs and
stops exactly those three PIDs. Clients find the cluster through ``SLURM_CONF``
(``cluster.env``).

Run by hand to poke at it (Ctrl-C stops it)::

    sudo .venv/bin/python tests/slurm/cluster.py
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")
COMMANDS = ("munged", "slurmctld", "slurmd", "sbatch", "srun", "squeue", "sinfo", "scontrol", "scancel")
INSTALL = "tests/install-system-deps.sh"


class ClusterError(RuntimeError):
    """SLURM could not be set up; the message says why and how to fix it."""


def which(cmd: str) -> str | None:
    path = os.pathsep.join([os.environ.get("PATH", ""), *SBIN])
    return shutil.which(cmd, path=path)


def missing_commands() -> list[str]:
    return [c for c in COMMANDS if which(c) is None]


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports free on 127.0.0.1 right now."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def node_memory_mb() -> int:
    """Total memory in MB (as slurmd counts it), from /proc/meminfo."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise ClusterError("cannot read MemTotal from /proc/meminfo")


class SlurmCluster:
    """One controller and one compute node on this machine, in ``base``."""

    partition = "debug"

    def __init__(self, base: Path | None = None) -> None:
        missing = missing_commands()
        if missing:
            raise ClusterError(
                f"SLURM/MUNGE commands not found: {', '.join(missing)}. Install them with "
                f"`sudo {INSTALL}` (Debian/Ubuntu: slurmctld slurmd slurm-client munge); "
                "`make test` does it when run as root."
            )
        if os.geteuid() != 0:
            raise ClusterError(
                "the SLURM test starts slurmd, which must run as root to launch jobs; "
                "run the tests as root (CI does: .ci/run), e.g. `sudo make test`."
            )
        # Not under pytest's tmp_path: that is 0700 root, and munged runs as 'munge'.
        self.base = Path(base or tempfile.mkdtemp(prefix="galclust-slurm-"))
        self.base.chmod(0o755)
        self.node = socket.gethostname().split(".")[0]
        # at least 2: the workflow's threaded rules ask for 2 CPUs (see config_overrides)
        self.cpus = max(len(os.sched_getaffinity(0)), 2)
        # a little under the machine's memory: slurmd drains a node that has less than configured
        self.memory_mb = max(int(node_memory_mb() * 0.9), 500)
        self.conf = self.base / "slurm.conf"
        self.munge_socket = self.base / "munge" / "munge.socket"
        self.procs: dict[str, subprocess.Popen] = {}
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        # bin/ first: the srun wrapper (see _srun_wrapper)
        self.env["PATH"] = os.pathsep.join([str(self.base / "bin"), self.env.get("PATH", ""), *SBIN])
        for var in [v for v in self.env if v.startswith(("SLURM_", "SBATCH_", "SRUN_", "SQUEUE_"))]:
            if var != "SLURM_CONF":
                del self.env[var]

    # -- set-up -------------------------------------------------------------------------

    def _munge_files(self) -> None:
        munge = pwd.getpwnam("munge")
        d = self.base / "munge"
        d.mkdir(mode=0o755)
        key = d / "munge.key"
        # a private key: this cluster never shares credentials with a real one
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        for p in (d, key):
            os.chown(p, munge.pw_uid, munge.pw_gid)

    def _srun_wrapper(self) -> None:
        """``bin/srun``: the real srun with ``SLURM_CONF`` set again.

        snakemake-executor-plugin-slurm-jobstep (0.6.1) runs each job as ``srun … snakemake``
        inside the batch job, but first drops every ``SLURM_*`` variable it does not know,
        ``SLURM_CONF`` included, so that srun would look for /etc/slurm/slurm.conf. A real
        cluster has that file (or runs configless); this private cluster must not write there.
        """
        wrapper = self.base / "bin" / "srun"
        wrapper.parent.mkdir()
        wrapper.write_text(f'#!/bin/sh\nSLURM_CONF={self.conf} exec {which("srun")} "$@"\n')
        wrapper.chmod(0o755)

    def _slurm_conf(self) -> str:
        b = self.base
        ctld_port, slurmd_port = free_ports(2)
        return "\n".join([
            "# written by tests/slurm/cluster.py: one node on 127.0.0.1, no accounting, no cgroups",
            "ClusterName=galclust-test",
            f"SlurmctldHost={self.node}(127.0.0.1)",
            f"SlurmctldPort={ctld_port}",
            f"SlurmdPort={slurmd_port}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.munge_socket}",
            f"StateSaveLocation={b}/state",
            f"SlurmdSpoolDir={b}/spool",
            f"SlurmctldPidFile={b}/slurmctld.pid",
            f"SlurmdPidFile={b}/slurmd.pid",
            f"SlurmctldLogFile={b}/slurmctld.log",
            f"SlurmdLogFile={b}/slurmd.log",
            f"PlugStackConfig={b}/plugstack.conf",
            "SlurmctldDebug=info",
            "SlurmdDebug=info",
            # no cgroups in containers: track processes by /proc, bind nothing
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/none",
            "MpiDefault=none",
            "SwitchType=switch/none",
            "SchedulerType=sched/backfill",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_CPU_Memory",
            "ReturnToService=2",
            # trust this file's CPUs and memory, not the hardware (a 1-CPU CI machine still
            # gets 2); nothing is enforced anyway without cgroups
            "SlurmdParameters=config_overrides",
            # squeue shows finished jobs for an hour: the executor's status checks use squeue
            # (no accounting database, so no sacct), and the test reads them afterwards
            "MinJobAge=3600",
            "InactiveLimit=0",
            "KillWait=5",
            "Waittime=0",
            f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} "
            f"RealMemory={self.memory_mb} State=UNKNOWN",
            f"PartitionName={self.partition} Nodes={self.node} Default=YES "
            "MaxTime=INFINITE State=UP",
            "",
        ])

    def _spawn(self, name: str, cmd: list[str], **kw) -> None:
        log = open(self.base / f"{name}.out", "wb")
        self.procs[name] = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=self.env, cwd=self.base, start_new_session=True, **kw,
        )
        log.close()

    def _alive(self, name: str) -> None:
        p = self.procs[name]
        if p.poll() is not None:
            raise ClusterError(f"{name} exited with {p.returncode}:\n{self.logs(name)}")

    def _wait(self, what: str, check, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name in self.procs:
                self._alive(name)
            if check():
                return
            time.sleep(0.2)
        raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}:\n{self.logs()}")

    def run(self, *cmd: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess:
        """A SLURM client command against this cluster."""
        res = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=timeout)
        if check and res.returncode:
            raise ClusterError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip()}")
        return res

    def start(self, timeout: float = 60) -> "SlurmCluster":
        for d in ("state", "spool"):
            (self.base / d).mkdir()
        (self.base / "plugstack.conf").write_text("")
        self._munge_files()
        self._srun_wrapper()
        self.conf.write_text(self._slurm_conf())
        try:
            d = self.base / "munge"
            self._spawn("munged", [
                which("munged"), "--foreground", f"--socket={self.munge_socket}",
                f"--key-file={d / 'munge.key'}", f"--pid-file={d / 'munged.pid'}",
                f"--log-file={d / 'munged.log'}", f"--seed-file={d / 'munged.seed'}",
            ], user="munge", group="munge")
            self._wait("munged's socket", self.munge_socket.exists, timeout)
            self._spawn("slurmctld", [which("slurmctld"), "-D", "-i", "-f", str(self.conf)])
            self._wait("slurmctld", lambda: self.run("scontrol", "ping", check=False).stdout.count("UP") > 0,
                       timeout)
            self._spawn("slurmd", [which("slurmd"), "-D", "-N", self.node, "-f", str(self.conf)])
            self._wait(f"node {self.node} idle in sinfo", self._idle, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _idle(self) -> bool:
        res = self.run("sinfo", "-h", "-N", "-o", "%T", check=False)
        state = res.stdout.strip()
        if state.startswith(("drain", "inval")):
            reason = self.run("sinfo", "-h", "-N", "-o", "%E", check=False).stdout.strip()
            raise ClusterError(f"node {self.node} is {state}: {reason}\n{self.logs()}")
        return state == "idle"

    # -- tear-down ----------------------------------------------------------------------

    def stop(self, timeout: float = 20) -> None:
        """Cancel this cluster's jobs, then stop the daemons it started, by PID."""
        ctld = self.procs.get("slurmctld")
        if ctld is not None and ctld.poll() is None:
            self.run("scancel", "--full", "--user", pwd.getpwuid(os.geteuid()).pw_name,
                     check=False, timeout=10)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                res = self.run("squeue", "-h", "-t", "PENDING,RUNNING,COMPLETING,SUSPENDED",
                               "-o", "%i", check=False, timeout=10)
                if res.returncode or not res.stdout.strip():
                    break
                time.sleep(0.5)
        # slurmd first (it would end its job steps), then the controller, then munged
        for name in ("slurmd", "slurmctld", "munged"):
            p = self.procs.get(name)
            if p is None or p.poll() is not None:
                continue
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout)
        # job steps (slurmstepd, srun, the jobs) outlive slurmd briefly; wait for them
        deadline = time.monotonic() + timeout
        while self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.2)

    def leftovers(self) -> dict[int, str]:
        """Live processes started through this cluster: PID -> command line.

        Every daemon, job step and job inherits this cluster's environment, which names
        ``self.base`` (``SLURM_CONF``, ``PATH``); zombies are ignored (nothing runs).
        """
        found = {}
        me = os.getpid()
        for d in Path("/proc").iterdir():
            if not d.name.isdigit() or int(d.name) == me:
                continue
            try:
                if (d / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
                if str(self.base).encode() in (d / "environ").read_bytes():
                    cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    found[int(d.name)] = cmd.strip()
            except (OSError, IndexError):
                continue  # gone meanwhile, or not ours to read
        return found

    def cleanup(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

    def logs(self, *names: str) -> str:
        out = []
        files = [f"{n}.out" for n in names] or ["munged.out", "slurmctld.out", "slurmd.out",
                                               "slurmctld.log", "slurmd.log", "munge/munged.log"]
        for f in files:
            p = self.base / f
            if p.exists():
                text = p.read_text(errors="replace").strip()
                if text:
                    out.append(f"--- {f} (last lines) ---\n" + "\n".join(text.splitlines()[-25:]))
        return "\n".join(out)

    def __enter__(self) -> "SlurmCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    with SlurmCluster() as c:
        print(f"SLURM_CONF={c.conf}")
        print(c.run("sinfo").stdout)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    print("stopped")
