"""`snakemake --report` on the finished tiny run, opened in headless Chromium.

The report must be one self-contained HTML file (figures embedded as data URIs, nothing
fetched from anywhere), list every figure family grouped by category and feature set with
its caption, and every figure must render (no broken image). The screenshots are kept in
``ci-artifacts/`` for CI to upload. A missing Chromium fails the test: it is part of the
test environment (``apt-get install -y --no-install-recommends chromium``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from browser import DevTools, chromium, screenshot
from conftest import REPO, snakemake
from galclust.config import clustering_jobs

pytestmark = pytest.mark.slow  # runs Snakemake, SLURM or Chromium (make test-fast leaves it out)

ARTIFACTS = REPO / "ci-artifacts"

# Every figure of the report, rendered one after the other in the report's own viewer.
RENDER_ALL = """
(async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  for (let i = 0; i < 400; i++) {
    if (typeof app !== "undefined" && document.querySelector("#app").children.length) break;
    await sleep(50);
  }
  const out = {categories: categories, results: {},
               text: document.querySelector("#app").innerText, ruleGraph: 0};
  for (let i = 0; i < 100 && !out.ruleGraph; i++) {
    out.ruleGraph = document.querySelectorAll("#app svg, #app canvas").length;
    await sleep(50);
  }
  for (const [path, entry] of Object.entries(results)) {
    app.setView({content: "img", contentPath: entry.data_uri, resultPath: path});
    let img;
    for (let i = 0; i < 200; i++) {
      img = Array.from(document.images).find((x) => x.src === entry.data_uri);
      if (img && img.complete) break;
      await sleep(25);
    }
    if (img) { try { await img.decode(); } catch (e) {} }
    out.results[path] = {
      mime: entry.mime_type, caption: entry.caption, labels: entry.labels,
      embedded: entry.data_uri.startsWith("data:image/png;") && entry.data_uri.includes(";base64,"),
      shown: !!img, width: img ? img.naturalWidth : 0, height: img ? img.naturalHeight : 0,
      ok: !!img && img.complete && img.naturalWidth > 0,
    };
  }
  out.broken = Array.from(document.images)
    .filter((x) => !(x.complete && x.naturalWidth > 0)).map((x) => x.src.slice(0, 80));
  return out;
})()
"""

# A figure to look at in the screenshot: a cluster summary, with its category open.
SHOW = """
(async () => {
  app.setView({navbarMode: "subcategory", category: %(category)r, subcategory: %(subcategory)r,
               content: "img", contentPath: results[%(path)r].data_uri, resultPath: %(path)r});
  await new Promise((r) => setTimeout(r, 500));
  const img = Array.from(document.images).find((x) => x.src === results[%(path)r].data_uri);
  if (img) await img.decode();
  return !!img && img.naturalWidth > 0;
})()
"""


@pytest.fixture(scope="module")
def report(tiny_run, tmp_path_factory) -> Path:
    workdir, config_path, _ = tiny_run
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = snakemake(workdir, config_path, "--report", str(out), timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return out


def test_chromium_is_installed():
    assert chromium()


def test_report_is_one_self_contained_html_file(report):
    head = report.read_bytes()[:200].lstrip().lower()
    assert head.startswith(b"<!doctype html"), head  # the HTML itself, not a zip
    text = report.read_text(encoding="utf-8")
    assert len(re.findall(r"data:image/png;[^,]*base64,", text)) >= 10  # figures embedded
    assert "galclust groups galaxy images" in text  # report/workflow.rst


def _png_is_not_blank(path: Path, size: tuple[int, int]) -> None:
    with Image.open(path) as img:
        assert img.size == size
        pixels = np.asarray(img.convert("L"), dtype=float)
    assert pixels.std() > 5, "the screenshot is a blank page"


def test_report_renders_every_figure_in_headless_chromium(report, tiny_run):
    _, _, config = tiny_run
    ARTIFACTS.mkdir(exist_ok=True)
    url = report.resolve().as_uri()

    # the plain screenshot of the issue: the landing page (workflow description, rule graph)
    shot = screenshot(url, ARTIFACTS / "report.png")
    assert shot.returncode == 0, shot.stderr[-2000:]
    _png_is_not_blank(ARTIFACTS / "report.png", (1400, 2000))

    with DevTools(width=1400, height=2000) as browser:
        browser.call("Network.enable")
        browser.open(url)
        page = browser.evaluate(RENDER_ALL, timeout=300)
        requested = [e["params"]["request"]["url"] for e in browser.events
                     if e.get("method") == "Network.requestWillBeSent"]
        jobs = list(clustering_jobs(config))
        example = f"results/clustering/{list(config['features'])[0]}/{jobs[0]}/summary.png"
        assert browser.evaluate(SHOW % {"category": "Clusters", "subcategory": list(config["features"])[0],
                                        "path": example})
        browser.screenshot(ARTIFACTS / "report-figure.png")
    _png_is_not_blank(ARTIFACTS / "report-figure.png", (1400, 2000))

    # nothing fetched from outside the file
    assert all(u.startswith(("file:", "data:", "about:")) for u in requested), requested
    # the landing page: workflow description and rule graph
    assert "galclust groups galaxy images" in page["text"]
    assert "results/explorer/index.html" in page["text"]  # the explorer page, linked
    assert page["ruleGraph"] > 0

    # every figure family, grouped by category and feature set
    features = set(config["features"])
    agglomerative = [j for j in jobs if j.startswith("agglomerative-")]
    cats = {c: {s: len(paths) for s, paths in subs.items()} for c, subs in page["categories"].items()}
    assert cats == {
        "Clusters": {fs: 2 * len(jobs) for fs in features},  # summary and sizes per clustering
        "Dendrograms": {fs: len(agglomerative) for fs in features},
        "Feature sets": {fs: 4 for fs in features},  # PCA variance, elbow, eigengap, BIC/AIC
        "Maps": {fs: 3 for fs in features},  # clusterings, truth and thumbnails on the map
        "Comparison": {"between clusterings": 2, "against the truth": 2, "between views": 1},  # + k-NN/probe
        "Training": {"refcnn": 1},
    }, cats
    names = {Path(p).name for p in page["results"]}
    assert names == {"summary.png", "sizes.png", "dendrogram.png", "variance.png", "elbow.png",
                     "eigengap.png", "information.png", "cluster_map.png", "truth_map.png", "thumbnail_map.png",
                     "ari.png", "ami.png", "truth.png", "quality.png", "views.png", "loss.png"}

    # each with a caption saying what it shows and which rule made it
    for path, r in page["results"].items():
        assert r["mime"] == "image/png" and r["embedded"], path
        assert "rule" in r["caption"] and "{{" not in r["caption"], (path, r["caption"])
        assert r["labels"] and all(r["labels"].values()), path

    # and every figure rendered: no broken image anywhere
    not_rendered = {p: r for p, r in page["results"].items()
                    if not p.endswith(".html") and not (r["ok"] and r["width"] > 100)}
    assert not not_rendered, not_rendered
    assert page["broken"] == []
