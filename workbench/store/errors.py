"""The workspace's error, apart from the workspace: a command catches it without importing
SQLite and the schema (a `--dry-run` never opens a workspace)."""


class WorkspaceError(Exception):
    """A workspace file that cannot be used or written (newer schema, not a workspace, damaged,
    disk full, read-only, closed). The message names the file and fits on one line."""
