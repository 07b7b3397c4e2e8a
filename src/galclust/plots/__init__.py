"""Figures of the workflow: cluster members, dendrogram, score heat maps, diagnostic curves.

Every function checks its inputs first (raising ValueError with a clear
message before anything is written), then writes its file atomically: a
temporary sibling renamed into place, so no partial figure is ever left under
the final name. The format follows the suffix (.png at 110 dpi, or .pdf).
Figures are bare matplotlib ``Figure`` objects rendered with Agg (PNG) or the
PDF backend; importing this package does not touch pyplot's backend.
"""

from importlib import import_module
from typing import Any

# Each figure job draws one or two kinds of figure: names are imported from their module on
# first use (PEP 562), so a job does not pay for SciPy's clustering or the PDF backend
# (about 0.7 s a job) when it draws neither.
_HOME = {
    "save_figure": "_common",
    "eigengap": "curves",
    "elbow": "curves",
    "loss_history": "curves",
    "pca_variance": "curves",
    "dendrogram_with_images": "dendrogram",
    "score_heatmap": "heatmaps",
    "cluster_member_pdfs": "members",
    "cluster_sizes": "members",
    "cluster_summary": "members",
    "pick_examples": "members",
    "feature_scatter": "scatter",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "cluster_member_pdfs",
    "cluster_sizes",
    "cluster_summary",
    "dendrogram_with_images",
    "eigengap",
    "feature_scatter",
    "elbow",
    "loss_history",
    "pca_variance",
    "pick_examples",
    "save_figure",
    "score_heatmap",
]
