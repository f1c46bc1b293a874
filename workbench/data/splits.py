"""Splits of a dataset on disk: which source files hold which split.

A `save_to_disk` DatasetDict (dataset_dict.json listing its splits, one Dataset folder per
split) opens as one source per split; a Hugging Face hub snapshot names its shards
`SPLIT-00000-of-00003.parquet` (or keeps them in a SPLIT folder); a folder of `train.jsonl` and
`test.jsonl` names them by file. These are the conventions `datasets.load_dataset` follows for
data files. A file named for no split is a training file when others are named.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from workbench.data.errors import DataError

# The split words datasets' data-file patterns know (train, validation/dev, test/eval).
SPLIT_WORDS = ("train", "training", "validation", "valid", "val", "dev", "eval", "evaluation", "test", "testing")
_SHARD = re.compile(r"^(?P<split>[A-Za-z][\w.]*?)-\d{5}-of-\d{5}(\.|$)")


def dict_splits(path: str | Path) -> list[str] | None:
    """The split folders of a DatasetDict directory, in its own order, or None."""
    p = Path(path)
    try:
        names = json.loads((p / "dataset_dict.json").read_text())["splits"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) and (p / n).is_dir() for n in names):
        raise DataError(str(p), None, "dataset_dict.json lists splits that are not folders here")
    return [str(p / n) for n in names]


def split_of(path: str) -> str | None:
    """The split a source file or folder holds, by the conventions above, or None."""
    p = Path(path)
    if (p.parent / "dataset_dict.json").is_file():
        return p.name
    m = _SHARD.match(p.name)
    if m:
        return m.group("split")
    stem = p.name.split(".")[0]
    if stem.lower() in SPLIT_WORDS:
        return stem
    return p.parent.name if p.parent.name.lower() in SPLIT_WORDS else None


def splits_of(sources: list[str]) -> dict[str, str]:
    """{source: split} when the sources hold named splits, else {} (one dataset, no splits);
    in the order train, validation, test (others after), so lists of splits read that way."""
    named = {s: split_of(s) for s in sources}
    if not any(named.values()):
        return {}
    rank = {w: i for i, w in enumerate(SPLIT_WORDS)}
    return dict(sorted(((s, n or "train") for s, n in named.items()),
                       key=lambda sn: rank.get(sn[1].lower(), len(rank))))


def label(path: str) -> str:
    """How a source is named to people: a DatasetDict split as `dd/train`, a file by its name."""
    p = Path(path)
    return f"{p.parent.name}/{p.name}" if (p.parent / "dataset_dict.json").is_file() else p.name


def select(files: list[str], split: str | None) -> list[str]:
    """The files of split `split` (all when None); a DataError names the splits there are."""
    if split is None:
        return files
    named = splits_of(files)
    chosen = [f for f in files if named.get(f) == split]
    if not chosen:
        have = ", ".join(dict.fromkeys(named.values())) or "none (the files name no split)"
        raise DataError(", ".join(label(f) for f in files[:3]), None, f"no split {split!r}; splits here: {have}")
    return chosen
