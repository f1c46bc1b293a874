"""Decisions belong to rows, not to the set of files opened.

The default workspace is one per set of source files (workbench.store.workspace.default_path),
so curating `a.json` and then opening `a.json b.json` together would start from nothing.
When a dataset opens with its default workspace, the default workspaces of the other file sets
that share a source file lend it their decisions on its rows: each annotator's decision on a
row is taken when it is newer than the one held here (its note, tags, time and content hash
come with it; no undo step is made, as nothing was decided here). Both ways: the rows of `a.json`
decided in the `a.json b.json` workspace show when `a.json` is opened alone.

Cheap when nothing changed: the size and mtime of each other workspace (and its WAL) are kept
in this workspace's meta (`siblings`), and only the ones that changed since are read.
"""

from __future__ import annotations

import os
from pathlib import Path

META = "siblings"


def _stamp(path: Path) -> list[int]:
    out = []
    for p in (path, path.with_name(path.name + "-wal")):
        try:
            st = os.stat(p)
            out += [st.st_size, st.st_mtime_ns]
        except FileNotFoundError:
            out += [0, 0]
    return out


def adopt_sibling_decisions(ds, ws) -> int:
    """Take into `ws` (the default workspace of `ds`) the newer decisions that other default
    workspaces sharing a source with `ds` hold on its rows. Returns how many were taken."""
    from workbench.store.workspace import Workspace, WorkspaceError

    ours = {str(Path(s).resolve()) for s in getattr(ds, "sources", [])}
    if not ours:
        return 0
    folder = Path(ws.path).parent
    seen = dict(ws.get_meta(META) or {})
    changed = {}
    for path in sorted(folder.glob("*.sqlite")):
        if path.resolve() == Path(ws.path).resolve():
            continue
        stamp = _stamp(path)
        if seen.get(path.name) != stamp:
            changed[path] = stamp
    if not changed:
        return 0
    ids = None
    taken = 0
    for path, stamp in changed.items():
        try:
            other = Workspace(path, readonly=True)
        except WorkspaceError:  # damaged, or another program's: not ours to read
            seen[path.name] = stamp
            continue
        try:
            sources = {str(s) for s in other.get_meta("sources") or []}
            if sources & ours:
                if ids is None:
                    ids = set(ds.ids)
                taken += ws.adopt([d for d in other.annotations() if d["row_id"] in ids])
        finally:
            other.close()
        seen[path.name] = stamp
    ws.set_meta(META, seen)
    return taken
