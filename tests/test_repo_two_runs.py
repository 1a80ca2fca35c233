"""Two `orkestra run` processes at once on one repository project: every task merges exactly once."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections import Counter
from pathlib import Path

from repos import assert_fsck_clean, git, make_repository
from test_crash_safety import start_run
from test_repo_crash import CONFIG, GATES, plan_in_repository

RUN_TIMEOUT_S = 180.0


def test_two_runs_side_by_side_share_the_merge_queue(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    repository = make_repository(tmp_path / "repository", {"README.md": "# App\n", ".orkestra.toml": GATES})
    branch = asyncio.run(plan_in_repository(home, repository))

    runs = [start_run(home, tmp_path / f"run-{number}.log") for number in (1, 2)]
    statuses = [run.wait(timeout=RUN_TIMEOUT_S) for run in runs]
    logs = "\n".join((tmp_path / f"run-{number}.log").read_text(errors="replace") for number in (1, 2))
    assert statuses == [0, 0], logs

    with sqlite3.connect(home / "data" / "orkestra.db") as reader:
        task_statuses = dict(reader.execute("SELECT id, status FROM task"))
        changed = {
            task for task, files in reader.execute("SELECT task_id, files FROM task_change") if files != "[]"
        }
    reader.close()
    assert set(task_statuses.values()) == {"done"}
    merges = Counter(
        int(found)
        for found in re.findall(
            r"Orkestra-Task: (\d+)", git(repository, "log", "--merges", "--format=%B", branch)
        )
    )
    assert set(merges) == changed and set(merges.values()) == {1}
    listed = git(repository, "worktree", "list", "--porcelain")
    assert len([line for line in listed.splitlines() if line.startswith("worktree ")]) == 2
    assert_fsck_clean(repository)
    # Both runs did some of the work: neither simply found everything done.
    for number in (1, 2):
        log = (tmp_path / f"run-{number}.log").read_text(errors="replace")
        report = json.loads(log[log.index("{\n") :])
        assert report["run"]["done"] + report["run"]["approved"] > 0, log
