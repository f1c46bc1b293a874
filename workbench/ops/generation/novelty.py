"""Novelty of generated instructions: near-copies of the dataset or of instructions already
kept are dropped, with the reason.

Two tests, in this order: ROUGE-L against every reference and kept instruction (rapidfuzz, see
rouge.py; the self-instruct threshold 0.7 by default), then, when `cosine` is set, the cosine
similarity of sentence embeddings (the bundled all-MiniLM-L6-v2, workbench.explore.embed), which
catches paraphrases that share few words. Candidates are judged in the order given, so the
same candidates keep the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Sequence

from workbench.ops.base import ParamError, param
from workbench.ops.generation.common import LLMParams
from workbench.ops.generation.rouge import RougePool


class Novelty:
    """The instructions seen so far: `reference` (the dataset's), then each one kept."""

    def __init__(self, reference: Sequence[str] = (), *, rouge: float = 0.7, cosine: float | None = None):
        self.rouge, self.cosine = rouge, cosine
        self.pool = RougePool(reference)
        self.vectors = None
        if cosine is not None:
            from workbench.explore.embed import embed_texts

            self.vectors = embed_texts(list(reference))

    def filter(self, candidates: Sequence[tuple[Hashable, str]]) -> tuple[list[Hashable], dict[Hashable, str]]:
        """(keys kept, {key: why dropped}) for (key, instruction) candidates, in order; a kept
        one joins the pool the next ones are compared with."""
        import numpy as np

        vecs = None
        if self.cosine is not None and candidates:
            from workbench.explore.embed import embed_texts

            vecs = embed_texts([t for _, t in candidates])
        kept, dropped = [], {}
        for i, (key, text) in enumerate(candidates):
            score = self.pool.max_score(text)
            if score >= self.rouge:
                dropped[key] = f"near-copy (ROUGE-L {score:.2f} >= {self.rouge:g})"
                continue
            if vecs is not None and len(self.vectors):
                sim = float((self.vectors @ vecs[i]).max())
                if sim >= self.cosine:
                    dropped[key] = f"near-copy (embedding cosine {sim:.2f} >= {self.cosine:g})"
                    continue
            self.pool.add(text)
            if vecs is not None:
                self.vectors = np.vstack([self.vectors, vecs[i : i + 1]])
            kept.append(key)
        return kept, dropped


def reference_instructions(path: str | None) -> list[str]:
    """The instructions (last user turns) of the dataset file `path`; [] for None."""
    if not path:
        return []
    from workbench.data.dataset import Dataset
    from workbench.ops.generation.common import rows_with_turns, instruction

    usable, _ = rows_with_turns(Dataset.open([path]).records())
    return [instruction(r) for r in usable]


@dataclass
class NoveltyParams(LLMParams):
    """The novelty settings of an operation that writes new instructions."""

    novelty: float = param(0.7, help="drop an instruction whose ROUGE-L against one seen reaches this")
    max_cosine: float | None = param(None, help="also drop one whose embedding cosine reaches this (loads MiniLM)")
    against: str | None = param(None, help="dataset file whose instructions new ones must not copy")

    def validate(self) -> None:
        super().validate()
        if self.max_cosine is not None and not -1 <= self.max_cosine <= 1:
            raise ParamError("max_cosine must be between -1 and 1")

    def novelty_check(self) -> Novelty:
        return Novelty(reference_instructions(self.against), rouge=self.novelty, cosine=self.max_cosine)
