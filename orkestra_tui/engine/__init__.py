"""The engine: everything Orkestra does, with no screen and no command line.

It is grouped by domain. Each group is the only writer of its own tables, and the
`Engine` (engine.py) only builds the groups' parts and hands them out; screens and
commands use the Engine's public face (`reads.py` and `face.py`), never a group's internals.
The committee, the planner and the scheduler take the parts they use, never the Engine.

    engine.py            the Engine: builds the parts (store, bus, inbox, pool, desks) and closes them
    reads.py face.py     its public face: the reads, and each change passed on to the part that owns it
    repository_face.py   the public face for linked repositories: link, changes, diffs, landing
    models.py events.py  the domain (plain dataclasses and enums) and the event bus
    inbox.py clock.py    questions to the human as durable futures; time, injectable
    errors.py progress.py  requests the engine refuses; a project's progress, counted once
    owners.py            which process owns a lease, a call or a plan run, and whether it is dead
    supervisor.py        what the app and `orkestra run` share: recovery, what to resume, the scheduler's life

    store/      SQLite: the store, schema migrations, rows, integrity, snapshots, audit search/export
    agents/     the agent pool (pool.py), the only way to call an agent: one call, circuit breaker,
                retry, health, the call log, prompts, answers
    voting/     the committee and its decisions, opened and answered at the desk (desk.py); the only
                writer of decision, round and ballot rows (decisions.py);
                their views and records, methods, mediation, and consensus/ (the tallies)
    planning/   from a brief to an approved task graph: planning, the graph, the plan's guard;
                projects.py, the only writer of project rows
    execution/  carrying out the plan: the scheduler; tasks.py, the only writer of task.status;
                the human's task controls (controls.py); leases, selection, review, checks,
                recovery, and a task's steps in a repository (repo_steps.py); contest/, a task
                done by several agents at once and decided by a vote (the only writer of contest rows)
    repo/       where the work lands: the workspace folder, and git (git.py, the only module that runs
                it): worktrees, edits, gates, commits, the merge queue; the only writer of the
                repository, task_change and gate_run tables

The layers are contracts in pyproject.toml (`lint-imports`): the engine never imports
Textual, Rich, the TUI, the commands or the benchmarks, and uses the providers below it;
inside it, the groups run one way (models, clock, errors, events, owners <- store <- inbox <-
agents <- voting <- planning <- repo <- execution <- reads, face <- engine).
"""
