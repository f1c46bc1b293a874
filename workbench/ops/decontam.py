"""Decontamination: rows that share a word n-gram (13 by default) with a benchmark's test items,
or hold a shorter item whole.

Every n-gram of every benchmark item is hashed to 64 bits into one sorted array (with the item
that owns it); the dataset is then streamed chunk by chunk, its n-grams hashed the same way
(workbench.ops.hashing: canonical, case-folded words, punctuation ignored, one token per
character in scripts written without spaces) and looked up: a table of occupied hash prefixes
rules out nearly all of them, a binary search settles the rest. An item of k < n words is
found when a row holds its k words in order (the rule lm-eval and the Tulu/OLMo
decontamination tools apply to short items); each hit says which rule matched.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from workbench.data.errors import DataError
from workbench.ops import spill
from workbench.ops.hashing import ngram_hashes, word_tokens, words
from workbench.ops.base import Result
from workbench.ops.oprun import iter_text_chunks

ITEM_ID_FIELDS = ("id", "task_id", "question_id", "problem_id", "idx", "uid")


@dataclass
class Benchmark:
    name: str
    path: str
    fields: list[str]  # empty: every string in the row


def parse_against(spec: str) -> Benchmark:
    """`FILE` or `FILE:field,field`; the benchmark is named after the file."""
    path, fields = spec, []
    if not os.path.exists(spec) and ":" in spec:
        path, _, tail = spec.rpartition(":")
        fields = [f.strip() for f in tail.split(",") if f.strip()]
    if not os.path.exists(path):
        raise FileNotFoundError(f"benchmark file not found: {path}")
    name = Path(path).name
    for suffix in (".gz", ".jsonl", ".ndjson", ".json", ".parquet", ".csv"):
        name = name.removesuffix(suffix)
    return Benchmark(name, path, fields)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def benchmark_items(bench: Benchmark) -> Iterable[tuple[str, str]]:
    """(item id, text) of every row of a benchmark file: the named fields joined, or every string."""
    from workbench.data.readers import raw_rows

    seen_fields: set[str] = set()
    n = 0
    for line, index, row in raw_rows(bench.path):
        if isinstance(row, DataError):
            raise row
        if not isinstance(row, dict):
            raise DataError(bench.path, line, "a benchmark row must be an object")
        seen_fields.update(row)
        if bench.fields:
            text = "\n".join(s for f in bench.fields if f in row for s in _strings(row[f]))
        else:
            text = "\n".join(_strings(row))
        item = next((str(row[f]) for f in ITEM_ID_FIELDS if row.get(f) is not None), str(index))
        n += 1
        yield item, text
    missing = [f for f in bench.fields if f not in seen_fields]
    if missing:
        raise DataError(bench.path, None, f"no field {', '.join(map(repr, missing))} in any row "
                                          f"(fields: {', '.join(sorted(seen_fields)) or 'none'})")
    if not n:
        raise DataError(bench.path, None, "no rows")


class _HashTable:
    """Sorted 64-bit hashes, each with the first item that has it, and a byte per slot of the
    hashes' top bits (16 slots per hash): almost every probe is ruled out by one lookup, and
    only the few left meet the binary search."""

    def __init__(self, hashes: np.ndarray, owners: np.ndarray):
        self.hashes, first = np.unique(hashes, return_index=True)
        self.owner = owners[first]
        self._bits = int(min(28, max(16, np.ceil(np.log2(max(1, len(self.hashes)) * 16)))))
        self._slots = np.zeros(1 << self._bits, dtype=np.bool_)
        self._slots[self.hashes >> np.uint64(64 - self._bits)] = True

    def lookup(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions in h that are in the table, their owners)."""
        maybe = np.flatnonzero(self._slots[h >> np.uint64(64 - self._bits)])
        at = np.searchsorted(self.hashes, h[maybe])
        at[at == len(self.hashes)] = 0
        found = self.hashes[at] == h[maybe]
        return maybe[found], self.owner[at[found]]


# A benchmark gram: its hash, the item it belongs to, its size (n, or an item's k < n words).
_GRAM = np.dtype([("h", "<u8"), ("owner", "<i8"), ("k", "<i4")])


class NgramIndex:
    """The benchmark items' word n-grams, hashed, and the items themselves when shorter than n.

    Two rules find an item in a row: the row shares one of the item's n-grams ("ngram"), or,
    for an item of fewer than n words, the row holds all its words in order ("short_item"), as
    lm-eval's decontamination and the Tulu/OLMo decontamination tools treat short items. Both
    are hashed the same way: an item of k < n words is its own k-gram, looked up among the
    row's k-grams."""

    def __init__(self, benchmarks: Sequence[Benchmark], n: int = 13, chunk: int = 4096,
                 max_keys: float | None = None):
        """`max_keys` (default: workbench.ops.spill.max_keys()): more n-grams than this are
        hashed a second time into partitions on disk (by hash), and `partitions()` loads one
        at a time; the lookups give the same hits. Close the index (or use it in `with`) to
        remove them."""
        if n < 1:
            raise ValueError(f"ngram must be >= 1, got {n}")
        self.n = n
        self.benchmarks = [b.name for b in benchmarks]
        budget = spill.max_keys() if max_keys is None else max_keys
        self.spilled: spill.Partitions | None = None
        by_size: dict[int, tuple[list, list]] | None = {}  # gram size -> (hashes, owners)
        total = 0
        for grams in self._hashed(benchmarks, chunk):
            total += len(grams)
            if by_size is not None and total > budget:
                by_size = None  # too many for memory: only counted now, spilled below
            if by_size is not None:
                for k in np.unique(grams["k"]).tolist():
                    hs, os_ = by_size.setdefault(k, ([], []))
                    hs.append(grams["h"][grams["k"] == k])
                    os_.append(grams["owner"][grams["k"] == k])
        if by_size is not None:
            self.tables = {k: _HashTable(np.concatenate(h), np.concatenate(o)) for k, (h, o) in sorted(by_size.items())}
            self._distinct = len(self.tables[n].hashes) if n in self.tables else 0
            return
        self.tables = {}
        self.spilled = spill.Partitions(spill.partitions_for(total, budget), _GRAM)
        for grams in self._hashed(benchmarks, chunk):
            self.spilled.add(grams["h"] % np.uint64(self.spilled.parts), grams)
        self._distinct = sum(len(np.unique(t["h"][t["k"] == n])) for t in self.spilled)

    def _hashed(self, benchmarks: Sequence[Benchmark], chunk: int) -> Iterator[np.ndarray]:
        """The items' gram hashes (`_GRAM` records), `chunk` items at a time; sets `items`
        and `item_words` anew on each pass."""
        self.items: list[tuple[str, str]] = []  # (benchmark name, item id)
        self.item_words: list[int] = []
        for bench in benchmarks:
            buf: list[tuple[str, str]] = []
            for item in benchmark_items(bench):
                buf.append(item)
                if len(buf) >= chunk:
                    yield self._add(bench.name, buf)
                    buf = []
            if buf:
                yield self._add(bench.name, buf)

    def _add(self, name: str, items: list[tuple[str, str]]) -> np.ndarray:
        tokens, offsets = word_tokens([t for _, t in items])
        lengths = np.diff(offsets)
        h, doc = ngram_hashes(tokens, offsets, self.n)
        grams = np.empty(len(h), dtype=_GRAM)
        grams["h"] = h
        grams["owner"] = doc + len(self.items)
        grams["k"] = np.minimum(lengths[doc], self.n)  # an item shorter than n is one shingle of its length
        self.items.extend((name, item) for item, _ in items)
        self.item_words.extend(lengths.tolist())
        return grams

    def __len__(self) -> int:
        """How many distinct n-grams of items of at least n words the index holds."""
        return self._distinct

    def partitions(self) -> Iterator[dict[int, _HashTable]]:
        """The lookup tables ({gram size: table}): all of them at once, or with a spilled index
        one partition's at a time (a hash is in one partition only)."""
        if self.spilled is None:
            yield self.tables
            return
        for grams in self.spilled:
            yield {k: _HashTable(grams["h"][grams["k"] == k], grams["owner"][grams["k"] == k])
                   for k in np.unique(grams["k"]).tolist()}

    def close(self) -> None:
        if self.spilled is not None:
            self.spilled.close()

    def __enter__(self) -> "NgramIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def short_items(self) -> int:
        """How many items have fewer than n words (and at least one)."""
        return sum(0 < k < self.n for k in self.item_words)

    def find(self, texts: Sequence[str], tables: dict[int, _HashTable] | None = None
             ) -> dict[int, dict[int, tuple[int, int]]]:
        """For each text with a hit: {item index: (word position of its first match, count)},
        looked up in `tables` (one of `partitions()`; default: the in-memory tables)."""
        tokens, offsets = word_tokens(texts)
        out: dict[int, dict[int, tuple[int, int]]] = {}
        for k, table in (self.tables if tables is None else tables).items():
            h, doc = ngram_hashes(tokens, offsets, k, short=k == self.n)
            hit, owner = table.lookup(h)
            if not len(hit):
                continue
            # Position of each n-gram inside its text: its index minus the text's first n-gram index.
            first_of_doc = np.searchsorted(doc, doc[hit])
            for d, item, pos in zip(doc[hit].tolist(), owner.tolist(), (hit - first_of_doc).tolist()):
                per = out.setdefault(d, {})
                if item in per:
                    per[item] = (per[item][0], per[item][1] + 1)
                else:
                    per[item] = (pos, 1)
        return out


def decontaminate(
    texts: Sequence[str],
    ids: Sequence[str],
    index: NgramIndex,
    *,
    chunk: int = 1024,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> Result:
    """Stream the texts against the index; every contaminated row gets a `contamination` signal
    (benchmark, item, matching n-gram, how many n-grams match) and a proposed rejection. A
    spilled index streams them once per partition (see `_partitioned_hits`)."""
    if index.spilled is not None:
        return decontam_result(index, len(texts), _partitioned_hits(texts, ids, index, chunk, progress))
    hits: list[dict] = []
    start = 0
    # Hashing is numpy work that releases the GIL: two chunks in flight use both cores.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: deque = deque()
        chunks = iter_text_chunks(texts, chunk)
        while True:
            for batch in chunks:
                pending.append((batch, pool.submit(index.find, batch)))
                if len(pending) > max(1, workers):
                    break
            if not pending:
                break
            batch, fut = pending.popleft()
            hits += chunk_hits(index, batch, ids[start : start + len(batch)], fut.result())
            start += len(batch)
            if progress:
                progress(start)
    return decontam_result(index, start, hits)


def _partitioned_hits(texts: Sequence[str], ids: Sequence[str], index: NgramIndex, chunk: int,
                      progress: Callable[[int], None] | None) -> list[dict]:
    """The hits of a spilled index: each partition's tables against every row, the matches of
    an item merged over partitions (its first position, the sum of its counts), as one
    in-memory lookup gives them."""
    found: dict[int, dict[int, tuple[int, int]]] = {}
    parts = index.spilled.parts
    for p, tables in enumerate(index.partitions()):
        start = 0
        for batch in iter_text_chunks(texts, chunk):
            for d, items in index.find(batch, tables).items():
                per = found.setdefault(start + d, {})
                for item, (pos, count) in items.items():
                    old = per.get(item)
                    per[item] = (pos, count) if old is None else (min(old[0], pos), old[1] + count)
            start += len(batch)
            if progress:
                progress((p * len(texts) + start) // parts)
    rows = sorted(found)
    return chunk_hits(index, [texts[r] for r in rows], [ids[r] for r in rows],
                      {k: found[r] for k, r in enumerate(rows)})


def chunk_hits(index: NgramIndex, batch: Sequence[str], ids: Sequence[str],
               found: dict[int, dict[int, tuple[int, int]]] | None = None) -> list[dict]:
    """The hits of a chunk of texts (`found`: index.find(batch) when already computed), in row
    order: {row, benchmark, item, rule, ngram, matches}."""
    hits = []
    for d, items in sorted((index.find(batch) if found is None else found).items()):
        ws = words(batch[d])
        for item, (pos, count) in sorted(items.items()):
            bench, item_id = index.items[item]
            size = min(index.n, index.item_words[item])
            hits.append({"row": ids[d], "benchmark": bench, "item": item_id,
                         "rule": "ngram" if size == index.n else "short_item",
                         "ngram": " ".join(ws[pos : pos + size]), "matches": count})
    return hits


def decontam_result(index: NgramIndex, n_rows: int, hits: list[dict], *, compact: bool = False) -> Result:
    """The decontam Result from every hit in row order (a row's hits together), out of `n_rows`.
    `compact` (a cluster run's result): the report counts the hits instead of listing them
    again beside the signals."""
    signals: list[tuple[str, str, Any]] = []
    rejects: dict[str, str] = {}
    per_bench: dict[str, int] = {}
    k = 0
    while k < len(hits):
        rid = hits[k]["row"]
        end = k
        while end < len(hits) and hits[end]["row"] == rid:
            end += 1
        row_hits = hits[k:end]
        k = end
        signals.append((rid, "contamination", [{f: v for f, v in h.items() if f != "row"} for h in row_hits]))
        benches = sorted({h["benchmark"] for h in row_hits})
        rejects[rid] = "contaminated: " + ", ".join(benches)
        for b in benches:
            per_bench[b] = per_bench.get(b, 0) + 1
    params = {"ngram": index.n, "benchmarks": index.benchmarks}
    report = {
        "op": "decontam",
        "params": params,
        "rows": n_rows,
        "benchmark_ngrams": len(index),
        "short_items": index.short_items,
        "contaminated_rows": len(rejects),
        "by_benchmark": per_bench,
        "hits": len(hits) if compact else hits,
    }
    detail = ", ".join(f"{b} {k}" for b, k in sorted(per_bench.items()))
    summary = (f"decontam: {n_rows} rows against {len(index.benchmarks)} benchmark(s) ({len(index)} {index.n}-grams"
               f"{f', {index.short_items} shorter item(s)' if index.short_items else ''}), "
               f"{len(rejects)} contaminated" + (f" ({detail})" if detail else ""))
    return Result("decontam", params, signals, rejects, report, summary)
