"""Vectorised shingling: texts -> 64-bit n-gram hashes, shared by MinHash dedup and decontamination.

Per-token work in Python is the cost to avoid. Words are split by C string methods and mapped
to ids through a dict; only each *distinct* word of a chunk is hashed (blake2b, so results are
the same in every process); n-grams are then combined and mixed with numpy over the whole
chunk at once.
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

import numpy as np

_WORD_RE = re.compile(r"\w+")
_ASCII_SEPARATORS = str.maketrans({c: " " for c in map(chr, range(128)) if not (c.isalnum() or c == "_")})
_U64 = np.uint64
# Odd 64-bit constant for the polynomial that combines the tokens of an n-gram.
_COMBINE = _U64(0x9E3779B97F4A7C15)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over a uint64 array: every output bit depends on every input bit."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> _U64(30))
        x = x * _U64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> _U64(27))
        x = x * _U64(0x94D049BB133111EB)
        return x ^ (x >> _U64(31))


def stable_hash(s: str) -> int:
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters, digits, underscore; as regex \\w); the rest separates.

    ASCII text (the common case) goes through str.translate + split, several times faster
    than the regex, which handles the rest.
    """
    text = text.lower()
    if text.isascii():
        return text.translate(_ASCII_SEPARATORS).split()
    return _WORD_RE.findall(text)


def word_tokens(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hash every word of every text: (uint64 hashes of all words concatenated, int64 offsets
    of len(texts)+1)."""
    vocab: dict[str, int] = {}
    ids: list[int] = []
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    for i, t in enumerate(texts):
        ids.extend([vocab.setdefault(w, len(vocab)) for w in words(t)])
        offsets[i + 1] = len(ids)
    table = np.fromiter((stable_hash(w) for w in vocab), dtype=_U64, count=len(vocab))
    return table[np.asarray(ids, dtype=np.int64)], offsets


def char_tokens(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hashed code points of each text, lower-cased with runs of whitespace folded to one space."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pc.utf8_lower(pa.array(texts, type=pa.large_string()))
    arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, r"\s+", " "))
    lengths = pc.utf8_length(arr).to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    cps = np.frombuffer("".join(arr.to_pylist()).encode("utf-32-le"), dtype=np.uint32).astype(_U64)
    return mix64(cps + _U64(1)), offsets


def ngram_hashes(tokens: np.ndarray, offsets: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the n-grams inside each document (never spanning two).

    `tokens` are per-token uint64 hashes of all documents concatenated, `offsets` the document
    boundaries. A document shorter than n but not empty yields one shingle of all its tokens,
    so short texts still compare. Returns (hashes, doc) with doc[k] the document of shingle k,
    in document order.
    """
    lengths = np.diff(offsets)
    n_docs = len(lengths)
    total = len(tokens)
    if total >= n:
        with np.errstate(over="ignore"):
            h = tokens[: total - n + 1].copy()
            for k in range(1, n):
                h = h * _COMBINE + tokens[k : total - n + 1 + k]
        starts = np.arange(total - n + 1, dtype=np.int64)
        doc_of_token = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        # An n-gram is valid when its last token lies in the same document as its first.
        valid = doc_of_token[starts] == doc_of_token[starts + n - 1]
        h, doc = h[valid], doc_of_token[starts[valid]]
    else:
        h, doc = np.empty(0, dtype=_U64), np.empty(0, dtype=np.int64)
    short = np.flatnonzero((lengths > 0) & (lengths < n))
    if len(short):
        extra = np.empty(len(short), dtype=_U64)
        with np.errstate(over="ignore"):
            for j, d in enumerate(short):
                acc = _U64(0)
                for t in tokens[offsets[d] : offsets[d + 1]]:
                    acc = acc * _COMBINE + t
                extra[j] = acc
        h = np.concatenate([h, extra])
        doc = np.concatenate([doc, short])
        order = np.argsort(doc, kind="stable")
        h, doc = h[order], doc[order]
    return mix64(h), doc


def shingle(texts: Sequence[str], n: int, unit: str = "word") -> tuple[np.ndarray, np.ndarray]:
    """(hashes, doc) of the word or character n-grams of `texts`; see ngram_hashes."""
    if unit == "word":
        tokens, offsets = word_tokens(texts)
    elif unit == "char":
        tokens, offsets = char_tokens(texts)
    else:
        raise ValueError(f"unknown shingle unit {unit!r}; expected 'word' or 'char'")
    return ngram_hashes(tokens, offsets, n)
