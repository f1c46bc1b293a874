"""The TUI's settings file, `tui.json` in the XDG config folder: theme and keymap.

    {"theme": "light", "keymap": {"accept": "y", "reject": "n"}, "token_counts": true}

`token_counts: false` stops the Template pane from loading a tokenizer to count tokens.
`keymap` maps binding ids (shown in the help screen) to keys, comma-separated for several.
`params` holds saved defaults per operation, used by the palette's `run-NAME` until the
operation has run on the dataset (then its last run's parameters are used):

    {"params": {"dedup-minhash": {"threshold": 0.7}}}

`llm` sets what the palette's generate/judge operations call (API keys come only from the
environment, never from this file):

    {"llm": {"model": "openai/gpt-4o-mini", "api_base": null,
             "seed_file": "examples/seed_tasks.jsonl", "personas": "examples/personas.jsonl"}}
The file is rewritten atomically and only the keys we own are changed; a file that does not
parse is moved to `tui.json.broken` when a change is saved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workbench.atomic import write_text_atomic
from workbench.paths import config_dir


def config_path() -> Path:
    return config_dir() / "tui.json"


def broken_path() -> Path:
    return config_dir() / "tui.json.broken"


def load_config() -> dict[str, Any]:
    path = config_path()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: line {e.lineno}: {e.msg}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return data


def save_config(**changes: Any) -> None:
    path = config_path()
    try:
        data = load_config()
    except ValueError:
        # A broken file must not block the theme choice, nor lose the user's keymap and llm
        # settings with it: it is kept beside the new one.
        path.replace(broken_path())
        data = {}
    data.update(changes)
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")


LLM_DEFAULTS = {"model": "local/smollm2", "api_base": None,
                "seed_file": "examples/seed_tasks.jsonl", "personas": "examples/personas.jsonl"}
LLM_PARAMS = {"model": "model", "api_base": "api_base", "seed_file": "seeds", "personas": "personas"}  # -> Params field


def llm_settings() -> dict[str, Any]:
    """The `llm` section of tui.json over the defaults (the embedded local model, no server)."""
    section = load_config().get("llm") or {}
    if not isinstance(section, dict):
        raise ValueError(f"{config_path()}: \"llm\" must be an object")
    unknown = sorted(set(section) - set(LLM_DEFAULTS))
    if unknown:
        raise ValueError(f"{config_path()}: unknown llm setting(s) {', '.join(unknown)}; "
                         f"known: {', '.join(LLM_DEFAULTS)}")
    return {**LLM_DEFAULTS, **section}
