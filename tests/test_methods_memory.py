"""Each method's ``memory_bytes`` is within 2× of the peak RSS its ``fit`` reaches, on the
route it takes, at three sizes (each fit in a fresh subprocess: galclust.methods.peak)."""

from __future__ import annotations

import pytest

from galclust.methods.peak import measure_sizes

#: (method, params, d, sizes): sizes small enough for seconds, large enough that the
#: N-dependent memory dominates the allocator's noise.
CASES = [
    ("kmeans", {"k": 8, "n_init": 1}, 512, (2000, 4000, 8000)),
    ("agglomerative", {"k": 8}, 64, (1000, 2000, 3000)),
    ("affinity_propagation", {"damping": 0.9}, 64, (800, 1400, 2000)),
    ("dbscan", {"eps": 12.0, "min_samples": 5}, 64, (1000, 2000, 3000)),
    ("hdbscan", {"min_cluster_size": 25}, 256, (2000, 4000, 6000)),
    ("spectral", {"k": 8, "n_neighbors": 10}, 64, (1000, 2000, 3000)),
    ("agglomerative", {"k": 8, "route": "scalable", "n_microclusters": 500}, 512, (2000, 4000, 8000)),
    ("affinity_propagation", {"damping": 0.9, "route": "scalable", "n_microclusters": 1000, "partition_max_n": 100},
     512, (2000, 4000, 8000)),
    ("affinity_propagation", {"damping": 0.9, "route": "scalable", "part_size": 1000}, 64, (2000, 4000, 8000)),
    ("dbscan", {"eps": 12.0, "min_samples": 5, "route": "scalable"}, 512, (2000, 4000, 8000)),
    ("spectral", {"k": 8, "n_neighbors": 10, "route": "scalable"}, 512, (2000, 4000, 8000)),
]


@pytest.mark.parametrize(
    ("method", "params", "d", "sizes"), CASES, ids=[f"{c[0]}-{c[1].get('route', 'auto')}{'-parts' if 'part_size' in c[1] else ''}" for c in CASES]
)
@pytest.mark.slow
def test_memory_prediction_within_2x(method: str, params: dict, d: int, sizes: tuple[int, ...]) -> None:
    for n, r in zip(sizes, measure_sizes(method, list(sizes), d, 8, 0, params, timeout=600)):
        assert r["n"] == n
        expected_route = params.get("route", "exact")
        assert r["route"] == expected_route
        ratio = r["predicted_bytes"] / max(r["measured_bytes"], 1)
        assert 0.5 <= ratio <= 2.0, f"{method} n={n}: predicted {r['predicted_bytes']}, measured {r['measured_bytes']}"
