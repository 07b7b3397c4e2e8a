"""Rule ``cluster``: one clustering job (method × setting) on one feature set."""

from __future__ import annotations

import logging
from typing import Any

from astropy.table import Table

from ..config import ClusteringJob
from ..store import provenance as package_versions
from ..store import read_array, read_attrs, read_ids
from ..tables import write_table
from .common import PathLike, provenance, write_json

log = logging.getLogger(__name__)


def cluster(fs_name: str, job: ClusteringJob | dict[str, Any], seed: int, reduced: PathLike,
            labels_out: PathLike, metrics_out: PathLike) -> None:
    """Labels table (id, label) and metrics.json (scores, route, method's own numbers). ``job``: the
    clustering, or its fields as a rule's ``params`` carry it (:meth:`galclust.workflow.Plan.cluster_params`)."""
    from ..cluster import fit_predict, scores

    job = job if isinstance(job, ClusteringJob) else ClusteringJob(**job)
    job_name, method, params = job.name, job.method, job.params
    X, ids = read_array(reduced, "features"), read_ids(reduced)
    result = fit_predict(X, job, seed)
    made_by = provenance({"method": method, "params": params, "seed": seed})
    metrics: dict[str, Any] = {
        "feature_set": fs_name, "label": read_attrs(reduced).get("label", fs_name),
        "clustering": job_name, "method": method, "params": job.params,
        **scores(X, result.labels, seed=seed, inertia=result.info.get("inertia")),
        **{k: v for k, v in result.info.items() if k != "inertia"}, **made_by,
    }
    from ..methods import METHODS

    if (measure := METHODS[method].measure) is not None:  # what the method's diagnostic figures draw
        metrics.update(measure(X, job.params, seed))
    table = Table({"id": ids, "label": result.labels})
    table.meta.update({"feature_set": fs_name, "clustering": job_name, **made_by,
                       "provenance": package_versions()})
    write_table(table, labels_out)
    write_json(metrics_out, metrics)
    log.info("%s on %s: %d clusters (route %s)", job_name, fs_name, metrics["n_clusters"],
             result.info.get("route", "exact"))
