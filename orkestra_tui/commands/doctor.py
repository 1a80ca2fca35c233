"""`orkestra doctor`: paths, config, a live test call to every agent, and the models each endpoint offers.

It never prints a key: only the name of the variable a key came from.
It checks git too (present, 2.38 or newer): a missing or old git is a warning while no
project is linked to a repository, an error once one is; and each linked project's
repository is usable (a repository, not mid-merge, its integration branch present).
Exit status 0 when every enabled agent meant to be live answered and git and the linked
repositories are usable, 1 otherwise,
2 when the config itself cannot be used. A simulated agent (no key, or an
optional SDK not installed) and a configured model its endpoint does not list
are warnings, not failures.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from typing import Any

from orkestra_tui.commands.context import add_common_options, load_context


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check paths, config and every agent with a live call",
        description="Report the paths in use, whether config.toml is valid, and for each agent its "
        "provider, model, key (present or not, never its value) and a live test call.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_common_options(parser)
    parser.set_defaults(handler=run)


MODELS_SHOWN = 30
"""Most model ids the text report lists per endpoint (`--json` has them all)."""

UNREACHED = ("connection", "timeout")
"""Error classes of a call that did not get an answer from the endpoint: their line names the URL tried."""


def shown_url(url: str) -> str:
    """`url` without what may hold a secret: its user and password, query and fragment."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # an unreadable URL (a bad port) is shown up to its host part
        return re.split(r"[?#]", url, maxsplit=1)[0].rpartition("@")[2]
    netloc = f"[{host}]" if ":" in host else host
    return urlunsplit((parts.scheme, netloc + port, parts.path, "", ""))


async def _check_agents(engine: Any) -> list[dict[str, Any]]:
    agents = engine.agents()
    enabled = [agent for agent in agents if agent.enabled]
    outcomes, checks = await asyncio.gather(
        asyncio.gather(*(engine.test_agent(agent.name) for agent in enabled)),
        asyncio.gather(*(engine.check_model(agent.name) for agent in enabled)),
    )
    results = {agent.name: outcome for agent, outcome in zip(enabled, outcomes, strict=True)}
    model_checks = {agent.name: check for agent, check in zip(enabled, checks, strict=True)}
    report = []
    for agent in agents:
        entry: dict[str, Any] = {
            "name": agent.name,
            "provider": agent.provider,
            "model": agent.model,
            "enabled": agent.enabled,
            "simulated": agent.simulated,
            "simulated_reason": agent.simulated_reason,
            "key_present": bool(agent.key_variable),
            "key_variable": agent.key_variable,
            "base_url": agent.base_url,
        }
        if agent.provider == "copilot":
            from orkestra_tui.providers.copilot import cli_available

            available, problem = cli_available()
            entry["copilot_cli"] = "available" if available else problem
        check = model_checks.get(agent.name)
        if check is not None:
            entry["endpoint"] = check.endpoint
            entry["models_offered"] = None if check.offered is None else list(check.offered)
            entry["model_offered"] = None if check.offered is None else not check.missing
            entry["closest_models"] = list(check.closest) if check.missing else []
            entry["model_warning"] = check.warning
        outcome = results.get(agent.name)
        if outcome is not None:
            entry["ok"] = outcome.ok
            entry["latency_ms"] = round(outcome.record.latency_ms, 1)
            entry["error_class"] = outcome.record.error_class
            entry["error"] = outcome.record.error
            if outcome.record.error_class in UNREACHED and agent.base_url:
                entry["error"] += f" (tried {shown_url(agent.base_url)})"
        report.append(entry)
    return report


async def _check_git(engine: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The git binary (present, 2.38 or newer), and each linked project's repository (usable or why not).

    A missing or old git is a warning while no project is linked to a repository, an error once one is.
    """
    from orkestra_tui.engine.repo.git import GitError, check_git

    linked = [(project, engine.repository(project.id)) for project in engine.projects()]
    linked = [(project, link) for project, link in linked if link is not None]
    try:
        version: str | None = await check_git()
        problem = None
    except GitError as error:
        version, problem = None, str(error)
    level = "ok" if problem is None else ("error" if linked else "warning")
    git = {"version": version, "problem": problem, "level": level}
    repositories = []
    for project, link in linked:
        problems = [problem] if problem is not None else []
        if not problems:
            status = await engine.repository_status(project.id)
            problems = list(status.problems) if status is not None else []
        repositories.append(
            {"project": project.name, "path": str(link.path), "branch": link.branch, "problems": problems}
        )
    return git, repositories


def run(args: argparse.Namespace) -> int:
    context = load_context(args)
    engine = context.open_engine(only_reads=True)

    async def check() -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
        try:
            git, repositories = await _check_git(engine)
            return await _check_agents(engine), git, repositories
        finally:
            await engine.aclose()

    agents, git, repositories = asyncio.run(check())
    document = {
        "paths": context.paths.as_dict(),
        "config": "valid",
        "git": git,
        "repositories": repositories,
        "agents": agents,
        "web": _web_extra(),
    }
    healthy = all(agent.get("ok", True) for agent in agents if agent["enabled"] and not agent["simulated"])
    healthy = healthy and git["level"] != "error" and not any(entry["problems"] for entry in repositories)
    if args.json:
        from orkestra_tui.commands.output import print_json

        print_json(document)
        return 0 if healthy else 1
    _print_report(document)
    return 0 if healthy else 1


def _web_extra() -> dict[str, Any]:
    """Whether `orkestra serve` can run here (the web extra), and how to install it when not."""
    from orkestra_tui.commands.serve import INSTALL_WEB, web_extra_installed

    return {"installed": web_extra_installed(), "install": INSTALL_WEB}


def _print_web(out: Any, web: dict[str, Any]) -> None:
    from orkestra_tui.commands.output import literal

    if web["installed"]:
        line = "web extra installed: orkestra serve shows the app in a browser"
    else:
        line = f"web extra not installed (orkestra serve needs it): {web['install']}"
    out.print(literal(line, style="dim"))


def _print_report(document: dict[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    from orkestra_tui.commands.output import console, literal

    out = console()
    for name, path in document["paths"].items():
        out.print(literal(f"{name.replace('_', ' ')}: {path}", style="dim"))
    out.print(Text("config.toml is valid", style="green"))
    _print_git(out, document["git"], document["repositories"])
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("agent", "provider", "model", "key", "mode", "test"):
        table.add_column(column, overflow="fold")
    for agent in document["agents"]:
        key = agent["key_variable"] or (
            "not needed" if agent["provider"] in ("ollama", "command") else "none"
        )
        mode = "disabled" if not agent["enabled"] else ("simulated" if agent["simulated"] else "live")
        if "ok" not in agent:
            test = Text("—", style="dim")
        elif agent["ok"]:
            test = Text(f"answered in {agent['latency_ms']:.0f} ms", style="green")
        else:
            test = literal(f"{agent['error_class']}: {agent['error']}", style="red")
        table.add_row(
            literal(agent["name"]),
            literal(agent["provider"]),
            literal(agent["model"]),
            literal(key),
            mode,
            test,
        )
    out.print(table)
    for agent in document["agents"]:
        if agent.get("copilot_cli", "available") != "available":
            out.print(
                literal(f"{agent['name']}: Copilot cannot run here: {agent['copilot_cli']}", style="yellow")
            )
    _print_models(out, document["agents"])
    _print_web(out, document["web"])


def _print_git(out: Any, git: dict[str, Any], repositories: list[dict[str, Any]]) -> None:
    """The git line (ok, warning or error) and a line for each linked project's repository."""
    from orkestra_tui.commands.output import literal

    if git["level"] == "ok":
        out.print(literal(f"{git['version']} is usable (2.38 or newer)", style="green"))
    elif git["level"] == "warning":
        out.print(
            literal(f"warning: {git['problem']} (no project is linked to a repository yet)", style="yellow")
        )
    else:
        out.print(literal(f"error: {git['problem']}", style="red"))
    for entry in repositories:
        if entry["problems"]:
            for problem in entry["problems"]:
                out.print(literal(f"{entry['project']}: repository not usable: {problem}", style="red"))
        else:
            out.print(literal(f"{entry['project']}: repository {entry['path']} is usable", style="green"))


def _print_models(out: Any, agents: list[dict[str, Any]]) -> None:
    """The models each endpoint offers, then a warning for each model it does not offer."""
    from orkestra_tui.commands.output import literal
    from orkestra_tui.wording import plural

    for agent in agents:
        offered = agent.get("models_offered")
        if offered is None:
            continue
        more = f" and {len(offered) - MODELS_SHOWN} more" if len(offered) > MODELS_SHOWN else ""
        listing = f"{plural(len(offered), 'model')}: {', '.join(offered[:MODELS_SHOWN])}{more}"
        line = f"{agent['name']}: {agent['endpoint']} offers {listing if offered else 'no models'}"
        out.print(literal(line, style="dim"))
    for agent in agents:
        if agent.get("model_warning"):
            out.print(literal(f"{agent['name']}: {agent['model_warning']}", style="yellow"))
