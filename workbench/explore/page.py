"""Self-contained HTML pages to share: a dataset's distributions (`workbench stats --html`) and
its topic map with labels (`workbench map --html`).

One file with inline SVG and CSS and no script: nothing is loaded from the network, so the page
opens the same from an e-mail, a report folder or an air-gapped machine. Every number drawn is
also written as text (bar tooltips, tables), so it can be read, searched and copied.
"""

from __future__ import annotations

from html import escape

import numpy as np

MAX_POINTS = 20000  # points drawn on the map; a bigger map draws a seeded sample (and says so)

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:980px;
color:#1d1d1f;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px;border-bottom:1px solid #ddd}
h3{font-size:14px;margin:16px 0 2px}.dim{color:#666}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{padding:2px 10px 2px 0;text-align:left;vertical-align:top}td.n{text-align:right}
.sw{display:inline-block;width:11px;height:11px;border-radius:50%;margin-right:4px;vertical-align:-1px}
svg{display:block;max-width:100%;height:auto}svg text{font:11px system-ui,sans-serif}
details{margin:2px 0 8px}summary{cursor:pointer;color:#555}
"""


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.4g}"


def _tail(edges: list[float]) -> str:
    """What the tail bar holds: rows above the last edge, or for one bin per whole value (whose
    last bin [k, k+1) holds k) rows above that last value, as the terminal's stats says it."""
    whole = len(edges) > 1 and edges[-1] - edges[-2] == 1 and float(edges[-2]).is_integer()
    return f"&gt; {_num(edges[-2] if whole else edges[-1])}"


def histogram_svg(h: dict, width: int = 640, height: int = 150) -> str:
    """One histogram (explore.stats.histogram's dict) as SVG bars; each bar's tooltip gives its
    range and count. A tail beyond the last edge (`over`) is one grey bar at the right."""
    counts = list(h.get("counts") or [])
    if not counts:
        return '<p class="dim">(no values)</p>'
    edges = h["bins"]
    over = h.get("over", 0)
    bars = counts + ([over] if over else [])
    top = max(bars) or 1
    pad_l, pad_b = 44, 18
    bw = (width - pad_l) / len(bars)
    parts = [f'<svg viewBox="0 0 {width} {height + pad_b}" width="{width}" role="img">',
             f'<text x="{pad_l - 4}" y="10" text-anchor="end">{_num(top)}</text>',
             f'<text x="{pad_l - 4}" y="{height}" text-anchor="end">0</text>']
    for i, c in enumerate(bars):
        tail = over and i == len(bars) - 1
        span = _tail(edges) if tail else f"{_num(edges[i])} – {_num(edges[i + 1])}"
        bh = c / top * (height - 12)
        parts.append(f'<rect x="{pad_l + i * bw + 1:.1f}" y="{height - bh:.1f}" width="{max(bw - 2, 1):.1f}" '
                     f'height="{bh:.1f}" fill="{"#aaa" if tail else "#4e9af1"}"><title>{span}: {c:,}</title></rect>')
    if len(bars) <= 12:  # few bars: each one's range under it
        for i in range(len(bars)):
            tail = over and i == len(bars) - 1
            whole = not tail and edges[i + 1] - edges[i] == 1 and float(edges[i]).is_integer()
            name = _tail(edges) if tail else _num(edges[i]) if whole else f"{_num(edges[i])}–{_num(edges[i + 1])}"
            parts.append(f'<text x="{pad_l + (i + 0.5) * bw:.1f}" y="{height + 14}" text-anchor="middle">{name}</text>')
    else:
        parts.append(f'<text x="{pad_l}" y="{height + 14}">{_num(edges[0])}</text>')
        parts.append(f'<text x="{width}" y="{height + 14}" text-anchor="end">'
                     f'{_tail(edges) if over else _num(edges[-1])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _summary(h: dict) -> str:
    if not h.get("n"):
        return "n = 0"
    return (f"n = {h['n']:,} · min {_num(h['min'])} · median {_num(h['median'])} · mean {_num(h['mean'])} · "
            f"p95 {_num(h['p95'])} · max {_num(h['max'])}")


def _histogram_block(title: str, h: dict) -> str:
    rows = "".join(f'<tr><td>{_num(h["bins"][i])} – {_num(h["bins"][i + 1])}</td><td class="n">{c:,}</td></tr>'
                   for i, c in enumerate(h.get("counts") or []))
    if h.get("over"):
        rows += f'<tr><td>{_tail(h["bins"])}</td><td class="n">{h["over"]:,}</td></tr>'
    return (f"<h3>{escape(title)}</h3><div class='dim'>{_summary(h)}</div>{histogram_svg(h)}"
            f"<details><summary>bins</summary><table>{rows}</table></details>")


def _counts_table(counts: dict) -> str:
    return "<table>" + "".join(f'<tr><td>{escape(str(k))}</td><td class="n">{v:,}</td></tr>'
                               for k, v in counts.items()) + "</table>"


def _sample(n: int, max_points: int) -> np.ndarray:
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, max_points, replace=False))


def map_svg(tm, previews: list[str] | None = None, width: int = 940, height: int = 600,
            max_points: int = MAX_POINTS) -> str:
    """The topic map (explore.topicmap.TopicMap) as an SVG scatter coloured by topic, with each
    topic's label at its centre; a point's tooltip gives its row id, topic and text preview."""
    from workbench.explore.topicmap import cluster_colour

    n = len(tm.ids)
    if not n:
        return '<p class="dim">(no rows)</p>'
    xy = np.asarray(tm.xy, dtype=np.float64)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    m = 16
    px = m + (xy - lo) / span * np.array([width - 2 * m, height - 2 * m])
    px[:, 1] = height - px[:, 1]  # y grows upwards on a map
    labels = {c["id"]: c["label"] for c in tm.clusters}
    parts = [f'<svg viewBox="0 0 {width} {height}" width="{width}" role="img" style="background:#fafafa;border:1px solid #e5e5e5">']
    for i in _sample(n, max_points).tolist():
        c = int(tm.cluster[i])
        tip = f"{tm.ids[i]} · {labels.get(c, '(unclustered)')}"
        if previews is not None:
            tip += f"\n{previews[i][:160]}"
        parts.append(f'<circle cx="{px[i, 0]:.1f}" cy="{px[i, 1]:.1f}" r="2.6" fill="{cluster_colour(c)}" '
                     f'fill-opacity="0.75"><title>{escape(tip)}</title></circle>')
    for c in tm.clusters:
        if c["id"] < 0:
            continue
        members = tm.cluster == c["id"]
        if not members.any():
            continue
        cx, cy = np.median(px[members], axis=0)
        half = 3.3 * len(c["label"])  # about half the label's width at 11px: keep it inside the frame
        cx = min(max(cx, half + 2), width - half - 2)
        parts.append(f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle" font-weight="600" '
                     f'stroke="#fff" stroke-width="3" paint-order="stroke">{escape(c["label"])}</text>')
    parts.append("</svg>")
    if n > max_points:
        parts.append(f'<p class="dim">{max_points:,} of {n:,} rows drawn (a seeded sample); the table counts all.</p>')
    return "".join(parts)


def topics_table(tm) -> str:
    from workbench.explore.topicmap import cluster_colour

    rows = "".join(
        f'<tr><td><span class="sw" style="background:{cluster_colour(c["id"])}"></span>{c["id"]}</td>'
        f'<td class="n">{c["size"]:,}</td><td>{escape(c["label"])}</td>'
        f'<td class="dim">{escape(", ".join(c.get("keywords") or []))}</td></tr>'
        for c in tm.clusters)
    return f"<table><tr><th>topic</th><th>rows</th><th>label</th><th>keywords</th></tr>{rows}</table>"


def _page(title: str, subtitle: str, body: list[str]) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{CSS}</style></head>'
            f'<body><h1>{escape(title)}</h1><div class="dim">{escape(subtitle)}</div>{"".join(body)}</body></html>\n')


def _map_section(tm, previews: list[str] | None) -> list[str]:
    real = sum(1 for c in tm.clusters if c["id"] >= 0)
    return [f"<h2>Topic map · {real} topics · {len(tm.ids):,} rows</h2>",
            f'<div class="dim">method: {escape(tm.method)}; hover a point for its row</div>',
            map_svg(tm, previews), topics_table(tm)]


def map_page(tm, title: str, previews: list[str] | None = None) -> str:
    """A page of the topic map: the scatter with topic labels and the table of topics."""
    return _page(title, "topic map written by workbench map --html", _map_section(tm, previews))


def stats_page(st: dict, title: str, tm=None, previews: list[str] | None = None) -> str:
    """A page of `explore.stats.dataset_stats` output (plus the Session's decision counts when
    `st` has them): kinds, decisions, histograms of turns, characters, tokens and scores, and
    the topic map `tm` when one is saved."""
    body = ["<h2>Rows</h2>", _counts_table({"rows": st["rows"], **st["kinds"]})]
    if st.get("decisions"):
        body += ["<h2>Decisions</h2>", _counts_table(st["decisions"])]
    body += ["<h2>Shape</h2>", _histogram_block("turns per row", st["turns"]),
             _histogram_block("characters per row", st["chars"])]
    if "tokens" in st:
        t = st["tokens"]
        body += [f"<h2>Tokens</h2><div class='dim'>tokenizer {escape(t['tokenizer'])}, {t['sampled']:,} rows</div>",
                 _histogram_block("tokens per row", t["row"])]
        body += [_histogram_block(f"{role} turns", h) for role, h in t["roles"].items()]
    if st.get("scores"):
        body.append("<h2>Signals</h2>")
        for name, h in st["scores"].items():
            body.append(f"<h3>{escape(name)}</h3>{_counts_table(h['values'])}" if "values" in h
                        else _histogram_block(name, h))
    if tm is not None:
        body += _map_section(tm, previews)
    elif st.get("clusters"):
        body += ["<h2>Topics</h2>", _counts_table({f'{c["id"]} {c["label"]}': c["size"] for c in st["clusters"]})]
    return _page(title, "statistics written by workbench stats --html", body)
