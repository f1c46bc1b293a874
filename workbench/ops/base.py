"""One operation model: `Operation`, its `Params`, the `Context` it runs in, the `Result` it
returns, and `apply_result`, the one way a Result reaches a workspace.

    op = registry.get("dedup-minhash")
    params = op.params_from_dict({"threshold": 0.6})     # ParamError names the bad setting
    result = op.run(ds, params, Context())                # pure: touches no workspace
    run_id = apply_result(ws, result)                     # one transaction

An operation is pure over canonical records: it returns signals, proposed rejections with
reasons, new rows with provenance, rewrites, per-row errors, a report, a one-line summary and
token usage, and the face (CLI, TUI, recipe) decides where they go. Operations that call an
LLM keep per-row checkpoints in a workspace (`Context.ws`, see workbench.store.jobs) so that an
interrupted run resumes; that is resume state, not the run's result.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import json
import threading
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

from workbench.ops.oprun import Cancelled

SCOPES = ("row", "batch", "dataset")


class ParamError(ValueError):
    """A parameter that is unknown or has a wrong value; the message names it."""


# -- parameters ---------------------------------------------------------------------------


def _kind(tp) -> tuple[str, bool]:
    """(base type name, nullable) of a Params field annotation ("int | None" -> ("int", True))."""
    if isinstance(tp, str):
        nullable = tp.replace(" ", "").endswith("|None")
        return tp.replace(" ", "").removesuffix("|None"), nullable
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return _kind(rest[0])[0], True
    if typing.get_origin(tp) is list:
        return f"list[{typing.get_args(tp)[0].__name__}]", False
    return getattr(tp, "__name__", str(tp)), False


_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "float": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "list[str]": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of strings"),
}


@dataclass
class Params:
    """Base of every operation's parameters: a dataclass whose fields all have defaults.

    A field's `metadata` may hold `help` (CLI help), `choices` (allowed values) and `cli`
    (False: not a command-line flag, e.g. a list given by a file). `choices` (a class
    attribute) gives allowed values by field name for fields declared elsewhere (a kernel's
    parameter dataclass this one extends)."""

    choices: ClassVar[dict[str, tuple]] = {}

    def validate(self) -> None:
        """Check types (from the annotations) and choices; subclasses add their own rules and
        call super(). Raises ParamError naming the field."""
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            kind, nullable = _kind(hints.get(f.name, f.type))
            check = _CHECKS.get(kind)
            if check and not (check[0](value) or (nullable and value is None)):
                raise ParamError(f"{f.name} must be {check[1]}{' or null' if nullable else ''}, "
                                 f"not {json.dumps(value, default=str)}")
            choices = f.metadata.get("choices") or self.choices.get(f.name)
            if choices and value is not None and value not in choices:
                raise ParamError(f"{f.name} must be one of {', '.join(map(str, choices))}, not {value!r}")

    def to_dict(self) -> dict:
        """The parameters as stored in the run log and written in recipes: credentials inside
        a URL field marked `secret` are masked (workbench.llm.redact); keys come from the
        environment, never from a workspace or a recipe."""
        d = dataclasses.asdict(self)
        for f in dataclasses.fields(self):
            if f.metadata.get("secret") and d[f.name]:
                from workbench.llm.redact import redact_url

                d[f.name] = redact_url(d[f.name])
        return d

    @classmethod
    def from_dict(cls, data: dict | None) -> "Params":
        """Params from a dict (a recipe step); missing keys take their defaults."""
        data = dict(data or {})
        if not isinstance(data, dict):
            raise ParamError(f"parameters must be a mapping, not {type(data).__name__}")
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ParamError(f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(known)}")
        p = cls(**data)
        p.validate()
        return p

    @classmethod
    def fields_for_form(cls) -> dict[str, dict]:
        """What a form over these parameters needs, per field in order: {"kind": "int", "float",
        "bool", "str", "list[str]" or another type's name; "nullable": bool; "default": the
        value an empty entry means; "items": for a list, what separates its items as typed:
        "," as its comma-separated flag takes them, or ";" for a list given one item per
        repeated flag (`cli` False: an item may hold commas, decontam's FILE:col,col), else
        None; "help": its help text}."""
        hints = typing.get_type_hints(cls)
        out = {}
        for f in dataclasses.fields(cls):
            kind, nullable = _kind(hints.get(f.name, f.type))
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            items = (";" if f.metadata.get("cli") is False else ",") if kind.startswith("list[") else None
            out[f.name] = {"kind": kind, "nullable": nullable, "default": default, "items": items,
                           "help": f.metadata.get("help", "")}
        return out

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """One `--field-name` flag per field (bools as --x / --no-x, lists comma-separated)."""
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.metadata.get("cli") is False:
                continue
            kind, _ = _kind(hints.get(f.name, f.type))
            flag = "--" + f.name.replace("_", "-")
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            help_ = f.metadata.get("help", "")
            shown = f"{help_} (default: {default})" if help_ else f"default: {default}"
            if kind == "bool" and default is False:  # a switch: --no-cache, not --no-cache/--no-no-cache
                parser.add_argument(flag, dest=f.name, action="store_const", const=True, default=None, help=help_)
            elif kind == "bool":
                parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=shown)
            elif kind == "list[str]":
                parser.add_argument(flag, dest=f.name, default=None, metavar="A,B",
                                    type=lambda s: [x.strip() for x in s.split(",") if x.strip()], help=shown)
            else:
                conv = {"int": int, "float": float}.get(kind, str)
                parser.add_argument(flag, dest=f.name, type=conv, default=None, help=shown,
                                    choices=f.metadata.get("choices") or cls.choices.get(f.name))

    @classmethod
    def from_args(cls, args: argparse.Namespace, **extra) -> "Params":
        """Params from parsed flags (those added by `add_arguments`) and `extra` values; flags
        not given keep their defaults."""
        given = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)
                 if f.metadata.get("cli") is not False and getattr(args, f.name, None) is not None}
        return cls.from_dict({**given, **extra})


def param(default: Any = None, *, help: str = "", choices=None, cli: bool = True, factory=None,
          secret: bool = False):
    """A Params field with its CLI help and allowed values; `secret`: a URL that may hold
    credentials (masked by `to_dict`)."""
    meta = {"help": help, "choices": tuple(choices) if choices else None, "cli": cli, "secret": secret}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


# -- the context an operation runs in -----------------------------------------------------


@dataclass
class Context:
    """What an operation may use besides its input: a cancel event (checked between batches;
    `check()` raises Cancelled), a progress callback `(done, total)` in rows, job events of
    per-row LLM jobs (workbench.store.jobs.JobEvent), a factory for the LLM client (which
    caches replies in the workspace), a seed, the workspace holding job checkpoints and the
    LLM cache (None for operations that need neither), and a callback for stage messages."""

    cancel: threading.Event = field(default_factory=threading.Event)
    progress: Callable[[int, int | None], None] | None = None
    on_event: Callable[[Any], None] | None = None
    llm: Callable[..., Any] | None = None  # (model, api_base, **options) -> LLMClient
    seed: int = 0
    ws: Any = None
    message: Callable[[str], None] | None = None  # stages of a long step ("clustering (k-means)")

    def say(self, text: str) -> None:
        if self.message is not None:
            self.message(text)

    def check(self) -> None:
        if self.cancel.is_set():
            raise Cancelled("cancelled")

    def report(self, done: int, total: int | None = None) -> None:
        if self.progress is not None:
            self.progress(done, total)

    def client(self, model: str | None, api_base: str | None = None, **options):
        if self.llm is not None:
            return self.llm(model, api_base, **options)
        from workbench.llm.client import LLMClient

        return LLMClient(model, api_base, cache=self.ws, cancel=self.cancel, **options)


# -- what an operation returns ------------------------------------------------------------


@dataclass
class Result:
    """Everything one run of an operation found or made; nothing is written until
    `apply_result`.

    signals: (row_id, name, JSON-able value); rejects: row_id -> reason of a proposed
    rejection (never overrides a person's decision); rows: new or rewritten records, each
    with `meta.provenance` {operation, model, parent, ...}; rewrites: (row_id, before, after)
    texts of proposed rewrites; errors: row_id -> why that row failed; usage: tokens, calls
    and cost of LLM calls; status: "done", "cancelled" or "failed"; job_id: the run that holds
    the per-row checkpoints of an LLM job (the result is saved under it)."""

    op: str
    params: dict
    signals: list[tuple[str, str, Any]] = field(default_factory=list)
    rejects: dict[str, str] = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    summary: str = ""
    rows: list[dict] = field(default_factory=list)
    rewrites: list[tuple[str, str, str]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    usage: dict = field(default_factory=dict)
    status: str = "done"
    job_id: int | None = None
    dropped: dict[str, str] = field(default_factory=dict)  # candidates left out on purpose, with why
    counts: dict = field(default_factory=dict)  # more to record with the run (e.g. a map's topics)


# -- operations ---------------------------------------------------------------------------


class Operation:
    """One operation. Subclasses set `name`, `Params`, `scope` and implement `run`; its help
    line and command path are in its workbench.ops.registry entry.

    scope: "row" (each row on its own; runs on any selection), "batch" (batches of rows), or
    "dataset" (needs every row at once, e.g. dedup). `version` changes when the operation's
    output for the same input and parameters changes: a recipe step reruns then.
    `review` is True for operations whose new rows a person reviews (the Gen pane)."""

    name: ClassVar[str]
    help: str = ""  # set from the registry entry
    cli: tuple[str, ...] = ()  # set from the registry entry
    Params: ClassVar[type[Params]] = Params
    scope: ClassVar[str] = "batch"
    version: ClassVar[str] = "1"
    uses_llm: ClassVar[bool] = False
    needs_ws: ClassVar[bool] = False  # keeps job checkpoints in the workspace (Context.ws)
    review: ClassVar[bool] = False
    # The command can write the curated rows (decisions applied, as `export` does) to -o OUT
    # right after the run, e.g. `workbench mix ... -o mixture.jsonl`.
    exports: ClassVar[bool] = False
    # For CI scripts: the command takes --fail-on-WORD and exits 3 when the run proposes any
    # rejection (a filter's flags, decontamination's hits).
    fail_on: ClassVar[str | None] = None
    # The command's paths are documents (.txt .md .html .pdf: workbench.data.documents), one
    # `text` row each, instead of a dataset (`workbench generate from-docs DOCS...`).
    documents: ClassVar[bool] = False
    # The result draws as a self-contained HTML page (`html`; the CLI's --html OUT).
    page: ClassVar[bool] = False

    def params_from_dict(self, data: dict | None) -> Params:
        return self.Params.from_dict(data)

    def default_params(self) -> Params:
        return self.Params.from_dict({})

    def run(self, ds, params: Params, ctx: Context, rows: list[str] | None = None) -> Result:
        """The operation over `ds` (a workbench Dataset), restricted to the row ids `rows`
        when given (None: every row). Pure: returns a Result and writes nothing else."""
        raise NotImplementedError

    # CLI: sub-commands call these; operations with flags of their own override them.
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        self.Params.add_arguments(parser)

    def params_from_args(self, args: argparse.Namespace) -> Params:
        return self.Params.from_args(args)

    def html(self, result: Result, ds) -> str:
        """The result as a self-contained HTML page (operations with `page`)."""
        raise NotImplementedError(f"{self.name} has no page")

    def describe(self, result: Result) -> str:
        """What the command line prints after a run (the summary; some operations say more)."""
        return result.summary

    def fingerprint(self, params: Params) -> str:
        """Digest of (name, version, parameters): with the input's stamp, what a recipe step
        compares to skip a step that already ran."""
        raw = json.dumps([self.name, self.version, params.to_dict()], sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def subset(ds, rows: list[str] | None):
    """`ds` itself, or a Dataset of just the rows `rows` (in that order) for a dataset-scope
    operation run on a selection."""
    if rows is None:
        return ds
    from workbench.data.dataset import Dataset

    return Dataset(ds.table.take([ds.index_of(r) for r in rows]), ds.sources, ds.formats)


def records_of(ds, rows: list[str] | None):
    """The records an operation reads: every row in batches, or the selected ids' rows."""
    if rows is None:
        yield from ds.iter_batches(2048)
        return
    for start in range(0, len(rows), 2048):
        yield [ds.record(ds.index_of(rid)) for rid in rows[start : start + 2048]]


# -- applying a result --------------------------------------------------------------------


def generated_signals(result: Result, parents: dict[str, dict]) -> list[tuple[str, str, Any]]:
    """The `generated` signals the Gen pane reviews: one per new row, keyed by a review id that
    never collides with a dataset row (`<op>:<parent id>` for a rewrite of a row; a new row's
    own id otherwise), holding the row and the texts to diff."""
    from workbench.data.record import full_text

    out = []
    for rec in result.rows:
        parent = parents.get(rec["id"])
        key = f"{result.op}:{rec['id']}" if parent is not None else rec["id"]
        out.append((key, "generated", {"op": result.op, "parent": rec["id"] if parent is not None else None,
                                       "record": rec, "before": full_text(parent) if parent else "",
                                       "after": full_text(rec)}))
    return out


def apply_result(ws, result: Result, *, operation: str | None = None, selection: dict | None = None,
                 fingerprint: str | None = None, inputs: str | None = None, review: bool = False,
                 ds=None) -> int | None:
    """Write a Result into the workspace as one run, in ONE transaction; returns the run id.

    The proposals of earlier runs of the same operation are withdrawn in that same
    transaction (re-running dedup with a higher threshold releases the rows only the lower
    one caught; an interrupted re-run leaves the earlier proposals as they were). A cancelled
    result writes nothing (its job's run, if any, is marked cancelled) and returns None.
    The run's log holds `operation` (the registry name), its parameters, `selection`
    ({"all": true} | {"filter": EXPR} | {"rows": [ids]}), `fingerprint` and `inputs` (see
    workbench.engine.local), for recipes. With `review`, new rows are stored as `generated`
    signals for the Gen pane (`ds`: the dataset holding their parent rows).
    """
    if result.status == "cancelled":
        if result.job_id is not None:
            ws.finish_run(result.job_id, "cancelled", {})
        return None
    # Chained, not copied: a cluster run's signals are an iterator made as they are written.
    signals = itertools.chain(result.signals, ((rid, f"rewrite.{result.op}", {"before": b, "after": a})
                                               for rid, b, a in result.rewrites))
    if review:
        signals = itertools.chain(signals, generated_signals(result, parents_of(ds, result) if ds is not None else {}))
    # new_rows only where the rows are new (a judge's rows are the input rows it rated)
    counts = {"rows": result.report.get("rows"), "rejects": len(result.rejects),
              **({"new_rows": len(result.rows)} if review else {}), "errors": len(result.errors), **result.counts}
    return ws.save_run(
        result.op, result.params, signals=signals, rejects=result.rejects, counts=counts,
        status="failed" if result.status == "failed" else "done", run_id=result.job_id,
        log={"operation": operation or result.op, "params": result.params, "selection": selection or {"all": True},
             "fingerprint": fingerprint, "inputs": inputs, "usage": result.usage or None},
    )


def parents_of(ds, result: Result) -> dict[str, dict]:
    """The input rows of `ds` that the result's new rows rewrite (by `meta.provenance.parent`)."""
    out = {}
    for rec in result.rows:
        parent = ((rec.get("meta") or {}).get("provenance") or {}).get("parent")
        if parent is not None and parent not in out:
            try:
                out[parent] = ds.record(ds.index_of(parent))
            except KeyError:
                pass
    return out
