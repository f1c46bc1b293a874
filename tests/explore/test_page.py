"""The shareable pages (`stats --html`, `map --html`): one self-contained file that holds the numbers."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np

from workbench.data.dataset import Dataset
from workbench.data.record import make_record
from workbench.explore.page import map_page, stats_page
from workbench.explore.stats import dataset_stats
from workbench.explore.topicmap import TopicMap, cluster_colour


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Tags:
    p = Tags()
    p.feed(html)
    return p


def assert_self_contained(html: str) -> None:
    """Nothing the browser would fetch: no scheme URLs, no src/href, no CSS url() or @import."""
    assert not re.search(r"(?i)\b(https?|ftp):|//[a-z0-9.-]+\.[a-z]{2,}/", html)
    tags = parse(html).tags
    assert not [t for t, a in tags if t in ("script", "link", "img", "iframe", "object", "embed")]
    assert not [a for _, a in tags if {"src", "href", "xlink:href"} & set(a)]
    assert "url(" not in html and "@import" not in html


def _dataset() -> Dataset:
    recs = [make_record(id=f"r{i}", messages=[{"role": "user", "content": "word " * (i + 1)},
                                              {"role": "assistant", "content": "ok"}] * (1 + i % 3)) for i in range(30)]
    return Dataset.from_records(recs)


def test_stats_page_is_self_contained_and_holds_the_histograms():
    st = dataset_stats(_dataset())
    html = stats_page(st, "demo <stats>")
    assert_self_contained(html)
    text = " ".join(parse(html).text)
    assert "demo <stats>" in text and "<stats>" not in html  # escaped
    turns = st["turns"]
    assert turns["counts"] == [10, 0, 10, 0, 10]  # 2, 4 or 6 turns
    # Every bin's count is on the page: in the bar tooltips and in the table.
    for lo, c in zip(turns["bins"], turns["counts"]):
        assert f"{lo:,.0f} – {lo + 1:,.0f}: {c:,}" in text
    rects = [a for t, a in parse(html).tags if t == "rect"]
    assert len(rects) >= len(turns["counts"]) + len(st["chars"]["counts"])
    assert f"median {st['tokens']['row']['median']:,.0f}" in text and "user turns" in text


def test_map_page_draws_every_row_with_topic_labels():
    rng = np.random.default_rng(0)
    ids = [f"r{i}" for i in range(40)]
    cluster = np.array([0] * 20 + [1] * 15 + [-1] * 5)
    xy = np.concatenate([rng.normal(size=(20, 2)), rng.normal(size=(15, 2)) + 8, rng.normal(size=(5, 2)) - 8])
    tm = TopicMap(ids, xy.astype(np.float32), cluster, [
        {"id": 0, "label": "bread, oven", "keywords": ["bread", "oven", "flour"], "size": 20},
        {"id": 1, "label": "python & lists", "keywords": ["python"], "size": 15},
        {"id": -1, "label": "(unclustered)", "keywords": [], "size": 5}])
    html = map_page(tm, "topics", previews=[f"preview of row {i}" for i in range(40)])
    assert_self_contained(html)
    p = parse(html)
    circles = [a for t, a in p.tags if t == "circle"]
    assert len(circles) == 40
    assert sum(a["fill"] == cluster_colour(0) for a in circles) == 20
    assert sum(a["fill"] == cluster_colour(-1) for a in circles) == 5
    text = " ".join(p.text)
    assert "2 topics · 40 rows" in text and "python & lists" in text and "bread, oven, flour" in text
    assert "r21 · python & lists\npreview of row 21" in text  # a point's tooltip
    # The labels sit at their topics: "python & lists" right of and above "bread, oven" (y grows up).
    pos = {m.group(3): (float(m.group(1)), float(m.group(2)))
           for m in re.finditer(r'<text x="([\d.]+)" y="([\d.]+)" text-anchor="middle"[^>]*>([^<]+)</text>', html)}
    assert pos["python &amp; lists"][0] > pos["bread, oven"][0] and pos["python &amp; lists"][1] < pos["bread, oven"][1]


def test_a_big_map_draws_a_sample_and_says_so():
    n = 50
    tm = TopicMap([str(i) for i in range(n)], np.zeros((n, 2), dtype=np.float32), np.zeros(n, dtype=np.int64),
                  [{"id": 0, "label": "all", "keywords": [], "size": n}])
    from workbench.explore.page import map_svg

    svg = map_svg(tm, max_points=10)
    assert svg.count("<circle") == 10 and "10 of 50 rows drawn" in svg


def test_the_tail_bar_names_the_values_it_holds():
    from workbench.explore.page import histogram_svg
    from workbench.explore.stats import histogram

    h = histogram(list(range(11)) * 10 + [50], integer=True)  # one bin per value 0..10, 50 beyond
    assert h["over"] == 1 and h["bins"][-2:] == [10, 11]
    text = " ".join(parse(histogram_svg(h)).text)
    assert "> 10: 1" in text and "10 – 11: 10" in text
