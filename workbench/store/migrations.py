"""The workspace schema, as an ordered list of migrations.

`MIGRATIONS[i]` takes a workspace from version i to version i + 1. A workspace records its
version in `schema_version`; opening an older file applies the missing steps in one
transaction, and opening a file written by a newer Workbench is refused rather than guessed at.
Never edit a released step: append a new one.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: decisions with undo history, operation proposals, runs and signals.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
    -- A person's current decision per row (absent = never decided by a person).
    CREATE TABLE decisions (
        row_id TEXT PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('accept', 'reject', 'pending')),
        note TEXT,
        tags TEXT,            -- JSON list
        by TEXT NOT NULL,
        time REAL NOT NULL
    );
    -- Undo history: one step per decide()/decide_many(); undone steps form a suffix.
    CREATE TABLE steps (
        step INTEGER PRIMARY KEY AUTOINCREMENT,
        time REAL NOT NULL,
        undone INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX steps_undone ON steps (undone, step);
    CREATE TABLE history (
        step INTEGER NOT NULL,
        row_id TEXT NOT NULL,
        before TEXT,          -- JSON of the decision row before the step, NULL if none
        after TEXT NOT NULL   -- JSON of the decision row after the step
    );
    CREATE INDEX history_step ON history (step);
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        op TEXT NOT NULL,
        params TEXT NOT NULL, -- JSON
        started REAL NOT NULL,
        finished REAL,
        status TEXT NOT NULL,
        counts TEXT           -- JSON
    );
    -- An operation's proposed decision: kept apart so that a person's decision always wins.
    CREATE TABLE proposals (
        row_id TEXT NOT NULL,
        run_id INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('accept', 'reject', 'pending')),
        reason TEXT,
        time REAL NOT NULL,
        PRIMARY KEY (row_id, run_id)
    );
    CREATE TABLE signals (
        run_id INTEGER NOT NULL,
        row_id TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT,           -- JSON
        PRIMARY KEY (run_id, row_id, name)
    );
    CREATE INDEX signals_row ON signals (row_id);
    CREATE INDEX signals_name ON signals (name, run_id);
    """,
    # 2: job checkpoints (resumable jobs are found by name + parameters) and the LLM cache.
    """
    ALTER TABLE runs ADD COLUMN job_key TEXT;
    CREATE INDEX runs_job_key ON runs (job_key, id);
    CREATE TABLE job_rows (
        run_id INTEGER NOT NULL,
        row_id TEXT NOT NULL,
        ok INTEGER NOT NULL,  -- 1 = result stored, 0 = failed with error
        result TEXT,          -- JSON
        error TEXT,
        time REAL NOT NULL,
        PRIMARY KEY (run_id, row_id)
    );
    CREATE TABLE llm_cache (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,  -- JSON: response text, usage (tokens), cost, ...
        time REAL NOT NULL
    );
    """,
    # 3: decisions remember the content of the row they were made on, so that they follow it
    # when the source is edited (workbench.store.reconcile); those whose content is gone are
    # set aside in `orphans`, never applied and never deleted.
    """
    ALTER TABLE decisions ADD COLUMN content TEXT;  -- short content hash; NULL before v3 or for non-rows
    CREATE TABLE orphans (
        row_id TEXT NOT NULL,  -- the id the decision was on
        status TEXT NOT NULL,
        note TEXT,
        tags TEXT,
        by TEXT NOT NULL,
        time REAL NOT NULL,
        content TEXT NOT NULL,
        set_aside REAL NOT NULL
    );
    """,
    # 4: the log of a run that recipes are written from: the selection it ran on, the
    # operation's fingerprint (name, version, parameters), the input's stamp, token usage.
    """
    ALTER TABLE runs ADD COLUMN log TEXT;  -- JSON; NULL for runs before v4 and for job-less internals
    """,
    # 5: annotators. A row holds one decision per annotator (`by`); the dataset's decision is
    # derived from them by the review policy (workbench.store.review). Each undo step belongs
    # to the annotator who made it. Assignments give annotators their queues. The decisions
    # of the one anonymous decider ("user") become the login name's (ANONYMOUS_TO_LOGIN).
    """
    CREATE TABLE decisions_v5 (
        row_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('accept', 'reject', 'pending')),
        note TEXT,
        tags TEXT,            -- JSON list
        by TEXT NOT NULL,     -- the annotator
        time REAL NOT NULL,
        content TEXT,
        PRIMARY KEY (row_id, by)
    );
    INSERT INTO decisions_v5 SELECT row_id, status, note, tags, by, time, content FROM decisions;
    DROP TABLE decisions;
    ALTER TABLE decisions_v5 RENAME TO decisions;
    ALTER TABLE steps ADD COLUMN by TEXT;
    UPDATE steps SET by = (SELECT json_extract(h.after, '$.by') FROM history h WHERE h.step = steps.step LIMIT 1);
    CREATE INDEX steps_by ON steps (by, undone, step);
    CREATE TABLE assignments (
        row_id TEXT NOT NULL,
        annotator TEXT NOT NULL,
        PRIMARY KEY (row_id, annotator)
    );
    CREATE INDEX assignments_annotator ON assignments (annotator);
    """,
]

# Before v5 every decision a person made was recorded as by "user"; from v5 on they are the
# default annotator's (the login name). Run with the login name after the SQL of step 5.
ANONYMOUS_TO_LOGIN = [
    "UPDATE decisions SET by = :login WHERE by = 'user'",
    "UPDATE orphans SET by = :login WHERE by = 'user'",
    "UPDATE steps SET by = :login WHERE by = 'user' OR by IS NULL",
    "UPDATE history SET before = json_set(before, '$.by', :login) WHERE json_extract(before, '$.by') = 'user'",
    "UPDATE history SET after = json_set(after, '$.by', :login) WHERE json_extract(after, '$.by') = 'user'",
]

VERSION = len(MIGRATIONS)
