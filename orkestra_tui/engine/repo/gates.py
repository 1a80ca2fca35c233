"""Gates: the repository's check commands (`gates` in `.orkestra.toml`), run in a task's worktree.

Each gate is one command line run by the system shell (`/bin/sh -c`), because
people write gates as they type them: `python -m pytest -q && ruff check .`,
`make test 2>&1`, `cd web && npm test`. The lines come from `.orkestra.toml`,
which the repository's owner checks in and agents may never change (it is always
protected), so the shell gives them no power they did not have; nothing an agent
writes is ever put into a command line.

The gates run in order and stop at the first failure. Each runs in its own
process group with a timeout; on timeout the whole group is killed (SIGKILL), so
a test runner's children die with it. The environment is Orkestra's own minus
every secret: the agents' key variables (named by the caller), any variable whose
name looks like a credential (`*_API_KEY`, `*TOKEN*`, `*SECRET*`, `*PASSWORD*`...)
and any whose value `orkestra_tui.secrets.redact` would hide (a registered key or a
token-shaped value). Git's own location variables are dropped too, so a gate's
git commands see the worktree. Output (stdout and stderr together, in order) is
kept up to a cap, head and tail with the middle elided, and redacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from orkestra_tui.secrets import redact

OUTPUT_CAP_BYTES = 20_000
"""How much of a gate's output is kept: the first and last halves of this, the middle elided."""
KILL_GRACE_S = 2.0
"""After a timeout's kill, how long to wait for the output pipe to close (a process that left
the group may hold it open)."""
READ_CHUNK_BYTES = 65_536
_CUT_MARGIN_BYTES = 256
"""Extra bytes kept beside each half, so a secret across the cut is redacted whole before trimming."""
SECRET_NAME = re.compile(
    r"(?i)(API_?KEY|ACCESS_?KEY|SECRET|TOKEN(?!IZER)|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE_?KEY"
    r"|(?:^|_)AUTH(?:$|_))"
)
"""Environment variable names that look like they hold a credential (not GIT_AUTHOR_NAME, not
TOKENIZERS_PARALLELISM)."""
GIT_LOCATION_VARIABLES = frozenset(
    {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR", "GIT_PREFIX"}
)
"""Set by a git hook that started Orkestra, they would point a gate's git commands elsewhere."""


@dataclass(frozen=True)
class GateResult:
    """One gate's run, ready to store as JSON (`as_json`)."""

    command: str
    exit_code: int | None
    """The command's exit status (negative: killed by that signal); None if it timed out or never started."""
    duration_s: float
    output: str
    """Standard output and error, in the order written, trimmed and redacted."""
    timed_out: bool = False
    output_bytes: int = 0
    """How many bytes the command wrote in all (more than `output` holds when trimmed)."""
    error: str = ""
    """Why the command could not be started, if it could not."""

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GateResult:
        """A result as `as_json` stored it."""
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


@dataclass(frozen=True)
class GateRun:
    """The gates run for one change, in order, up to the first failure."""

    results: tuple[GateResult, ...] = ()
    skipped: tuple[str, ...] = field(default=())
    """Gates not run because an earlier one failed."""

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def failed(self) -> GateResult | None:
        return next((result for result in self.results if not result.passed), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "results": [result.as_json() for result in self.results],
            "skipped": list(self.skipped),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GateRun:
        """A run as `as_json` stored it."""
        results = tuple(GateResult.from_json(result) for result in data.get("results", ()))
        return cls(results, tuple(data.get("skipped", ())))


def gate_environment(base: Mapping[str, str], key_variables: Iterable[str]) -> dict[str, str]:
    """`base` without the agents' key variables, credential-like variables and git's location variables."""
    removed = set(key_variables) | GIT_LOCATION_VARIABLES
    return {
        name: value
        for name, value in base.items()
        if name not in removed and not SECRET_NAME.search(name) and redact(value) == value
    }


async def run_gates(
    commands: Sequence[str],
    worktree: Path,
    *,
    timeout_s: float,
    key_variables: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    output_cap_bytes: int = OUTPUT_CAP_BYTES,
) -> GateRun:
    """Run the gates in order in `worktree`, stopping at the first that fails.

    `env` is the environment to start from (Orkestra's own by default); `key_variables`
    names every agent's key variable, all removed (see `gate_environment`).
    """
    environment = gate_environment(os.environ if env is None else env, key_variables)
    results: list[GateResult] = []
    for index, command in enumerate(commands):
        result = await run_gate(command, worktree, timeout_s=timeout_s, env=environment, cap=output_cap_bytes)
        results.append(result)
        if not result.passed:
            return GateRun(tuple(results), tuple(commands[index + 1 :]))
    return GateRun(tuple(results))


async def run_gate(
    command: str, worktree: Path, *, timeout_s: float, env: Mapping[str, str], cap: int = OUTPUT_CAP_BYTES
) -> GateResult:
    """Run one gate with the environment as given (already stripped); see `run_gates`.

    The output goes through a pipe of our own rather than asyncio's, so that a process
    that leaves the group and keeps the pipe open can delay the result by no more than
    `KILL_GRACE_S` (asyncio's `wait` would wait for every holder of its pipes).
    Whatever the gate left running in its process group is killed once it ends.
    """
    started = time.monotonic()
    read_end, write_end = os.pipe()
    try:
        process = await _started(command, worktree, env, write_end)
    except OSError as error:
        os.close(read_end)
        problem = f"it could not be started: {error.strerror or error}"
        return GateResult(command, None, time.monotonic() - started, "", error=problem)
    finally:
        os.close(write_end)
    pipe = os.fdopen(read_end, "rb", buffering=0)
    output = _CappedOutput(cap)
    reading: asyncio.Future[None] | None = None
    waiting = asyncio.ensure_future(process.wait())
    transport: asyncio.BaseTransport | None = None
    try:
        loop = asyncio.get_running_loop()
        stream = asyncio.StreamReader(loop=loop)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(stream, loop=loop), pipe
        )
        reading = asyncio.ensure_future(output.read_all(stream))
        timed_out = not (await asyncio.wait({waiting}, timeout=timeout_s))[0]
        if timed_out:
            _kill_group(process)
            await waiting
        else:
            await asyncio.wait({reading}, timeout=KILL_GRACE_S)  # the rest of its output
            _kill_group(process)  # anything it left running
        await asyncio.wait({reading}, timeout=KILL_GRACE_S)
    except BaseException:  # cancelled: the gate must not outlive its caller
        _kill_group(process)
        raise
    finally:
        pending = [task for task in (reading, waiting) if task is not None]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if transport is not None:
            transport.close()
        pipe.close()  # the transport closes it too, later; closing twice does nothing
    text = output.text()
    if timed_out:
        text += f"\n[the gate was stopped after {timeout_s:g} s]"
    return GateResult(
        command,
        None if timed_out else process.returncode,
        time.monotonic() - started,
        text,
        timed_out=timed_out,
        output_bytes=output.total,
    )


async def _started(
    command: str, worktree: Path, env: Mapping[str, str], output: int
) -> asyncio.subprocess.Process:
    """The gate's shell, started in a process group of its own with `output` as stdout and stderr.

    If the caller is cancelled while the process starts, the start is still awaited
    and the new group killed: asyncio would kill only the shell, not what it began.
    """
    starting = asyncio.ensure_future(
        asyncio.create_subprocess_shell(
            command,
            cwd=worktree,
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            start_new_session=True,  # its own process group, killed whole on timeout
        )
    )
    try:
        return await asyncio.shield(starting)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            _kill_group(await starting)
        raise


def _kill_group(process: asyncio.subprocess.Process) -> None:
    """Kill the gate's whole process group (its shell and everything it started that stayed in it)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


class _CappedOutput:
    """A command's output as it arrives: the first and last bytes kept, the middle counted."""

    def __init__(self, cap: int) -> None:
        self.half = max(1, cap // 2)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    async def read_all(self, stream: asyncio.StreamReader) -> None:
        keep = self.half + _CUT_MARGIN_BYTES
        while chunk := await stream.read(READ_CHUNK_BYTES):
            self.total += len(chunk)
            room = keep - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail += chunk
                del self.tail[:-keep]

    def text(self) -> str:
        """The output, redacted, with the middle elided if it was over the cap."""
        if self.total <= 2 * self.half:
            return redact((bytes(self.head) + bytes(self.tail)).decode("utf-8", errors="replace"))
        # Redact each side with its margin first, so a secret across a cut is hidden whole.
        head = redact(bytes(self.head).decode("utf-8", errors="replace"))[: self.half]
        tail = redact(bytes(self.tail).decode("utf-8", errors="replace"))[-self.half :]
        return f"{head}\n[… about {self.total - 2 * self.half:,} bytes of output left out …]\n{tail}"
