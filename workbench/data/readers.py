"""Reading dataset files into canonical records, streaming.

Containers: .jsonl (also .ndjson), .json (an array, or JSON Lines misnamed), either of them
gzipped, .parquet, .csv, a Hugging Face `save_to_disk` directory, and a directory of such
files. The format is detected from the first rows' fields (see workbench.data.formats)
unless one is forced. Bad input raises a DataError naming the file and line, or, with
on_error="skip", is listed in `errors` while reading goes on.
"""

from __future__ import annotations

import base64
import codecs
import csv
import gzip
import io
import json
import math
import os
import re
import stat
import zlib
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import orjson

from workbench.data.errors import DataError
from workbench.data.formats import FORMATS, decode, detect, format_name
from workbench.data.formats.base import RowError, json_kind
from workbench.data.layouts import holds_text, object_rows
from workbench.data.quick import openai_record
from workbench.data.splits import dict_splits
from workbench.data.record import Record

SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz", ".parquet", ".csv")
DETECT_ROWS = 20
# One row larger than this is refused: no training example is that long, and reading it
# would hold the whole thing in memory.
MAX_ROW_BYTES = int(float(os.environ.get("WORKBENCH_MAX_ROW_MB", "8")) * 2**20)
LAYOUT_BYTES = 32 * MAX_ROW_BYTES  # a .json file that is one object holding the rows is read whole
# CSV cells that hold JSON (lists of turns, pairs, tags) in exported spreadsheets.
JSON_CELLS = {"messages", "conversations", "conversation", "chosen", "rejected", "history", "images",
              "prompt", "completion"}
# Parquet schema metadata: columns our writer stored as JSON text (values of mixed types).
JSON_COLUMNS_KEY = b"workbench.json_columns"
BOOL_CELLS = {"label", "kto_tag"}

# Python's json parser gives up near 1000 levels (RecursionError); no training row nests so.
TOO_DEEP = "lists and objects nested too deeply (about 1000 levels or more)"

RawRow = tuple[int, int, Any]  # (1-based line or row, 0-based row index, row dict | DataError)


def is_hf_dir(path: str | Path) -> bool:
    """A `datasets.save_to_disk` directory (a Dataset or a DatasetDict)."""
    p = Path(path)
    if (p / "dataset_dict.json").is_file():
        return True
    return ((p / "state.json").is_file() or (p / "dataset_info.json").is_file()) and any(p.glob("*.arrow"))


def is_dataset_file(path: str | Path) -> bool:
    return str(path).lower().endswith(SUFFIXES)


def expand_paths(paths: Iterable[str | os.PathLike]) -> list[str]:
    """Files to read: a directory of dataset files expands to them (sorted, recursively); a
    `save_to_disk` Dataset directory stays one entry, a DatasetDict gives one per split. Each
    real file is listed once, however many paths or symbolic links lead to it, and a linked
    directory is walked once (a `self -> .` link is no loop). A dangling link, a FIFO or a
    device raises a DataError naming it."""
    out: list[str] = []
    seen: set[tuple[int, int]] = set()  # (device, inode) of the files and directories taken
    for p in map(str, paths):
        if not os.path.lexists(p):
            raise FileNotFoundError(f"{p}: no such file or directory")
        check_readable(p)
        if not os.path.isdir(p) or is_hf_dir(p):
            if _first_visit(p, seen):
                out += dict_splits(p) or [p]
            continue
        _first_visit(p, seen)
        found = _walk(Path(p), seen)
        if not found:
            raise DataError(p, None, f"no dataset files in this directory (looked for {', '.join(SUFFIXES)})")
        out += found
    return out


def _first_visit(path: str | Path, seen: set[tuple[int, int]]) -> bool:
    st = os.stat(path)
    key = (st.st_dev, st.st_ino)
    if key in seen:
        return False
    seen.add(key)
    return True


# Trainer configs that sit beside data files (LLaMA-Factory's dataset registry, which
# `export --for llamafactory` writes): not rows, so a folder walk leaves them out.
NOT_DATA = frozenset({"dataset_info.json"})


def _walk(d: Path, seen: set[tuple[int, int]]) -> list[str]:
    found = []
    for child in sorted(d.iterdir()):
        if child.name.startswith((".", "_")) or child.name in NOT_DATA:
            continue
        if child.is_dir():
            if _first_visit(child, seen):
                found += (dict_splits(child) or [str(child)]) if is_hf_dir(child) else _walk(child, seen)
        elif is_dataset_file(child):
            check_readable(str(child))
            if _first_visit(child, seen):
                found.append(str(child))
    return found


def check_readable(path: str) -> None:
    """A DataError unless `path` is a regular file or a directory: a dangling symbolic link
    is named with its target, and a FIFO, socket or device is refused (reading one can wait
    forever, or never end)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise DataError(path, None, f"a symbolic link to {os.readlink(path)}, which does not exist") from None
        raise
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "a device")
        raise DataError(path, None, f"{kind}, not a regular file: refused (reading it could wait forever)")


# -- raw rows per container -------------------------------------------------------------------


def _too_big(path: str, line: int, size: int) -> DataError:
    return DataError(path, line, f"row is {size / 2**20:.1f} MiB, over the {MAX_ROW_BYTES / 2**20:g} MiB "
                                 "limit for one row (set WORKBENCH_MAX_ROW_MB to raise it)")


def _bad_utf8(raw: bytes, e: UnicodeDecodeError) -> str:
    return f"not valid UTF-8: byte 0x{raw[e.start]:02x} at column {e.start + 1}"


_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _checked_text(path: str, line: int, text: str, obj: Any) -> Any:
    """`obj`, or a DataError when its JSON text escapes half of a surrogate pair (\\ud800
    alone), which no UTF-8 text can hold. Escaped pairs (an emoji as two escapes) are fine."""
    if "\\u" not in text or not _SURROGATE.search(text):
        return obj
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as e:
        bad = e.object[e.start : e.end].encode("unicode_escape").decode()
        return DataError(path, line, f"the text holds {bad}, half of a surrogate pair: not valid Unicode")
    return obj


class _Numbers:
    """A JSON decoder that notes the numbers JSON has no spelling for: NaN, Infinity and
    literals beyond a float (1e999), which Python's json reads but no writer can write back
    as JSON. `error` turns the first one noted since the last call into the row's DataError."""

    def __init__(self) -> None:
        self.bad: list[str] = []
        dec = json.JSONDecoder(parse_constant=self._constant, parse_float=self._float)
        self.decode, self.raw_decode = dec.decode, dec.raw_decode

    def _constant(self, token: str) -> float:
        self.bad.append(token)
        return float(token)

    def _float(self, token: str) -> float:
        value = float(token)
        if value in (math.inf, -math.inf):
            self.bad.append(token)
        return value

    def error(self, path: str, line: int) -> DataError | None:
        if not self.bad:
            return None
        token, self.bad = self.bad[0], []
        what = "is not a JSON number" if token[-1:] in "yN" else "is beyond any float (it reads as infinity)"
        return DataError(path, line, f"{token[:40]} {what}: JSON has no NaN or infinity; use null or a string")


# orjson reads integers beyond 64 bits as floats: a line holding 19 digits in a row (maybe such an
# integer) is left to the standard parser. orjson refuses NaN, infinities, lone surrogates and
# nesting beyond 1024 levels, so those reach the standard parser and its exact error too.
_BIG_INT = re.compile(rb"\d{19}")
_DIGITS = b"0123456789"


def _maybe_big_int(raw: bytes) -> bool:
    # Counting digits first (one C pass) spares most lines the regex, which is slow on long lines.
    return len(raw) - len(raw.translate(None, _DIGITS)) >= 19 and _BIG_INT.search(raw) is not None


def _jsonl_file(path: str, opener: Callable[[], Any]) -> Iterator[RawRow]:
    with opener() as f:
        yield from _jsonl_rows(path, f)


def _jsonl_rows(path: str, f: io.BufferedIOBase) -> Iterator[RawRow]:
    numbers = _Numbers()
    loads = numbers.decode
    line = idx = 0
    limit = MAX_ROW_BYTES
    while True:
        raw = f.readline(limit + 1)
        if not raw:
            return
        line += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            size = len(raw)
            while raw and not raw.endswith(b"\n"):  # skip the rest without holding it
                raw = f.readline(1 << 20)
                size += len(raw)
            yield line, idx, _too_big(path, line, size)
            idx += 1
            continue
        if line == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        if not _maybe_big_int(raw):
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                pass  # the standard parser below names the fault (or reads what orjson refuses)
            else:
                yield line, idx, obj
                idx += 1
                continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield line, idx, DataError(path, line, _bad_utf8(raw, e))
            idx += 1
            continue
        try:
            obj = loads(text)
        except RecursionError:
            yield line, idx, DataError(path, line, TOO_DEEP)
        except ValueError as e:
            msg = f"malformed JSON: {e.msg} (column {e.colno})" if isinstance(e, json.JSONDecodeError) else str(e)
            yield line, idx, DataError(path, line, msg)
        else:
            yield line, idx, numbers.error(path, line) or _checked_text(path, line, text, obj)
        numbers.bad.clear()
        idx += 1


_WS = " \t\r\n"
CHUNK = 1 << 20


class _Text:
    """The decoded text of a binary stream, read a chunk at a time; the part before the row
    being parsed is dropped, so a JSON array of a million rows is never held whole."""

    def __init__(self, path: str, f: io.BufferedIOBase):
        self.path, self.f = path, f
        self.dec = codecs.getincrementaldecoder("utf-8-sig")()
        self.buf = ""
        self.eof = False
        self.mark = 0  # buf index up to which lines are counted...
        self.mark_line = 1  # ...and the line number there

    def line_at(self, pos: int) -> int:
        if pos >= self.mark:
            self.mark_line += self.buf.count("\n", self.mark, pos)
            self.mark = pos
            return self.mark_line
        return self.mark_line - self.buf.count("\n", pos, self.mark)

    def fill(self, pos: int) -> int | None:
        """Drop buf[:pos], read one more chunk; the new index of `pos`, or None at the end."""
        if self.eof:
            return None
        self.line_at(pos)
        self.buf, self.mark = self.buf[pos:], 0
        chunk = self.f.read(CHUNK)
        try:
            self.buf += self.dec.decode(chunk, final=not chunk)
        except UnicodeDecodeError as e:
            line = self.line_at(len(self.buf)) + chunk.count(b"\n", 0, max(e.start, 0))
            bad = chunk[e.start] if 0 <= e.start < len(chunk) else 0
            raise DataError(self.path, line, f"not valid UTF-8: byte 0x{bad:02x}") from None
        self.eof = not chunk
        return 0

    def skip_ws(self, pos: int) -> int | None:
        """Index of the next non-blank character, or None at the end of the text."""
        while True:
            n = len(self.buf)
            while pos < n and self.buf[pos] in _WS:
                pos += 1
            if pos < n:
                return pos
            pos = self.fill(pos)
            if pos is None:
                return None


def _incomplete(e: json.JSONDecodeError, buf: str) -> bool:
    """Did parsing stop at the end of what has been read (rather than at a real error)?"""
    return e.msg.startswith("Unterminated string") or not buf[e.pos:].strip()


def _json_file(path: str, opener: Callable[[], Any]) -> Iterator[RawRow]:
    with opener() as f:
        t = _Text(path, f)
        pos = t.skip_ws(0)
        if pos is None:
            return  # empty
        if t.buf[pos] == "[":
            yield from _json_array_rows(t, pos + 1)
            return
    # one (pretty-printed) object, or JSON Lines in a .json file
    with opener() as f:
        data = f.read(MAX_ROW_BYTES + 1)
        if len(data) > MAX_ROW_BYTES and not _first_line_is_json(data):  # one big object: a layout?
            data += f.read(LAYOUT_BYTES - len(data) + 1)
    if len(data) <= LAYOUT_BYTES:
        try:
            text = data.decode("utf-8-sig")
            numbers = _Numbers()
            obj = numbers.decode(text)
        except (ValueError, RecursionError):  # read line by line below, which names the line at fault
            pass
        else:
            line = text.count("\n", 0, len(text) - len(text.lstrip())) + 1
            checked = numbers.error(path, line) or _checked_text(path, line, text, obj)
            rows = None
            if isinstance(checked, dict):  # rows inside one object (layouts.py), or one row
                rows = object_rows(path, text, obj, detect([obj])[0] is not None)
            if rows is not None:
                yield from rows
            elif len(data) > MAX_ROW_BYTES:
                yield line, 0, _too_big(path, line, len(data))
            else:
                yield line, 0, checked
            return
    yield from _jsonl_file(path, opener)


def _first_line_is_json(data: bytes) -> bool:
    try:
        json.loads(data[:data.find(b"\n")] if b"\n" in data else b"")
        return True
    except ValueError:
        return False


def _json_array_rows(t: _Text, pos: int) -> Iterator[RawRow]:
    numbers = _Numbers()
    path, decode = t.path, numbers.raw_decode
    rest = "; the rest of the file was not read"
    idx = 0
    while True:
        pos = t.skip_ws(pos)
        if pos is None:
            yield t.line_at(len(t.buf)), idx, DataError(path, t.line_at(len(t.buf)), "the array is not closed" + rest)
            return
        if t.buf[pos] == "]":
            yield from _after_array(t, pos + 1, idx)
            return
        line = t.line_at(pos)
        while True:
            numbers.bad.clear()  # a retry after reading more parses the row again
            try:
                obj, end = decode(t.buf, pos)
                break
            except RecursionError:
                yield line, idx, DataError(path, line, TOO_DEEP + rest)
                return
            except json.JSONDecodeError as e:
                if _incomplete(e, t.buf):
                    filled = t.fill(pos)
                    if filled is not None:
                        pos = filled
                        continue
                ln = t.line_at(e.pos)
                col = e.pos - (t.buf.rfind("\n", 0, e.pos) + 1) + 1
                yield ln, idx, DataError(path, ln, f"malformed JSON: {e.msg} (column {col})" + rest)
                return
        if end - pos > MAX_ROW_BYTES:
            yield line, idx, _too_big(path, line, len(t.buf[pos:end].encode(errors="surrogatepass")))
        else:
            yield line, idx, numbers.error(path, line) or _checked_text(path, line, t.buf[pos:end], obj)
        idx += 1
        pos = t.skip_ws(end)
        if pos is not None and t.buf[pos] == ",":
            pos += 1
        elif pos is not None and t.buf[pos] == "]":
            yield from _after_array(t, pos + 1, idx)
            return
        else:
            ln = t.line_at(pos if pos is not None else len(t.buf))
            yield ln, idx, DataError(path, ln, "malformed JSON: expected ',' or ']' after a row" + rest)
            return


def _after_array(t: _Text, pos: int, idx: int) -> Iterator[RawRow]:
    """Nothing but blanks may follow the closing bracket: a second array or stray text would
    otherwise be dropped without a word."""
    pos = t.skip_ws(pos)
    if pos is not None:
        ln = t.line_at(pos)
        what = "a second JSON array" if t.buf[pos] == "[" else repr(t.buf[pos:pos + 20].split("\n")[0])
        yield ln, idx, DataError(t.path, ln, f"content after the JSON array ({what}); it was not read. "
                                             "One array per .json file, or use JSON Lines")


_JSON_SCALARS = (str, int, float, bool)


def _plain(value: Any) -> Any:
    """An Arrow value as plain JSON data. Arrow pads structs with nulls for absent keys, so a
    null struct field reads as absent (a turn without `name` has no `name`); timestamps,
    decimals and binary (image bytes) become strings so that the row stays JSON."""
    if isinstance(value, list):
        return [x if type(x) is str else _plain(x) for x in value]
    if isinstance(value, dict):  # strings (most values: roles, contents) skip the call
        return {k: v if type(v) is str else _plain(v) for k, v in value.items() if v is not None}
    if value is None or isinstance(value, _JSON_SCALARS):
        return value
    if isinstance(value, (bytes, bytearray)):
        return "base64:" + base64.b64encode(value).decode("ascii")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _arrow_row(row: dict) -> dict:
    """Arrow cannot tell an absent field from a null one: read both as absent."""
    return {k: v if isinstance(v, _JSON_SCALARS) else _plain(v) for k, v in row.items() if v is not None}


def _parquet_rows(path: str) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as e:  # pyarrow raises several types for a damaged file
        raise DataError(path, None, f"not a readable Parquet file: {e}") from None
    as_json = json.loads((pf.schema_arrow.metadata or {}).get(JSON_COLUMNS_KEY, b"[]"))
    idx = 0
    for batch in pf.iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            for k in as_json:
                if isinstance(row.get(k), str):
                    row[k] = json.loads(row[k])
            yield idx + 1, idx, _arrow_row(row)
            idx += 1


def _hf_rows(path: str) -> Iterator[RawRow]:
    import datasets

    try:
        d = datasets.load_from_disk(path)
    except Exception as e:  # datasets raises several types for a damaged directory
        raise DataError(path, None, f"not a readable save_to_disk directory: {e}") from None
    if isinstance(d, datasets.DatasetDict):  # expand_paths opens each split on its own
        raise DataError(path, None, f"a DatasetDict with splits {', '.join(d)}: open it through expand_paths")
    # Arrow values, not decoded features: an Image column gives its bytes and path.
    idx = 0
    for batch in d.with_format("arrow").iter(batch_size=1024):
        for row in batch.to_pylist():
            yield idx + 1, idx, _arrow_row(row)
            idx += 1


def _json_cells(row: dict) -> dict:
    for k, v in row.items():
        if k in JSON_CELLS and isinstance(v, str) and v[:1] in ("[", "{"):
            try:
                row[k] = json.loads(v)
            except ValueError:
                pass
        elif k in BOOL_CELLS and isinstance(v, str) and v.lower() in ("true", "false", "1", "0"):
            row[k] = v.lower() in ("true", "1")
    return row


def _csv_rows(path: str) -> Iterator[RawRow]:
    csv.field_size_limit(MAX_ROW_BYTES)
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as text:
        yield from _csv_reader(path, text)


def _csv_reader(path: str, text: io.TextIOBase) -> Iterator[RawRow]:
    reader = csv.DictReader(text, strict=True)  # an unclosed quote is an error, not the rest of the file in one cell
    try:
        reader.fieldnames  # the header row
    except csv.Error as e:
        yield 1, 0, DataError(path, 1, f"bad CSV header: {e}")
        return
    idx, prev = 0, reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            if str(e) == "unexpected end of data":  # the file ends inside a quoted cell
                yield prev + 1, idx, DataError(path, prev + 1, "bad CSV: a quoted cell opened in this row is never "
                                                               "closed; the rest of the file was not read")
            else:
                yield prev + 1, idx, DataError(path, prev + 1, f"bad CSV: {e}; the rest of the file was not read")
            return
        line, prev = prev + 1, reader.line_num
        bad = next((v for v in row.values() if isinstance(v, str) and _has_surrogate(v)), None)
        if bad is not None:
            yield line, idx, DataError(path, line, "not valid UTF-8")
        elif None in row:
            yield line, idx, DataError(path, line, f"{len(row[None])} more cells than the header has columns")
        else:
            yield line, idx, _json_cells(dict(row))
        idx += 1


def _has_surrogate(s: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in s)


_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
              (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def wide_encoding(head: bytes) -> str | None:
    """"UTF-16" or "UTF-32" when a text file's first bytes say so (a byte-order mark, or the
    zero bytes beside its first ASCII character: '{', '[', a letter), else None."""
    for bom, name in _WIDE_BOMS:
        if head.startswith(bom):
            return name
    if len(head) >= 4 and head[:4].count(0) == 3:
        return "UTF-32"
    if len(head) >= 2 and (head[0] == 0) != (head[1] == 0):
        return "UTF-16"
    return None


def _check_utf8(path: str) -> None:
    with open(path, "rb") as f:
        enc = wide_encoding(f.read(4))
    if enc:
        raise DataError(path, 1, f"the file is {enc}, not UTF-8: convert it first "
                                 f"(iconv -f {enc} -t UTF-8 {Path(path).name} > NEW_FILE)")


def raw_rows(path: str) -> Iterator[RawRow]:
    """(line, row index, row or DataError) for every row of one file or save_to_disk dir."""
    low = path.lower()
    check_readable(path)
    if low.endswith((".jsonl", ".ndjson", ".json", ".csv")):
        _check_utf8(path)
    if os.path.isdir(path):
        if not is_hf_dir(path):
            raise DataError(path, None, "a directory that is not a save_to_disk dataset; "
                                        "open it through expand_paths")
        return _hf_rows(path)
    if low.endswith(".parquet"):
        return _parquet_rows(path)
    if low.endswith(".csv"):
        return _csv_rows(path)
    if low.endswith(".gz"):
        opener: Callable[[], Any] = lambda: gzip.open(path, "rb")
    else:
        opener = lambda: open(path, "rb")
    if low.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")):
        return _gzip_errors(path, _jsonl_file(path, opener))
    if low.endswith((".json", ".json.gz")):
        return _gzip_errors(path, _json_file(path, opener))
    raise DataError(path, None, f"unsupported file type (expected {', '.join(SUFFIXES)} or a save_to_disk directory)")


def _gzip_errors(path: str, rows: Iterator[RawRow]) -> Iterator[RawRow]:
    """A `.gz` that is cut short or not gzip at all is a DataError after the last good line,
    not a traceback from the gzip module."""
    line = 0
    try:
        for item in rows:
            line = item[0]
            yield item
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise DataError(path, line + 1, f"damaged gzip file: {e}") from None


# -- records ---------------------------------------------------------------------------------


def _whole_file_errors_as_rows(rows: Iterator[RawRow]) -> Iterator[RawRow]:
    """A file that cannot be read on (damaged Parquet...) ends with its error as a last row."""
    try:
        yield from rows
    except DataError as e:
        yield (e.line or 0, -1, e)


def _other_shape(row: dict, fmt: str, *, forced: bool, **kw: Any) -> Record | None:
    """A row that looks nothing like its file's format but is a clean row of another (a TRL
    preference row or a text row among OpenAI messages, as `convert` writes mixed kinds)."""
    if forced or FORMATS[fmt].detect(row) > 0:
        return None  # a broken row of the file's own format: its error stands
    other, _ = detect([row])
    if other is None:
        return None
    try:
        return decode(other, row, **kw)
    except RowError:
        return None


def _apply_mapping(row: Any, mapping: dict[str, str]) -> tuple[Any, dict[str, str]]:
    if not mapping or not isinstance(row, dict):
        return row, {}
    renamed = {mapping[k]: k for k in row if k in mapping}
    return {mapping.get(k, k): v for k, v in row.items()}, renamed


def iter_records(
    path: str,
    *,
    format: str | None = None,
    mapping: dict[str, str] | None = None,
    on_error: str = "stop",
    errors: list | None = None,
    on_format: Callable[[str], None] | None = None,
    roles: dict[str, str] | None = None,
) -> Iterator[Record]:
    """Stream the canonical records of one file (or save_to_disk directory).

    on_error="stop" raises the first DataError; "skip" appends DataError.as_dict() to
    `errors` and goes on. `on_format(name)` is called with the detected (or forced) format.
    `roles` maps more role spellings to roles (--roles, see formats.decode).
    """
    if on_error not in ("stop", "skip"):
        raise ValueError(f"on_error must be 'stop' or 'skip', not {on_error!r}")
    mapping = mapping or {}
    name = Path(path).name

    def fail(err: DataError) -> None:
        if on_error == "stop":
            raise err
        if errors is not None:
            errors.append(err.as_dict())

    try:
        rows = _whole_file_errors_as_rows(raw_rows(path))
    except DataError as e:  # not a readable dataset at all (unsupported type...)
        fail(e)
        return

    if format:
        fmt = format_name(format)
        head: list[RawRow] = []
    else:
        head, good = [], []
        for item in rows:  # the first rows that parse decide the format
            head.append(item)
            if isinstance(item[2], dict):
                good.append(_apply_mapping(item[2], mapping)[0])
                if len(good) >= DETECT_ROWS:
                    break
        if not head:
            fail(DataError(path, None, "file is empty (no rows)"))
            return
        if not good:
            fmt = None
        else:
            fmt, _ = detect(good)
            if fmt is None:
                line = next(ln for ln, _, r in head if isinstance(r, dict))
                fields = ", ".join(sorted(good[0]))[:200]
                fix = ("use --format or --map FIELD=TARGET" if holds_text(good[0]) else
                       "no field holds text or turns, so --format and --map cannot help")
                fail(DataError(path, line, f"cannot tell the dataset format from the fields ({fields}); {fix}"))
                return
    if fmt and on_format:
        on_format(fmt)
    quick = fmt == "openai" and not mapping and not roles  # plain rows skip the general decoder
    seen = False
    for line, idx, item in chain(head, rows):
        seen = True
        if isinstance(item, DataError):
            fail(item)
            continue
        if not isinstance(item, dict):
            values = " (rows as lists, as pandas to_json orient='values' writes them, have no field names: " \
                     "write records instead)" if isinstance(item, list) else ""
            fail(DataError(path, line, f"a row must be a JSON object, not {json_kind(item)}{values}"))
            continue
        if quick:
            rec = openai_record(item, id=f"{name}:{idx}", source=path, row_index=idx)
            if rec is not None:
                yield rec
                continue
        row, renamed = _apply_mapping(item, mapping)
        try:
            rec = decode(fmt, row, id=f"{name}:{idx}", source=path, row_index=idx, renamed=renamed, roles=roles)
        except RowError as e:
            rec = _other_shape(row, fmt, forced=bool(format), id=f"{name}:{idx}", source=path, row_index=idx,
                               renamed=renamed, roles=roles)
            if rec is None:
                fail(DataError(path, line, str(e)))
                continue
        yield rec
    if not seen:
        fail(DataError(path, None, "file is empty (no rows)"))
