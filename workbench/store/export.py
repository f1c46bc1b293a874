"""Export: the dataset with the workspace's decisions applied, written in a trainer's format.

What counts as rejected: a person's decision always wins; otherwise an operation's proposal
stands (the latest run's). `only="not-rejected"` (the default) keeps every row that is not
rejected; `only="accepted"` keeps only rows accepted (by a person or an operation). The
source is never touched; the writer writes the output atomically (temp file + rename).
Decisions are first reconciled with the source (workbench.store.reconcile), so an edited
source never puts a decision on another row's content.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Callable, Iterator

ONLY = ("not-rejected", "accepted")
KINDS = ("sft", "preference", "kto", "text")
# Formats whose rows each say what they are (messages / prompt+chosen+rejected / text), so
# one file can hold several kinds; every other format has one row shape.
MIXED_KINDS_OK = ("openai",)


def export(ds, ws, to: str, out: str | Path, only: str = "not-rejected",
           progress: Callable[[int], None] | None = None, *, kind: str | None = None,
           signals: list[str] | None = None, test_ids: set[str] | None = None,
           encoder=None, merge_splits: bool = False) -> dict:
    """Write the curated rows of `ds` to `out` in format `to`; returns a summary:
    {"out", "format", "only", "kind", "total", "rows", "kinds": {kind: rows written},
    "files": [{"split", "out", "rows"}], "left_out": {reason: count}, "lost": [...],
    "moved", "orphaned", "withdrawn"}: decisions moved with their rows by this export's
    reconcile, decisions set aside in the workspace (their content is gone; not applied), and
    operations' proposals it withdrew (made on another version of the source).
    Reasons: "manual" (a person rejected), an operation's name (its proposal stands), with
    only="accepted" "not accepted" (pending or never decided), and "kind K" for rows of
    another kind than `kind`.

    `signals`: workspace signal names (`NAME` or `OP.NAME`, or "all") added to each row as
    columns. `test_ids`: the rows of a new test split (workbench.handoff.splits.test_ids):
    write `NAME.train.SUFFIX` and `NAME.test.SUFFIX` instead of `out`.
    A dataset whose sources are named splits (a DatasetDict, hub shards, train/test files:
    workbench.data.splits) is written one file per split, `NAME.SPLIT.SUFFIX`, so test rows
    never join the training rows, unless `merge_splits`.
    `encoder`: shapes rows for a trainer (see workbench.data.writers.write_records).
    Raises ValueError for an unknown option, a suffix that disagrees with `to`, rows of
    several kinds in a format that holds one (naming how many of each), or an output that
    would overwrite a source."""
    from workbench.data.writers import container, split_path, write_records
    from workbench.store.reconcile import reconcile

    if only not in ONLY:
        raise ValueError(f"only must be one of {', '.join(ONLY)}, not {only!r}")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    container(out)  # a suffix that names no container fails before any work
    if str(out) != "-":
        target = Path(out).resolve()
        for src in getattr(ds, "sources", []):
            src = Path(src).resolve()
            if target == src or src in target.parents:
                raise ValueError(f"{out}: export would overwrite the source dataset {src}; choose another output")
    changed = reconcile(ds, ws)
    decide = rules(ws.reasons(), only, kind)
    columns = _signal_columns(ws, signals or [])
    copies = mix_copies(ws)

    # A first pass over what is kept: the kinds it holds.
    kinds: Counter[str] = Counter()
    for batch in ds.iter_batches(2048):
        kinds.update(rec["kind"] for rec in batch if decide(rec) is None)
    if len(kinds) > 1 and to not in MIXED_KINDS_OK:
        raise ValueError(f"the export holds rows of several kinds ({kinds_text(kinds)}) and --to {to} holds one; "
                         f"choose one with --kind")
    files: list[tuple[str, str, Callable[[dict], bool] | None]] = [("all", str(out), None)]
    own = {} if merge_splits else getattr(ds, "splits", {})
    names = list(dict.fromkeys(own.values()))
    if len(names) > 1:
        if test_ids is not None:
            raise ValueError(f"the dataset has its own splits ({', '.join(names)}); a new test split would mix "
                             "them: export them as they are, or one with --split NAME")
        if str(out) == "-":
            raise ValueError(f"the dataset has splits ({', '.join(names)}): standard output takes one; "
                             "choose it with --split NAME (or --merge-splits)")
        files = [(n, split_path(str(out), n), lambda rec, n=n: own.get(rec["source"]) == n) for n in names]
    elif test_ids is not None:
        train_out, test_out = split_path(str(out), "train"), split_path(str(out), "test")
        files = [("train", train_out, lambda rec: rec["id"] not in test_ids),
                 ("test", test_out, lambda rec: rec["id"] in test_ids)]

    left_out: Counter[str] = Counter()
    written, lost = [], []
    for name, path, member in files:
        counted = not written  # the left-out reasons are counted on the first file's pass

        def kept() -> Iterator[dict]:
            seen = 0
            for batch in ds.iter_batches(2048):
                for rec in batch:
                    why = decide(rec)
                    if why is not None:
                        if counted:
                            left_out[why] += 1
                    elif member is None or member(rec):
                        out = _with_signals(rec, columns) if columns else rec
                        for _ in range(copies.get(rec["id"], 1)):
                            yield out
                seen += len(batch)
                if progress and counted:
                    progress(seen)

        report = write_records(kept(), to, path, encoder=encoder)
        written.append({"split": name, "out": path, "rows": report["rows"]})
        lost += report.get("lost", [])
    return {
        "out": str(out),
        "format": to,
        "only": only,
        "kind": kind,
        "total": len(ds),
        "rows": sum(f["rows"] for f in written),
        "kinds": dict(kinds),
        "files": written,
        "left_out": dict(sorted(left_out.items(), key=lambda kv: (-kv[1], kv[0]))),
        "lost": lost,
        "moved": changed["moved"],
        "orphaned": len(ws.orphans()),
        "withdrawn": changed["withdrawn"],
    }


def rules(reasons: dict[str, tuple[str, str]], only: str, kind: str | None = None) -> Callable[[dict], str | None]:
    """A function telling why a record is left out of the export, or None to keep it, from a
    workspace's `reasons()` (an engine's workers decide with a copy of them)."""

    def decide(rec) -> str | None:
        status, why = reasons.get(rec["id"], ("pending", None))
        if status == "reject":
            return why
        if only == "accepted" and status != "accept":
            return "not accepted"
        if kind is not None and rec["kind"] != kind:
            return f"kind {rec['kind']}"
        return None

    return decide


def kept_records(ds, ws, only: str = "not-rejected", kind: str | None = None) -> Iterator[dict]:
    """The records an export would keep, in file order (decisions reconciled first)."""
    from workbench.store.reconcile import reconcile

    reconcile(ds, ws)
    decide = rules(ws.reasons(), only, kind)
    for batch in ds.iter_batches(2048):
        yield from (rec for rec in batch if decide(rec) is None)


def kept_kinds(ds, ws, only: str = "not-rejected") -> Counter:
    """How many rows of each kind an export would keep (decisions reconciled first)."""
    return Counter(rec["kind"] for rec in kept_records(ds, ws, only))


def kinds_text(kinds: Counter) -> str:
    """"120 sft, 30 preference": for the error that asks for --kind."""
    return ", ".join(f"{n} {k}" for k, n in kinds.most_common())


def mix_copies(ws) -> dict[str, int]:
    """Row id -> how many times the latest `mix` run drew it (see workbench.ops.mix), while
    that run holds for this version of the source; {} without one."""
    runs = [r for r in ws.runs(limit=100_000) if r["op"] == "mix" and r["status"] == "done"]
    if not runs or ws.get_meta(f"run_stamp.{runs[0]['id']}") is None:
        return {}  # no mix, or one made on another version of the source (withdrawn)
    # that run's own: an earlier mix's copies of rows this one did not draw are not in force
    return {rid: int(n) for rid, n in ws.run_signal_values(runs[0]["id"], "copies").items()}


def _signal_columns(ws, names: list[str]) -> dict[str, dict]:
    """Column name -> {row_id: value} for the asked signals (`NAME` or `OP.NAME`, "all")."""
    if names == ["all"] or "all" in names:
        names = ws.signal_names()
    known = set(ws.signal_names())
    columns = {}
    for name in names:
        # a signal's own name may hold a dot (judge.score): it wins over OP.NAME
        op, _, signal = ("", "", name) if name in known else name.rpartition(".")
        if signal not in known:
            raise ValueError(f"no signal {signal!r} in the workspace; it has: {', '.join(sorted(known)) or 'none'}")
        columns[name] = ws.signal_values(signal, op or None)
    return columns


def _with_signals(rec: dict, columns: dict[str, dict]) -> dict:
    """The record with its signals as extra source fields (every writer keeps `meta` fields as
    columns, which trainers ignore)."""
    meta = dict(rec.get("meta") or {})
    for name, values in columns.items():
        meta[name] = values.get(rec["id"])
    return {**rec, "meta": meta}
