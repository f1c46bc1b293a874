"""Errors about input data, always naming the file and the line (or row) at fault."""

from __future__ import annotations


class DataError(Exception):
    """Bad input: `path`, 1-based `line` (None when the whole file is at fault), `message`."""

    def __init__(self, path: str, line: int | None, message: str):
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")

    def __reduce__(self):  # pickled as its three fields (it crosses to and from Ray workers)
        return DataError, (self.path, self.line, self.message)

    def as_dict(self) -> dict:
        return {"file": self.path, "line": self.line, "message": self.message}
