"""Arguments and loading shared by the sub-commands that take a dataset."""

from __future__ import annotations

import argparse
import sys


def add_dataset_args(p: argparse.ArgumentParser, *, on_error: bool = False) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="dataset file(s) or directory; - reads standard input")
    p.add_argument("--format", help="force the input format instead of detecting it")
    p.add_argument(
        "--map", action="append", default=[], metavar="FIELD=TARGET",
        help="read source FIELD as canonical TARGET (e.g. --map question=instruction); repeatable",
    )
    p.add_argument("--workspace", metavar="PATH", help="workspace SQLite file (default: per dataset, under XDG data)")
    if on_error:
        p.add_argument("--on-error", choices=("stop", "skip"), default="stop",
                       help="stop at the first bad row (default) or skip bad rows and report them")


def parse_mapping(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        field, sep, target = item.partition("=")
        if not sep or not field or not target:
            raise SystemExit(f"workbench: --map expects FIELD=TARGET, got {item!r}")
        out[field] = target
    return out


def load_dataset(args: argparse.Namespace, progress=None):
    """Open the dataset named by the arguments; a DataError ends the command with exit 1."""
    from workbench.data.dataset import Dataset
    from workbench.data.errors import DataError

    paths = [spool_stdin() if p == "-" else p for p in args.paths]
    try:
        return Dataset.open(
            paths, format=args.format, mapping=parse_mapping(args.map),
            on_error=getattr(args, "on_error", "stop"), progress=progress,
        )
    except (DataError, FileNotFoundError, IsADirectoryError, ValueError) as e:
        print(f"workbench: {e}", file=sys.stderr)
        raise SystemExit(1) from None


def spool_stdin() -> str:
    """Standard input saved as a file (named by its content hash, so a second run reuses the
    conversion): `.json` when it starts with `[` or `{` and is one JSON value, else `.jsonl`."""
    import hashlib

    from workbench.paths import cache_dir

    data = sys.stdin.buffer.read()
    body = data.strip()
    # An array, or one object spread over several lines, is JSON; anything else JSON Lines.
    one_json = body[:1] == b"[" or (b"\n" in body and _one_value(body))
    suffix = ".json" if one_json else ".jsonl"
    folder = cache_dir() / "stdin"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.blake2b(data, digest_size=12).hexdigest()}{suffix}"
    if not path.exists():
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return str(path)


def _one_value(data: bytes) -> bool:
    import json

    try:
        json.loads(data)
        return True
    except ValueError:
        return False


def open_workspace(args: argparse.Namespace, ds):
    """The dataset's workspace: the --workspace file, or the per-dataset default.

    A workspace that cannot be opened (newer schema, not a workspace) ends the command
    with exit 1 and the reason.
    """
    from workbench.store.workspace import Workspace, WorkspaceError

    try:
        return Workspace.for_dataset(ds, getattr(args, "workspace", None))
    except WorkspaceError as e:
        print(f"workbench: {e}", file=sys.stderr)
        raise SystemExit(1) from None


def load_dataset_and_workspace(args: argparse.Namespace, progress=None):
    """`load_dataset` then `open_workspace`: what most sub-commands start with."""
    ds = load_dataset(args, progress)
    return ds, open_workspace(args, ds)


def row_position(ds, row: str) -> int:
    """A --row argument as a position: a row id as `info`, the TUI and reports show it, or a
    0-based index. ValueError says what the ids look like."""
    try:
        return ds.index_of(row)
    except KeyError:
        pass
    try:
        pos = int(row)
    except ValueError:
        looks = f"ids look like {ds.ids[0]!r}; " if len(ds) else "the dataset has no rows; "
        raise ValueError(f"no row with id {row!r} ({looks}or give a 0-based index)") from None
    if not 0 <= pos < len(ds):
        raise ValueError(f"row {pos} is out of range: the dataset has {len(ds)} rows (0-based)")
    return pos
