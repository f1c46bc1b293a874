"""Files that are one JSON object holding the rows, rather than an array or JSON Lines.

Read: a wrapper, {"data": [row, ...], "version": ...} (any one key holding a list of
objects, as `datasets`' json loader reads with `field=`; pandas' `to_json(orient="table")`
is one too), and pandas' other object layouts of `DataFrame.to_json`: "columns" (its
default, {column: {index: value}}), "index" ({index: {column: value}}) and "split"
({"columns", "index"?, "data": [[value, ...]]}). A one-object file that is none of these and
holds no field a format could read is refused with a message naming what it is, never with a
--format/--map hint that cannot help.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from workbench.data.errors import DataError

RawRow = tuple[int, int, Any]
READS = 'an array of rows, JSON Lines, {"data": [rows]} or a pandas to_json layout (columns, index, split, table)'


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(r, dict) for r in value)


def holds_text(obj: dict) -> bool:
    """Could this object be a row under some --format/--map? (a field holding text, or a list
    of texts or of turn objects)"""
    return any(isinstance(v, str) or (isinstance(v, list) and v and all(isinstance(x, (str, dict)) for x in v))
               for v in obj.values())


def object_rows(path: str, text: str, obj: dict, looks_like_row: bool) -> Iterator[RawRow] | None:
    """The rows of a one-object file with their lines, or None when the object is itself one
    row (`looks_like_row`: a format detects it). Raises DataError for an object that is
    neither a row nor a layout read here."""
    if looks_like_row:
        return None
    lines = _Lines(text)
    if isinstance(obj.get("columns"), list) and isinstance(obj.get("data"), list) and all(
            isinstance(r, list) for r in obj["data"]):  # orient="split"
        cols = obj["columns"]
        if not all(isinstance(c, str) for c in cols) or any(len(r) != len(cols) for r in obj["data"]):
            raise DataError(path, 1, "a pandas 'split' layout whose rows do not match its 'columns'")
        starts = lines.members_of(_path_to(text, "data"))
        return ((starts[i], i, dict(zip(cols, r))) for i, r in enumerate(obj["data"]))
    lists = [k for k, v in obj.items() if _is_rows(v)]
    if len(lists) == 1:  # a wrapper: {"data": [...]} (other keys: metadata, pandas' "schema")
        key = lists[0]
        starts = lines.members_of(_path_to(text, key))
        return ((starts[i], i, r) for i, r in enumerate(obj[key]))
    if len(lists) > 1:
        raise DataError(path, 1, f"one JSON object holding several lists of rows ({', '.join(lists)}): "
                                 "write each as its own file (a split per file) to read them")
    if obj and all(isinstance(v, dict) for v in obj.values()):
        return _columns_or_index(path, text, obj, lines)
    if not holds_text(obj):
        raise DataError(path, 1, f"one JSON object whose fields ({', '.join(list(obj)[:8])}) hold no rows; "
                                 f"workbench reads {READS}")
    return None


def _columns_or_index(path: str, text: str, obj: dict, lines: "_Lines") -> Iterator[RawRow]:
    """pandas' "columns" ({column: {index: value}}) or "index" ({index: {column: value}}):
    the one whose rows look like rows of a format wins (a columns file read the other way
    gives rows whose fields are index labels)."""
    from workbench.data.formats import detect

    inner = [list(v) for v in obj.values()]
    if all(keys == inner[0] for keys in inner):  # columns: every column has the same index
        index = inner[0]
        as_columns = [{col: obj[col][i] for col in obj} for i in index]
    else:
        as_columns = None
    as_index = list(obj.values())
    pick_columns = as_columns is not None and (
        detect(as_columns[:20])[1] >= detect(as_index[:20])[1] or not all(isinstance(r, dict) for r in as_index))
    if pick_columns:
        first = next(iter(obj))
        starts = lines.members_of(_path_to(text, first))
        return ((starts[i], i, r) for i, r in enumerate(as_columns))
    if detect(as_index[:20])[0] is None:
        raise DataError(path, 1, f"one JSON object of objects ({', '.join(list(obj)[:8])}) whose rows no format "
                                 f"reads in either pandas layout (columns or index); workbench reads {READS}")
    starts = lines.members_of(text.index("{"))
    return ((starts[i], i, r) for i, r in enumerate(as_index))


def _path_to(text: str, key: str) -> int:
    """Offset of the value of top-level `key` in the JSON object `text`."""
    dec = json.JSONDecoder()
    pos = text.index("{") + 1
    while True:
        pos = _skip(text, pos)
        k, pos = dec.raw_decode(text, pos)
        pos = _skip(text, pos) + 1  # ":"
        pos = _skip(text, pos)
        if k == key:
            return pos
        _, pos = dec.raw_decode(text, pos)
        pos = _skip(text, pos) + 1  # ","


def _skip(text: str, pos: int) -> int:
    while text[pos] in " \t\r\n":
        pos += 1
    return pos


class _Lines:
    """1-based line numbers of offsets in `text`, and of the members of a list or object."""

    def __init__(self, text: str):
        self.text = text

    def members_of(self, pos: int) -> list[int]:
        """Lines where each element (list) or each key (object) starts, for the container at `pos`."""
        text, dec = self.text, json.JSONDecoder()
        is_obj = text[pos] == "{"
        out, line, last = [], 1 + text.count("\n", 0, pos), pos
        pos = _skip(text, pos + 1)
        while text[pos] not in "]}":
            line += text.count("\n", last, pos)
            last = pos
            out.append(line)
            if is_obj:
                _, pos = dec.raw_decode(text, pos)
                pos = _skip(text, _skip(text, pos) + 1)
            _, pos = dec.raw_decode(text, pos)
            pos = _skip(text, pos)
            if text[pos] == ",":
                pos = _skip(text, pos + 1)
        return out
