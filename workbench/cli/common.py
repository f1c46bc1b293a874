"""Arguments and loading shared by the sub-commands that take a dataset."""

from __future__ import annotations

import argparse
import sys


def add_dataset_args(p: argparse.ArgumentParser) -> None:
    """The arguments every command that reads a dataset takes."""
    p.add_argument("paths", nargs="+", metavar="PATH", help="dataset file(s) or directory; - reads standard input; hf:ORG/NAME[:CONFIG][:SPLIT] "
                        "a dataset in the local Hugging Face cache (offline)")
    p.add_argument("--format", help="force the input format instead of detecting it")
    p.add_argument(
        "--map", action="append", default=[], metavar="FIELD=TARGET|FILE",
        help="read source FIELD as canonical TARGET (e.g. --map question=instruction); repeatable; "
             "or a JSON file {\"fields\": {FIELD: TARGET}, \"roles\": {SPELLING: ROLE}} (also axolotl's "
             "roles {ROLE: [SPELLING]} or LLaMA-Factory's tags {\"user_tag\": SPELLING, ...})",
    )
    p.add_argument("--roles", action="append", default=[], metavar="SPELLING=ROLE,...",
                   help="read these role spellings as roles (user, assistant, system, tool), e.g. "
                        "--roles Human=user,Assistant=assistant; such rows are written with the standard spelling")
    p.add_argument("--split", metavar="NAME",
                   help="open only this split (train, test...) of a DatasetDict or of split-named files")
    p.add_argument("--workspace", metavar="PATH", help="workspace SQLite file (default: per dataset, under XDG data)")
    p.add_argument("--on-error", choices=("stop", "skip"), default="stop",
                   help="stop at the first bad row (default) or skip bad rows and report them")


def add_user_arg(p: argparse.ArgumentParser) -> None:
    """--user: the annotator whose decisions a command makes or undoes."""
    p.add_argument("--user", metavar="NAME", type=_annotator,
                   help="the annotator deciding (default: your login name); each annotator keeps their own "
                        "decision per row and their own undo history")


def _annotator(text: str) -> str:
    from workbench.store.review import check_name

    try:
        return check_name(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_mapping(items: list[str]) -> dict[str, str]:
    """--map FIELD=TARGET items (map files are read by `read_options`)."""
    out = {}
    for item in items:
        field, sep, target = item.partition("=")
        if not sep or not field or not target:
            raise SystemExit(f"workbench: --map expects FIELD=TARGET or a file, got {item!r}")
        out[field] = target
    return out


def parse_roles(items: list[str]) -> dict[str, str]:
    """--roles "Human=user,Assistant=assistant" (repeatable) -> {spelling: role}."""
    from workbench.data.formats.base import ROLE_TARGETS

    out = {}
    for item in items:
        for pair in filter(None, (x.strip() for x in item.split(","))):
            spelling, sep, role = pair.partition("=")
            if not sep or not spelling:
                raise SystemExit(f"workbench: --roles expects SPELLING=ROLE, got {pair!r}")
            out[spelling] = _role(role, pair, ROLE_TARGETS)
    return out


def _role(role: str, where: str, targets: tuple[str, ...]) -> str:
    if role not in targets:
        raise SystemExit(f"workbench: {where}: the role must be one of {', '.join(targets)}, not {role!r}")
    return role


# LLaMA-Factory's dataset_info.json "tags" and the roles they name.
LF_TAGS = {"user_tag": "user", "assistant_tag": "assistant", "observation_tag": "tool", "system_tag": "system"}


def _map_file(path: str) -> tuple[dict[str, str], dict[str, str]]:
    """A --map file, a JSON object: "fields" {FIELD: TARGET}, and the role spellings as
    "roles" {SPELLING: ROLE}, axolotl's `roles:` {ROLE: [SPELLING, ...]}, or LLaMA-Factory's
    "tags" {"user_tag": SPELLING, "assistant_tag", "observation_tag", "system_tag"}."""
    import json

    from workbench.data.formats.base import ROLE_TARGETS

    def bad(why: str) -> SystemExit:
        return SystemExit(f"workbench: --map {path}: {why}")

    try:
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise bad(str(e)) from None
    if not isinstance(spec, dict) or not spec or set(spec) - {"fields", "roles", "tags"}:
        raise bad("expected an object with 'fields', 'roles' and/or 'tags'")
    fields, roles = spec.get("fields") or {}, {}
    if not isinstance(fields, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items()):
        raise bad("'fields' must map names to names")
    for key, value in (spec.get("roles") or {}).items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):  # axolotl: role -> spellings
            roles.update((v, _role(key, f"--map {path}: roles: {key}", ROLE_TARGETS)) for v in value)
        elif isinstance(value, str):
            roles[key] = _role(value, f"--map {path}: roles: {key}", ROLE_TARGETS)
        else:
            raise bad(f"roles: {key!r} must name a role, or list spellings")
    for tag, spelling in (spec.get("tags") or {}).items():
        if tag in ("role_tag", "content_tag"):
            continue  # the turn's keys: from/value and role/content are both read
        if tag not in LF_TAGS or not isinstance(spelling, str):
            raise bad(f"tags: {tag!r} is not one of {', '.join(LF_TAGS)} naming a spelling")
        roles[spelling] = LF_TAGS[tag]
    return fields, roles


def read_options(args: argparse.Namespace) -> dict:
    """Dataset.open / iter_records keyword arguments from the dataset arguments."""
    import os

    mapping: dict[str, str] = {}
    roles: dict[str, str] = {}
    for item in args.map:
        if "=" not in item and os.path.isfile(item):
            fields, spelled = _map_file(item)
            mapping.update(fields)
            roles.update(spelled)
        else:
            mapping.update(parse_mapping([item]))
    roles.update(parse_roles(getattr(args, "roles", [])))
    return {"format": args.format, "mapping": mapping, "roles": roles or None,
            "on_error": getattr(args, "on_error", "stop"), "split": getattr(args, "split", None)}


def load_dataset(args: argparse.Namespace, progress=None):
    """Open the dataset named by the arguments; a DataError ends the command with exit 1.
    With --on-error skip, the rows left out are listed on stderr (unless the command lists them)."""
    from workbench.data.dataset import Dataset
    from workbench.data.errors import DataError

    try:
        paths = input_paths(args)
        ds = Dataset.open(paths, progress=progress, **read_options(args))
    except (DataError, FileNotFoundError, IsADirectoryError, ValueError) as e:
        print(f"workbench: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    if ds.errors and not getattr(args, "lists_errors", False):
        say_skipped(ds.errors)
    return ds


def say_skipped(errors: list[dict]) -> None:
    for e in errors:
        where = f"{e['file']}:{e['line']}" if e["line"] is not None else e["file"]
        print(f"skipped {where}: {e['message']}", file=sys.stderr)


def input_paths(args: argparse.Namespace) -> list[str]:
    """The dataset arguments as files or folders: `-` is standard input (spooled to a file),
    `hf:ORG/NAME[:CONFIG][:SPLIT]` a dataset in the local Hugging Face cache (its split, if
    named, becomes --split), a quoted glob (`shards/*.jsonl.gz`, `**` for any depth) the files it
    matches, sorted. Raises FileNotFoundError for a glob matching nothing, FileNotFoundError /
    ValueError for an `hf:` spec that cannot be opened."""
    import glob
    import os

    from workbench.data import hub

    out = []
    for p in args.paths:
        if p == "-":
            p = spool_stdin()
        elif any(c in p for c in "*?[") and not os.path.exists(p):
            found = sorted(glob.glob(p, recursive=True))
            if not found:
                raise FileNotFoundError(f"{p}: no files match")
            out += found
            continue
        elif p.startswith(hub.PREFIX):
            p, split = hub.snapshot(p)
            if split and getattr(args, "split", None) in (None, split):
                args.split = split
            elif split:
                raise ValueError(f"{p}: the split {split!r} and --split {args.split!r} disagree")
        out.append(p)
    return out


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
        from workbench.atomic import replacing

        with replacing(path) as tmp:
            tmp.write_bytes(data)
    return str(path)


def _one_value(data: bytes) -> bool:
    import json

    try:
        json.loads(data)
        return True
    except ValueError:
        return False


def open_workspace(args: argparse.Namespace, ds, *, write: bool = True):
    """The dataset's workspace: the --workspace file, or the per-dataset default. A command
    that only reads (`write=False`) opens it read-only where its folder cannot be written.

    A workspace that cannot be opened (newer schema, not a workspace, damaged) ends the
    command with exit 1 and the reason.
    """
    from workbench.store.workspace import Workspace, WorkspaceError, default_path

    path = getattr(args, "workspace", None) or default_path(ds)
    try:
        return Workspace.for_dataset(ds, path, readonly=not write and not writable(path))
    except WorkspaceError as e:
        print(f"workbench: {e}", file=sys.stderr)
        raise SystemExit(1) from None


def writable(path) -> bool:
    """Whether a workspace at `path` can be written: the file (or, for a new one, the nearest
    existing folder) allows writing. A read-only mount says no even to root."""
    import os
    from pathlib import Path

    p = Path(path)
    if p.exists():
        return os.access(p, os.W_OK) and os.access(p.parent, os.W_OK)  # WAL writes -wal/-shm beside it
    while not p.exists() and p != p.parent:
        p = p.parent
    return os.access(p, os.W_OK)


def load_dataset_and_workspace(args: argparse.Namespace, progress=None, *, write: bool = True):
    """`load_dataset` then `open_workspace`: what most sub-commands start with."""
    ds = load_dataset(args, progress)
    return ds, open_workspace(args, ds, write=write)


def row_position(ds, row: str) -> int:
    """A --row argument as a position: a row id as `info`, the TUI and reports show it, or the
    row number (0-based; `12` or `#12` as the TUI's Browse list and Sample pane show it).
    ValueError says what the ids look like."""
    try:
        return ds.index_of(row)
    except KeyError:
        pass
    try:
        pos = int(row.removeprefix("#"))
    except ValueError:
        looks = f"ids look like {ds.ids[0]!r}; " if len(ds) else "the dataset has no rows; "
        raise ValueError(f"no row with id {row!r} ({looks}or give a 0-based index)") from None
    if not 0 <= pos < len(ds):
        raise ValueError(f"row {pos} is out of range: the dataset has {len(ds)} rows (0-based)")
    return pos
