"""Convert the bundled SmolLM2 GGUF tokenizer to tokenizer.json, in a child process.

transformers (and with it torch) is only needed for this one-off conversion; running it in
a child keeps both out of the TUI's process, which then loads the result with `tokenizers`.

    python -m workbench.templates.tokenizer_convert GGUF OUT
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def convert_in_child(gguf: Path, out: Path) -> None:
    """Write `out` (atomically) from `gguf`; a failure raises with the child's last words."""
    proc = subprocess.run([sys.executable, "-m", __name__, str(gguf), str(out)],
                          capture_output=True, text=True)
    if proc.returncode != 0 or not out.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"could not convert the tokenizer in {gguf}: {' '.join(tail) or 'no output'}")


def main(gguf: str, out: str) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    src, dst = Path(gguf), Path(out)
    tok = AutoTokenizer.from_pretrained(str(src.parent), gguf_file=src.name)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f"{dst.name}.tmp{os.getpid()}")
    tok.backend_tokenizer.save(str(tmp))
    os.replace(tmp, dst)


if __name__ == "__main__":
    main(*sys.argv[1:3])
