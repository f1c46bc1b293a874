"""The template workshop's core: a chat template being edited, tried on one row and linted
over a dataset (or an even sample of a big one), and saved as a .jinja file or into a Hugging
Face tokenizer folder.

An edited template keeps what the template it started from knows (bos/eos, special tokens,
tokenizer) and takes the edited text; control tokens written in the new text are recognised
too (registry's guess). Rendering goes through the same sandbox as every other rendering.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from workbench.templates.lint import LintReport, lint_records
from workbench.templates.registry import Template, _guess_tokens, get_template

LINT_SAMPLE = 400  # rows linted as the user types; a bigger dataset is sampled evenly


def edited(base: str | Template, source: str) -> Template:
    """`base` (a spec or Template) with its Jinja text replaced by `source`."""
    tpl = get_template(base)
    special = tuple(dict.fromkeys((*tpl.special_tokens, *_guess_tokens(source))))
    return replace(tpl, name=f"{tpl.name} (edited)", source=source, special_tokens=special, tool_source=None)


@dataclass
class SampleLint:
    report: LintReport
    sampled: bool  # True: `report.rows` rows spread evenly over the dataset, not every row
    of: int  # rows in the dataset


def lint_sample(ds, tpl: Template, limit: int = LINT_SAMPLE) -> SampleLint:
    """Lint `tpl` over every row of `ds`, or over `limit` rows spread evenly when it has more
    (the same rows each time, so counts compare from one edit to the next). Counts per issue
    kind are `report.counts`; no tokens are counted and nothing is written to a workspace."""
    n = len(ds)
    rows = range(n) if n <= limit else sorted({i * n // limit for i in range(limit)})
    return SampleLint(lint_records(((i, ds.record(i)) for i in rows), tpl, count_tokens=False), n > limit, n)


def save_jinja(path: str | Path, source: str) -> Path:
    """Write the template text to `path` (atomically); returns the path written."""
    from workbench.atomic import write_text_atomic

    path = Path(path).expanduser()
    write_text_atomic(path, source)
    return path


def save_to_tokenizer(folder: str | Path, source: str) -> list[Path]:
    """Put the template into a Hugging Face tokenizer folder as transformers reads it: its
    `chat_template.jinja` (which transformers prefers), and the `chat_template` entry of its
    `tokenizer_config.json` when that file has one (for a list of named templates, the
    `default` one), so the two never disagree. Each file is written atomically; returns the
    files written. Raises ValueError for a folder that is not a tokenizer's or a config that is
    not JSON."""
    from workbench.atomic import write_text_atomic

    folder = Path(folder).expanduser()
    config_path = folder / "tokenizer_config.json"
    if not folder.is_dir() or not (config_path.exists() or (folder / "tokenizer.json").exists()):
        raise ValueError(f"{folder}: not a tokenizer folder (no tokenizer_config.json or tokenizer.json)")
    written = [save_jinja(folder / "chat_template.jinja", source)]
    if config_path.exists():
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{config_path}: line {e.lineno}: invalid JSON: {e.msg}") from None
        current = config.get("chat_template")
        if isinstance(current, str):
            config["chat_template"] = source
        elif isinstance(current, list):
            for entry in current:
                if isinstance(entry, dict) and entry.get("name") == "default":
                    entry["template"] = source
        if current is not None:
            write_text_atomic(config_path, json.dumps(config, indent=2, ensure_ascii=False) + "\n")
            written.append(config_path)
    return written
