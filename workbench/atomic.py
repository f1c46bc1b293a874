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
    tmp = path.with_name(f"{_tmp_prefix(path)}{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path)
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        raise OSError(e.errno, f"cannot write {path}: {e.strerror or e}", str(path)) from None
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def _tmp_prefix(path: Path) -> str:
    return f".{path.name}.tmp"


def remove_stale_temps(path: str | os.PathLike) -> list[str]:
    """Remove the temp files that earlier writes of `path` left when they were killed before
    their rename (kill -9, power loss): `.NAME.tmpPID` beside it, each only when process PID
    is gone (a live one may be writing it now). Returns the names removed."""
    path = Path(path)
    prefix = _tmp_prefix(path)
    removed = []
    try:
        names = [n for n in os.listdir(path.parent) if n.startswith(prefix) and n[len(prefix):].isdigit()]
    except OSError:
        return removed
    for name in names:
        pid = int(name[len(prefix):])
        if pid != os.getpid() and not _alive(pid):
            try:
                os.unlink(path.parent / name)
                removed.append(name)
            except OSError:
                pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's live process
        return True
    return True


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """A report or sidecar: UTF-8 JSON, one level of indent per nesting.

    orjson writes it (the standard library's encoder is pure Python once it indents: 0.2 s for
    a dedup report of 8k clusters) when it writes the same values: the standard library's C
    encoder first checks there is no NaN or infinity (orjson would write null); an integer
    beyond 64 bits or a lone surrogate makes orjson refuse, and the standard library writes it."""
    import orjson

    try:
        json.dumps(obj, allow_nan=False)
        text = orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, ValueError):
        text = json.dumps(obj, ensure_ascii=False, indent=1)
    write_text_atomic(path, text)
