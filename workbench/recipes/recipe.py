"""A recipe: the steps a curation session took, as a YAML file a person can read and edit.

    workbench_recipe: 1
    steps:
    - op: filter                 # a name from workbench.ops.registry
      params: {min_chars: 10, ...}
      select: all                # or {rows: [content hashes]} or {filter: "status=pending ..."}
    decisions:                   # only with --with-decisions: a person's decisions, by content
    - {content: 3f2a..., status: reject, note: null}

Rows are named by content hash (workbench.store.reconcile.content_hash), never by id or
position, so a recipe applies to the same rows in another copy of the data (other path,
other order). `load` checks every step (known operation, valid parameters, a readable
selection, the files a step reads) before anything runs; each error names the step and the
recipe's line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VERSION = 1


class RecipeError(ValueError):
    """A recipe that cannot run; the message names the file, line and step."""


@dataclass
class Step:
    op: str
    params: dict
    select: Any = "all"  # "all" | {"rows": [hashes]} | {"filter": EXPR}
    line: int = 0  # 1-based line of the step in its file

    def to_dict(self) -> dict:
        return {"op": self.op, "params": self.params, "select": self.select}


@dataclass
class Recipe:
    steps: list[Step] = field(default_factory=list)
    decisions: list[dict] = field(default_factory=list)  # {content, status, note}
    path: str = "<recipe>"


# -- from a workspace --------------------------------------------------------------------


def from_workspace(ws, ds, *, with_decisions: bool = False) -> Recipe:
    """The recipe of every operation run logged in `ws` (oldest first) on dataset `ds`; with
    `with_decisions`, the person's decisions on rows of `ds` too (by content)."""
    from workbench.store.reconcile import content_hashes

    steps = []
    for run in ws.run_log():
        log = run["log"]
        sel = log.get("selection") or {"all": True}
        if "rows" in sel:
            hashes = content_hashes(ds, sel["rows"])
            select: Any = {"rows": [hashes[r] for r in sel["rows"] if r in hashes]}
        elif "content" in sel:
            select = {"rows": list(sel["content"])}
        elif "filter" in sel:
            select = {"filter": sel["filter"]}
        else:
            select = "all"
        steps.append(Step(log.get("operation") or run["op"], log.get("params") or run["params"], select))
    decisions = []
    if with_decisions:
        mine = ws.person_decisions()
        hashes = content_hashes(ds, [d["row_id"] for d in mine])
        for d in mine:
            h = hashes.get(d["row_id"]) or d["content"]
            if h:
                decisions.append({"content": h, "status": d["status"], "note": d["note"]})
    return Recipe(steps, decisions)


def dump(recipe: Recipe, *, source: str = "") -> str:
    """The recipe as YAML, with a comment saying where it came from and how to replay it."""
    import yaml

    head = ("# Workbench recipe" + (f", written from the workspace of {source}" if source else "") + ".\n"
            "# Replay it on other data: workbench run THIS.yaml --input DATA... -o OUT [--to FORMAT]\n")
    body: dict = {"workbench_recipe": VERSION, "steps": [s.to_dict() for s in recipe.steps]}
    if recipe.decisions:
        body["decisions"] = recipe.decisions
    return head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


# -- from a file -------------------------------------------------------------------------


def load(path: str | Path) -> Recipe:
    """Read and check a recipe file; RecipeError (naming the line and step) if any step is
    unknown, has a bad parameter or a selection that cannot be read, or reads a missing file."""
    import yaml

    from workbench.ops import registry

    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise RecipeError(f"{path}: cannot read the recipe: {e.strerror}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        raise RecipeError(f"{where}: not valid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        raise RecipeError(f"{path}:1: a recipe is a mapping with a list of `steps`")
    if data.get("workbench_recipe", VERSION) != VERSION:
        raise RecipeError(f"{path}:1: recipe version {data.get('workbench_recipe')!r}; this Workbench reads {VERSION}")
    lines = _step_lines(root)
    recipe = Recipe(path=path)
    for i, raw in enumerate(data["steps"]):
        line = lines[i] if i < len(lines) else 1
        where = f"{path}:{line}: step {i + 1}"
        if not isinstance(raw, dict) or "op" not in raw:
            raise RecipeError(f"{where}: a step is a mapping with `op` (and `params`, `select`)")
        unknown = sorted(set(raw) - {"op", "params", "select"})
        if unknown:
            raise RecipeError(f"{where}: unknown key(s) {', '.join(unknown)}; a step has op, params, select")
        try:
            op = registry.get(str(raw["op"]))
            op.params_from_dict(raw.get("params") or {})
        except ValueError as e:
            raise RecipeError(f"{where} ({raw['op']}): {e}") from None
        select = raw.get("select", "all")
        if not (select == "all" or (isinstance(select, dict) and len(select) == 1 and (
                (isinstance(select.get("rows"), list) and all(isinstance(h, str) for h in select["rows"]))
                or isinstance(select.get("filter"), str)))):
            raise RecipeError(f"{where} ({raw['op']}): select must be `all`, {{rows: [content hashes]}} "
                              f"or {{filter: EXPRESSION}}, not {select!r}")
        if isinstance(select, dict) and "filter" in select:
            from workbench.views import parse_filter

            try:
                parse_filter(select["filter"])
            except ValueError as e:
                raise RecipeError(f"{where} ({raw['op']}): select filter: {e}") from None
        recipe.steps.append(Step(op.name, raw.get("params") or {}, select, line))
    for d in data.get("decisions") or []:
        if not (isinstance(d, dict) and isinstance(d.get("content"), str)
                and d.get("status") in ("accept", "reject", "pending")):
            raise RecipeError(f"{path}: decisions: each is {{content: HASH, status: accept|reject|pending, note}}, "
                              f"not {d!r}")
        recipe.decisions.append({"content": d["content"], "status": d["status"], "note": d.get("note")})
    return recipe


def _step_lines(root) -> list[int]:
    """1-based line of each item of the top-level `steps` sequence."""
    import yaml

    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "steps" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []
