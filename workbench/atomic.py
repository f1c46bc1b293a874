"""Files written so that a reader never sees half of one: a temp file beside the target,
then a rename (atomic on one filesystem). A failure leaves the old file as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """A report or sidecar: UTF-8 JSON, one level of indent per nesting."""
    write_text_atomic(path, json.dumps(obj, ensure_ascii=False, indent=1))
