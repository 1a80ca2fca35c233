"""The brief's light parts, built with its first page: a labelled field row, the page line, the banner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import RenderResult
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

if TYPE_CHECKING:
    from orkestra_tui.engine.models import AgentInfo

PAGES = {1: "the project", 2: "the details", 3: "the committee"}
"""Each page of the brief and what it asks about."""
START_HINT = "ctrl+s asks the agents for plans"


def agents_banner(agents: list[AgentInfo]) -> Text:
    """Whether the agents are real or simulated, and how to add keys."""
    enabled = [agent for agent in agents if agent.enabled]
    simulated = [agent.name for agent in enabled if agent.simulated]
    if not simulated:
        return Text(f"{len(enabled)} live agents will work on it.", style="green")
    if len(simulated) == len(enabled):
        return Text(
            "No API keys found: every agent is simulated. For real ones, set ANTHROPIC_API_KEY, "
            "OPENAI_API_KEY, GEMINI_API_KEY, XAI_API_KEY or GITHUB_TOKEN and restart "
            "(README: Agents and keys); `orkestra doctor` checks them.",
            style="yellow",
        )
    return Text(f"Simulated: {', '.join(simulated)}. The others are live.", style="yellow")


class FieldRow(Horizontal):
    """A field with its label to the left: the row draws the label itself, beside its one child.

    One widget fewer per field than a Label in the row, and the same to see.
    """

    COMPONENT_CLASSES = {"field-row--label"}

    DEFAULT_CSS = """
    FieldRow {
        height: auto;
        margin-bottom: 1;
        & > * {
            margin-left: 13;
        }
        & > .field-row--label {
            color: $text-muted;
        }
    }
    """

    def __init__(self, label: str, field: Widget, *, classes: str | None = None) -> None:
        super().__init__(field, classes=classes)
        self._label = Content.styled(label, ".field-row--label")

    def render(self) -> RenderResult:
        return self._label


class PageBar(Static):
    """The brief's last line: the page, links to the pages beside it, and how to start planning."""

    class PageChosen(Message):
        """A link to another page was clicked."""

        def __init__(self, page: int) -> None:
            super().__init__()
            self.page = page

    def show_page(self, page: int) -> None:
        parts = [f"Page {page} of {len(PAGES)}: {PAGES[page]}"]
        if page > 1:
            parts.append(f"[@click=page({page - 1})]‹ Back[/]")
        if page < len(PAGES):
            parts.append(f"[@click=page({page + 1})]Next ›[/] (Tab)")
        parts.append(START_HINT)
        self.update(Content.from_markup(" · ".join(parts)))

    def action_page(self, page: int) -> None:
        self.post_message(self.PageChosen(page))
