"""The explorer page: inputs checked, and in headless Chromium from file:// a real click
shows the clicked galaxy's neighbours' thumbnails, with no request leaving the page."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table
from PIL import Image

from browser import DevTools
from galclust.explorer import encode_atlases, thumbnails_from_images, write_explorer

pytestmark = pytest.mark.slow  # runs Snakemake, SLURM or Chromium (make test-fast leaves it out)

N, K = 300, 5

# Wait for Bokeh, then the page position of galaxy `i` (canvas offset + frame scales).
LOCATE = """
(async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  for (let t = 0; t < 400; t++) {
    if (window.Bokeh && Bokeh.documents.length && Object.keys(Bokeh.index).length) break;
    await sleep(50);
  }
  const doc = Bokeh.documents[0], plot = doc.get_model_by_name("map");
  const src = doc.get_model_by_name("points");
  const find = (v) => {
    if (!v) return null;
    if (v.model === plot) return v;
    for (const c of (v.child_views || [])) { const r = find(c); if (r) return r; }
    return null;
  };
  let pv = null;
  for (let t = 0; t < 100 && !pv; t++) {
    for (const v of Object.values(Bokeh.index)) pv = pv || find(v);
    if (!pv) await sleep(50);
  }
  await sleep(300);
  const rect = pv.canvas_view.el.getBoundingClientRect();
  return {x: rect.left + pv.frame.x_scale.compute(src.data.x[%(i)d]),
          y: rect.top + pv.frame.y_scale.compute(src.data.y[%(i)d]),
          webgl: plot.output_backend};
})()
"""

STATE = """
(() => {
  const doc = Bokeh.documents[0];
  const m = (name) => doc.get_model_by_name(name);
  return {selected: m("points").selected.indices, detail: m("detail").text, hover: m("hover").text,
          members: m("members").text};
})()
"""


def _colour(i: int) -> np.ndarray:
    """A distinct flat colour per galaxy, so a thumbnail tells whose it is."""
    return np.array([(i * 37) % 256, (i * 91) % 256, (i * 53) % 256], np.uint8)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    xy = rng.uniform(-10, 10, size=(N, 2))
    xy[7] = (30.0, 30.0)  # an isolated galaxy to click
    labels = (xy[:, 0] > 0).astype(int) + 2 * (xy[:, 1] > 0)
    labels[:3] = -1
    thumbs = np.stack([np.broadcast_to(_colour(i), (32, 32, 3)) for i in range(N)])
    neighbours = np.stack([rng.choice(np.delete(np.arange(N), i), K, replace=False) for i in range(N)])
    catalog = Table({"id": [f"g{i}" for i in range(N)], "redshift": rng.uniform(0, 0.2, N)})
    out = tmp_path_factory.mktemp("explorer") / "explorer" / "index.html"
    write_explorer(out, [f"g{i}" for i in range(N)], xy, thumbs,
                   {"kmeans-k4": labels, "redshift": np.asarray(catalog["redshift"])},
                   neighbours, catalog, "test explorer")
    return out, neighbours, labels


def _decode(data_url: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB"))


def test_page_is_self_contained(page):
    html = page[0].read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "cdn.bokeh.org" not in html and "<script src=" not in html.replace(" ", "")
    assert "webgl" in html


def test_click_shows_the_neighbours_thumbnails_offline(page):
    out, neighbours, labels = page
    with DevTools(width=1400, height=1000) as browser:
        browser.call("Network.enable")
        browser.open(out.resolve().as_uri())
        where = browser.evaluate(LOCATE % {"i": 7})
        assert where["webgl"] == "webgl"
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            browser.call("Input.dispatchMouseEvent", type=kind, x=where["x"], y=where["y"],
                         button="left", clickCount=1)
        state = {}
        for _ in range(100):  # the atlas may still be decoding: the page re-renders then
            state = browser.evaluate(STATE)
            if state["detail"].count('class="gc-thumb"') == K + 1:
                break
            time.sleep(0.1)
        assert state["selected"] == [7]
        assert "g7" in state["hover"]
        detail = state["detail"]
        assert "g7" in detail and "redshift" in detail and f"{K} nearest neighbours" in detail
        # the thumbnails shown are the clicked galaxy's, then its neighbours', in order
        urls = [part.split('"', 1)[0] for part in detail.split('<img src="')[1:]]
        assert len(urls) == K + 1
        for row, url in zip([7, *neighbours[7].tolist()], urls, strict=True):
            pixels = _decode(url)
            assert pixels.shape == (32, 32, 3)
            assert np.abs(pixels.mean(axis=(0, 1)) - _colour(row)).max() < 12, row
        for j in neighbours[7]:
            assert f"g{j}<" in detail

        # the cluster picker lists a cluster's members
        browser.evaluate('Bokeh.documents[0].get_model_by_name("cluster").value = "2"')
        members = browser.evaluate(STATE)["members"]
        assert f"{int((labels == 2).sum())} galaxies" in members
        # switching the colouring to a continuous column disables the picker
        browser.evaluate('Bokeh.documents[0].get_model_by_name("colour").value = "redshift"')
        assert browser.evaluate('Bokeh.documents[0].get_model_by_name("cluster").disabled') is True
        requested = [e["params"]["request"]["url"] for e in browser.events
                     if e.get("method") == "Network.requestWillBeSent"]
    assert requested and all(u.startswith(("file:", "data:", "about:")) for u in requested), requested


def test_same_inputs_give_the_same_bytes(tmp_path):
    """Bokeh's uuid4 element ids and model counter are drawn from the seed; a page written
    after other Bokeh documents in the same process is still byte-identical, and another
    seed gives other ids."""
    rng = np.random.default_rng(1)
    args = ([f"g{i}" for i in range(40)], rng.normal(size=(40, 2)),
            np.zeros((40, 8, 8, 3), np.uint8), {"k": np.arange(40) % 3}, np.tile(np.arange(1, 4), (40, 1)))
    first = write_explorer(tmp_path / "a.html", *args).read_bytes()
    from bokeh.plotting import figure  # noqa: PLC0415

    figure()  # other Bokeh models in between move Bokeh's own id counter
    assert write_explorer(tmp_path / "b.html", *args).read_bytes() == first
    assert write_explorer(tmp_path / "c.html", *args, seed=1).read_bytes() != first


def test_thumbnails_and_atlases():
    images = np.random.default_rng(0).random((5000, 80, 80, 3)).astype(np.float32)
    thumbs = thumbnails_from_images(images[:3], 16)
    assert thumbs.shape == (3, 16, 16, 3) and thumbs.dtype == np.uint8
    atlases = encode_atlases(np.zeros((4097, 8, 8, 3), np.uint8))
    assert len(atlases) == 2 and all(a.startswith("data:image/jpeg;base64,") for a in atlases)


def test_inputs_are_checked(tmp_path):
    ids = ["a", "b", "c"]
    xy = np.zeros((3, 2))
    with pytest.raises(ValueError, match="xy must be"):
        write_explorer(tmp_path / "x.html", ids, xy[:2], None, {"c": [0, 1, 2]}, None)
    with pytest.raises(ValueError, match="colouring 'c' has 2 values"):
        write_explorer(tmp_path / "x.html", ids, xy, None, {"c": [0, 1]}, None)
    with pytest.raises(ValueError, match="neighbours must be row numbers"):
        write_explorer(tmp_path / "x.html", ids, xy, None, {"c": [0, 1, 2]}, np.array([[1], [2], [3]]))
    assert not (tmp_path / "x.html").exists()
    write_explorer(tmp_path / "x.html", ids, xy, None, {"c": np.array(["s", "e", "s"])}, None)
    assert (tmp_path / "x.html").stat().st_size > 100_000  # BokehJS inline
