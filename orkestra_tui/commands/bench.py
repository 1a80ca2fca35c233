"""`orkestra bench`: measure, and print each figure beside its same-run baseline."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from orkestra_tui.bench import SCENARIOS
from orkestra_tui.errors import OrkestraError, UsageError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="run benchmarks (not tests) and print the figures",
        description="Run benchmark scenarios. Every figure is measured next to a baseline in the "
        f"same run. Scenarios: {', '.join(SCENARIOS)}.",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        metavar="NAME",
        help="run only this scenario (repeatable); default: all",
    )
    parser.add_argument("--quick", action="store_true", help="a small workload, to check the scenarios run")
    parser.add_argument("--json", action="store_true", help="print one JSON object keyed by scenario")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    names: list[str] = args.scenario or list(SCENARIOS)
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise UsageError(f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}")
    results: dict[str, dict[str, Any]] = {}
    console = None
    if not args.json:
        from orkestra_tui.commands.output import console as make_console

        console = make_console()
    for name in dict.fromkeys(names):
        module = importlib.import_module(SCENARIOS[name])
        # A title names the workload measured, which --quick shrinks.
        describe = getattr(module, "describe", None)
        description = describe(quick=args.quick) if describe is not None else module.DESCRIPTION
        if console is not None:
            with console.status(f"{name}: {description}"):
                results[name] = _measured(name, module, quick=args.quick)
            _print_scenario(console, name, description, results[name])
        else:
            results[name] = _measured(name, module, quick=args.quick)
    if args.json:
        from orkestra_tui.commands.output import print_json

        print_json(results)
    return 0


class ScenarioFailed(OrkestraError):
    """A scenario could not measure what it measures (its workload did not finish as it should)."""

    exit_code = 1


def _measured(name: str, module: Any, *, quick: bool) -> dict[str, Any]:
    """A scenario's figures; a workload that went wrong is one line, not a traceback."""
    try:
        figures: dict[str, Any] = module.run(quick=quick)
    except RuntimeError as error:
        raise ScenarioFailed(f"the {name} scenario could not be measured: {error}") from None
    return figures


def _print_scenario(console: Any, name: str, description: str, figures: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"{name}: {description}", title_justify="left", show_header=False, box=None)
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)
    console.print()
