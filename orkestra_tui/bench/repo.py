"""Tasks landing in a git repository, next to the same git commands run back to back by a shell script.

A project of N tasks (200; quick: 20) is linked to a fresh repository whose `.orkestra.toml`
has one trivial gate (`true`). `Scheduler.run` carries every task through its worktree, the
simulated agent's change (zero latency), the commit, the gate, and the merge queue (the
conflict check, the merge on a detached head, the gate again on the merged result, the
branch moved), then removes the worktree and branch. No reviewer: this measures the
repository work, not the committee. Some simulated changes touch one shared file, so a few
tasks conflict and run again on a fresh worktree (one that conflicts again is approved, and
runs once more, as `orkestra run --on-review approve` would); the baseline does as many cycles.

The baseline is a plain bash script that runs, for each cycle, the git commands such a
cycle needs and nothing else: `worktree add`, write the file, `add`, `commit`, the gate,
`merge-tree --write-tree`, `checkout --detach`, `merge --no-ff`, the gate, `update-ref`,
`checkout`, `worktree remove`, `branch -D`. It is timed the same way, end to end.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from orkestra_tui.config import EngineSettings, Settings, SimulationSettings, resolve_paths
from orkestra_tui.engine.repo.git import git_environment

DEFAULT_TASKS = 200
QUICK_TASKS = 20
GATE = "true"
MAX_APPROVAL_ROUNDS = 5


def describe(*, quick: bool = False) -> str:
    count = QUICK_TASKS if quick else DEFAULT_TASKS
    return f"{count} tasks through worktree, change, gate, commit and merge, vs the git commands in a script"


DESCRIPTION = describe()


def run(*, quick: bool = False) -> dict[str, float | int]:
    count = QUICK_TASKS if quick else DEFAULT_TASKS
    with tempfile.TemporaryDirectory(prefix="orkestra-bench-") as folder:
        seconds, merged, cycles = asyncio.run(_orkestra_run(Path(folder) / "orkestra", count))
        if merged != count:
            raise RuntimeError(f"{merged} of {count} tasks were merged")
        script_seconds = _script_run(Path(folder) / "script", cycles)
    return {
        "tasks": count,
        "cycles": cycles,
        "orkestra_s": round(seconds, 2),
        "script_s": round(script_seconds, 2),
        "ms_per_task": round(seconds * 1000 / count, 1),
        "ratio": round(seconds / script_seconds, 3),
    }


def _new_repository(folder: Path) -> Path:
    folder.mkdir(parents=True)
    script = (
        "set -e\n"
        "git init --quiet --initial-branch=main\n"
        "printf '# Bench\\n' > README.md\n"
        f"printf 'gates = [\"{GATE}\"]\\n' > .orkestra.toml\n"
        "git add --all && git commit --quiet -m Initial\n"
    )
    subprocess.run(["bash", "-c", script], cwd=folder, env=git_environment(), check=True)
    return folder


async def _orkestra_run(folder: Path, count: int) -> tuple[float, int, int]:
    """Seconds the scheduler took, the tasks merged, and the cycles (tasks plus fresh re-runs)."""
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.execution.scheduler import Scheduler
    from orkestra_tui.engine.models import ProjectStatus, TaskSpec, TaskStatus

    repository = _new_repository(folder / "repository")
    settings = replace(
        Settings(),
        engine=replace(EngineSettings(), reviewers=0),
        simulation=SimulationSettings(seed=1, latency_ms=0, failure_rate=0.0),
    )
    engine = Engine(resolve_paths(folder / "home"), settings, demo=True, env={})
    try:
        project = engine.create_project("bench")
        specs = [
            TaskSpec(title=f"Module {number}", instructions="Add the module.", key=f"t{number}")
            for number in range(1, count + 1)
        ]
        tasks = engine.add_tasks(project.id, specs)
        await engine.link_repository(project.id, repository)
        engine.set_project_status(project.id, ProjectStatus.ACTIVE)
        started = time.perf_counter()
        for _round in range(MAX_APPROVAL_ROUNDS):
            await Scheduler(engine).run(project.id, until_done=True)
            # A task that conflicted again after its fresh run waits for a human: approve it (it
            # runs once more from the current head), as `orkestra run --on-review approve` does.
            waiting = engine.tasks(project.id, [TaskStatus.AWAITING_HUMAN])
            if not waiting:
                break
            for task in waiting:
                engine.approve_task(task.id)
        seconds = time.perf_counter() - started
        merged = engine.task_counts(project.id).get(TaskStatus.DONE, 0)
        reruns = sum(change.reruns for task in tasks if (change := engine.task_change(task.id)) is not None)
        return seconds, merged, count + reruns
    finally:
        engine.close()


def _script_run(folder: Path, cycles: int) -> float:
    """Seconds a bash script takes to run the git commands of CYCLES task cycles back to back."""
    repository = _new_repository(folder / "repository")
    worktrees = folder / "worktrees"
    lines = [
        "set -e",
        f"cd {repository}",
        "git branch integration main",
        f"git worktree add --quiet {worktrees}/integration integration",
    ]
    for number in range(1, cycles + 1):
        tree = f"{worktrees}/task-{number}"
        lines += [
            f"git worktree add --quiet -b task-{number} {tree} integration",
            f"printf 'VALUE = {number}\\n' > {tree}/module_{number}.py",
            f"git -C {tree} add --all",
            f"git -C {tree} commit --quiet -m 'Module {number}'",
            f"(cd {tree} && {GATE})",
            f"git merge-tree --write-tree integration task-{number} > /dev/null",
            f"git -C {worktrees}/integration checkout --quiet --detach integration",
            f"git -C {worktrees}/integration merge --quiet --no-ff --no-edit task-{number}",
            f"(cd {worktrees}/integration && {GATE})",
            f"git update-ref refs/heads/integration $(git -C {worktrees}/integration rev-parse HEAD)",
            f"git -C {worktrees}/integration checkout --quiet integration",
            f"git worktree remove {tree}",
            f"git branch --quiet -D task-{number}",
        ]
    script = folder / "cycles.sh"
    script.write_text("\n".join(lines) + "\n")
    started = time.perf_counter()
    subprocess.run(["bash", str(script)], env=git_environment(), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started
