"""Files written so that a reader never sees half of one: a temp file beside the target,
then a rename (atomic on one filesystem). A failure leaves the old file as it was."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


@contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path beside `path` to write; when the block ends, rename it over `path`.

    On any failure the temp file is removed and `path` is left as it was; an OSError (disk
    full, read-only folder) is raised again naming `path`, since a write() error names no file.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        raise OSError(e.errno, f"cannot write {path}: {e.strerror or e}", str(path)) from None
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """A report or sidecar: UTF-8 JSON, one level of indent per nesting."""
    write_text_atomic(path, json.dumps(obj, ensure_ascii=False, indent=1))
