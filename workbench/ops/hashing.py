"""Vectorised shingling: texts -> 64-bit n-gram hashes, shared by MinHash dedup and decontamination.

Per-token work in Python is the cost to avoid. Words are split by C string methods and mapped
to ids through a dict without Python code per word; only each *distinct* word of a chunk is hashed (blake2b, so results are
the same in every process); n-grams are then combined and mixed with numpy over the whole
chunk at once.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

_WORD_RE = re.compile(r"\w+")
_NONWORD_RE = re.compile(r"\W+")
# Bytes that separate words: ASCII other than letters, digits and "_". Bytes of multi-byte UTF-8
# characters are kept: word_tokens has already blanked the non-word characters among them.
_BYTE_SEPARATORS = bytes(32 if c < 128 and not (chr(c).isalnum() or c == 95) else c for c in range(256))
# Texts are hashed in batches of this many bytes: the per-byte arrays (about 40 bytes per text
# byte) then stay in the CPU cache instead of being faulted in afresh for every batch.
_BATCH_BYTES = 256 << 10
_B = np.uint64(0x100000001B3 * 2 + 1)
_BINV = np.uint64(pow(int(_B), -1, 2**64))
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
    of len(texts)+1). The words are those of `words()`."""
    hashes, counts = [], []
    batch: list[bytes] = []
    size = 0
    for t in texts:
        t = t.lower()
        if not t.isascii():
            t = _NONWORD_RE.sub(" ", t)  # leaves only word characters outside ASCII
        b = t.encode("utf-8", "surrogatepass")
        batch.append(b)
        size += len(b) + 1
        if size >= _BATCH_BYTES:
            _hash_words(batch, hashes, counts)
            batch, size = [], 0
    if batch or not hashes:
        _hash_words(batch, hashes, counts)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.concatenate(counts), out=offsets[1:])
    return np.concatenate(hashes), offsets


_POWERS: list[np.ndarray] = []


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """B^k and B^-k for k < n (mod 2**64), computed once and grown when a longer text comes."""
    if not _POWERS or len(_POWERS[0]) < n:
        m = max(n, _BATCH_BYTES + 1024)
        with np.errstate(over="ignore"):
            _POWERS[:] = [np.cumprod(np.full(m, _B, dtype=_U64)) * _BINV, np.cumprod(np.full(m, _BINV, dtype=_U64)) * _B]
    return _POWERS[0][:n], _POWERS[1][:n]


def _hash_words(batch: list[bytes], hashes: list, counts: list) -> None:
    """Word hashes of lower-cased UTF-8 texts in which every non-ASCII byte is a word character.

    A polynomial hash over bytes, vectorised with prefix sums: with P[i] = sum_{k<=i} c_k B^-k
    (mod 2**64; B is odd, so invertible), the word [s, e) hashes to (P[e-1] - P[s-1]) B^(e-1),
    i.e. sum c_k B^(e-1-k); then mixed. No Python code runs per word or per byte.
    """
    buf = np.frombuffer(b" ".join(batch).translate(_BYTE_SEPARATORS) + b" ", dtype=np.uint8)
    is_word = buf != 32
    edges = np.diff(np.r_[np.int8(0), is_word.view(np.int8)])
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # exclusive
    doc_start = np.zeros(len(batch), dtype=np.int64)
    if batch:
        np.cumsum([len(b) + 1 for b in batch[:-1]], out=doc_start[1:])
    doc = np.searchsorted(doc_start, starts, side="right") - 1
    counts.append(np.bincount(doc, minlength=len(batch)).astype(np.int64))
    n = len(buf)
    with np.errstate(over="ignore"):
        pow_, inv_pow = _powers(n)
        prefix = np.cumsum((buf.astype(_U64) + _U64(1)) * inv_pow)
        before = np.where(starts > 0, prefix[np.maximum(starts - 1, 0)], _U64(0))
        h = (prefix[ends - 1] - before) * pow_[ends - 1]
        hashes.append(mix64(h + (ends - starts).astype(_U64) * _COMBINE))


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
