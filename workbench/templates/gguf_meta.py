"""GGUF metadata, read without the tensors: the chat template and the tokenizer a model file
carries, and that tokenizer as a `tokenizers` tokenizer.json.

The format is the one the GGUF spec (ggml's docs/gguf.md) documents: a header, then key/value
pairs, then tensor infos and data. The `gguf` package's reader parses every tensor info and
maps every array up front (about 9 s for the bundled 98 MB SmolLM2 file on a loaded machine);
this reads only the key/value pairs from a memory map (well under a second), so token counts
are ready at first use.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9
# tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
CONTROL, USER_DEFINED = 3, 4


class GGUFError(ValueError):
    """Not a GGUF file, or one whose metadata is cut short; the message names the file."""


def read_metadata(path: str | Path, prefix: str = "") -> dict:
    """The metadata key/value pairs whose key starts with `prefix` (arrays as lists).
    Raises GGUFError for a file that is not GGUF (version 2 or 3) or is truncated."""
    path = Path(path)
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return _parse(mm, prefix)
    except (ValueError, struct.error, UnicodeDecodeError, IndexError) as e:
        raise GGUFError(f"{path}: not a readable GGUF file ({e})") from None


def _parse(buf, prefix: str) -> dict:
    if buf[:4] != b"GGUF":
        raise ValueError("no GGUF magic")
    version, _tensors, count = struct.unpack_from("<IQQ", buf, 4)
    if version not in (2, 3):
        raise ValueError(f"GGUF version {version}")
    pos = 24
    out = {}

    def string(pos: int) -> tuple[str, int]:
        (n,) = struct.unpack_from("<Q", buf, pos)
        end = pos + 8 + n
        if end > len(buf):
            raise ValueError("cut short")
        return bytes(buf[pos + 8 : end]).decode("utf-8"), end

    def value(kind: int, pos: int):
        if kind == _STRING:
            return string(pos)
        if kind == _ARRAY:
            inner, n = struct.unpack_from("<IQ", buf, pos)
            pos += 12
            if inner == _STRING:
                items = []
                for _ in range(n):
                    item, pos = string(pos)
                    items.append(item)
                return items, pos
            fmt = f"<{n}{_SCALARS[inner]}"
            return list(struct.unpack_from(fmt, buf, pos)), pos + struct.calcsize(fmt)
        fmt = "<" + _SCALARS[kind]
        return struct.unpack_from(fmt, buf, pos)[0], pos + struct.calcsize(fmt)

    for _ in range(count):
        key, pos = string(pos)
        (kind,) = struct.unpack_from("<I", buf, pos)
        v, pos = value(kind, pos + 4)
        if key.startswith(prefix):
            out[key] = v
    return out


def tokenizer_json(meta: dict) -> dict:
    """tokenizer.json (as a dict) for a GGUF byte-level BPE tokenizer (`tokenizer.ggml.model`
    "gpt2"), laid out as transformers' GGUF converter lays it out (a test compares the two on
    the bundled file): BPE over the vocabulary and merges, a ByteLevel pre-tokenizer and
    decoder, control tokens as special added tokens. Raises NotImplementedError for what that
    comparison does not cover (other tokenizer models such as sentencepiece-style "llama",
    user-defined tokens, a BOS added to every sequence): the caller converts those with
    transformers instead."""
    model = meta.get("tokenizer.ggml.model")
    if model != "gpt2":
        raise NotImplementedError(f"GGUF tokenizer model {model!r}")
    tokens = meta["tokenizer.ggml.tokens"]
    types = meta.get("tokenizer.ggml.token_type") or [1] * len(tokens)
    if USER_DEFINED in types or meta.get("tokenizer.ggml.add_bos_token"):
        raise NotImplementedError("user-defined tokens or add_bos_token")
    add_space = bool(meta.get("tokenizer.ggml.add_space_prefix", False))
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True}
             for i, (t, kind) in enumerate(zip(tokens, types)) if kind == CONTROL]
    single = [{"Sequence": {"id": "A", "type_id": 0}}]
    pair = single + [{"Sequence": {"id": "B", "type_id": 1}}]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": add_space, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": {}},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(tokens)},
                  "merges": [m.split(" ", 1) for m in meta["tokenizer.ggml.merges"]]},
    }
