"""The workspace: one SQLite file per dataset holding everything a session decides or computes.

Decisions (a person's, with undo/redo), operation runs, their signals and proposed decisions,
job checkpoints and the LLM response cache. The source dataset is never touched.

Durability: WAL journal with `synchronous=NORMAL`. A commit appends the transaction to the
WAL file with write(); the bytes are then in the OS page cache, which outlives the process.
So a decision whose `decide()` returned survives `kill -9` of Workbench (tests/store prove it
by SIGKILLing a writer). What NORMAL gives up is fsync per commit: on power loss or an OS
crash the last few transactions may be lost, but the file stays consistent. FULL would fsync
every decision (12× slower here, see benchmarks/bench_store.py); pass `synchronous="FULL"`
to `open` where power loss is a bigger risk than slow decisions.

Concurrency: one writer connection, shared by all threads of the process, behind a lock; every
write is a `BEGIN IMMEDIATE` transaction. In-process writers (UI thread, job workers) queue on
the lock and never see "database is locked"; other processes (a CLI command next to the TUI)
wait on `busy_timeout`. Reads use a small pool of read-only connections, so they never wait
behind a long write. SQLite serialises writers anyway: in benchmarks/bench_store.py a connection
per thread (with busy_timeout) wrote at 0.3-1.05× the rate of one shared connection.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from workbench.store.errors import WorkspaceError
from workbench.store.migrations import ANONYMOUS_TO_LOGIN, MIGRATIONS, VERSION
from workbench.store.review import DEFAULT_RULE, POLICY_KEY, default_annotator, derive, parse_rule

STATUSES = ("accept", "reject", "pending")
BUSY_TIMEOUT_MS = 60_000
_CHUNK = 500  # ids per `IN (...)` query, well under SQLite's variable limit
_PUT_DECISION = "INSERT OR REPLACE INTO decisions (row_id, status, note, tags, by, time, content) VALUES (?, ?, ?, ?, ?, ?, ?)"

_COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


# PRAGMA application_id of every workspace ("WBws"): how a workspace is told from another
# program's SQLite file before anything is written to it (https://sqlite.org/fileformat.html).
APPLICATION_ID = 0x57427773
_OUR_TABLES = {"schema_version", "meta", "decisions"}  # a workspace made before APPLICATION_ID


# One encoder for all: json.dumps with options builds a new encoder on every call.
_dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


def _owner_alive(owner: list | None) -> bool:
    """Whether the process that started a run ([host, pid]) still runs; True when unknown
    (an older run, or another machine sharing the file)."""
    if not owner or owner[0] != socket.gethostname():
        return True
    try:
        os.kill(owner[1], 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _loads(s: str | None) -> Any:
    return None if s is None else json.loads(s)


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements (executescript would commit mid-migration)."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            yield buf
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete statement in migration: {buf.strip()[:80]}")


def _chunks(seq: list, n: int = _CHUNK) -> Iterator[list]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def default_path(ds) -> Path:
    """Where a dataset's workspace lives when no --workspace is given: under the XDG data dir."""
    from workbench.paths import data_dir

    return data_dir() / "workspaces" / f"{ds.fingerprint}.sqlite"


class Workspace:
    """One SQLite file (WAL), safe to use from many threads of one process and from several processes."""

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL", readonly: bool = False):
        """Open (or create) the workspace at `path`. `readonly=True` opens an existing one for
        reading only (nothing is created or migrated; writes raise WorkspaceError): for commands
        that only read, in a folder they cannot write. WorkspaceError when the file is not a
        workspace (another program's SQLite file is refused before anything is written to it),
        is damaged, or cannot be opened."""
        self.path = Path(path)
        self.readonly = readonly
        if self.path.is_dir():
            raise WorkspaceError(f"{self.path}: is a directory, not a workspace file")
        if readonly and not self.path.exists():
            raise WorkspaceError(f"{self.path}: no workspace here")
        if not readonly:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise WorkspaceError(f"{self.path.parent}: cannot make the workspace folder ({e.strerror})") from None
        # The dataset's sources (path, size, mtime) when opened for it: each run records them,
        # so that proposals made on an earlier version of the source are never applied.
        self.stamp: list | None = None
        self._lock = threading.RLock()  # the one writer connection
        self._pool_lock = threading.Lock()
        self._readers: list[sqlite3.Connection] = []  # idle read connections
        self._before_close: list[Callable[[], None]] = []  # write-behind buffers to flush
        try:
            self._db: sqlite3.Connection | None = self._connect()
        except sqlite3.Error as e:
            raise WorkspaceError(f"{self.path}: cannot open the workspace ({e})") from None
        try:
            self._check_ours(self._db)
            if readonly:
                self._db.execute("PRAGMA query_only=1")
                have = self._db.execute("SELECT version FROM schema_version").fetchone()[0]
                if have != VERSION:
                    raise WorkspaceError(f"{self.path}: workspace schema version {have}, this Workbench needs "
                                         f"{VERSION}; open it once where it can be written to upgrade it")
                self._data_version = self._db.execute("PRAGMA data_version").fetchone()[0]
                return
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise WorkspaceError(f"{self.path}: cannot use WAL journal mode (got {mode})")
            if synchronous.upper() not in ("NORMAL", "FULL"):
                raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
            self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
            self._migrate()
            self._data_version = self._db.execute("PRAGMA data_version").fetchone()[0]  # changed_elsewhere's start
        except sqlite3.DatabaseError as e:
            self._db.close()
            self._db = None
            raise WorkspaceError(self._explain(e)) from None
        except BaseException:
            self._db.close()
            self._db = None
            raise

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            if not os.access(self.path.parent, os.W_OK) and not Path(f"{self.path}-wal").exists():
                # SQLite cannot make the -shm file a WAL reader needs beside it, and with no -wal
                # file pending and a folder nobody here can write, the file cannot change under us
                uri += "&immutable=1"
            con = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None,
                                  timeout=BUSY_TIMEOUT_MS / 1000)
        else:
            con = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None,
                                  timeout=BUSY_TIMEOUT_MS / 1000)
        con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return con

    def _check_ours(self, con: sqlite3.Connection) -> None:
        """Refuse, before any write, a SQLite file that is not a workspace."""
        app = con.execute("PRAGMA application_id").fetchone()[0]
        if app == APPLICATION_ID:
            return
        tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if app == 0 and (not tables or _OUR_TABLES <= tables):
            return  # a new file, or a workspace from before application_id
        raise WorkspaceError(f"{self.path}: not a Workbench workspace (another program's SQLite database"
                             f"{f', application_id {app:#x}' if app else ''}, tables: {', '.join(sorted(tables)[:5])}); "
                             "left untouched")

    def _explain(self, e: sqlite3.Error) -> str:
        """One line naming the file: what SQLite said, and what it means for a person."""
        msg = str(e)
        why = {"database or disk is full": "the disk is full",
               "attempt to write a readonly database": "the workspace is read-only here",
               "database disk image is malformed": "the workspace file is damaged",
               "file is not a database": "not a workspace (not a SQLite file)",
               "unable to open database file": "cannot open the workspace file (a read-only or missing folder?)"}
        if "disk I/O error" in msg:  # how a full disk shows when the WAL index cannot grow
            try:
                full = shutil.disk_usage(self.path.parent).free < (1 << 20)
            except OSError:
                full = False
            if full:
                return f"{self.path}: the disk is full ({msg})"
        for key, words in why.items():
            if key in msg:
                return f"{self.path}: {words} ({msg})"
        return f"{self.path}: {msg}"

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, **kw) -> "Workspace":
        return cls(path, **kw)

    @classmethod
    def for_dataset(cls, ds, path: str | Path | None = None, **kw) -> "Workspace":
        """The dataset's workspace: `path` if given, else one per dataset under the XDG data dir."""
        from workbench.store.reconcile import sources_stamp

        default = path is None or Path(path).resolve() == default_path(ds).resolve()
        if path is None:
            path = default_path(ds)
        ws = cls(path, **kw)
        ws.stamp = sources_stamp(ds)
        if not ws.readonly and ws.get_meta("sources") is None:
            ws.set_meta("sources", [str(Path(s).resolve()) for s in getattr(ds, "sources", [])])
        if default and not ws.readonly:  # decisions follow rows into other file sets' workspaces
            from workbench.store.siblings import adopt_sibling_decisions

            adopt_sibling_decisions(ds, ws)
        return ws

    def before_close(self, flush: Callable[[], None]) -> None:
        """Call `flush()` when the workspace closes, before it does (a write-behind buffer's
        last writes; an exception there is logged, the workspace closes anyway)."""
        self._before_close.append(flush)

    def close(self) -> None:
        for flush in self._before_close:
            try:
                flush()
            except Exception:  # noqa: BLE001 - closing must not fail on a buffer's error
                logging.getLogger(__name__).exception("%s: flushing before close failed", self.path)
        self._before_close.clear()
        with self._lock, self._pool_lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            for con in self._readers:
                con.close()
            self._readers.clear()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    # -- plumbing ----------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise WorkspaceError(f"{self.path}: workspace is closed")
        return self._db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; committed (and durable, see module doc) when the block exits.
        A failure rolls all of it back; SQLite's errors (disk full, read-only, damaged file)
        become WorkspaceError naming the file."""
        if self.readonly:
            raise WorkspaceError(f"{self.path}: opened read-only (its folder cannot be written); nothing was changed")
        with self._lock:
            db = self._conn()
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    db.execute("COMMIT")
                except BaseException:
                    # SQLite may have rolled back already (disk full): a second ROLLBACK would
                    # fail and hide the real cause.
                    if db.in_transaction:
                        try:
                            db.execute("ROLLBACK")
                        except sqlite3.Error:
                            pass
                    raise
            except sqlite3.DatabaseError as e:
                if type(e) not in (sqlite3.DatabaseError, sqlite3.OperationalError):
                    raise  # a constraint or a programming error: ours, not the file's
                raise WorkspaceError(self._explain(e)) from None

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction on a pooled connection: one consistent view of the last commit.

        Readers never wait for the writer lock (WAL lets them run beside a writer), so the UI
        thread can read while a job commits a large batch."""
        with self._pool_lock:
            self._conn()  # raises if closed
            con = self._readers.pop() if self._readers else None
        try:
            if con is None:
                con = self._connect()
                con.execute("PRAGMA query_only=1")
            con.execute("BEGIN")
            try:
                yield con
            finally:
                con.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            if type(e) not in (sqlite3.DatabaseError, sqlite3.OperationalError):
                raise
            raise WorkspaceError(self._explain(e)) from None
        finally:
            with self._pool_lock:
                if self._db is None:
                    con.close()
                else:
                    self._readers.append(con)

    def _read(self, sql: str, params: Iterable = ()) -> list[tuple]:
        with self._snapshot() as con:
            return con.execute(sql, tuple(params)).fetchall()

    def _migrate(self) -> None:
        with self._write() as db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM schema_version").fetchone()
            have = row[0] if row else 0
            if have > VERSION:
                raise WorkspaceError(
                    f"{self.path}: workspace schema version {have} is newer than this "
                    f"Workbench understands ({VERSION}); upgrade Workbench"
                )
            for step in range(have, VERSION):
                for stmt in _statements(MIGRATIONS[step]):
                    db.execute(stmt)
                if step == 4 and have > 0:
                    for stmt in ANONYMOUS_TO_LOGIN:
                        db.execute(stmt, {"login": default_annotator()})
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            if row is None:
                db.execute("INSERT INTO schema_version VALUES (?)", (VERSION,))
            elif have != VERSION:
                db.execute("UPDATE schema_version SET version = ?", (VERSION,))

    def changed_elsewhere(self) -> bool:
        """Whether another connection (another process: a CLI run, another TUI) committed to
        the file since the previous call; this process's own writes do not count. Cheap enough
        to poll twice a second: SQLite's `PRAGMA data_version` on the writer connection reads a
        counter in the shared WAL index (https://sqlite.org/pragma.html#pragma_data_version).
        False, to be asked again later, while this process is writing."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            version = self._conn().execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            return False
        finally:
            self._lock.release()
        seen, self._data_version = self._data_version, version
        return version != seen

    @property
    def schema_version(self) -> int:
        return self._read("SELECT version FROM schema_version")[0][0]

    def get_meta(self, key: str) -> Any:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return _loads(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: Any) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, _dumps(value)))

    # -- a person's decisions ------------------------------------------------------------

    def decide(self, row_id: str, status: str, *, note: str | None = None,
               tags: Iterable[str] | None = None, by: str | None = None, content: str | None = None) -> None:
        """Record annotator `by`'s decision on one row (one undo step of theirs; default: the
        login name); another annotator's decision on the row is kept beside it (see
        workbench.store.review). `None` keeps the annotator's current note / tags on the row;
        pass "" or [] to clear them. `content` is the row's content hash
        (workbench.store.reconcile.content_hashes), which lets the decision follow its row
        when the source is edited. Committed when this returns."""
        self._decide({row_id: status}, note, tags, by, {row_id: content})

    def decide_many(self, row_ids: Iterable[str], status: str, *, note: str | None = None,
                    tags: Iterable[str] | None = None, by: str | None = None,
                    content: dict[str, str] | None = None, logged: tuple[str, dict] | None = None) -> None:
        """The same decision on many rows: one transaction, one undo step. `logged`: (operation,
        parameters) of the action that decided them ("reject-below", {"signal", "below"}),
        logged in the same transaction as a run that a recipe replays; undoing the step
        leaves that run out of the recipe (status "undone"), redoing it brings it back."""
        self._decide(dict.fromkeys(row_ids, status), note, tags, by, content or {}, logged)

    def decide_each(self, statuses: dict[str, str], *, by: str | None = None,
                    content: dict[str, str] | None = None) -> None:
        """Different decisions on several rows (keep one duplicate, reject the others): one undo step."""
        self._decide(statuses, None, None, by, content or {})

    def _decide(self, statuses: dict[str, str], note, tags, by: str, content: dict[str, str | None],
                logged: tuple[str, dict] | None = None) -> None:
        for status in set(statuses.values()):
            if status not in STATUSES:
                raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        if not statuses:
            if logged is not None:  # nothing to decide here: still a step of the recipe
                self.save_run(logged[0], logged[1], log={"operation": logged[0], "params": logged[1]})
            return
        row_ids = list(statuses)
        by = by or default_annotator()
        tags = sorted(set(tags)) if tags is not None else None
        now = time.time()
        with self._write() as db:
            before = self._current(db, row_ids, by)
            self._drop_redo(db, by)
            step = db.execute("INSERT INTO steps (time, by) VALUES (?, ?)", (now, by)).lastrowid
            hist, rows = [], []
            for rid, status in statuses.items():
                old = before.get(rid)
                new = {
                    "status": status,
                    "note": note if note is not None else (old or {}).get("note"),
                    "tags": tags if tags is not None else (old or {}).get("tags"),
                    "by": by,
                    "time": now,
                    "content": content.get(rid),
                }
                hist.append((step, rid, None if old is None else _dumps(old), _dumps(new)))
                rows.append(self._row(rid, new))
            db.executemany("INSERT INTO history VALUES (?, ?, ?, ?)", hist)
            db.executemany(_PUT_DECISION, rows)
            if logged is not None:
                op, params = logged
                log = {"operation": op, "params": params, "selection": {"all": True}, "undo_step": step,
                       "stamp": self.stamp}
                db.execute("INSERT INTO runs (op, params, started, finished, status, counts, log) "
                           "VALUES (?, ?, ?, ?, 'done', ?, ?)",
                           (op, _dumps(params), now, now, _dumps({"decided": len(statuses)}), _dumps(log)))
            if self.stamp is not None:
                # Made on another version of the source than the one last reconciled (another
                # process reconciled an edit since this one opened it): the next reconcile must
                # check the hashes, not trust an unchanged stamp.
                db.execute("DELETE FROM meta WHERE key = 'reconciled' AND value != ?", (_dumps(self.stamp),))

    def person_decisions(self) -> list[dict]:
        """The people's decision on each row they decided (not an operation's proposal), derived
        from the annotators' by the review policy: {row_id, status, note, tags, by, content}
        (note, tags, by and content of the latest annotator who chose that status), in row id order."""
        out = []
        for rid, votes in self._annotations_by_row().items():
            status = derive([(v["by"], v["status"], v["time"]) for v in votes], self.review_policy())
            if status is None:
                continue
            d = max((v for v in votes if v["status"] == status), key=lambda v: v["time"], default=votes[-1])
            out.append({"row_id": rid, "status": status, "note": d["note"], "tags": d["tags"], "by": d["by"],
                        "content": d["content"]})
        return out

    def adopt(self, decisions: list[dict]) -> int:
        """Take annotators' decisions made in another workspace ({row_id, by, status, note, tags,
        time, content}, as `annotations()` gives them) where they are newer than this one's on
        the same row and annotator; no undo step (nothing was decided here). Returns how many."""
        if not decisions:
            return 0
        with self._write() as db:
            before = db.total_changes
            db.executemany(
                "INSERT INTO decisions (row_id, status, note, tags, by, time, content) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (row_id, by) DO UPDATE SET status = excluded.status, note = excluded.note, "
                "tags = excluded.tags, time = excluded.time, content = excluded.content "
                "WHERE excluded.time > decisions.time",
                [self._row(d["row_id"], d) for d in decisions])
            return db.total_changes - before

    def notes(self) -> dict[str, dict]:
        """row_id -> {"note", "tags"} of the rows whose latest noted decision has a note or tags."""
        rows = self._read("SELECT row_id, note, tags FROM decisions WHERE (note IS NOT NULL AND note != '') "
                          "OR (tags IS NOT NULL AND tags NOT IN ('null', '[]')) ORDER BY time")
        return {rid: {"note": note or "", "tags": _loads(tags) or []} for rid, note, tags in rows}

    def annotations(self) -> list[dict]:
        """Every annotator's decision: {row_id, by, status, note, tags, time, content}, by row id then time."""
        rows = self._read("SELECT row_id, by, status, note, tags, time, content FROM decisions ORDER BY row_id, time")
        return [{"row_id": r, "by": b, "status": s, "note": n, "tags": _loads(t) or [], "time": tm, "content": c}
                for r, b, s, n, t, tm, c in rows]

    def _annotations_by_row(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for d in self.annotations():
            out.setdefault(d["row_id"], []).append(d)
        return out

    def annotators(self) -> list[str]:
        """Everyone who decided a row or has rows assigned, sorted."""
        return [b for (b,) in self._read("SELECT by FROM decisions UNION SELECT annotator FROM assignments ORDER BY 1")]

    def conflicts(self) -> list[str]:
        """Rows whose annotators disagree: two or more of them decided it, not all alike
        (a "pending" reset is no vote), sorted."""
        return [r for (r,) in self._read("SELECT row_id FROM decisions WHERE status != 'pending' GROUP BY row_id "
                                         "HAVING count(DISTINCT status) > 1 ORDER BY row_id")]

    # -- assignments: each annotator's queue ----------------------------------------------

    def assign(self, queues: dict[str, list[str]]) -> None:
        """Give each annotator their rows (annotator -> row ids), in one transaction; the rows
        named here lose the assignments they had, other rows keep theirs."""
        rows = list(dict.fromkeys(r for ids in queues.values() for r in ids))
        with self._write() as db:
            db.executemany("DELETE FROM assignments WHERE row_id = ?", [(r,) for r in rows])
            db.executemany("INSERT OR IGNORE INTO assignments VALUES (?, ?)",
                           [(r, who) for who, ids in queues.items() for r in ids])

    def assigned(self, annotator: str | None = None) -> dict[str, list[str]]:
        """annotator -> the row ids assigned to them, sorted (only `annotator` when given)."""
        sql, params = "SELECT annotator, row_id FROM assignments", ()
        if annotator is not None:
            sql, params = sql + " WHERE annotator = ?", (annotator,)
        out: dict[str, list[str]] = {}
        for who, rid in self._read(sql + " ORDER BY annotator, row_id", params):
            out.setdefault(who, []).append(rid)
        return out

    # -- the review policy (workbench.store.review) ----------------------------------------

    def review_policy(self) -> str:
        return self.get_meta(POLICY_KEY) or DEFAULT_RULE

    def set_review_policy(self, rule: str) -> str:
        """Set the rule deriving the dataset's decisions (ValueError for an unknown one); returns it."""
        rule = parse_rule(rule)
        self.set_meta(POLICY_KEY, rule)
        return rule

    @staticmethod
    def _derived(con: sqlite3.Connection, row_ids: list[str] | None = None) -> dict[str, str]:
        """row_id -> the people's status under the review policy (rows where one counts), read
        in the snapshot `con`; only `row_ids` when given."""
        got = con.execute("SELECT value FROM meta WHERE key = ?", (POLICY_KEY,)).fetchone()
        rule = _loads(got[0]) if got else DEFAULT_RULE
        sql = "SELECT row_id, by, status, time FROM decisions"
        batches = ([con.execute(sql + " ORDER BY time, by")] if row_ids is None else
                   [con.execute(f"{sql} WHERE row_id IN ({','.join('?' * len(c))}) ORDER BY time, by", c)
                    for c in _chunks(row_ids)])
        if rule == "single":  # the latest decision stands: no grouping needed
            return {rid: s for batch in batches for rid, _, s, _ in batch}
        votes: dict[str, list] = {}
        for batch in batches:
            for rid, by, s, t in batch:
                votes.setdefault(rid, []).append((by, s, t))
        return {rid: s for rid, v in votes.items() if (s := derive(v, rule)) is not None}

    def add_content(self, hashes: dict[str, str]) -> None:
        """Record content hashes computed after the decisions (a bulk decision hashes its rows
        in the background), only where a decision has none yet."""
        with self._write() as db:
            db.executemany("UPDATE decisions SET content = ? WHERE row_id = ? AND content IS NULL",
                           [(h, rid) for rid, h in hashes.items()])

    @staticmethod
    def _current(db: sqlite3.Connection, row_ids: list[str], by: str) -> dict[str, dict]:
        """Annotator `by`'s decisions on these rows."""
        return {d["row_id"]: d for d in Workspace._all_on(db, row_ids, "AND by = ?", (by,))}

    @staticmethod
    def _all_on(db: sqlite3.Connection, row_ids: list[str], where: str = "", params: tuple = ()) -> list[dict]:
        """Every annotator's decisions on these rows (decision dicts with their row_id)."""
        out = []
        for chunk in _chunks(row_ids):
            q = (f"SELECT row_id, status, note, tags, by, time, content FROM decisions "
                 f"WHERE row_id IN ({','.join('?' * len(chunk))}) {where}")
            for rid, status, note, tags, by, t, content in db.execute(q, (*chunk, *params)):
                out.append({"row_id": rid, "status": status, "note": note, "tags": _loads(tags), "by": by, "time": t,
                            "content": content})
        return out

    @staticmethod
    def _row(rid: str, d: dict) -> tuple:
        # History written before schema v3 has no "content": such a decision has no hash.
        return (rid, d["status"], d["note"], _dumps(d["tags"]), d["by"], d["time"], d.get("content"))

    @staticmethod
    def _drop_redo(db: sqlite3.Connection, by: str) -> None:
        """A new decision forgets its annotator's undone steps, as in every editor."""
        if db.execute("SELECT 1 FROM steps WHERE by = ? AND undone = 1 LIMIT 1", (by,)).fetchone():
            db.execute("DELETE FROM history WHERE step IN (SELECT step FROM steps WHERE by = ? AND undone = 1)", (by,))
            db.execute("DELETE FROM steps WHERE by = ? AND undone = 1", (by,))

    def undo(self, by: str | None = None) -> list[str]:
        """Undo annotator `by`'s (default: the login name's) latest step; returns the row ids it
        touched. Other annotators' decisions are left as they are."""
        return self._history_step(by, "max", 0, "before")

    def redo(self, by: str | None = None) -> list[str]:
        """Redo the step annotator `by` undid last; returns the row ids it touched."""
        return self._history_step(by, "min", 1, "after")

    def _history_step(self, by: str | None, pick: str, undone: int, side: str) -> list[str]:
        by = by or default_annotator()
        with self._write() as db:
            step = db.execute(f"SELECT {pick}(step) FROM steps WHERE by = ? AND undone = ?", (by, undone)).fetchone()[0]
            if step is None:
                return []
            hist = db.execute(f"SELECT row_id, {side} FROM history WHERE step = ? ORDER BY rowid", (step,)).fetchall()
            for rid, d in hist:
                self._restore(db, rid, _loads(d), by)
            db.execute("UPDATE steps SET undone = ? WHERE step = ?", (1 - undone, step))
            db.execute("UPDATE runs SET status = ? WHERE json_extract(log, '$.undo_step') = ?",
                       ("done" if undone else "undone", step))
            return [rid for rid, _ in hist]

    @staticmethod
    def _restore(db: sqlite3.Connection, rid: str, d: dict | None, by: str) -> None:
        if d is None:
            db.execute("DELETE FROM decisions WHERE row_id = ? AND by = ?", (rid, by))
        else:
            db.execute(_PUT_DECISION, Workspace._row(rid, d))

    # -- decisions whose row changed (used by workbench.store.reconcile) -------------------

    def decision_hashes(self) -> dict[str, str | None]:
        """row_id -> content hash of the row when a person decided it (None when not known:
        decided before schema v3, or not a dataset row)."""
        return dict(self._read("SELECT row_id, content FROM decisions"))

    def follow_content(self, moves: dict[str, str], orphans: Iterable[str], content: dict[str, str]) -> None:
        """In one transaction: move decisions to new row ids (old id -> new id; targets are free
        or moving away too) and set others aside in `orphans`; `content` is the hash each of
        them had when the moves were planned. The undo history is dropped: the ids it names
        now mean other rows, so undoing a step would hit the wrong ones."""
        orphans = list(orphans)
        with self._write() as db:
            # Read inside the transaction: another process may have reconciled meanwhile, and
            # put on an id another decision than the one planned for (a move onto it).
            old = [d for d in self._all_on(db, list(moves) + orphans) if d["content"] == content[d["row_id"]]]
            now = time.time()
            set_aside = set(orphans)
            db.executemany("INSERT INTO orphans VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [(*self._row(d["row_id"], d), now) for d in old if d["row_id"] in set_aside])
            db.executemany("DELETE FROM decisions WHERE row_id = ? AND by = ?", [(d["row_id"], d["by"]) for d in old])
            db.executemany(_PUT_DECISION, [self._row(moves[d["row_id"]], d) for d in old if d["row_id"] in moves])
            db.execute("DELETE FROM history")
            db.execute("DELETE FROM steps")

    def orphans(self) -> list[dict]:
        """Decisions set aside because their row's content is gone from the source, oldest first."""
        rows = self._read("SELECT row_id, status, note, tags, by, time, content, set_aside FROM orphans ORDER BY rowid")
        return [{"row_id": r, "status": s, "note": n, "tags": _loads(t) or [], "by": b, "time": tm,
                 "content": c, "set_aside": sa} for r, s, n, t, b, tm, c, sa in rows]

    def can_undo(self) -> bool:
        return bool(self._read("SELECT 1 FROM steps WHERE undone = 0 LIMIT 1"))

    def can_redo(self) -> bool:
        return bool(self._read("SELECT 1 FROM steps WHERE undone = 1 LIMIT 1"))

    # -- effective decisions ------------------------------------------------------------

    def decision(self, row_id: str) -> dict | None:
        """The effective decision: the people's (derived by the review policy; note, tags, by
        and time of the latest annotator who chose that status) if any, else the latest
        operation proposal."""
        with self._snapshot() as con:
            status = self._derived(con, [row_id]).get(row_id)
            if status is not None:
                votes = self._all_on(con, [row_id])
                d = max((v for v in votes if v["status"] == status), key=lambda v: v["time"], default=votes[-1])
                return {"row_id": row_id, "status": status, "note": d["note"], "tags": d["tags"] or [], "by": d["by"],
                        "time": d["time"]}
            rows = con.execute(
                "SELECT status, reason, run_id, time FROM proposals WHERE row_id = ? ORDER BY run_id DESC LIMIT 1",
                (row_id,),
            ).fetchall()
        if rows:
            status, reason, run_id, t = rows[0]
            return {"row_id": row_id, "status": status, "note": reason, "tags": [], "by": f"op:{run_id}", "time": t}
        return None

    def statuses(self) -> dict[str, str]:
        """row_id -> effective status, for every row anyone has decided or proposed on."""
        return self.review_state()[0]

    def review_state(self) -> tuple[dict[str, str], dict[str, str]]:
        """(row_id -> effective status as `statuses` gives it, row_id -> the people's status
        under the review policy, rows where one counts): one read of the same moment. A row
        counts as reviewed when the people's status is accept or reject; an operation's
        proposal is not a review."""
        with self._snapshot() as con:
            people = self._derived(con)
            out = {rid: s for rid, s in con.execute("SELECT row_id, status FROM proposals ORDER BY run_id")}
        out.update(people)
        return out, people

    def statuses_of(self, row_ids: list[str]) -> dict[str, str]:
        """row_id -> effective status of these rows ("pending" where nobody decided or proposed)."""
        return self.review_state_of(row_ids)[0]

    def review_state_of(self, row_ids: list[str]) -> tuple[dict[str, str], dict[str, str]]:
        """`review_state` of these rows: (effective statuses, "pending" where nobody decided or
        proposed; the people's statuses, where one counts)."""
        with self._snapshot() as con:
            out = dict.fromkeys(row_ids, "pending")
            for chunk in _chunks(row_ids):
                out.update(con.execute(f"SELECT row_id, status FROM proposals WHERE row_id IN "
                                       f"({','.join('?' * len(chunk))}) ORDER BY run_id", chunk))
            people = self._derived(con, row_ids)
        out.update(people)
        return out, people

    def reasons(self) -> dict[str, tuple[str, str]]:
        """row_id -> (effective status, why): "manual" for a person's decision, else the
        name of the operation whose proposal stands."""
        with self._snapshot() as con:
            out = {
                rid: (s, op)
                for rid, s, op in con.execute(
                    "SELECT p.row_id, p.status, r.op FROM proposals p JOIN runs r ON r.id = p.run_id ORDER BY p.run_id"
                )
            }
            out.update((rid, (s, "manual")) for rid, s in self._derived(con).items())
        return out

    # -- queries ------------------------------------------------------------------------

    def query(self, *, status: str | None = None, tag: str | None = None, signal: str | None = None,
              op: str | None = None, value: Any = None, row_ids: Iterable[str] | None = None) -> list[str]:
        """Row ids matching every filter given, e.g.
        `query(status="reject")`, `query(tag="math")`,
        `query(signal="dedup.cluster_size", op=">", value=1)` (the latest value of the signal;
        with no `op`, rows that have the signal at all).
        `row_ids` (the dataset's ids) restricts and orders the result, and makes
        `status="pending"` include rows nobody decided."""
        sets: list[set[str]] = []
        if status is not None:
            if status not in STATUSES:
                raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
            st = self.statuses()
            if status == "pending" and row_ids is not None:
                row_ids = list(row_ids)
                sets.append({r for r in row_ids if st.get(r, "pending") == "pending"})
            else:
                sets.append({r for r, s in st.items() if s == status})
        if tag is not None:
            rows = self._read("SELECT d.row_id FROM decisions d, json_each(d.tags) t WHERE t.value = ?", (tag,))
            sets.append({r for (r,) in rows})
        if signal is not None:
            vals = self.signal_values(signal)
            if op is None:
                sets.append(set(vals))
            else:
                if op not in _COMPARE:
                    raise ValueError(f"op must be one of {' '.join(_COMPARE)}, not {op!r}")
                cmp = _COMPARE[op]
                hit = set()
                for r, v in vals.items():
                    try:
                        if cmp(v, value):
                            hit.add(r)
                    except TypeError:  # None or a value of another type: not a match
                        pass
                sets.append(hit)
        elif op is not None:
            raise ValueError("op/value need a signal name")
        if row_ids is not None:
            keep = set.intersection(*sets) if sets else None
            return [r for r in row_ids if keep is None or r in keep]
        if not sets:
            raise ValueError("query needs at least one of status, tag, signal or row_ids")
        return sorted(set.intersection(*sets))

    # -- operation runs, signals and proposals -------------------------------------------

    def start_run(self, op: str, params: dict | None = None, *, job_key: str | None = None) -> int:
        with self._write() as db:
            run_id = db.execute(
                "INSERT INTO runs (op, params, started, status, job_key) VALUES (?, ?, ?, 'running', ?)",
                (op, _dumps(params or {}), time.time(), job_key),
            ).lastrowid
            if self.stamp is not None:
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"run_stamp.{run_id}", _dumps(self.stamp)))
            self._own(db, run_id)
            return run_id

    @staticmethod
    def _own(db: sqlite3.Connection, run_id: int) -> None:
        """Record this process as the run's owner: `runs` tells a killed run from a live one."""
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                   (f"run_owner.{run_id}", _dumps([socket.gethostname(), os.getpid()])))

    def withdraw_stale(self, stamp: list) -> int:
        """Withdraw the proposals of runs that recorded a source stamp other than `stamp`;
        returns how many. Only the runs' stamps are read when none differs (proposals have no
        index by run: counting them all took 0.4 s per million on every open). A finished
        run's stamp goes with its proposals, so that it is not looked at again."""
        want = _dumps(stamp)
        runs_stamps = "SELECT key, value FROM meta WHERE key >= 'run_stamp.' AND key < 'run_stamp/'"
        if all(value == want for _, value in self._read(runs_stamps)):
            return 0  # the usual case, without taking the write lock
        n = 0
        with self._write() as db:
            stale = [int(key.removeprefix("run_stamp.")) for key, value in db.execute(runs_stamps) if value != want]
            for run_id in stale:
                n += db.execute("DELETE FROM proposals WHERE run_id = ?", (run_id,)).rowcount
                db.execute("DELETE FROM meta WHERE key = ? AND EXISTS "
                           "(SELECT 1 FROM runs WHERE id = ? AND status != 'running')", (f"run_stamp.{run_id}", run_id))
        return n

    def save_run(self, op: str, params: dict, *, signals: Iterable[tuple[str, str, Any]] = (),
                 rejects: dict[str, str] | None = None, counts: dict | None = None, status: str = "done",
                 run_id: int | None = None, log: dict | None = None) -> int:
        """An operation's whole result as one run, in ONE transaction: the run (new, or the
        job run `run_id` that holds its checkpoints), the withdrawal of the proposals of
        earlier runs of `op`, the signals, the proposed rejections (row id -> reason) and the
        run's log. Killed at any point, the workspace holds either all of it or none of it
        (the earlier runs' proposals intact). `signals` may be an iterator: it is read once, row
        by row as it is inserted. Returns the run id."""
        now = time.time()
        with self._write() as db:
            if run_id is None:
                run_id = db.execute(
                    "INSERT INTO runs (op, params, started, status) VALUES (?, ?, ?, 'running')",
                    (op, _dumps(params or {}), now)).lastrowid
                self._own(db, run_id)
            if self.stamp is not None:
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"run_stamp.{run_id}", _dumps(self.stamp)))
            db.execute("DELETE FROM proposals WHERE run_id IN (SELECT id FROM runs WHERE op = ? AND id != ?)",
                       (op, run_id))
            db.executemany("INSERT OR REPLACE INTO signals VALUES (?, ?, ?, ?)",
                           ((run_id, rid, name, _dumps(v)) for rid, name, v in signals))
            db.executemany("INSERT OR REPLACE INTO proposals VALUES (?, ?, ?, ?, ?)",
                           ((rid, run_id, "reject", reason, now) for rid, reason in (rejects or {}).items()))
            db.execute("UPDATE runs SET status = ?, finished = ?, counts = ?, log = ? WHERE id = ?",
                       (status, time.time(), _dumps(counts or {}), _dumps({**(log or {}), "stamp": self.stamp}),
                        run_id))
        return run_id

    def run_log(self, *, status: str = "done") -> list[dict]:
        """Every run that was saved with a log (operations run from the CLI, the TUI or a
        recipe), oldest first: {id, op, params, status, started, log}."""
        rows = self._read("SELECT id, op, params, status, started, log FROM runs WHERE log IS NOT NULL "
                          "AND status = ? ORDER BY id", (status,))
        return [{"id": i, "op": op, "params": _loads(p), "status": s, "started": t, "log": _loads(lg)}
                for i, op, p, s, t, lg in rows]

    def find_logged_run(self, fingerprint: str, inputs: str) -> int | None:
        """The latest finished run logged with this fingerprint and inputs stamp, if any
        (a recipe step that already ran on these inputs with these parameters)."""
        rows = self._read("SELECT id FROM runs WHERE status = 'done' AND log IS NOT NULL "
                          "AND json_extract(log, '$.fingerprint') = ? AND json_extract(log, '$.inputs') = ? "
                          "ORDER BY id DESC LIMIT 1", (fingerprint, inputs))
        return rows[0][0] if rows else None

    def finish_run(self, run_id: int, status: str, counts: dict | None = None) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE runs SET status = ?, finished = ?, counts = ? WHERE id = ?",
                (status, time.time(), _dumps(counts or {}), run_id),
            )

    def cancel_own_runs(self, reason: str) -> list[str]:
        """Mark the runs this process started and that still run as cancelled, with `reason`
        (a process quitting without waiting for them); returns their operations' names."""
        me = _dumps([socket.gethostname(), os.getpid()])
        with self._write() as db:
            runs = db.execute("SELECT r.id, r.op FROM runs r JOIN meta m ON m.key = 'run_owner.' || r.id "
                              "WHERE r.status = 'running' AND m.value = ?", (me,)).fetchall()
            db.executemany("UPDATE runs SET status = 'cancelled', finished = ?, counts = ? WHERE id = ?",
                           [(time.time(), _dumps({"error": reason}), run_id) for run_id, _ in runs])
        return [op for _, op in runs]

    def run(self, run_id: int) -> dict | None:
        rows = self._read("SELECT id, op, params, started, finished, status, counts, job_key, log FROM runs WHERE id = ?", (run_id,))
        return self._run_dict(rows[0]) if rows else None

    def runs(self, limit: int = 20) -> list[dict]:
        """The latest runs, newest first."""
        rows = self._read(
            "SELECT id, op, params, started, finished, status, counts, job_key, log FROM runs ORDER BY id DESC LIMIT ?", (limit,)
        )
        runs = [self._run_dict(r) for r in rows]
        for run in runs:
            # A run still "running" whose process is gone was killed: say so instead of running forever.
            if run["status"] == "running" and not _owner_alive(self.get_meta(f"run_owner.{run['id']}")):
                run["status"] = "interrupted"
        return runs

    @staticmethod
    def _run_dict(r: tuple) -> dict:
        return {"id": r[0], "op": r[1], "params": _loads(r[2]), "started": r[3], "finished": r[4],
                "status": r[5], "counts": _loads(r[6]) or {}, "job_key": r[7], "log": _loads(r[8])}

    def add_signals(self, run_id: int, rows: Iterable[tuple[str, str, Any]]) -> int:
        """Store (row_id, name, value) signals of a run in one transaction; returns how many."""
        data = [(run_id, rid, name, _dumps(v)) for rid, name, v in rows]
        with self._write() as db:
            db.executemany("INSERT OR REPLACE INTO signals VALUES (?, ?, ?, ?)", data)
        return len(data)

    def signals(self, row_id: str, latest: bool = False) -> list[dict]:
        """The signals runs wrote on row `row_id`: [{"run_id", "op", "name", "value"}], oldest run
        first. `latest`: only each signal's current value (the latest run that wrote that name on
        the row, as signal_values and the filters read it), by operation then name."""
        sql = "SELECT s.run_id, r.op, s.name, s.value FROM signals s JOIN runs r ON r.id = s.run_id WHERE s.row_id = ?"
        if latest:
            sql += (" AND s.run_id = (SELECT MAX(run_id) FROM signals l WHERE l.row_id = s.row_id AND l.name = s.name)"
                    " ORDER BY r.op, s.name")
        else:
            sql += " ORDER BY s.run_id, s.name"
        rows = self._read(sql, (row_id,))
        return [{"run_id": run, "op": op, "name": name, "value": _loads(v)} for run, op, name, v in rows]

    def signal_names(self) -> list[str]:
        return [n for (n,) in self._read("SELECT DISTINCT name FROM signals ORDER BY name")]

    def run_signal_values(self, run_id: int, name: str) -> dict[str, Any]:
        """row_id -> value of signal `name` as run `run_id` wrote it (that run's rows only)."""
        rows = self._read("SELECT row_id, value FROM signals WHERE run_id = ? AND name = ?", (run_id, name))
        return {rid: _loads(v) for rid, v in rows}

    def signal_values(self, name: str, op: str | None = None) -> dict[str, Any]:
        """row_id -> value of signal `name` from the latest run (of operation `op`, if given) that wrote it."""
        sql = "SELECT s.row_id, s.value FROM signals s"
        params: list = [name]
        if op is not None:
            sql += " JOIN runs r ON r.id = s.run_id WHERE s.name = ? AND r.op = ?"
            params.append(op)
        else:
            sql += " WHERE s.name = ?"
        out = {}
        for rid, v in self._read(sql + " ORDER BY s.run_id", params):
            out[rid] = _loads(v)
        return out

    def propose(self, run_id: int, row_ids: Iterable[str], status: str = "reject", reason: str = "") -> int:
        """An operation run's proposed decision on rows. It never overrides a person's decision;
        among proposals the latest run's stands. Returns how many rows."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        now = time.time()
        data = [(rid, run_id, status, reason, now) for rid in dict.fromkeys(row_ids)]
        with self._write() as db:
            db.executemany("INSERT OR REPLACE INTO proposals VALUES (?, ?, ?, ?, ?)", data)
        return len(data)

    def withdraw(self, run_id: int) -> None:
        """Drop a run's proposals (e.g. when its operation is re-run with other settings)."""
        with self._write() as db:
            db.execute("DELETE FROM proposals WHERE run_id = ?", (run_id,))

    # -- job checkpoints (used by workbench.store.jobs) ----------------------------------

    def find_unfinished_job(self, job_key: str) -> int | None:
        rows = self._read(
            "SELECT id FROM runs WHERE job_key = ? AND status != 'done' ORDER BY id DESC LIMIT 1",
            (job_key,),
        )
        return rows[0][0] if rows else None

    def reopen_run(self, run_id: int) -> None:
        with self._write() as db:
            db.execute("UPDATE runs SET status = 'running', finished = NULL WHERE id = ?", (run_id,))
            self._own(db, run_id)

    def job_done_rows(self, run_id: int) -> dict[str, Any]:
        """row_id -> stored result of the rows a job already finished successfully."""
        return {rid: _loads(res) for rid, res in self._read(
            "SELECT row_id, result FROM job_rows WHERE run_id = ? AND ok = 1", (run_id,))}

    def job_errors(self, run_id: int) -> dict[str, str]:
        return dict(self._read("SELECT row_id, error FROM job_rows WHERE run_id = ? AND ok = 0", (run_id,)))

    def checkpoint(self, run_id: int, row_id: str, *, result: Any = None, error: str | None = None) -> None:
        """Record one row of a job as finished (or failed, with its error)."""
        self.checkpoint_many(run_id, [(row_id, None if error is not None else _dumps(result), error)])

    def checkpoint_many(self, run_id: int, rows: Iterable[tuple[str, str | None, str | None]]) -> None:
        """Record job rows in one transaction: (row_id, result already JSON-encoded, error or None)."""
        now = time.time()
        data = [(run_id, rid, int(err is None), res if err is None else None, err, now) for rid, res, err in rows]
        with self._write() as db:
            db.executemany("INSERT OR REPLACE INTO job_rows VALUES (?, ?, ?, ?, ?, ?)", data)

    # -- LLM response cache -------------------------------------------------------------

    def cache_get(self, key: str) -> dict | None:
        rows = self._read("SELECT value FROM llm_cache WHERE key = ?", (key,))
        return _loads(rows[0][0]) if rows else None

    def cache_put(self, key: str, value: dict) -> None:
        self.cache_put_many([(key, value)])

    def cache_put_many(self, items: Iterable[tuple[str, dict]]) -> None:
        """Store several (key, value) replies in one transaction."""
        now = time.time()
        with self._write() as db:
            db.executemany("INSERT OR REPLACE INTO llm_cache VALUES (?, ?, ?)",
                           [(key, _dumps(value), now) for key, value in items])
