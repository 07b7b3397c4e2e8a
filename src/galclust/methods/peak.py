"""Measure a clustering method's peak memory and wall time on a synthetic Gaussian
mixture, in a fresh subprocess, to check ``memory_bytes`` and to benchmark the routes.

``python -m galclust.methods.peak METHOD N D K SEED PARAMS_JSON [LABELS.npy]`` prints one
JSON line: ``measured_bytes`` (peak RSS over the process's RSS just before the data was
made; the input array is counted, as ``memory_bytes`` counts it), ``predicted_bytes``,
``wall_s``, ``route`` and ``info``. Imports and a tiny warm-up fit (numba compilation,
thread pools) happen before the baseline so they are not counted.
"""

from __future__ import annotations

import importlib
import json
import resource
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

import numpy as np


def gaussian_mixture(n: int, d: int, k: int, seed: int, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """n rows of d float32 features from k isotropic unit-variance Gaussians whose centres
    are N(0, 4²) per coordinate (well separated for d ≳ 8), and the true labels. Made in
    chunks, so the peak is the float32 array itself."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 4.0, (k, d))
    truth = rng.integers(0, k, n)
    X = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, chunk):
        t = truth[s : s + chunk]
        X[s : s + chunk] = centres[t] + rng.normal(size=(len(t), d))
    return X, truth


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def _maxrss_bytes() -> int:
    """Peak RSS since the last :func:`_reset_peak` (VmHWM), else since the process began."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # KiB on Linux


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux ≥ 4.0: ``5 > /proc/self/clear_refs``), so
    several sizes can be measured in one process; False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _warm_params(params: Mapping[str, Any]) -> dict[str, Any]:
    warm = dict(params)
    for key in ("n_microclusters",):
        if key in warm:
            warm[key] = min(int(warm[key]), 50)
    if "k" in warm:
        warm["k"] = min(int(warm["k"]), 5)
    return warm


def run_here(method: str, n: int, d: int, k: int, seed: int, params: Mapping[str, Any], labels_path: str | None) -> dict[str, Any]:
    """Warm up, then fit once on the mixture; the measurement (see module docstring)."""
    mod = importlib.import_module(f"galclust.methods.{method}")
    Xw, _ = gaussian_mixture(300, d, min(k, 5), seed + 1)
    warm = _warm_params(params)
    mod.fit(Xw, warm, seed)
    mod.fit(Xw, {**warm, "route": "scalable"} if warm.get("route") != "exact" else warm, seed)
    del Xw
    _reset_peak()
    base = _rss_bytes()
    X, _ = gaussian_mixture(n, d, k, seed)
    t0 = time.perf_counter()
    result = mod.fit(X, params, seed)
    wall = time.perf_counter() - t0
    peak = _maxrss_bytes()
    if labels_path:
        np.save(labels_path, result.labels)
    return {
        "method": method,
        "n": n,
        "d": d,
        "measured_bytes": max(0, peak - base),
        "predicted_bytes": int(mod.memory_bytes(n, d, params)),
        "wall_s": wall,
        "route": result.info.get("route"),
        "info": result.info,
    }


def measure_sizes(
    method: str, sizes: list[int], d: int, k: int, seed: int, params: Mapping[str, Any], timeout: float | None = None
) -> list[dict[str, Any]]:
    """:func:`measure` at each size, each in its own fresh process: in one process, memory
    freed by a smaller fit stays mapped and hides part of the next one's peak."""
    return [measure(method, n, d, k, seed, params, timeout=timeout) for n in sizes]


def measure(
    method: str, n: int, d: int, k: int, seed: int, params: Mapping[str, Any],
    labels_path: str | None = None, timeout: float | None = None, nice: int = 0,
) -> dict[str, Any]:
    """:func:`run_here` in a fresh Python process (so peaks do not mix); raises
    ``subprocess.TimeoutExpired`` past ``timeout`` seconds."""
    cmd = [sys.executable, "-m", "galclust.methods.peak", method, str(n), str(d), str(k), str(seed), json.dumps(dict(params))]
    if labels_path:
        cmd.append(labels_path)
    if nice:
        cmd = ["nice", "-n", str(nice), *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{method} n={n}: exit {out.returncode}: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    method, n, d, k, seed, params = argv[:6]
    labels_path = argv[6] if len(argv) > 6 else None
    for size in n.split(","):
        print(json.dumps(run_here(method, int(size), int(d), int(k), int(seed), json.loads(params), labels_path)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
