"""`orkestra doctor`: paths, config, a live test call to every agent, and the models each endpoint offers.

It never prints a key: only the name of the variable a key came from.
Exit status 0 when every enabled agent meant to be live answered, 1 otherwise,
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


def run(args: argparse.Namespace) -> int:
    context = load_context(args)
    engine = context.open_engine(only_reads=True)

    async def check() -> list[dict[str, Any]]:
        try:
            return await _check_agents(engine)
        finally:
            await engine.aclose()

    agents = asyncio.run(check())
    document = {"paths": context.paths.as_dict(), "config": "valid", "agents": agents}
    healthy = all(agent.get("ok", True) for agent in agents if agent["enabled"] and not agent["simulated"])
    if args.json:
        from orkestra_tui.commands.output import print_json

        print_json(document)
        return 0 if healthy else 1
    _print_report(document)
    return 0 if healthy else 1


def _print_report(document: dict[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    from orkestra_tui.commands.output import console, literal

    out = console()
    for name, path in document["paths"].items():
        out.print(literal(f"{name.replace('_', ' ')}: {path}", style="dim"))
    out.print(Text("config.toml is valid", style="green"))
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
