"""The database schema as an append-only list of migrations.

Never edit a migration that has shipped: append a new one. `PRAGMA
user_version` records how many have been applied.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema.
    """
    CREATE TABLE project (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        brief TEXT NOT NULL DEFAULT '',
        involvement INTEGER NOT NULL DEFAULT 2,
        status TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE agent (
        name TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        note TEXT NOT NULL DEFAULT '',
        updated_at REAL NOT NULL
    );
    CREATE TABLE task (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES project(id),
        key TEXT NOT NULL DEFAULT '',
        phase TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL,
        instructions TEXT NOT NULL DEFAULT '',
        category TEXT NOT NULL DEFAULT 'code',
        priority INTEGER NOT NULL DEFAULT 2,
        status TEXT NOT NULL,
        assigned_to TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_expires_at REAL,
        result TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX task_by_status ON task (project_id, status, priority, id);
    CREATE TABLE task_dependency (
        task_id INTEGER NOT NULL REFERENCES task(id),
        depends_on INTEGER NOT NULL REFERENCES task(id),
        PRIMARY KEY (task_id, depends_on)
    ) WITHOUT ROWID;
    CREATE TABLE decision (
        id INTEGER PRIMARY KEY,
        project_id INTEGER REFERENCES project(id),
        question TEXT NOT NULL,
        options TEXT NOT NULL,
        method TEXT NOT NULL,
        rules TEXT NOT NULL DEFAULT '{}',
        voters TEXT NOT NULL DEFAULT '[]',
        max_rounds INTEGER NOT NULL DEFAULT 5,
        category TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        current_round INTEGER NOT NULL DEFAULT 0,
        outcome TEXT,
        created_at REAL NOT NULL,
        decided_at REAL
    );
    CREATE TABLE ballot (
        decision_id INTEGER NOT NULL REFERENCES decision(id),
        round INTEGER NOT NULL,
        voter TEXT NOT NULL,
        ranking TEXT NOT NULL,
        confidence REAL NOT NULL DEFAULT 0,
        reasoning TEXT NOT NULL DEFAULT '',
        abstain_reason TEXT NOT NULL DEFAULT '',
        cast_at REAL NOT NULL,
        PRIMARY KEY (decision_id, round, voter)
    ) WITHOUT ROWID;
    CREATE TABLE inbox (
        id INTEGER PRIMARY KEY,
        project_id INTEGER REFERENCES project(id),
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL,
        answer TEXT,
        created_at REAL NOT NULL,
        answered_at REAL
    );
    CREATE INDEX inbox_open ON inbox (status, id);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        project_id INTEGER,
        actor TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        summary TEXT NOT NULL DEFAULT '',
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_by_actor_kind ON audit (actor, kind, id);
    CREATE INDEX audit_by_project ON audit (project_id, id);
    CREATE TABLE call (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        model TEXT NOT NULL,
        purpose TEXT NOT NULL DEFAULT '',
        started_at REAL NOT NULL,
        latency_ms REAL NOT NULL,
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        cost REAL NOT NULL DEFAULT 0,
        error_class TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX call_by_agent ON call (agent, id);
    """,
    # 2: committee rounds, option authors, feedback between rounds, calls tied to their work.
    """
    ALTER TABLE decision ADD COLUMN authors TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE decision ADD COLUMN resolution TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE ballot ADD COLUMN excluded TEXT NOT NULL DEFAULT '[]';
    CREATE TABLE decision_round (
        decision_id INTEGER NOT NULL REFERENCES decision(id),
        round INTEGER NOT NULL,
        options TEXT NOT NULL,
        status TEXT NOT NULL,
        tally TEXT,
        estimate REAL NOT NULL DEFAULT 0,
        note TEXT NOT NULL DEFAULT '',
        started_at REAL NOT NULL,
        closed_at REAL,
        PRIMARY KEY (decision_id, round)
    ) WITHOUT ROWID;
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        decision_id INTEGER NOT NULL REFERENCES decision(id),
        round INTEGER NOT NULL,
        text TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX feedback_by_decision ON feedback (decision_id, round);
    ALTER TABLE call ADD COLUMN decision_id INTEGER;
    ALTER TABLE call ADD COLUMN task_id INTEGER;
    CREATE INDEX call_by_decision ON call (decision_id);
    """,
    # 3: the planning wizard's state, one row per project, stored after every step.
    """
    CREATE TABLE plan_session (
        project_id INTEGER PRIMARY KEY REFERENCES project(id),
        step TEXT NOT NULL,
        brief TEXT NOT NULL,
        proposals TEXT NOT NULL DEFAULT '[]',
        decision_id INTEGER REFERENCES decision(id),
        plan TEXT,
        changes TEXT NOT NULL DEFAULT '[]',
        feedback TEXT NOT NULL DEFAULT '[]',
        updated_at REAL NOT NULL
    );
    ALTER TABLE task ADD COLUMN acceptance TEXT NOT NULL DEFAULT '[]';
    """,
    # 4: calls tied to their project too, for what planning and a project cost.
    """
    ALTER TABLE call ADD COLUMN project_id INTEGER;
    CREATE INDEX call_by_project ON call (project_id, agent);
    """,
    # 5: carrying out the plan: assignment, attempts, reviews, artifacts, workspace and budget.
    """
    ALTER TABLE task ADD COLUMN pinned_agent TEXT;
    ALTER TABLE task ADD COLUMN rationale TEXT NOT NULL DEFAULT '';
    ALTER TABLE task ADD COLUMN note TEXT NOT NULL DEFAULT '';
    ALTER TABLE task ADD COLUMN artifact TEXT;
    ALTER TABLE task ADD COLUMN review_rounds INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX task_by_lease ON task (lease_expires_at) WHERE lease_owner IS NOT NULL;
    ALTER TABLE project ADD COLUMN workspace TEXT;
    ALTER TABLE project ADD COLUMN budget REAL;
    CREATE TABLE task_attempt (
        id INTEGER PRIMARY KEY,
        task_id INTEGER NOT NULL REFERENCES task(id),
        number INTEGER NOT NULL,
        agent TEXT NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        outcome TEXT NOT NULL DEFAULT 'running',
        error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX attempt_by_task ON task_attempt (task_id, number);
    CREATE TABLE task_review (
        id INTEGER PRIMARY KEY,
        task_id INTEGER NOT NULL REFERENCES task(id),
        attempt INTEGER NOT NULL,
        reviewer TEXT NOT NULL,
        verdict TEXT NOT NULL,
        comments TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL
    );
    CREATE INDEX review_by_task ON task_review (task_id, attempt);
    CREATE INDEX call_by_task ON call (task_id) WHERE task_id IS NOT NULL;
    CREATE INDEX dependency_by_prerequisite ON task_dependency (depends_on, task_id);
    """,
    # 6: searching the audit log: a full-text index kept in step by triggers, and filter indexes.
    # The index holds no text of its own (external content): it reads the audit rows.
    """
    CREATE VIRTUAL TABLE audit_text USING fts5(
        actor, kind, subject, summary, data,
        content = 'audit', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER audit_text_insert AFTER INSERT ON audit BEGIN
        INSERT INTO audit_text (rowid, actor, kind, subject, summary, data)
        VALUES (new.id, new.actor, new.kind, new.subject, new.summary, new.data);
    END;
    CREATE TRIGGER audit_text_delete AFTER DELETE ON audit BEGIN
        INSERT INTO audit_text (audit_text, rowid, actor, kind, subject, summary, data)
        VALUES ('delete', old.id, old.actor, old.kind, old.subject, old.summary, old.data);
    END;
    CREATE TRIGGER audit_text_update AFTER UPDATE ON audit BEGIN
        INSERT INTO audit_text (audit_text, rowid, actor, kind, subject, summary, data)
        VALUES ('delete', old.id, old.actor, old.kind, old.subject, old.summary, old.data);
        INSERT INTO audit_text (rowid, actor, kind, subject, summary, data)
        VALUES (new.id, new.actor, new.kind, new.subject, new.summary, new.data);
    END;
    INSERT INTO audit_text (audit_text) VALUES ('rebuild');
    CREATE INDEX audit_by_actor ON audit (actor, id);
    CREATE INDEX audit_by_kind ON audit (kind, id);
    CREATE INDEX audit_by_ts ON audit (ts, id);
    """,
    # 7: a call is written before its request goes out (state 'started', with an estimated cost and
    # the process making it) and completed after, so a killed process leaves its calls recorded.
    """
    ALTER TABLE call ADD COLUMN state TEXT NOT NULL DEFAULT 'complete';
    ALTER TABLE call ADD COLUMN owner TEXT;
    """,
    # 8: how each call asked for its structured answer: schema, json or prompt ('' for free text).
    """
    ALTER TABLE call ADD COLUMN output_mode TEXT NOT NULL DEFAULT '';
    """,
    # 9: the raw text of a refused answer, kept with its call (redacted, capped): see engine.raw_answers.
    # A table of its own, so that the call rows every health summary reads stay narrow.
    """
    CREATE TABLE call_answer (
        call_id INTEGER PRIMARY KEY REFERENCES call(id),
        agent TEXT NOT NULL,
        problem TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL,
        length INTEGER NOT NULL,
        round INTEGER
    );
    CREATE INDEX call_answer_by_agent ON call_answer (agent, call_id);
    """,
    # 10: the work lands in a git repository (engine.repo.changes writes these three tables).
    # A project's linked repository; each task's branch, commit and merge; every gate run.
    """
    CREATE TABLE repository (
        project_id INTEGER PRIMARY KEY REFERENCES project(id),
        path TEXT NOT NULL,
        base TEXT NOT NULL,
        branch TEXT NOT NULL,
        worktree TEXT NOT NULL,
        linked_at REAL NOT NULL
    );
    CREATE TABLE task_change (
        task_id INTEGER PRIMARY KEY REFERENCES task(id),
        branch TEXT NOT NULL,
        worktree TEXT,
        base_commit TEXT,
        commit_sha TEXT,
        merged_commit TEXT,
        state TEXT NOT NULL,
        files TEXT NOT NULL DEFAULT '[]',
        reruns INTEGER NOT NULL DEFAULT 0,
        note TEXT NOT NULL DEFAULT '',
        updated_at REAL NOT NULL
    );
    CREATE TABLE gate_run (
        id INTEGER PRIMARY KEY,
        task_id INTEGER NOT NULL REFERENCES task(id),
        attempt INTEGER NOT NULL,
        stage TEXT NOT NULL,
        command TEXT NOT NULL,
        exit_code INTEGER,
        duration_s REAL NOT NULL,
        output TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX gate_run_by_task ON gate_run (task_id, id);
    """,
    # 11: contests, several agents doing one task and the committee choosing the best entry
    # (engine.execution.contests writes contest and contest_entry); each option's detail text
    # for the voters (engine.voting.decisions writes decision_option).
    """
    CREATE TABLE contest (
        task_id INTEGER PRIMARY KEY REFERENCES task(id),
        agents INTEGER NOT NULL,
        source TEXT NOT NULL,
        state TEXT NOT NULL,
        decision_id INTEGER REFERENCES decision(id),
        winner TEXT,
        note TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE contest_entry (
        task_id INTEGER NOT NULL REFERENCES task(id),
        letter TEXT NOT NULL,
        agent TEXT NOT NULL,
        state TEXT NOT NULL,
        branch TEXT,
        worktree TEXT,
        base_commit TEXT,
        commit_sha TEXT,
        files TEXT NOT NULL DEFAULT '[]',
        added INTEGER NOT NULL DEFAULT 0,
        removed INTEGER NOT NULL DEFAULT 0,
        cost REAL NOT NULL DEFAULT 0,
        result TEXT NOT NULL DEFAULT '',
        artifact TEXT,
        gates TEXT NOT NULL DEFAULT '[]',
        note TEXT NOT NULL DEFAULT '',
        started_at REAL NOT NULL,
        finished_at REAL,
        PRIMARY KEY (task_id, letter)
    ) WITHOUT ROWID;
    CREATE TABLE decision_option (
        decision_id INTEGER NOT NULL REFERENCES decision(id),
        option TEXT NOT NULL,
        detail TEXT NOT NULL,
        PRIMARY KEY (decision_id, option)
    ) WITHOUT ROWID;
    """,
    # 12: which process runs a decision's vote (a lease owner's name), so that two never run it at once.
    """
    ALTER TABLE decision ADD COLUMN runner TEXT;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
