"""What every command needs: paths, settings and, when asked, an open engine."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from orkestra_tui.config import Bounds, Paths, Settings, ensure_config, resolve_paths
from orkestra_tui.records import record

if TYPE_CHECKING:
    import argparse

    from orkestra_tui.engine.engine import Engine


@record
class Context:
    paths: Paths
    settings: Settings
    demo: bool

    def open_engine(
        self, *, only_reads: bool = False, check_pages: bool = True, in_app: bool = False
    ) -> Engine:
        """The engine over the data dir; its database first checked page by page, unless told not to.

        A damaged database is refused with one line naming the newest good snapshot (exit 2),
        before a command reads or writes anything. The app skips the check on its way to
        the first frame and runs it in the background instead. `only_reads` opens a data
        dir that cannot be written read-only. Telemetry starts here (see `start_telemetry`).
        """
        from orkestra_tui.engine.engine import Engine

        engine = Engine(
            self.paths, self.settings, demo=self.demo, only_reads=only_reads, check_pages=check_pages
        )
        if not only_reads:  # a command that only reads calls no agent: nothing to trace
            self.start_telemetry(in_app=in_app)
        return engine

    def start_telemetry(self, *, in_app: bool = False) -> None:
        """Export traces and metrics if an OTLP endpoint variable is set (once per process).

        Without the `otel` extra, one warning line: on stderr for a command, in the log
        (log_dir/orkestra.log) for the app, whose terminal is its screen; the work goes on.
        """
        from orkestra_tui.engine import telemetry

        log_file = self.paths.log_dir / "orkestra.log" if in_app else None
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
        warning = telemetry.start(self.settings.telemetry.capture_content, os.environ, log_file=log_file)
        if not warning:
            return
        if log_file is None:
            from orkestra_tui.commands.output import emit

            emit(f"orkestra: warning: {warning}", err=True)
        else:
            with log_file.open("a", encoding="utf-8") as log:
                log.write(f"warning: {warning}\n")

    def require_writable(self) -> None:
        """One line, before anything is done, when the data dir cannot be written (a read-only disk)."""
        from orkestra_tui.engine.store.read_only import read_only_reason
        from orkestra_tui.errors import ReadOnlyError

        why = read_only_reason(self.paths.database)
        if why:
            raise ReadOnlyError(self.paths.data_dir, why)


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options that every command and the TUI accept, before or after the command name."""
    import argparse  # here: plain `orkestra` (the app) never imports it

    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="keep config, data, state and logs under DIR (default: $ORKESTRA_HOME, "
        "else the per-user directories)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,
        help="simulate every agent, even those with an API key",
    )


RECORD_IDS = Bounds(1, 2**63 - 1)
"""The ids SQLite can give a row: a larger number names no decision, task or event."""


def whole_number(bounds: Bounds) -> Callable[[str], int]:
    """An argparse type: a whole number within `bounds`, else one line (and exit status 2)."""

    def parse(text: str) -> int:
        import argparse

        try:
            value = int(text)
        except ValueError:  # also a number of more digits than int() reads
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value not in bounds:
            raise argparse.ArgumentTypeError(f"{text!r} must be {bounds.describe()}")
        return value

    return parse


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 that can be a row's id."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    if value not in RECORD_IDS:
        raise argparse.ArgumentTypeError(f"{text!r} is larger than any id ({RECORD_IDS.high})")
    return value


def share_argument(flag: str, text: str | None, default: float) -> float:
    """A command-line share (threshold, quorum): a number from 0 to 1, else one clear line."""
    from orkestra_tui.engine.voting.consensus.wording import quote_name
    from orkestra_tui.errors import UsageError

    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:  # also refuses NaN
        raise UsageError(f"{flag} must be a number from 0 to 1, not {quote_name(text)}")
    return value


def quorum_argument(flag: str, text: str | None, default: float | str) -> float | str:
    """A command-line quorum: `majority` (more than half of the ballots) or a share from 0 to 1."""
    from orkestra_tui.config import QUORUM_MAJORITY
    from orkestra_tui.engine.voting.consensus.wording import quote_name
    from orkestra_tui.errors import UsageError

    if text is not None and text.strip().casefold() == QUORUM_MAJORITY:
        return QUORUM_MAJORITY
    try:
        return share_argument(flag, text, 0.0) if text is not None else default
    except UsageError:
        raise UsageError(
            f"{flag} must be {QUORUM_MAJORITY} or a number from 0 to 1, not {quote_name(text or '')}"
        ) from None


def load_context(args: argparse.Namespace) -> Context:
    """Resolve paths (--data-dir, then $ORKESTRA_HOME), write a default config if none, load it."""
    paths = resolve_paths(getattr(args, "data_dir", None), os.environ)
    settings = ensure_config(paths)
    return Context(paths=paths, settings=settings, demo=bool(getattr(args, "demo", False)))
