"""The tools `orkestra mcp` serves, each a thin shell over the Engine's public face.

Every tool answers with structured content (a JSON object) and a short text.
Bad input is a tool error of one line (the engine's own words), never a
traceback. Questions and changes are made with the actor `mcp`, so the audit
log records them as the MCP client's: the decision opened (the committee's
rounds and ballots follow as the engine's and the agents'), the task added.
Reads (lists, results, audit searches, tallies of a ballots file) change
nothing and are not recorded: an agent polls them often, and they would bury
the log.

A vote that needs the human (a tie-break under the `ask` policy, a deadlock
chain that reaches the human) does not block the tool: the request stays in
the inbox for the app, as `orkestra vote` leaves it without a terminal, and
the tool answers "waiting for the human" with the inbox id. The app resumes
the vote when it starts; an app already open only answers the request, so
`decision`, called later, finishes a vote whose tie the human has broken.

This module imports the MCP SDK and pydantic at import time: only `orkestra mcp`
imports it, after checking that the SDK is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import Field, ValidationError

from orkestra_tui import __version__
from orkestra_tui.commands.mcp_documents import (
    decision_answer,
    event_document,
    event_line,
    project_document,
    safe,
    task_document,
    task_line,
    waiting_request,
)
from orkestra_tui.engine.models import DecisionStatus
from orkestra_tui.errors import OrkestraError

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine
    from orkestra_tui.engine.events import EngineEvent
    from orkestra_tui.engine.models import Decision, InboxItem, Project

ACTOR = "mcp"
"""The audit actor of everything an MCP client asks or changes."""
MOST_EVENTS = 200
INSTRUCTIONS = (
    "Orkestra runs a committee of LLM agents that votes on decisions and carries out a project's tasks. "
    "Use ask_committee to put a question with two or more options to the committee; when it answers "
    "waiting_for_human, a person must answer in the Orkestra app: call decision later for the outcome. "
    "list_projects, list_tasks and task_result read the work; add_task adds a task to a project; "
    "search_audit searches everything recorded; tally_ballots counts a ballots file."
)
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
ASK_COMMITTEE = (
    "Put a question to Orkestra's committee of agents and run the vote to its end. "
    "Returns the decision id, status, method, winner, the tally of every round and each voter's "
    "ranking and reasons. When the vote needs a person (a tie to break), it does not wait: it "
    "returns waiting_for_human with the inbox id; call decision with the decision id later."
)
DECISION = (
    "Read a committee decision's state: status, winner, tally per round, each voter's "
    "ranking and reasons, and whether it waits for a person (with the inbox id). Once the person "
    "has answered in the app, it finishes the vote and returns the outcome."
)
TALLY_BALLOTS = (
    "Count ranked ballots with one of the committee's voting methods, as `orkestra tally` "
    'does. Give a ballots file path, or the ballots as JSON: {"options": [...], "ballots": '
    '[{"voter": "...", "ranking": [...], "weight": 1, "count": 1}]}; an empty ranking abstains.'
)
LIST_PROJECTS = "List Orkestra's projects with their status and their tasks counted per status."
TASK_RESULT = (
    "Read a task's result: its Markdown result, and for a project linked to a git "
    "repository the task's diff and its gate runs."
)
SEARCH_AUDIT = (
    "Search Orkestra's audit log (every action and decision), newest first: words that "
    'must all appear, "a phrase" or prefix*; optionally only one actor (e.g. mcp, human, engine, an '
    "agent's name) or kind (e.g. task, decision.decided)."
)
LIST_TASKS = (
    "List a project's tasks (id, title, status, priority, dependencies), optionally "
    "only those with one status: pending, ready, running, review, done, failed, blocked, "
    "awaiting_human or cancelled."
)
ADD_TASK = (
    "Add a task to a project's Board, checked as the plan review checks a task: a real "
    "title and instructions, a known category and priority, dependencies on tasks of the same "
    "project (by id; it waits until they are done). Recorded in the audit log as actor mcp."
)


def answer(document: dict[str, Any], text: str) -> CallToolResult:
    """A tool's answer: the document as structured content, and the short text for the model to read."""
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=document)


class OrkestraServer(MCPServer[Any]):
    """The SDK's server, whose tools refuse in one line: arguments that do not fit a tool's schema, a disk."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError as error:
            # The database or a file failed under the tool (a damaged page, a disk gone): one line, as
            # a command says it. Anything else is a bug, which the SDK logs with its traceback on stderr.
            if not isinstance(error.__cause__, sqlite3.Error | OSError):
                raise
            raise ToolError(safe(f"Error executing tool {name}: {error.__cause__}")) from None
        except ToolError as error:
            if not isinstance(error.__cause__, ValidationError):
                raise
            problems = "; ".join(
                f"{'.'.join(str(part) for part in problem['loc']) or 'arguments'}: {problem['msg']}"
                for problem in error.__cause__.errors()
            )
            raise ToolError(safe(f"Error executing tool {name}: {problems}")) from None


def build_server(engine: Engine) -> MCPServer[Any]:
    """An MCP server whose tools work on `engine` (all async: the engine lives on the event loop's thread)."""
    server = OrkestraServer(
        name="orkestra", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )
    tools = OrkestraTools(engine)
    for tool, description, hints in (
        (tools.ask_committee, ASK_COMMITTEE, None),
        (tools.decision, DECISION, WRITES),  # it finishes a vote whose tie was broken
        (tools.tally_ballots, TALLY_BALLOTS, READ_ONLY),
        (tools.list_projects, LIST_PROJECTS, READ_ONLY),
        (tools.list_tasks, LIST_TASKS, READ_ONLY),
        (tools.task_result, TASK_RESULT, READ_ONLY),
        (tools.search_audit, SEARCH_AUDIT, READ_ONLY),
        (tools.add_task, ADD_TASK, WRITES),
    ):
        server.add_tool(tool, description=description, annotations=hints)
    return server


class ProgressReport:
    """Tells an MCP client what the committee does with one decision, as progress notifications.

    `on_event` is a bus subscriber (called on the event loop's thread, as the engine
    publishes); each line is the one `orkestra vote` prints for the event. A client
    that asked for no progress gets nothing, and one that went away loses only these.
    """

    def __init__(self, decision: Decision, context: Context[Any, Any] | None) -> None:
        self.decision = decision
        self.context = context
        self.told = 0
        self.sending: set[asyncio.Task[None]] = set()

    def on_event(self, event: EngineEvent) -> None:
        from orkestra_tui.commands.vote_display import describe

        if self.context is None or event.subject != f"decision:{self.decision.id}":
            return
        line = describe(event, self.decision.max_rounds)
        if line is None:
            return
        self.told += 1
        task = asyncio.ensure_future(self.send(self.context, self.told, safe(line.strip())))
        self.sending.add(task)
        task.add_done_callback(self.sending.discard)

    async def sent(self) -> None:
        """Wait until every line told so far is sent (or failed to be)."""
        await asyncio.gather(*self.sending)

    @staticmethod
    async def send(context: Context[Any, Any], count: int, line: str) -> None:
        with contextlib.suppress(Exception):  # progress is a courtesy: the vote goes on without it
            await context.report_progress(count, None, line)


class OrkestraTools:
    """The tools over one engine; each method is one tool, its keyword arguments the tool's input."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.voting: set[int] = set()
        """The decisions whose vote runs in this server now."""

    async def vote(self, decision: Decision, context: Context[Any, Any] | None = None) -> Decision:
        """Run the committee's vote on `decision` until it ends or needs the human; the decision as it stands.

        A request to the human (a tie-break, a ballot, feedback) ends the run at once and stays
        in the inbox for the app, as `orkestra vote` leaves it without a terminal. Each round
        and ballot is told to the client as progress, when it asked for progress.
        """
        from orkestra_tui.commands.answering import TieLeftForTheApp, answer_while, leave_tie_for_the_app

        engine = self.engine

        def needs_the_human(item: InboxItem) -> bool:
            return bool(item.payload.get("decision_id") == decision.id)

        self.voting.add(decision.id)
        progress = ProgressReport(decision, context)
        subscription = engine.bus.subscribe(progress.on_event)
        try:
            final = await answer_while(
                engine, engine.decide(decision.id, tie_break="ask"), needs_the_human, leave_tie_for_the_app
            )
        except TieLeftForTheApp:
            final = engine.decision(decision.id) or decision
        except OrkestraError as error:
            raise ToolError(f"decision {decision.id}: {safe(error)}") from None
        finally:
            subscription.close()
            self.voting.discard(decision.id)
        await progress.sent()  # every line told before the answer
        return final

    def project_called(self, project: str) -> Project:
        """The project named `project` (else the one with that id), or a tool error listing the names."""
        engine = self.engine
        found = engine.project_by_name(" ".join(project.split()))
        if found is None and project.strip().isdigit():
            found = engine.project(int(project))
        if found is None:
            names = ", ".join(repr(safe(known.name)) for known in engine.projects()) or "none yet"
            raise ToolError(f"there is no project named {safe(project)!r}; projects: {names}")
        return found

    async def ask_committee(
        self,
        *,
        question: Annotated[str, Field(description="The question to decide.")],
        options: Annotated[list[str], Field(description="Two or more distinct options to vote on.")],
        method: Annotated[
            str | None,
            Field(description="Voting method, e.g. ranked_choice, plurality, borda (default: configured)."),
        ] = None,
        voters: Annotated[
            list[str] | None, Field(description="Agent names that vote (default: every enabled agent).")
        ] = None,
        rounds: Annotated[
            int | None, Field(description="Most voting rounds (default: configured).", ge=1)
        ] = None,
        context: Context[Any, Any] | None = None,
    ) -> CallToolResult:
        from orkestra_tui.commands.vote import checked_agents

        engine = self.engine
        try:
            chosen = None if voters is None else checked_agents(voters, engine.settings, role="voter")
            decision = engine.open_decision(
                question, options, method=method, voters=chosen, max_rounds=rounds, actor=ACTOR
            )
        except OrkestraError as error:
            raise ToolError(safe(error)) from None
        return answer(*decision_answer(engine, await self.vote(decision, context)))

    async def decision(
        self,
        *,
        decision_id: Annotated[int, Field(description="The decision's id, as ask_committee gave it.", ge=1)],
    ) -> CallToolResult:
        engine = self.engine
        found = engine.decision(decision_id)
        if found is None:
            raise ToolError(f"there is no decision {decision_id}")
        if (
            found.status is DecisionStatus.AWAITING_HUMAN
            and decision_id not in self.voting
            and waiting_request(engine, decision_id) is None
            and engine.tie_break_answers(decision_id)
            and engine.vote_runner(decision_id) is None
        ):
            # The human broke the tie in an app that was not running this vote: finish it here.
            found = await self.vote(found)
        return answer(*decision_answer(engine, found))

    async def tally_ballots(
        self,
        *,
        path: Annotated[str | None, Field(description="A ballots file (JSON) on this machine.")] = None,
        ballots: Annotated[
            dict[str, Any] | str | None, Field(description="The ballots document itself, as JSON.")
        ] = None,
        method: Annotated[
            str, Field(description="ranked_choice, plurality, borda, condorcet, weighted, ...")
        ] = "ranked_choice",
        threshold: Annotated[
            float | None, Field(description="Share supermajority needs, 0 to 1 (default 0.75).")
        ] = None,
        quorum: Annotated[
            str | None, Field(description="Least participation: majority, or a share from 0 to 1.")
        ] = None,
    ) -> CallToolResult:
        from pathlib import Path

        from orkestra_tui.commands.context import quorum_argument, share_argument
        from orkestra_tui.commands.tally import (
            DEFAULT_QUORUM,
            DEFAULT_THRESHOLD,
            load_ballots,
            parse_ballots,
        )
        from orkestra_tui.engine.voting.consensus import METHODS, BallotError, printable, tally

        if (path is None) == (ballots is None):
            raise ToolError("give either path (a ballots file) or ballots (the JSON itself), not both")
        if method not in METHODS:
            raise ToolError(f"unknown method {method!r}; valid methods: {', '.join(METHODS)}")
        try:
            share = share_argument("threshold", None if threshold is None else str(threshold), 0.0)
            chosen_threshold = DEFAULT_THRESHOLD if threshold is None else share
            chosen_quorum = quorum_argument("quorum", quorum, DEFAULT_QUORUM)
            if path is not None:
                shown = printable(path)
                options, ranked = load_ballots(Path(path), shown)
            else:
                shown = "ballots"
                text = ballots if isinstance(ballots, str) else json.dumps(ballots)
                options, ranked = parse_ballots(text.encode("utf-8"), shown)
            result = tally(method, options, ranked, threshold=chosen_threshold, quorum=chosen_quorum)
        except BallotError as error:
            raise ToolError(f"{shown}: {safe(error)}") from None
        except OrkestraError as error:
            raise ToolError(safe(error)) from None
        if result.winner is not None:
            outcome = f"Winner: {safe(result.winner)} (support {result.support:.0%}, {result.consensus})"
        elif result.tied:
            outcome = "No winner; tied: " + ", ".join(safe(option) for option in result.tied)
        else:
            outcome = "No winner"
        return answer(result.to_dict(), f"{result.method}: {outcome}. {safe(result.reason)}")

    async def list_projects(self) -> CallToolResult:
        engine = self.engine
        projects = [project_document(engine, project) for project in engine.projects()]
        lines = [
            f"- {safe(project['name'])} (id {project['id']}, {project['status']}): {project['progress']}"
            for project in projects
        ]
        return answer({"projects": projects}, "\n".join(lines) or "No projects yet.")

    async def list_tasks(
        self,
        *,
        project: Annotated[str, Field(description="The project's name (or id).")],
        status: Annotated[str | None, Field(description="Only tasks with this status.")] = None,
    ) -> CallToolResult:
        from orkestra_tui.engine.models import TaskStatus

        engine = self.engine
        found = self.project_called(project)
        statuses = None
        if status is not None:
            try:
                statuses = [TaskStatus(status.strip().replace(" ", "_").lower())]
            except ValueError:
                valid = ", ".join(known.value for known in TaskStatus)
                raise ToolError(f"unknown status {safe(status)!r}; statuses: {valid}") from None
        tasks = engine.tasks(found.id, statuses)
        document: dict[str, Any] = {
            "project": project_document(engine, found),
            "tasks": [task_document(t) for t in tasks],
        }
        heading = f"{safe(found.name)}: {document['project']['progress']}"
        return answer(document, "\n".join([heading, *map(task_line, tasks)]))

    async def task_result(
        self,
        *,
        task_id: Annotated[int, Field(description="The task's id.", ge=1)],
    ) -> CallToolResult:
        engine = self.engine
        detail = engine.task_detail(task_id)
        if detail is None:
            raise ToolError(f"there is no task {task_id}")
        task = detail.task
        result = task.result or ""
        if detail.artifact_file is not None and detail.artifact_file.is_file():
            result = detail.artifact_file.read_text(encoding="utf-8", errors="replace")
        document: dict[str, Any] = {"task": task_document(task), "result": result}
        lines = [task_line(task), safe(result) if result else "(no result yet)"]
        if engine.repository(task.project_id) is not None:
            try:
                diff = await engine.task_diff(task_id)
            except OrkestraError as error:
                raise ToolError(f"task {task_id}: {safe(error)}") from None
            change = engine.task_change(task_id)
            document["change"] = None if change is None else {"branch": change.branch, "state": change.state}
            document["diff"] = diff
            document["gates"] = [
                {
                    "stage": str(gate.stage),
                    "command": gate.command,
                    "exit_code": gate.exit_code,
                    "passed": gate.passed,
                    "output": gate.output,
                }
                for gate in engine.gate_runs(task_id)
            ]
            gates = ", ".join(
                f"{safe(gate['command'])}: {'passed' if gate['passed'] else 'failed'}"
                for gate in document["gates"]
            )
            lines += [f"Gates: {gates or 'none run'}", safe(diff) if diff else "(no diff yet)"]
        return answer(document, "\n".join(lines))

    async def search_audit(
        self,
        *,
        query: Annotated[str, Field(description="Words to search for; empty matches every event.")],
        limit: Annotated[int, Field(description="Most events to return.", ge=1, le=MOST_EVENTS)] = 20,
        actor: Annotated[str | None, Field(description="Only events by this actor.")] = None,
        kind: Annotated[str | None, Field(description="Only events of this kind or kind prefix.")] = None,
    ) -> CallToolResult:
        engine = self.engine
        try:
            events = engine.search_audit(text=query, actor=actor, kind=kind, limit=limit)
        except OrkestraError as error:
            raise ToolError(safe(error)) from None
        document = {"events": [event_document(event) for event in events]}
        return answer(document, "\n".join(map(event_line, events)) or "No events match.")

    async def add_task(
        self,
        *,
        project: Annotated[str, Field(description="The project's name (or id).")],
        title: Annotated[str, Field(description="A short title.")],
        instructions: Annotated[str, Field(description="What to do, for the agent that does it.")],
        category: Annotated[
            str, Field(description="architecture, code, tests, docs, research, review, data, design or ops.")
        ] = "code",
        priority: Annotated[str, Field(description="critical, high, normal or low.")] = "normal",
        depends_on: Annotated[
            list[int] | None, Field(description="Ids of the project's tasks this one waits for.")
        ] = None,
    ) -> CallToolResult:
        engine = self.engine
        found = self.project_called(project)
        try:
            task = engine.add_task(
                found.id,
                title,
                instructions,
                category=category,
                priority=priority,
                depends_on=depends_on or (),
                actor=ACTOR,
            )
        except OrkestraError as error:
            raise ToolError(safe(error)) from None
        return answer({"task": task_document(task)}, f"Added to {safe(found.name)}: {task_line(task)[2:]}")
