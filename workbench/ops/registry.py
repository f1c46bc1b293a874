"""Every operation, registered once: the CLI sub-commands, the TUI palette, the help screen
and recipe steps are all generated from this table. Adding an operation is one module with
one `Operation` subclass, plus its entry here: where the class is, its command-line path
(`("generate", "cot")` is `workbench generate cot`; `()`: no command of its own) and its help
line. Modules are imported on first use, so listing the commands imports no operation.

    from workbench.ops import registry
    op = registry.get("filter")          # KeyError-free: UnknownOperation names the known ones
    for op in registry.operations(): ...
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

from workbench.ops.base import Operation


class Entry(NamedTuple):
    target: str  # "module:Class"
    cli: tuple[str, ...]  # the sub-command path; () for none
    help: str  # one line, for --help, the palette and the help screen


OPERATIONS: dict[str, Entry] = {
    "filter": Entry("workbench.ops.filters:Filter", ("filter",),
          "flag rows by rules: length, empty turns, refusals, repetition, roles, cut-off answers"),
    "dedup-exact": Entry("workbench.ops.dedup:DedupExact", (),
          "flag exact duplicates (normalised text)"),
    "dedup-minhash": Entry("workbench.ops.dedup:DedupMinHash", (),
          "flag near-duplicates (MinHash LSH over word n-grams)"),
    "dedup-embedding": Entry("workbench.ops.dedup:DedupEmbedding", (),
          "flag rows with the same meaning (embedding cosine similarity)"),
    "decontam": Entry("workbench.ops.decontam_op:Decontam", ("decontam",),
          "find rows sharing word n-grams with benchmark test sets"),
    "template-lint": Entry("workbench.ops.template_lint:TemplateLint", (),
          "find the rows a chat template rejects or mangles"),
    "embed": Entry("workbench.ops.embed:Embed", ("embed",),
          "embed every row (cached: only new or changed rows are computed)"),
    "map": Entry("workbench.ops.topic_map:TopicMapOp", ("map",),
          "2-D topic map: k-means topics, a layout that keeps them apart, topic labels"),
    "judge": Entry("workbench.ops.generation.judge:Judge", ("judge",),
          "rate answers 1-5 per aspect (or a --rubric file) with an LLM judge; scores become signals"),
    "judge-pairwise": Entry("workbench.ops.generation.pairwise:JudgePairwise", ("judge-pairwise",),
          "compare chosen and rejected with an LLM judge in both orders: winner, ties, position bias"),
    "verify": Entry("workbench.ops.generation.verify:Verify", ("verify",),
          "run code answers against their tests / check math answers; signals verify.passed, verify.detail"),
    "generate-self-instruct": Entry("workbench.ops.generation.self_instruct:SelfInstruct", ("generate", "self-instruct"),
          "new tasks from seed tasks (the input, or --seeds FILE), kept when novel (ROUGE-L < 0.7); for review"),
    "generate-evol": Entry("workbench.ops.generation.evol:Evol", ("generate", "evol"),
          "Evol-Instruct: harder (in-depth) or new (in-breadth) instructions, N rounds; for review"),
    "generate-cot": Entry("workbench.ops.generation.cot:Cot", ("generate", "cot"),
          "rewrite answers to reason step by step, for review"),
    "generate-persona": Entry("workbench.ops.generation.persona:Persona", ("generate", "persona"),
          "re-ask each prompt as a persona from --personas, and answer it; for review"),
    "generate-bsm": Entry("workbench.ops.generation.bsm:Bsm", ("generate", "bsm"),
          "branch-solve-merge: plan parts of an answer, solve each, merge; for review"),
    "generate-best-of-n": Entry("workbench.ops.generation.best_of_n:BestOfN", ("generate", "best-of-n"),
          "N answers per prompt, scored by a verifier or the judge; best/worst as a preference pair; for review"),
    "generate-from-docs": Entry("workbench.ops.generation.from_docs:FromDocs", ("generate", "from-docs"),
          "question-answer pairs grounded in documents (.txt .md .html .pdf), checked against each chunk; for review"),
    "generate-backtranslate": Entry("workbench.ops.generation.backtranslate:Backtranslate", ("generate", "backtranslate"),
          "instruction backtranslation: write the instruction each text answers, rate it 1-5, keep >= 4; for review"),
    "generate-auto-evol": Entry("workbench.ops.generation.auto_evol:AutoEvol", ("generate", "auto-evol"),
          "Auto Evol-Instruct: evolve the evolution method itself, keep the one failing least; for review"),
    "score-heuristics": Entry("workbench.ops.heuristics:ScoreHeuristics", ("score-heuristics",),
          "no-model scores: length ratio, lexical diversity (MTLD), prompt complexity, language, PII"),
    "score-deita": Entry("workbench.ops.generation.deita:ScoreDeita", ("score-deita",),
          "DEITA complexity (of the instruction) and quality (of the answer), 1-6 by an LLM judge; "
          "deita.score = their product"),
    "select": Entry("workbench.ops.select:Select", ("select",),
          "choose the best N rows by a score, skipping near-duplicates of chosen ones (DEITA); "
          "the rest proposed rejected"),
    "best-of-n-pairs": Entry("workbench.ops.score_pairs:ScorePairs", ("best-of-n-pairs",),
          "preference pairs from N answers per prompt by any score (--score NAME): best vs worst, or vs a random "
          "lower one (--pick random), with --margin; for review"),
    "judge-agreement": Entry("workbench.ops.judge_agreement:JudgeAgreement", ("judge-agreement",),
          "how well a score predicts your accept/reject decisions: agreement, Cohen's kappa, ROC AUC, best threshold"),
    "reject-below": Entry("workbench.ops.threshold:RejectBelow", ("reject-below",),
          "propose rejecting every row whose score (--signal) is below --below X"),
    "score": Entry("workbench.ops.reward:Score", ("score",),
          "score rows with a reward model directory (--reward-model DIR): reward.score, reward.margin for pairs"),
    "score-ifd": Entry("workbench.ops.ifd:ScoreIfd", ("score-ifd",),
          "the local model's mean log-prob of each answer and its instruction-following difficulty (IFD)"),
    "mix": Entry("workbench.ops.mix:Mix", ("mix",),
          "draw a mixture of the sources (or topics, kinds) by weights (PATH:WEIGHT ...) or temperature; "
          "rows not drawn are proposed rejections; -o OUT writes the mixture"),
    "flan": Entry("workbench.ops.flan:Flan", ("flan",),
          "re-render instruction rows as FLAN-style zero-shot, few-shot and chain-of-thought prompts, for review"),
}

_loaded: dict[str, Operation] = {}


class UnknownOperation(ValueError):
    pass


def get(name: str) -> Operation:
    """The operation called `name`; UnknownOperation lists the known names."""
    if name not in OPERATIONS:
        raise UnknownOperation(f"unknown operation {name!r}; known: {', '.join(OPERATIONS)}")
    if name not in _loaded:
        entry = OPERATIONS[name]
        module, cls = entry.target.split(":")
        op = getattr(importlib.import_module(module), cls)()
        assert op.name == name, f"{entry.target} is registered as {name!r} but names itself {op.name!r}"
        op.help, op.cli = entry.help, entry.cli
        _loaded[name] = op
    return _loaded[name]


def names() -> list[str]:
    return list(OPERATIONS)


def operations() -> list[Operation]:
    return [get(n) for n in OPERATIONS]
