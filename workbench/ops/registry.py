"""Every operation, registered once: the CLI sub-commands, the TUI palette, the help screen
and recipe steps are all generated from this table. Adding an operation is one module with
one `Operation` subclass, plus its line here.

    from workbench.ops import registry
    op = registry.get("filter")          # KeyError-free: UnknownOperation names the known ones
    for op in registry.operations(): ...
"""

from __future__ import annotations

import importlib

from workbench.ops.base import Operation

# name -> "module:Class"; modules are imported on first use (the CLI's --help stays quick).
OPERATIONS: dict[str, str] = {
    "filter": "workbench.ops.filters:Filter",
    "dedup-exact": "workbench.ops.dedup:DedupExact",
    "dedup-minhash": "workbench.ops.dedup:DedupMinHash",
    "dedup-embedding": "workbench.ops.dedup:DedupEmbedding",
    "decontam": "workbench.ops.decontam_op:Decontam",
    "template-lint": "workbench.ops.template_lint:TemplateLint",
    "embed": "workbench.ops.embed:Embed",
    "map": "workbench.ops.topic_map:TopicMapOp",
    "judge": "workbench.ops.generation.judge:Judge",
    "verify": "workbench.ops.generation.verify:Verify",
    "generate-self-instruct": "workbench.ops.generation.self_instruct:SelfInstruct",
    "generate-evol": "workbench.ops.generation.evol:Evol",
    "generate-cot": "workbench.ops.generation.cot:Cot",
    "generate-persona": "workbench.ops.generation.persona:Persona",
    "generate-bsm": "workbench.ops.generation.bsm:Bsm",
    "generate-best-of-n": "workbench.ops.generation.best_of_n:BestOfN",
    "mix": "workbench.ops.mix:Mix",
    "flan": "workbench.ops.flan:Flan",
}

_loaded: dict[str, Operation] = {}


class UnknownOperation(ValueError):
    pass


def get(name: str) -> Operation:
    """The operation called `name`; UnknownOperation lists the known names."""
    if name not in OPERATIONS:
        raise UnknownOperation(f"unknown operation {name!r}; known: {', '.join(OPERATIONS)}")
    if name not in _loaded:
        module, cls = OPERATIONS[name].split(":")
        op = getattr(importlib.import_module(module), cls)()
        assert op.name == name, f"{OPERATIONS[name]} is registered as {name!r} but names itself {op.name!r}"
        _loaded[name] = op
    return _loaded[name]


def names() -> list[str]:
    return list(OPERATIONS)


def operations() -> list[Operation]:
    return [get(n) for n in OPERATIONS]
