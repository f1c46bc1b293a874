"""Raw documents (plain text, Markdown, HTML, PDF) as text, and that text cut into chunks.

`read_document(path)` returns the document's text: a .txt / .md file as it is; HTML through
BeautifulSoup (no network, the standard library's parser) with headings written as Markdown
`#` lines and each block on its own paragraph, scripts, styles and navigation dropped; PDF
through pypdf, one page after another. Chunk spans are character offsets into that text.

`chunk_spans(text, budget)` splits on structure: a heading starts a new chunk, paragraphs are
packed into a chunk while it stays within `budget` tokens, and a paragraph longer than the
budget is cut at sentence ends. Tokens are counted as words and punctuation marks (what a BPE
tokenizer's pre-tokenizer splits on; real token counts are somewhat higher).
"""

from __future__ import annotations

import re
from pathlib import Path

from workbench.data.errors import DataError

SUFFIXES = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown",
            ".html": "html", ".htm": "html", ".pdf": "pdf"}
_TOKEN = re.compile(r"\w+|[^\w\s]")
_HEADING = re.compile(r"#{1,6}\s+\S|[^\n]+\n(=+|-+)\s*(\n|$)")  # Markdown ATX or setext
_SPACE_PUNCT = re.compile(r"\s+([.,;:!?)])")  # "<b>two</b>." joined with a space
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "td", "th", "dt", "dd",
           "figcaption")


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def kind_of(path: str | Path) -> str | None:
    """'text', 'markdown', 'html', 'pdf', or None for a file this module does not read."""
    return SUFFIXES.get(Path(path).suffix.lower())


def read_document(path: str | Path) -> str:
    """The text of one document; DataError (naming the file) for an unreadable one."""
    p = Path(path)
    kind = kind_of(p)
    try:
        if kind == "pdf":
            return _pdf_text(p)
        raw = p.read_bytes().decode("utf-8", errors="replace")
    except OSError as e:
        raise DataError(str(p), None, f"cannot read: {e.strerror}") from None
    if kind == "html":
        return html_text(raw)
    if kind is None:
        raise DataError(str(p), None, "not a document this reads (.txt, .md, .html, .pdf)")
    return raw.replace("\r\n", "\n")


def html_text(html: str) -> str:
    """Readable text of an HTML page: headings as `#` lines, one block per paragraph."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "noscript", "form"]):
        tag.decompose()
    out = []
    for el in soup.find_all(_BLOCKS):
        if el.find(_BLOCKS):  # a container of blocks: its children are written on their own
            continue
        text = _SPACE_PUNCT.sub(r"\1", " ".join(el.get_text(" ", strip=True).split()))
        if not text:
            continue
        out.append("#" * int(el.name[1]) + " " + text if el.name[0] == "h" and el.name[1:].isdigit() else text)
    if not out:  # a page of bare text without block tags
        out = [" ".join(soup.get_text(" ", strip=True).split())]
    return "\n\n".join(t for t in out if t)


def _pdf_text(p: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        pages = [page.extract_text() or "" for page in PdfReader(str(p)).pages]
    except (PdfReadError, ValueError, KeyError) as e:
        raise DataError(str(p), None, f"not a readable PDF: {e}") from None
    return "\n\n".join(t.strip() for t in pages if t.strip())


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """Spans of the blank-line-separated blocks of `text`, whitespace trimmed."""
    spans = []
    for m in re.finditer(r"\S(?:.*?\S)?(?=\n[ \t]*\n|\s*\Z)", text, re.S):
        spans.append((m.start(), m.end()))
    return spans


def _sentences(text: str, start: int, end: int, budget: int) -> list[tuple[int, int]]:
    """A block longer than the budget, cut at sentence ends (a sentence longer than the budget
    stays whole: cutting inside it would leave no sense to ask about)."""
    out, cur = [], start
    pos = start
    for m in _SENTENCE_END.finditer(text, start, end):
        if count_tokens(text[cur:m.start()]) > budget and pos > cur:
            out.append((cur, pos))
            cur = pos + len(text[pos:m.start()]) - len(text[pos:m.start()].lstrip())
        pos = m.start()
    if count_tokens(text[cur:end]) > budget and cur < pos < end:
        out.append((cur, pos))
        cur = pos + len(text[pos:end]) - len(text[pos:end].lstrip())
    out.append((cur, end))
    return out


def chunk_spans(text: str, budget: int = 400) -> list[tuple[int, int]]:
    """(start, end) character spans of `text` covering its blocks in order, each within
    `budget` tokens where the structure allows; a heading begins a new chunk."""
    if budget < 1:
        raise ValueError("chunk budget must be at least one token")
    chunks: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    for s, e in _paragraphs(text):
        block = text[s:e]
        if _HEADING.match(block):
            if cur:
                chunks.append(cur)
            cur = (s, e)
            if count_tokens(block) > budget:
                chunks += _sentences(text, s, e, budget)
                cur = None
            continue
        if count_tokens(block) > budget:
            if cur:
                chunks.append(cur)
                cur = None
            chunks += _sentences(text, s, e, budget)
            continue
        if cur and count_tokens(text[cur[0]:e]) <= budget:
            cur = (cur[0], e)
        else:
            if cur:
                chunks.append(cur)
            cur = (s, e)
    if cur:
        chunks.append(cur)
    return chunks


def document_records(paths: list[str]):
    """One `text` record per document file (folders: the documents in them, sorted), with
    `meta.document` = its path; DataError for a path that holds none."""
    from workbench.data.record import make_record

    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.is_file() and kind_of(f))
        elif p.exists():
            files.append(p)
        else:
            raise DataError(str(p), None, "no such file or folder")
    if not files:
        raise DataError(", ".join(paths), None, "no documents (.txt, .md, .html, .pdf) here")
    for i, f in enumerate(files):
        yield make_record(id=str(f), kind="text", text=read_document(f),
                          meta={"document": str(f)}, source=str(f), row=i)
