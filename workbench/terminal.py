"""Text bound for the user's terminal, with its control characters made visible.

A dataset row, a file name or a model reply may hold bytes a terminal obeys: ESC ]0;…BEL sets
the window title, ESC ]52;c;…BEL writes the clipboard (OSC 52, passed on by tmux with
`set-clipboard on`), ESC [2J clears the screen, and the bidirectional overrides reorder what
is shown (Trojan Source, CVE-2021-42574). Everything the TUI draws from data and every line
the CLI prints goes through `visible`, the one place that decides how such characters show:

    C0 controls but tab and newline   -> their Control Pictures: ESC -> ␛, CR -> ␍, NUL -> ␀
    DEL, C1 controls, bidi overrides  -> a \\uXXXX escape: \\u009b, \\u202e
    and isolates, lone surrogates        (still valid inside a JSON string, where it decodes
                                         to the same character: `--json` output stays exact)

Only `template render` writing to a pipe keeps the exact string (it writes to `exact(stream)`).
"""

from __future__ import annotations

import re
from typing import Any, TextIO

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _shown(ch: str) -> str:
    code = ord(ch)
    return chr(0x2400 + code) if code < 0x20 else f"\\u{code:04x}"


_TABLE: dict[str, str] = {}


def _sub(m: re.Match) -> str:
    ch = m.group()
    shown = _TABLE.get(ch)
    if shown is None:
        shown = _TABLE[ch] = _shown(ch)
    return shown


def visible(text: str) -> str:
    """`text` with every character a terminal would act on replaced by a visible stand-in
    (see the module docstring); tab and newline stay. The same object when nothing changes."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_sub, text)


# Whitespace a reader cannot tell apart, as `show_whitespace` draws it: one character each
# (so that spans found in the text stay on it), but the newline keeps its line break.
_WHITESPACE = {" ": "·", "\t": "→", "\n": "↵\n", "\u00a0": "⍽", "\u2007": "⍽", "\u202f": "⍽",
               "\u200b": "∅", "\u200c": "∅", "\u200d": "∅", "\u2060": "∅", "\ufeff": "∅",
               "\u3000": "□", "\u2028": "↵\n", "\u2029": "↵\n"}
_WHITESPACE_RE = re.compile("[" + "".join(_WHITESPACE) + "]")


def show_whitespace(text: str) -> str:
    """`text` with its whitespace drawn: space ·, tab →, newline ↵ (the line still breaks),
    no-break spaces ⍽, zero-width characters ∅, ideographic space □. Apply after `visible`,
    which has already drawn the control characters."""
    return _WHITESPACE_RE.sub(lambda m: _WHITESPACE[m.group()], text)


def visible_data(value: Any) -> Any:
    """`visible` applied to every string (dict keys too) of nested lists and dicts."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {visible_data(k): visible_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(visible_data(v) for v in value)
    return value


class VisibleStream:
    """A text stream whose writes pass through `visible`; everything else is the wrapped one's."""

    def __init__(self, stream: TextIO):
        self.exact = stream

    def write(self, text: str) -> int:
        self.exact.write(visible(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.exact, name)


def exact(stream: TextIO) -> TextIO:
    """The stream beneath a VisibleStream (for output that must stay byte-exact, or that
    carries our own escape sequences: colours, progress bars)."""
    return getattr(stream, "exact", stream)
