"""Chat templates: render any record through any template exactly as the trainer will, trained tokens marked.

The API the TUI and the CLI use (cheap to import: jinja2 only; transformers/tokenizers load on use):

    list_templates() -> list[Template]            the built-ins (chatml, alpaca, vicuna, llama-2, llama-3,
                                                  mistral, gemma, zephyr, phi-3, qwen2.5, smollm2)
    get_template(spec) -> Template                a built-in name, "tokenizer:DIR", "jinja:FILE" or "gguf:FILE";
                                                  raises TemplateNotFound (a ValueError) with what was expected
    Template: .name .source .bos_token .eos_token .special_tokens .stop_tokens .description .tokenizer

    render_record(record, template, *, side=None, add_generation_prompt=False,
                  mask_policy="assistant", train_eos=True, time_limit=2.0) -> Rendering
        One side of a canonical record ("chosen" by default for preference rows; side="rejected"
        for the other). Never raises for a template fault: the reason is in `.error`.
    render_sides(record, template, ...) -> list[Rendering]
        Every side: one rendering for SFT/KTO rows, chosen + rejected for preference rows.
    render_conversation(messages, template, *, tools=None, documents=None, ...) -> Rendering
        HF-style messages directly.

    Rendering: .text            the rendered string, byte for byte what transformers' apply_chat_template gives
               .spans           [(start, end, trained: bool)] covering the whole text
               .special         [(start, end)] of control tokens (bos/eos, headers)
               .error           str | None, e.g. "the template rejected this conversation: System role not supported"
               .error_kind      rejected | unsafe | timeout | syntax | error
               .side            conversation | chosen | rejected | text
               .turns           [TurnSpan(index, role, start, end, trained, weight)] per message
               .warnings        notes for the person (e.g. a plain-text row)

    mask_policy: "assistant" (assistant turns; for preference rows only the chosen/rejected
    continuation), "last" (the last assistant turn), "all" (everything), "template" (the
    template's {% generation %} blocks). A turn's `train` weight overrides the policy.
    train_eos: train the token that closes an assistant turn (<|im_end|>, </s>, <|eot_id|> ...).

    load_tokenizer(spec=None) -> TextTokenizer    "smollm2" (default, converted once from the bundled
                                                  GGUF and cached) or a tokenizer directory
    tokenize(rendering, tokenizer=None, *, max_len=None) -> TokenCounts
        .ids .mask (1 = trained) .offsets .total .trained .untrained .over .truncated_at (char
        where truncation at max_len cuts) .trained_lost .summary()

    lint_dataset(ds, template, *, max_len=None, tokenizer=None, ws=None) -> LintReport
    lint_records(((index, record), ...), template, ...) -> LintReport
        Rows the template rejects or mangles (codes in workbench.templates.lint.CODES); with a
        workspace, signals `template_issues` / `template_tokens` under the op `template_lint`.

Rendering runs in a Jinja sandbox with the features of transformers' (see sandbox.py) and a
time limit per record.
"""

from __future__ import annotations

from importlib import import_module

_EXPORTS = {
    "Template": "registry", "TemplateNotFound": "registry", "get_template": "registry", "list_templates": "registry",
    "Rendering": "render", "TurnSpan": "render", "render_record": "render", "render_sides": "render",
    "render_conversation": "render", "MASK_POLICIES": "registry",
    "TemplateFailure": "sandbox",
    "TextTokenizer": "tokens", "TokenCounts": "tokens", "load_tokenizer": "tokens", "tokenize": "tokens",
    "tokenizer_name": "tokens",
    "LintReport": "lint", "lint_dataset": "lint", "lint_records": "lint",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"workbench.templates.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'workbench.templates' has no attribute {name!r}")
