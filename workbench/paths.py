"""Where Workbench keeps its files, following the XDG base directory spec.

`WORKBENCH_HOME` overrides all three roots at once (tests point it at a temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path


def _root(xdg_var: str, fallback: str, sub: str) -> Path:
    home = os.environ.get("WORKBENCH_HOME")
    if home:
        return Path(home) / sub
    base = os.environ.get(xdg_var) or str(Path.home() / fallback)
    return Path(base) / "workbench"


def data_dir() -> Path:
    """Workspaces (one SQLite file per dataset)."""
    return _root("XDG_DATA_HOME", ".local/share", "data")


def cache_dir() -> Path:
    """Rebuildable things: Arrow conversions, embeddings."""
    return _root("XDG_CACHE_HOME", ".cache", "cache")


def config_dir() -> Path:
    """The config file (theme, keymap, model settings)."""
    return _root("XDG_CONFIG_HOME", ".config", "config")


def example_file(path: str | Path) -> Path:
    """A file as given, or else relative to the checkout: defaults such as
    `examples/personas.jsonl` then work from any directory."""
    p = Path(path).expanduser()
    if p.exists() or p.is_absolute():
        return p
    bundled = Path(__file__).resolve().parents[1] / p
    return bundled if bundled.exists() else p
