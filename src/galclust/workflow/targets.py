"""What the run makes: the wildcards of every job whose outputs it keeps, by rule
(``rules/targets.smk`` expands each rule's own outputs with them for ``rule all`` and the
manifest), and the clusterings each report draws."""

from __future__ import annotations

from .galaxies import Galaxies


class Targets(Galaxies):
    """The planned jobs and the report's choices."""

    def explorer_features(self) -> str:
        """The feature set the explorer page shows (``report.explorer.features``, else the first)."""
        return self.config["report"]["explorer"]["features"] or next(iter(self.features))

    def member_pdf_targets(self) -> list[dict[str, str]]:
        return [dict(zip(("fs", "job"), t.split("/", 1))) for t in self.config["report"]["member_pdfs"]]

    def physical_targets(self) -> list[dict[str, str]]:
        """Clusterings drawn against catalog columns (none when no column is configured)."""
        physical = self.config["report"]["physical"]
        if not (physical["pairs"] or physical["columns"]) or not self.needs_images:
            return []
        chosen = physical["clusterings"]
        if chosen == "all":
            return self.clusterings()
        if chosen == "member_pdfs":
            return self.member_pdf_targets()
        return [dict(zip(("fs", "job"), t.split("/", 1))) for t in chosen]

    def view_families(self) -> dict[str, list[str]]:
        """Feature sets with views, and their views: compared in one figure (PCA vs t-SNE vs LDA)."""
        families: dict[str, list[str]] = {}
        for name in self.features:
            families.setdefault(self.root(name), []).append(name)
        return {root: members for root, members in families.items() if len(members) > 1}

    def planned_jobs(self) -> dict[str, list[dict[str, str]]]:
        """The wildcards of every job whose outputs the run keeps, by rule (temporary stores aside):
        ``rule all`` and ``results/manifest.json`` expand the rules' own outputs with them
        (``rules/targets.smk``). A run against a reference projects and assigns instead of
        training, reducing and clustering."""
        batches = [{"batch": b} for b in self.batches]
        feature_sets = [{"fs": fs} for fs in self.features]
        jobs: dict[str, list[dict[str, str]]] = {
            "catalog": [{}] if self.needs_images else [],
            "acquire": batches,
            "preprocess": batches,
            "extract": [{"batch": b, "extractor": e} for b in self.batches for e in self.raw_stores()],
            "extract_projected": [{"batch": b, "fs": fs} for b in self.batches for fs in self.projected],
        }
        if self.reference is not None:
            return {**jobs, "project": feature_sets, "assign": self.clusterings()}
        own = [{"fs": fs} for fs in self.features if fs not in self.projected]
        projected = [{"fs": fs} for fs in self.projected]
        return {
            **jobs,
            "train_model": [{"model": m} for m in self.trained_models()],
            "reduce": own,
            "fit_projection": projected,
            "gather_projected": projected,
            "elbow_eigengap": feature_sets,
            "neighbour_index": feature_sets,
            "similar_sheets": feature_sets if self.config["report"]["similar"] else [],
            "maps": feature_sets,
            "quality": feature_sets,
            "cluster": self.clusterings(),
            "plot_clustering": self.clusterings(),
            "dendrogram": [{"fs": fs, "job": job}
                           for fs in self.features for job in self.jobs_for(fs, self.jobs_with("dendrogram"))],
            "member_pdfs": self.member_pdf_targets(),
            "physical": self.physical_targets(),
            "quality_plot": [{}],
            "explorer": [{}],
            "compare": [{}],
            "summary": [{}],
        }
