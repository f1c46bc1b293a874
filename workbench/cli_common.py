"""Arguments and loading shared by the sub-commands that take a dataset."""

from __future__ import annotations

import argparse
import sys


def add_dataset_args(p: argparse.ArgumentParser, *, on_error: bool = False) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="dataset file(s) or directory")
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

    try:
        return Dataset.open(
            args.paths, format=args.format, mapping=parse_mapping(args.map),
            on_error=getattr(args, "on_error", "stop"), progress=progress,
        )
    except (DataError, FileNotFoundError, IsADirectoryError, ValueError) as e:
        print(f"workbench: {e}", file=sys.stderr)
        raise SystemExit(1) from None


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
