"""Small canonical rows for the LLM tests (a module with its own name: `conftest` is ambiguous across test folders)."""

from __future__ import annotations

from workbench.data.record import make_record


def sft(i: int, prompt: str | None = None, answer: str | None = None, **meta):
    return make_record(
        id=f"row{i}",
        messages=[{"role": "user", "content": prompt or f"question {i}"},
                  {"role": "assistant", "content": answer or f"answer {i}"}],
        meta=meta,
    )
