"""Files shipped with the package: themes, example inputs and the sample data.

In a checkout these are links to the repository's top-level `themes/`, `examples/` and
`sample_data/` (where users look for them); a wheel holds copies, so an installed workbench
finds them from any directory.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent


def bundled(*parts: str) -> Path:
    """The path of a shipped file or folder, e.g. `bundled("themes")`."""
    return ROOT.joinpath(*parts)
