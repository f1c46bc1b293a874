"""Exact duplicates: each text normalised and hashed; rows with equal hashes form a cluster.
128-bit blake2b makes a false match negligible.

Normalising always puts the text in canonical form (NFKC, zero-width and control characters
removed: workbench.ops.hashing.canonical), so NFC and NFD spellings, NBSP and invisible
characters never hide a duplicate; case, whitespace and punctuation are each an option."""

from __future__ import annotations

import contextlib
import hashlib
import unicodedata
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np

from workbench.ops import spill
from workbench.ops.clusters import Cluster, build_clusters
from workbench.ops.hashing import canonical
from workbench.ops.oprun import Cancelled, iter_text_chunks


@dataclass
class ExactParams:
    view: str = "conversation"  # which text: "conversation" (no system prompt), "prompt", "answer" or "all"
    case: bool = True  # ignore case
    whitespace: bool = True  # fold runs of whitespace, strip the ends
    punctuation: bool = False  # drop punctuation and symbols
    keep: str = "first"  # equal once normalised: the earliest, as every dedup tool keeps (ops.clusters)


def normalise(text: str, *, case: bool = True, whitespace: bool = True, punctuation: bool = False) -> str:
    """The compared form of `text`: canonical, then case-folded, without punctuation and symbols,
    with runs of whitespace folded to one space and the ends stripped (each as asked)."""
    text = canonical(text)
    if case:
        text = text.casefold()
    if punctuation:
        text = "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PS")
    if whitespace:
        text = " ".join(text.split())  # str.split's whitespace is re's \s: Unicode White_Space
    return text


def _key(norm: str) -> bytes:
    return hashlib.blake2b(norm.encode("utf-8", "surrogatepass"), digest_size=16).digest()


# ASCII bytes by what normalise() does to them: control characters other than whitespace go;
# whitespace folds (to a space, then runs of spaces to one); punctuation and symbols (categories
# P and S) go when asked; case folds to lower case.
_ASCII_WS = bytes(c for c in range(128) if chr(c).isspace())
_ASCII_DROP = bytes(c for c in range(128) if unicodedata.category(chr(c)) == "Cc" and not chr(c).isspace())
_ASCII_PUNCT = bytes(c for c in range(128) if unicodedata.category(chr(c))[0] in "PS")


def _ascii_table(p: ExactParams) -> bytes:
    """A bytes.translate table: 0 marks a byte to drop (0 itself is a control character)."""
    table = bytearray(range(256))
    for c in _ASCII_DROP + (_ASCII_PUNCT if p.punctuation else b""):
        table[c] = 0
    if p.whitespace:
        for c in _ASCII_WS:
            table[c] = 32
    if p.case:
        for c in range(65, 91):
            table[c] = c + 32
    return bytes(table)


def _compact(a: np.ndarray, off: np.ndarray, drop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bytes of the rows a[off[i]:off[i+1]] but those marked in `drop`, and the rows' new
    offsets (dropped bytes are few: each offset moves back by those before it)."""
    gone = np.flatnonzero(drop)
    if not len(gone):
        return a, off
    keep = np.ones(len(a), dtype=bool)
    keep[gone] = False
    return a[keep], off - np.searchsorted(gone, off)


def _chunk_keys(chunk: Sequence[str], p: ExactParams, table: bytes) -> list[bytes | None]:
    """16-byte keys of normalise(t) for a chunk of texts (None where it is empty).

    ASCII texts — most — are normalised together with array passes over their joined bytes:
    one translate, then whitespace runs and the ends dropped with numpy; the rest one by one.
    Both give the bytes of normalise(t), so keys agree across the two paths."""
    keys: list[bytes | None] = [None] * len(chunk)
    ascii_rows = []
    for i, t in enumerate(chunk):
        if t.isascii():
            ascii_rows.append(i)
        else:
            norm = normalise(t, case=p.case, whitespace=p.whitespace, punctuation=p.punctuation)
            keys[i] = _key(norm) if norm else None
    if not ascii_rows:
        return keys
    raw = [chunk[i].encode() for i in ascii_rows]
    off = np.zeros(len(raw) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in raw], out=off[1:])
    a = np.frombuffer(b"".join(raw).translate(table), dtype=np.uint8)
    a, off = _compact(a, off, a == 0)
    if p.whitespace and len(a):
        space = a == 32
        # A space goes when it follows a space or starts its row: one space per run, no leading one.
        drop = np.zeros(len(a), dtype=bool)
        np.logical_and(space[1:], space[:-1], out=drop[1:])
        starts = off[:-1][off[:-1] < len(a)]
        drop[starts] = space[starts]
        a, off = _compact(a, off, drop)
        last = off[1:][off[1:] > off[:-1]] - 1  # a row's last byte: a trailing space, if any, goes
        drop = np.zeros(len(a), dtype=bool)
        drop[last[a[last] == 32]] = True
        a, off = _compact(a, off, drop)
    buf = memoryview(a)
    for i, s, e in zip(ascii_rows, off[:-1].tolist(), off[1:].tolist()):
        if e > s:
            keys[i] = hashlib.blake2b(buf[s:e], digest_size=16).digest()
    return keys


def exact_dedup(
    texts: Sequence[str],
    params: ExactParams | None = None,
    *,
    lengths: Sequence[int] | None = None,
    scores: Sequence[float | None] | None = None,
    progress: Callable[[int], None] | None = None,
    cancel=None,
    groups: Sequence[int] | None = None,
    stable_keys: Callable[[list[int]], Sequence[str]] | None = None,
    max_keys: int | None = None,
) -> list[Cluster]:
    """Clusters of rows whose normalised texts are equal (positions in `texts`); streams the
    texts and keeps one 16-byte key per row. Rows of different `groups` never match.

    More rows than `max_keys` (default: workbench.ops.spill.max_keys()) spill their keys to
    disk, partitioned by hash, and each partition is sorted on its own: the same clusters,
    with about `max_keys` keys in memory at once."""
    p = params or ExactParams()
    budget = spill.max_keys() if max_keys is None else max_keys
    parts = spill.partitions_for(len(texts), budget)
    need_lengths = p.keep == "longest" and lengths is None
    seen_lengths: list[int] = []
    table = _ascii_table(p)
    first: dict[bytes, int] = {}
    a: list[int] = []
    b: list[int] = []
    with spill.Partitions(parts, _SPILLED) if parts > 1 else contextlib.nullcontext() as spilled:
        i = 0
        for chunk in iter_text_chunks(texts, 4096):
            if cancel is not None and cancel.is_set():
                raise Cancelled("exact dedup cancelled")
            keys = _chunk_keys(chunk, p, table)
            if spilled is not None:
                _spill_keys(spilled, keys, i, groups)
            for key in keys:
                # A row with nothing to compare (a text row's prompt view, say) duplicates nothing.
                if spilled is None and key is not None:
                    if groups is not None:
                        key += bytes([groups[i]])
                    j = first.setdefault(key, i)
                    if j != i:
                        a.append(j)
                        b.append(i)
                i += 1
            if need_lengths:
                seen_lengths += [len(t) for t in chunk]
            if progress:
                progress(i)
        if spilled is not None:
            a, b = _spilled_pairs(spilled)
    sim = np.ones(len(a))
    return build_clusters(
        i, np.array(a, dtype=np.int64), np.array(b, dtype=np.int64), sim,
        keep=p.keep, lengths=seen_lengths if need_lengths else lengths, scores=scores, stable_keys=stable_keys,
    )


# A spilled key: its 16 bytes as two integers, the row's group and its position.
_SPILLED = np.dtype([("hi", "<u8"), ("lo", "<u8"), ("g", "u1"), ("pos", "<i8")])


def _spill_keys(spilled: "spill.Partitions", keys: list[bytes | None], start: int, groups) -> None:
    at = [k for k, key in enumerate(keys) if key is not None]
    if not at:
        return
    recs = np.empty(len(at), dtype=_SPILLED)
    halves = np.frombuffer(b"".join(keys[k] for k in at), dtype=">u8").reshape(-1, 2)
    recs["hi"], recs["lo"] = halves[:, 0], halves[:, 1]
    pos = np.array(at, dtype=np.int64) + start
    recs["g"] = 0 if groups is None else np.asarray(groups, dtype=np.uint8)[pos]
    recs["pos"] = pos
    spilled.add(recs["hi"] % np.uint64(spilled.parts), recs)


def _spilled_pairs(spilled: "spill.Partitions") -> tuple[np.ndarray, np.ndarray]:
    """(first row with the key, later row) for every later row, one partition in memory at a
    time, in the order of the later row (as the in-memory pass finds them)."""
    a, b = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
    for recs in spilled:
        recs = recs[np.lexsort((recs["pos"], recs["g"], recs["lo"], recs["hi"]))]
        new = np.r_[True, (recs["hi"][1:] != recs["hi"][:-1]) | (recs["lo"][1:] != recs["lo"][:-1])
                    | (recs["g"][1:] != recs["g"][:-1])]
        first = recs["pos"][np.flatnonzero(new)][np.cumsum(new) - 1]
        dup = ~new
        a.append(first[dup])
        b.append(recs["pos"][dup])
    a_all, b_all = np.concatenate(a), np.concatenate(b)
    order = np.argsort(b_all, kind="stable")
    return a_all[order], b_all[order]


def params_dict(p: ExactParams) -> dict:
    return asdict(p)
