"""Where Workbench keeps its files: the platform's user folders (XDG on Linux), by platformdirs.

`WORKBENCH_HOME` overrides all three roots at once (tests point it at a temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def _root(platform_dir, sub: str) -> Path:
    home = os.environ.get("WORKBENCH_HOME")
    if home:
        return Path(home) / sub
    return Path(platform_dir("workbench", appauthor=False))


def data_dir() -> Path:
    """Workspaces (one SQLite file per dataset)."""
    return _root(platformdirs.user_data_dir, "data")


def cache_dir() -> Path:
    """Rebuildable things: Arrow conversions, embeddings."""
    return _root(platformdirs.user_cache_dir, "cache")


def config_dir() -> Path:
    """The config file (theme, keymap, model settings)."""
    return _root(platformdirs.user_config_dir, "config")


def example_file(path: str | Path) -> Path:
    """A file as given, or else one shipped with the package: defaults such as
    `examples/personas.jsonl` then work from any directory, in a checkout or installed."""
    from workbench.bundled import bundled

    p = Path(path).expanduser()
    if p.exists() or p.is_absolute():
        return p
    shipped = bundled(*p.parts)
    return shipped if shipped.exists() else p
