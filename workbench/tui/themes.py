"""Theme files: TOML in the shipped themes/ folder and in the user's config folder.

A user file with the same `name` as a bundled one replaces it. Errors name the file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from textual.theme import Theme

from workbench.bundled import bundled
from workbench.paths import config_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, published for older Pythons
    import tomli as tomllib

BUNDLED_DIR = bundled("themes")
DEFAULT_THEME = "dark"
_FIELDS = ("primary", "secondary", "warning", "error", "success", "accent", "foreground",
           "background", "surface", "panel", "boost", "dark", "luminosity_spread", "text_alpha", "variables")


class ThemeError(ValueError):
    pass


def theme_dirs() -> list[Path]:
    return [BUNDLED_DIR, config_dir() / "themes"]


def load_theme(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ThemeError(f"{path}: {e}") from None
    if "name" not in data or "primary" not in data:
        raise ThemeError(f"{path}: a theme needs at least `name` and `primary`")
    unknown = set(data) - set(_FIELDS) - {"name"}
    if unknown:
        raise ThemeError(f"{path}: unknown theme field(s) {', '.join(sorted(unknown))}")
    return Theme(name=str(data["name"]), **{k: v for k, v in data.items() if k in _FIELDS})


def load_themes() -> tuple[dict[str, Theme], list[str]]:
    """Every theme found, by name, and the errors of files that could not be read."""
    themes: dict[str, Theme] = {}
    errors: list[str] = []
    for d in theme_dirs():
        for path in sorted(d.glob("*.toml")) if d.is_dir() else ():
            try:
                t = load_theme(path)
            except (ThemeError, OSError, TypeError) as e:
                errors.append(str(e))
                continue
            themes[t.name] = t
    return themes, errors
