"""Workbench: a terminal workbench for LLM post-training datasets."""

import os

__version__ = "0.1.0"

# Arrow buffers from the system allocator, not pyarrow's default mimalloc, which keeps the pages
# it freed: converting 100k JSONL rows peaks at 136 MB instead of 170 MB, as fast (benchmarks/
# bench_io.py). Read when pyarrow is first imported; a value already set is left alone.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
