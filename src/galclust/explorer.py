"""``results/explorer/index.html``: browse every galaxy on a 2-D map, offline, in one file.

The page is Bokeh with INLINE resources (BokehJS embedded, nothing fetched: it opens from
``file://`` with no network) and the WebGL backend for the scatter. It shows

- the map (t-SNE / UMAP / PCA x, y) coloured by a field chosen in a Select (a clustering:
  categorical, noise grey; or a numeric catalog column: Viridis), switched by CustomJS;
- on hover, the galaxy's id and thumbnail; on click (tap), its catalog row and its
  nearest neighbours' thumbnails (precomputed (N, k) rows, e.g. from
  :func:`galclust.neighbours.all_neighbours`);
- a cluster picker listing a cluster's members (ids, and the thumbnails of the first 40).

Page size: thumbnails are packed into JPEG *atlases* (64 x 64 thumbnails
per JPEG) rather than one data URI per galaxy: a lone 32x32 JPEG is mostly header
(~600 bytes), a tile in an atlas ~150-250 bytes. The browser decodes each atlas once and
crops a tile on a canvas when it is shown. ``max_thumbnails`` caps how many galaxies get
one (a seeded sample; the rest show "no thumbnail"). Measured (bench/bench_similar.py
--explorer, 100,000 points, 32 px blob thumbnails, 10 neighbours each, 2 cores otherwise
idle): all thumbnails 22.6 MB, written in 4.5 s, interactive in headless Chromium after
2.3 s; ``max_thumbnails=20000`` 11.0 MB, 2.6 s. ~10 MB of that is the x, y, colour and
neighbour arrays plus BokehJS (~1.5 MB).
The numeric columns travel as base64 binary
arrays inside Bokeh's document JSON.

Bokeh gives every page fresh random element ids (uuid4) and numbers its models from a
process-wide counter; ``write_explorer`` draws both from ``seed`` while it builds the page,
so the same inputs give the same bytes.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import os
import random
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import write_text_atomic
from .sampling import seeded_rows

ATLAS_SIDE = 64  # tiles per atlas row and column
_N_CATEGORICAL = 20
_MAX_MEMBERS_LISTED = 500
_MEMBER_THUMBS = 40


def thumbnails_from_images(images: np.ndarray, size: int = 32) -> np.ndarray:
    """(N, H, W, 3) images in [0, 1] (or uint8) -> (N, size, size, 3) uint8 thumbnails."""
    from PIL import Image  # noqa: PLC0415

    from .plots._common import to_uint8  # noqa: PLC0415

    arr = to_uint8(np.asarray(images))
    out = np.empty((len(arr), size, size, 3), np.uint8)
    for i, img in enumerate(arr):
        out[i] = np.asarray(Image.fromarray(img).resize((size, size), Image.Resampling.BOX))
    return out


def encode_atlases(thumbs: np.ndarray, *, quality: int = 80) -> list[str]:
    """Pack uint8 thumbnails (n, s, s, 3) into JPEG data URIs of ATLAS_SIDE^2 tiles each."""
    from PIL import Image  # noqa: PLC0415

    n, s = len(thumbs), thumbs.shape[1]
    per = ATLAS_SIDE * ATLAS_SIDE
    out = []
    for start in range(0, n, per):
        block = thumbs[start:start + per]
        rows = -(-len(block) // ATLAS_SIDE)
        sheet = np.zeros((rows * s, ATLAS_SIDE * s, 3), np.uint8)
        for j, tile in enumerate(block):
            r, c = divmod(j, ATLAS_SIDE)
            sheet[r * s:(r + 1) * s, c * s:(c + 1) * s] = tile
        buf = io.BytesIO()
        Image.fromarray(sheet).save(buf, format="JPEG", quality=quality, optimize=True)
        out.append("data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii"))
    return out


# JavaScript shared by the callbacks: tile cropping from the atlases, HTML of a thumbnail.
_JS_HELPERS = """
const G = window.__galclust || (window.__galclust = {imgs: {}, cache: {}});
function atlas(a) {
  if (!(a in G.imgs)) { const im = new Image(); im.src = meta.data.atlases[a]; G.imgs[a] = im; }
  return G.imgs[a];
}
function thumb(i) {
  const slot = src.data.slot[i];
  if (slot < 0) return null;
  if (slot in G.cache) return G.cache[slot];
  const per = meta.data.per[0], side = meta.data.side[0], s = meta.data.size[0];
  const a = Math.floor(slot / per), t = slot % per;
  const im = atlas(a);
  if (!im.complete || !im.naturalWidth) { G.missing = im; return null; }
  const cv = document.createElement("canvas"); cv.width = s; cv.height = s;
  cv.getContext("2d").drawImage(im, (t % side) * s, Math.floor(t / side) * s, s, s, 0, 0, s, s);
  return (G.cache[slot] = cv.toDataURL("image/png"));
}
function tile(i, px, caption) {
  const url = thumb(i);
  const img = url ? `<img src="${url}" width="${px}" height="${px}" style="image-rendering:pixelated;display:block" class="gc-thumb" alt="${src.data.id[i]}">`
                  : `<div style="width:${px}px;height:${px}px;background:#ddd;font-size:9px">no thumbnail</div>`;
  return `<div style="display:inline-block;margin:2px;text-align:center;font-size:10px;vertical-align:top">${img}${caption}</div>`;
}
function esc(s) { return String(s).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c])); }
"""


def _colour_field(values: np.ndarray) -> tuple[np.ndarray, str]:
    """A colouring as a numeric column and its kind ("categorical" for integers)."""
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        return arr.astype(np.int32), "categorical"
    if np.issubdtype(arr.dtype, np.floating):
        return arr.astype(np.float32), "continuous"
    # strings: categories numbered in sorted order
    _, codes = np.unique(arr.astype(str), return_inverse=True)
    return codes.astype(np.int32), "categorical"


def write_explorer(
    out_html: str | os.PathLike[str],
    ids: Any,
    xy: np.ndarray,
    thumbnails: np.ndarray | None,
    colourings: Mapping[str, np.ndarray],
    neighbours: np.ndarray | None,
    catalog_rows: Any = None,
    title: str = "galclust explorer",
    *,
    max_thumbnails: int | None = None,
    jpeg_quality: int = 80,
    seed: int = 0,
    width: int = 900,
    height: int = 750,
) -> Path:
    """Write the explorer page to ``out_html`` atomically and return its path.

    ``ids`` (N,), ``xy`` (N, 2) map coordinates, ``thumbnails`` (N, s, s, 3) uint8 or None,
    ``colourings`` name -> (N,) values (integers: clusters, -1 noise; floats: a catalog
    column; strings: categories), ``neighbours`` (N, k) row numbers or None,
    ``catalog_rows`` an astropy Table of N rows shown on click (or None). Memory: the
    page is built in memory (its size, plus the N x k neighbours and the thumbnails).
    """
    with _stable_bokeh_ids(seed):
        page = _explorer_html(ids, xy, thumbnails, colourings, neighbours, catalog_rows, title,
                              max_thumbnails=max_thumbnails, jpeg_quality=jpeg_quality, seed=seed,
                              width=width, height=height)
    write_text_atomic(out_html, page)
    return Path(out_html)


@contextlib.contextmanager
def _stable_bokeh_ids(seed: int) -> Iterator[None]:
    """Within the block, Bokeh's model ids restart at its first value and its uuid4 element
    ids come from ``seed``: the page's bytes depend on its inputs only. Not thread-safe with
    other Bokeh documents built at the same time in this process (the project builds one)."""
    import bokeh.embed  # noqa: F401, PLC0415
    import bokeh.layouts  # noqa: F401, PLC0415
    import bokeh.models  # noqa: F401, PLC0415
    import bokeh.plotting  # noqa: F401, PLC0415  (first imports create models: not in the block)
    from bokeh.util import serialization  # noqa: PLC0415

    rng = random.Random(seed)

    class _SeededUUID:  # stands in for the uuid module inside bokeh.util.serialization
        def __getattr__(self, name: str) -> Any:
            return getattr(uuid, name)

        @staticmethod
        def uuid4() -> uuid.UUID:
            return uuid.UUID(int=rng.getrandbits(128), version=4)

    saved_counter, saved_uuid = serialization._simple_id, serialization.uuid
    serialization._simple_id, serialization.uuid = 999, _SeededUUID()  # Bokeh's own start
    try:
        yield
    finally:
        # later models keep ids unique process-wide
        serialization._simple_id = max(saved_counter, serialization._simple_id)
        serialization.uuid = saved_uuid


def _explorer_html(
    ids: Any,
    xy: np.ndarray,
    thumbnails: np.ndarray | None,
    colourings: Mapping[str, np.ndarray],
    neighbours: np.ndarray | None,
    catalog_rows: Any = None,
    title: str = "galclust explorer",
    *,
    max_thumbnails: int | None = None,
    jpeg_quality: int = 80,
    seed: int = 0,
    width: int = 900,
    height: int = 750,
) -> str:
    """The page's HTML (see ``write_explorer``)."""
    from bokeh.embed import file_html  # noqa: PLC0415
    from bokeh.layouts import column, row  # noqa: PLC0415
    from bokeh.models import (  # noqa: PLC0415
        ColumnDataSource,
        CustomJS,
        Div,
        HoverTool,
        LinearColorMapper,
        Select,
        TapTool,
    )
    from bokeh.palettes import Category20, Viridis256  # noqa: PLC0415
    from bokeh.plotting import figure  # noqa: PLC0415
    from bokeh.resources import INLINE  # noqa: PLC0415

    ids = np.array([str(i) for i in np.asarray(ids).ravel().tolist()], dtype=str)
    n = len(ids)
    xy = np.asarray(xy, dtype=np.float32)
    if xy.shape != (n, 2):
        raise ValueError(f"xy must be (N, 2) for {n} ids; got {xy.shape}")
    if not colourings:
        raise ValueError("colourings: give at least one field to colour by")
    for name, values in colourings.items():
        if len(values) != n:
            raise ValueError(f"colouring {name!r} has {len(values)} values for {n} ids")
    if neighbours is not None:
        neighbours = np.asarray(neighbours)
        if neighbours.ndim != 2 or len(neighbours) != n:
            raise ValueError(f"neighbours must be (N, k) for {n} ids; got {neighbours.shape}")
        if neighbours.size and (neighbours.min() < 0 or neighbours.max() >= n):
            raise ValueError("neighbours must be row numbers in 0..N-1")
    if catalog_rows is not None and len(catalog_rows) != n:
        raise ValueError(f"catalog_rows has {len(catalog_rows)} rows for {n} ids")

    # thumbnails: all, or a seeded sample of max_thumbnails
    slot = np.full(n, -1, np.int32)
    atlases: list[str] = []
    size = 0
    if thumbnails is not None:
        thumbs = np.asarray(thumbnails)
        if thumbs.ndim != 4 or len(thumbs) != n or thumbs.shape[1] != thumbs.shape[2] or thumbs.shape[3] != 3:
            raise ValueError(f"thumbnails must be (N, s, s, 3) for {n} ids; got {thumbs.shape}")
        chosen = np.arange(n)
        if max_thumbnails is not None and max_thumbnails < n:
            chosen = seeded_rows(n, max_thumbnails, seed)
        slot[chosen] = np.arange(len(chosen), dtype=np.int32)
        from .plots._common import to_uint8  # noqa: PLC0415

        atlases = encode_atlases(to_uint8(thumbs[chosen]), quality=jpeg_quality)
        size = thumbs.shape[1]

    fields: dict[str, np.ndarray] = {}
    kinds: dict[str, str] = {}
    for name, values in colourings.items():
        fields[name], kinds[name] = _colour_field(np.asarray(values))
    first = next(iter(fields))
    data: dict[str, Any] = {"x": xy[:, 0], "y": xy[:, 1], "id": ids.tolist(), "slot": slot,
                            "c": np.zeros(n, np.float32)}
    col_names = {name: f"f{i}" for i, name in enumerate(fields)}
    for name, arr in fields.items():
        data[col_names[name]] = arr
    src = ColumnDataSource(data, name="points")
    meta = ColumnDataSource({"atlases": [atlases], "per": [ATLAS_SIDE * ATLAS_SIDE], "side": [ATLAS_SIDE],
                             "size": [size]}, name="meta")
    k = 0 if neighbours is None else neighbours.shape[1]
    nbr = ColumnDataSource({"nbr": (np.zeros(0, np.int32) if neighbours is None
                                    else neighbours.astype(np.int32).ravel())}, name="neighbours")
    cat: dict[str, Any] = {}
    if catalog_rows is not None:
        for cname in catalog_rows.colnames:
            col = np.asarray(catalog_rows[cname])
            if col.ndim != 1:
                continue  # multidimensional columns do not fit a table row
            cat[cname] = (col.astype(np.float64) if np.issubdtype(col.dtype, np.number) and col.dtype != bool
                          else [str(v) for v in col.tolist()])
    catsrc = ColumnDataSource(cat, name="catalog")

    mapper = LinearColorMapper(palette=list(Category20[_N_CATEGORICAL]), low=0, high=_N_CATEGORICAL - 1,
                               low_color="#bbbbbb", nan_color="#bbbbbb")
    plot = figure(width=width, height=height, title=title, output_backend="webgl", name="map",
                  tools="pan,wheel_zoom,box_zoom,reset", active_scroll="wheel_zoom",
                  match_aspect=True)
    plot.scatter("x", "y", source=src, size=4, line_color=None, alpha=0.8,
                 fill_color={"field": "c", "transform": mapper}, name="galaxies")
    plot.grid.visible = False
    plot.axis.visible = False

    hover_div = Div(text="<i>hover over a galaxy</i>", width=220, height=200, name="hover")
    detail_div = Div(text="<i>click a galaxy to see its neighbours and catalog row</i>", width=420,
                     name="detail")
    members_div = Div(text="", width=width, name="members")
    colour_select = Select(title="colour by", value=first, options=list(fields), name="colour")
    cluster_select = Select(title="list the members of cluster", value="", options=[], name="cluster")

    common = {"src": src, "meta": meta}
    recolour = CustomJS(args={**common, "mapper": mapper, "sel": colour_select, "csel": cluster_select,
                              "cols": col_names, "kinds": kinds, "cat_pal": list(Category20[_N_CATEGORICAL]),
                              "cont_pal": list(Viridis256)}, code="""
const name = sel.value, v = src.data[cols[name]], c = new Float32Array(v.length);
if (kinds[name] === "categorical") {
  const seen = new Set();
  for (let i = 0; i < v.length; i++) { c[i] = v[i] < 0 ? -1 : v[i] % cat_pal.length; seen.add(v[i]); }
  mapper.palette = cat_pal; mapper.low = 0; mapper.high = cat_pal.length - 1;
  const labels = Array.from(seen).sort((a, b) => a - b);
  csel.options = [""].concat(labels.map((l) => String(l)));
  csel.value = ""; csel.disabled = false;
} else {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < v.length; i++) { c[i] = v[i]; if (isFinite(v[i])) { lo = Math.min(lo, v[i]); hi = Math.max(hi, v[i]); } }
  mapper.palette = cont_pal; mapper.low = isFinite(lo) ? lo : 0; mapper.high = hi > lo ? hi : lo + 1;
  csel.options = [""]; csel.value = ""; csel.disabled = true;
}
src.data.c = c;
src.change.emit();
""")
    colour_select.js_on_change("value", recolour)

    hover_cb = CustomJS(args=common, code=_JS_HELPERS + """
const idx = cb_data.index.indices;
if (!idx.length) return;
const i = idx[0];
hover.text = tile(i, 96, `<b>${esc(src.data.id[i])}</b>`);
G.missing = null;  // the next hover shows it; the atlas is decoding now
""")
    hover_cb.args = {**common, "hover": hover_div}
    plot.add_tools(HoverTool(tooltips=None, callback=hover_cb, renderers=plot.renderers))
    plot.add_tools(TapTool(renderers=plot.renderers))

    show_cb = CustomJS(args={**common, "nbr": nbr, "k": k, "cat": catsrc, "detail": detail_div,
                             "sel": colour_select, "cols": col_names}, code=_JS_HELPERS + """
const idx = src.selected.indices;
if (!idx.length) return;
const i = idx[0];
let out = `<div style="font-size:12px"><b>${esc(src.data.id[i])}</b> (row ${i})</div>` + tile(i, 96, "");
out += `<div style="font-size:11px">${esc(sel.value)}: ${esc(src.data[cols[sel.value]][i])}</div>`;
if (k > 0) {
  out += `<div style="font-size:12px;margin-top:6px"><b>${k} nearest neighbours</b></div><div class="gc-neighbours">`;
  for (let r = 0; r < k; r++) { const j = nbr.data.nbr[i * k + r]; out += tile(j, 48, `${r + 1}. ${esc(src.data.id[j])}`); }
  out += "</div>";
}
const names = Object.keys(cat.data);
if (names.length) {
  out += '<table style="font-size:11px;margin-top:6px">';
  for (const c of names) out += `<tr><td>${esc(c)}</td><td>${esc(cat.data[c][i])}</td></tr>`;
  out += "</table>";
}
detail.text = out;
if (G.missing) { const im = G.missing; G.missing = null; im.decode().then(() => { src.selected.indices = Array.from(idx); }).catch(() => {}); }
""")
    src.selected.js_on_change("indices", show_cb)

    members_cb = CustomJS(args={**common, "sel": colour_select, "csel": cluster_select, "cols": col_names,
                                "members": members_div, "limit": _MAX_MEMBERS_LISTED,
                                "nthumbs": _MEMBER_THUMBS}, code=_JS_HELPERS + """
if (csel.value === "") { members.text = ""; return; }
const want = Number(csel.value), v = src.data[cols[sel.value]], rows = [];
for (let i = 0; i < v.length; i++) if (v[i] === want) rows.push(i);
let out = `<div style="font-size:12px"><b>${esc(sel.value)} = ${want}</b>: ${rows.length} galaxies</div>`;
out += rows.slice(0, nthumbs).map((i) => tile(i, 40, esc(src.data.id[i]))).join("");
out += `<div style="font-size:11px">${rows.slice(0, limit).map((i) => esc(src.data.id[i])).join(", ")}`
     + (rows.length > limit ? ` … and ${rows.length - limit} more` : "") + "</div>";
members.text = out;
""")
    cluster_select.js_on_change("value", members_cb)

    note = Div(text=f"<p style='font-size:11px'>{n} galaxies; "
                    f"{int((slot >= 0).sum())} with a thumbnail; {k} neighbours each. "
                    "Hover for a thumbnail, click for neighbours and catalog row.</p>", width=width)
    layout = column(row(colour_select, cluster_select), row(plot, column(hover_div, detail_div)), note,
                    members_div)
    # set the first colouring's values in Python too, so the page is right before any JS runs
    arr, kind = fields[first], kinds[first]
    if kind == "categorical":
        src.data["c"] = np.where(arr < 0, -1, arr % _N_CATEGORICAL).astype(np.float32)
        cluster_select.options = ["", *[str(v) for v in np.unique(arr).tolist()]]
    else:
        src.data["c"] = arr.astype(np.float32)
        finite = arr[np.isfinite(arr)]
        mapper.palette, mapper.low = list(Viridis256), float(finite.min()) if finite.size else 0.0
        mapper.high = float(finite.max()) if finite.size and finite.max() > mapper.low else mapper.low + 1
        cluster_select.disabled = True
    return file_html(layout, resources=INLINE, title=html.escape(title))
