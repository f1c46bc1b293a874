"""Vectorised shingling: texts -> 64-bit n-gram hashes, shared by MinHash dedup and decontamination.

Per-token work in Python is the cost to avoid. Words are split by C string methods and mapped
to ids through a dict without Python code per word; only each *distinct* word of a chunk is hashed (blake2b, so results are
the same in every process); n-grams are then combined and mixed with numpy over the whole
chunk at once.

Every text is first put in one canonical form (`canonical`: NFKC, zero-width and control
characters removed), so that NFC and NFD spellings, NBSP or a stray zero-width space do not
make two equal texts differ. Scripts written without spaces between words (Chinese, Japanese,
Thai, Lao, Khmer, Myanmar, Tibetan) are split into one token per character (with its
combining marks), as the n-gram decontamination of the GPT-3 and PaLM papers and MinHash
dedup tools such as text-dedup do for such text; other scripts split at anything that is
neither a word character nor a combining mark.
"""

from __future__ import annotations

import unicodedata
from typing import Sequence

import numpy as np
import regex

# Per byte: ASCII other than letters, digits and "_" separates words (a space), ASCII capitals
# become small letters; bytes of multi-byte UTF-8 characters are kept (word_tokens has already
# blanked and case-folded the non-ASCII text).
_BYTE_SEPARATORS = bytes(32 if c < 128 and not (chr(c).isalnum() or c == 95) else c + 32 if 65 <= c <= 90 else c
                         for c in range(256))
# Texts are hashed in batches of this many bytes: the scratch arrays then stay in the CPU
# cache instead of being faulted in afresh for every batch.
_BATCH_BYTES = 256 << 10
_ASCII_SEPARATORS = str.maketrans({c: " " for c in map(chr, range(128)) if not (c.isalnum() or c == "_")})
# Invisible characters dropped before comparing: format characters (zero-width space and
# joiners, BOM, soft hyphen, bidi marks) and control characters other than whitespace.
_INVISIBLE_RE = regex.compile(r"[\p{Cf}]|[^\P{Cc}\s]")
_ASCII_CONTROLS = {c: None for c in range(32) if not chr(c).isspace()} | {127: None}
# A non-word run (anything but letters, digits, "_" and combining marks) separates words.
_NONWORD_RE = regex.compile(r"[^\w\p{M}]+")
# One token per character (with its combining marks) in scripts written without spaces.
_UNSPACED_RE = regex.compile(
    r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Bopomofo}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}]\p{M}*")
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


def canonical(text: str) -> str:
    """`text` in NFKC with format characters (zero-width, BOM, soft hyphen, bidi marks) and
    non-whitespace control characters removed. ASCII text only loses its control characters."""
    if text.isascii():
        return text.translate(_ASCII_CONTROLS)
    return _INVISIBLE_RE.sub("", unicodedata.normalize("NFKC", text))


def _spaced(text: str) -> str:
    """Lower-cased canonical text whose words are separated by ASCII spaces (see `words`)."""
    if text.isascii():
        return text.lower().translate(_ASCII_SEPARATORS)
    text = _NONWORD_RE.sub(" ", canonical(text).casefold())
    return _UNSPACED_RE.sub(r" \g<0> ", text)


def words(text: str) -> list[str]:
    """Word tokens of the canonical, case-folded text: runs of letters, digits, "_" and
    combining marks, and single characters (with their marks) of scripts without spaces."""
    return _spaced(text).split()


def word_tokens(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hash every word of every text: (uint64 hashes of all words concatenated, int64 offsets
    of len(texts)+1). The words are those of `words()`."""
    hashes, counts = [], []
    batch: list[bytes] = []
    size = 0
    for t in texts:
        b = (t if t.isascii() else _spaced(t)).encode("utf-8", "surrogatepass")
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


# MASKS[k] keeps the first k bytes of a little-endian 8-byte load.
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=_U64)
_C1, _C2, _C3 = _U64(0x9FB21C651E98DF25), _U64(0xC2B2AE3D27D4EB4F), _U64(0x165667B19E3779F9)


def _hash_words(batch: list[bytes], hashes: list, counts: list) -> None:
    """Word hashes of lower-cased UTF-8 texts in which every non-ASCII byte is a word character.

    Per byte only cheap uint8 passes find the word boundaries; each word is then hashed from
    at most three unaligned 8-byte loads (its first 16 bytes, its last 8, its length) through
    an overlapping uint64 view of the bytes. Two words longer than 16 bytes that agree on all
    of those hash alike: harmless for similarity and for 13-word matches.
    """
    raw = b" ".join(batch).translate(_BYTE_SEPARATORS)
    n = len(raw)
    # A space on either side makes every word start and end at a change of is_word; the zero
    # bytes after it keep every 8-byte load up to position n + 8 inside.
    padded = b" " + raw + b" " + bytes(16)
    is_word = np.frombuffer(padded, dtype=np.uint8, count=n + 2) != 32
    edges = np.flatnonzero(is_word[1:] != is_word[:-1])  # a word's start, then its end (exclusive)
    starts, ends = edges[0::2], edges[1::2]
    doc_start = np.zeros(len(batch) + 1, dtype=np.int64)
    np.cumsum([len(b) + 1 for b in batch], out=doc_start[1:])
    counts.append(np.diff(np.searchsorted(starts, doc_start)))
    load = np.ndarray(shape=(n + 9,), dtype="<u8", buffer=padded, offset=1, strides=(1,))
    length = ends - starts
    with np.errstate(over="ignore"):
        h = (load[starts] & _MASKS[np.minimum(length, 8)]) * _C1 + length.astype(_U64)
        # Only the few words longer than 8 (16) bytes read a second (third) load.
        long = np.flatnonzero(length > 8)
        h[long] += (load[starts[long] + 8] & _MASKS[np.minimum(length[long] - 8, 8)]) * _C2
        longer = long[length[long] > 16]
        h[longer] += load[ends[longer] - 8] * _C3
        hashes.append(mix64(h))


def char_tokens(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hashed code points of each canonical text, lower-cased with runs of whitespace folded to one space."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pc.utf8_lower(pa.array([canonical(t) for t in texts], type=pa.large_string()))
    arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, r"\s+", " "))
    lengths = pc.utf8_length(arr).to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    cps = np.frombuffer("".join(arr.to_pylist()).encode("utf-32-le"), dtype=np.uint32).astype(_U64)
    return mix64(cps + _U64(1)), offsets


def window_hashes(tokens: np.ndarray, n: int) -> np.ndarray:
    """H[i] = sum_k tokens[i+k] * C**(n-1-k) (mod 2**64) for every window of n tokens, in
    O(log n) array passes: H_(a+b)[i] = H_a[i] * C**b + H_b[i+a], doubling then adding up."""
    with np.errstate(over="ignore"):
        windows = {1: tokens}
        size = 1
        while size * 2 <= n:
            w = windows[size]
            windows[size * 2] = w[: len(w) - size] * _COMBINE ** _U64(size) + w[size:]
            size *= 2
        h, have = None, 0
        for size in sorted(windows, reverse=True):
            if have + size <= n:
                w = windows[size]
                if h is None:
                    h = w.copy()
                else:
                    h = h[: len(tokens) - have - size + 1] * _COMBINE ** _U64(size) + w[have : have + len(tokens) - have - size + 1]
                have += size
        return h


def ngram_hashes(tokens: np.ndarray, offsets: np.ndarray, n: int, short: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the n-grams inside each document (never spanning two).

    `tokens` are per-token uint64 hashes of all documents concatenated, `offsets` the document
    boundaries. With `short`, a document of k < n tokens (k > 0) yields one shingle of all its
    tokens, so short texts still compare; it hashes as that k-gram does inside a longer
    document. Returns (hashes, doc) with doc[k] the document of shingle k, in document order.
    """
    lengths = np.diff(offsets)
    n_docs = len(lengths)
    total = len(tokens)
    if total >= n:
        h = window_hashes(tokens, n)
        doc_of_token = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        # An n-gram is valid when its last token lies in the same document as its first.
        first_doc = doc_of_token[: total - n + 1]
        valid = first_doc == doc_of_token[n - 1 :]
        h, doc = h[valid], first_doc[valid]
    else:
        h, doc = np.empty(0, dtype=_U64), np.empty(0, dtype=np.int64)
    short = np.flatnonzero((lengths > 0) & (lengths < n)) if short else ()
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
