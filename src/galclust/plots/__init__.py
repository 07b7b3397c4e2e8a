"""Figures of the workflow: cluster members, dendrogram, score heat maps, diagnostic curves.

Every function checks its inputs first (raising ValueError with a clear
message before anything is written), then writes its file atomically: a
temporary sibling renamed into place, so no partial figure is ever left under
the final name. The format follows the suffix (.png at 110 dpi, or .pdf).
Figures are bare matplotlib ``Figure`` objects rendered with Agg (PNG) or the
PDF backend; importing this package does not touch pyplot's backend.
"""

from ._common import save_figure
from .curves import eigengap, elbow, loss_history, pca_variance
from .dendrogram import dendrogram_with_images
from .heatmaps import score_heatmap
from .members import cluster_member_pdfs, cluster_sizes, cluster_summary, pick_examples
from .scatter import feature_scatter

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
