"""The run summary names, per truth column, the clustering closest to it, skipping those that
found no structure."""

from __future__ import annotations

import json
from pathlib import Path

from galclust.stages.summary import summary


def _metrics(tmp: Path, fs: str, clustering: str, n_clusters: int, largest: float) -> Path:
    path = tmp / f"{fs}-{clustering}.json"
    path.write_text(json.dumps({
        "feature_set": fs, "clustering": clustering, "label": fs.title(), "n_clusters": n_clusters,
        "n_noise": 0, "n_galaxies": 100, "largest_fraction": largest, "silhouette": 0.2,
        "calinski_harabasz": 50.0, "davies_bouldin": 1.5,
    }))
    return path


def test_closest_clustering_per_truth_column_skips_degenerate(tmp_path: Path) -> None:
    files = [_metrics(tmp_path, "profiles", "spectral-k3", 3, 0.4),
             _metrics(tmp_path, "profiles", "kmeans-k3", 3, 0.5),
             _metrics(tmp_path, "pixels", "gmm-k2", 2, 0.99)]  # one cluster holds 99 %: no result
    truth = tmp_path / "truth.tsv"
    truth.write_text("clustering\ttruth\tari\tami\n"
                     "profiles/spectral-k3\tclass\t0.63\t0.57\nprofiles/kmeans-k3\tclass\t0.46\t0.39\n"
                     "pixels/gmm-k2\tclass\t0.90\t0.80\n"
                     "profiles/spectral-k3\tspiral\t0.20\t0.21\nprofiles/kmeans-k3\tspiral\t0.25\t0.20\n"
                     "pixels/gmm-k2\tspiral\t0.0\t0.0\n")
    out = tmp_path / "summary.md"
    summary(files, truth, [], [], out)
    text = out.read_text()
    assert "- closest to `class`: `profiles/spectral-k3`, ARI 0.630 (AMI 0.570); next `profiles/kmeans-k3` 0.460" in text
    assert "- closest to `spiral`: `profiles/kmeans-k3`, ARI 0.250" in text
    assert "`pixels/gmm-k2` (one cluster holds 99%)" in text  # flagged, and never called closest
