"""What the dataset-wide kernels share: the texts they read (lazily, in batches) and the
exception that says a cancel event stopped them (nothing of that run is saved)."""

from __future__ import annotations

from typing import Iterator, Sequence

from workbench.data.record import view_text


class Cancelled(RuntimeError):
    """An operation stopped because its cancel event was set; nothing was saved."""


class DatasetTexts(Sequence[str]):
    """The text view (prompt / answer / all / conversation) of every row of a Dataset, read
    lazily in batches straight from its Arrow columns (Dataset.texts)."""

    def __init__(self, ds, view: str = "all", batch_size: int = 2048):
        view_text({}, view)  # fail early on an unknown view
        self.ds, self.view, self.batch_size = ds, view, batch_size

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            return self.ds.texts(self.view, start, stop)[::step]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.ds.texts(self.view, i, i + 1)[0]

    def chunks(self, size: int | None = None) -> Iterator[list[str]]:
        size = size or self.batch_size
        for start in range(0, len(self), size):
            yield self[start : start + size]


def iter_text_chunks(texts: Sequence[str], size: int) -> Iterator[list[str]]:
    """Chunks of a text sequence: DatasetTexts reads them in batches, a list is sliced."""
    if isinstance(texts, DatasetTexts):
        yield from texts.chunks(size)
    else:
        for start in range(0, len(texts), size):
            yield list(texts[start : start + size])
