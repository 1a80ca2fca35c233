"""The planning wizard's first step: the project brief, on three pages, checked field by field.

Page 1 asks about the project (name, goals, constraints), page 2 for the
details (description, features), page 3 about the committee (involvement,
agents, method). Tab and Enter go on from a page's last field to the next
page, Shift+Tab back, so the pages read as one form from the keyboard;
ctrl+s starts planning from any page, with the defaults of the pages not
seen. Only the first page is built with the form: it is the app's first
screen on a first run, and its light fields draw about as fast as a bare
Textual app; the others (`brief_pages.py`) are built when first shown.

The first page's rows sit in the form itself, and the last line has no row
of its own until the last page's button joins it: on the first frame, each
container is about as costly as a field. So a page is the form's children
of its class (`page-1`: the first page's rows; `page-2`, `page-3`: a
`BriefPage` each), and the pages not on show have the class `-other-page`.

Name and agents are required; everything else has a sensible default. The
engine is the judge of a brief (planning's one check, engine/planning/brief_rules.py):
each of its problems names its field and is shown under it, on its page,
and blocks Next.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.events import DescendantBlur, Key
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static

from orkestra_tui.tui.text import plain
from orkestra_tui.tui.widgets.brief_fields import PAGES, FieldRow, PageBar, agents_banner
from orkestra_tui.tui.widgets.field_errors import show_field_errors

if TYPE_CHECKING:
    from textual.widgets import Button, OptionList

    from orkestra_tui.engine.models import AgentInfo
    from orkestra_tui.engine.planning.planning import Brief
    from orkestra_tui.tui.widgets.brief_pages import FeatureInput

FIELDS = ("name", "description", "features", "repository", "agents", "method", "form")
"""The fields with an error line of their own; `form` is for anything else."""
PAGE_OF_FIELD = {"name": 1, "description": 2, "features": 2, "repository": 2, "agents": 3, "method": 3}
"""The page each field with an error line is on."""
TYPING_HINT = "Enter or Tab starts typing · Esc leaves a field (then 1–5 and ? work)"
"""How to start filling in the form: on arrival no field has the focus, so screen keys work."""


ERROR_AFTER = {
    "name": "#brief-name",
    "description": "#brief-description",
    "features": "#brief-features",
    "repository": "#brief-repository",
    "agents": "#brief-agents",
    "method": "#brief-method",
}
"""The field whose row each error line follows; the form's own line goes above the buttons."""


class BriefForm(VerticalScroll):
    """The brief on three pages: the project, the details, the committee."""

    _typing_into: Input | None = None
    """The field Enter chose, until it has the focus (`on_key`)."""

    BINDINGS = [
        Binding("enter", "start_typing", "Fill in the brief"),
        Binding("tab", "next_field", "Next field", show=False),
        Binding("shift+tab", "previous_field", "Previous field", show=False),
        Binding("delete,backspace", "remove_feature", "Remove feature", show=False),
        # Before the field's own delete keys, which do nothing in an empty field.
        Binding("delete,backspace", "remove_last_feature", "Remove feature", show=False, priority=True),
    ]

    DEFAULT_CSS = """
    BriefForm {
        height: 1fr;
        padding: 0 1;
        .field {
            width: 1fr;
        }
        .brief-page {
            height: auto;
        }
        /* Above an error line's own rule: a page's error line hides with its page. */
        & > .-other-page {
            display: none !important;
        }
        #brief-banner {
            margin-bottom: 1;
        }
        #brief-how {
            color: $text-muted;
            margin-bottom: 1;
        }
        .field-error {
            height: auto;
            color: $error;
            padding-left: 13;
            margin-top: -1;
            margin-bottom: 1;
            display: none;
        }
        .field-error.-shown {
            display: block;
        }
        #brief-buttons {
            height: auto;
            align-horizontal: right;
        }
        #brief-hint {
            width: 1fr;
            color: $text-muted;
        }
    }
    """

    class Submitted(Message):
        """The brief passed the form's own checks; the screen starts the plan."""

        def __init__(self, brief: Brief) -> None:
            super().__init__()
            self.brief = brief

    def __init__(self, agents: list[AgentInfo] | None, default_method: str, *, id: str | None = None) -> None:
        """The form, for `agents` (None until the engine is built: see `set_agents`)."""
        from orkestra_tui.engine.voting.methods import METHODS

        super().__init__(id=id)
        self._agents: list[AgentInfo] = []
        self._all_agents: list[AgentInfo] = []
        self._agents_known = asyncio.Event()
        self._building = asyncio.Lock()
        if agents is not None:
            self._keep_agents(agents)
        self._default_method = default_method if default_method in METHODS else "majority"
        self._features: list[str] = []
        self.page = 1
        """The page on show."""
        self._pages_built = {1}

    def compose(self) -> ComposeResult:
        # Error lines are added under their fields when there is an error (see `show_errors`).
        banner = agents_banner(self._all_agents) if self._agents_known.is_set() else ""
        yield Static(banner, id="brief-banner")
        yield Static(TYPING_HINT, id="brief-how")
        name = Input(
            placeholder="e.g. Inventory service",
            id="brief-name",
            classes="field",
            max_length=80,
            compact=True,
        )
        goals = Input(placeholder="optional", id="brief-goals", classes="field", compact=True)
        constraints = Input(placeholder="optional", id="brief-constraints", classes="field", compact=True)
        yield FieldRow("Name", name, classes="page-1")
        yield FieldRow("Goals", goals, classes="page-1")
        yield FieldRow("Constraints", constraints, classes="page-1")
        yield self._page_bar(1)

    @staticmethod
    def _page_bar(page: int) -> PageBar:
        page_bar = PageBar(id="brief-hint")
        page_bar.show_page(page)
        return page_bar

    def _last_line(self) -> Widget:
        """The form's last line: the page bar, or the row of the page bar and the last page's button."""
        return self.query_children("#brief-buttons, #brief-hint").first()

    def _keep_agents(self, agents: list[AgentInfo]) -> None:
        self._agents = [agent for agent in agents if agent.enabled]
        self._all_agents = agents
        self._agents_known.set()

    def set_agents(self, agents: list[AgentInfo]) -> None:
        """The agents, once the engine is built: the banner says what they are, page 3 lists them."""
        if self._agents_known.is_set():
            return
        self._keep_agents(agents)
        self.query_one("#brief-banner", Static).update(agents_banner(agents))

    def watch_has_focus(self, _has_focus: bool) -> None:
        """Restyle the form alone when it gains or loses the focus.

        Textual restyles a widget and all its descendants then, in case a rule
        depends on the focus of an ancestor; no rule here does, and restyling
        the whole form took longer than the first frame to paint.
        """
        self.app.stylesheet.update_nodes([self], animate=True)

    def focus_first(self) -> None:
        """The first field of the first page."""
        self._show(1)
        self.query_one("#brief-name", Input).focus()

    def action_start_typing(self) -> None:
        """Enter on the form itself: go to the first field of the page on show."""
        self._page_fields(self.page)[0].focus()

    def on_key(self, event: Key) -> None:
        """Letters typed right after Enter go to the field it chose, though it has no focus yet.

        The focus moves a turn after Enter's action, and a terminal delivers a fast
        typist's keys together: those already on their way reach the form itself
        (even before Enter's action runs), and were lost.
        """
        if event.key == "enter" and self.screen.focused is self:
            first = self._page_fields(self.page)[0]
            self._typing_into = first if isinstance(first, Input) else None
            return  # Enter's binding moves the focus
        field = self._typing_into
        if field is None or self.screen.focused is not self:
            self._typing_into = None  # the field has the focus now, or the user went elsewhere
            return
        if event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            # The focus on its way must not select what is typed ahead: the next key would replace it.
            field.select_on_focus = False
            field.insert_text_at_cursor(event.character)

    def on_descendant_blur(self, event: DescendantBlur) -> None:
        """A field left selects its text again the next time it takes the focus (Textual's default)."""
        if isinstance(event.widget, Input):
            event.widget.select_on_focus = True

    # ---------------------------------------------------------------- pages

    async def show_page(self, page: int, *, focus_last: bool = False) -> None:
        """Show `page` (building it the first time) and focus its first field, or its last."""
        await self._build_pages({page})
        self._show(page)
        fields = self._page_fields(page)
        fields[-1 if focus_last else 0].focus()

    async def _build_pages(self, pages: set[int]) -> None:
        """Build and mount the pages of `pages` not built yet, in order, before the last line."""
        from orkestra_tui.tui.widgets import brief_pages

        async with self._building:  # one at a time: a second caller finds the pages built
            for page in sorted(pages - self._pages_built):
                if page == 3:
                    await self._agents_known.wait()  # the engine is being built: a moment at most
                self._pages_built.add(page)
                if page == 2:
                    built = brief_pages.details_page()
                else:
                    built = brief_pages.committee_page(self._agents, self._default_method)
                built.add_class(f"page-{page}", "-other-page")
                after = max(number for number in self._pages_built if number < page)
                await self.mount(built, after=self.query_children(f".page-{after}").last())
                if page == 3:
                    # The last line becomes a row: the page bar (drawn again, as it holds nothing
                    # else), and the button beside it.
                    button = brief_pages.next_button()
                    button.display = self.page == 3
                    await self.query_one(PageBar).remove()
                    await self.mount(Horizontal(self._page_bar(self.page), button, id="brief-buttons"))

    def _show(self, page: int) -> None:
        """Show the built page `page`, the others hidden."""
        self.page = page
        for number in self._pages_built:
            for part in self.query_children(f".page-{number}"):
                part.set_class(number != page, "-other-page")
        for button in self.query("#brief-next"):
            button.display = page == len(PAGES)
        self.query_one(PageBar).show_page(page)
        self.scroll_home(animate=False)

    def _page_fields(self, page: int) -> list[Widget]:
        """The widgets that take the focus on `page`, in order (its button included, on the last)."""
        fields = [
            widget
            for part in self.query_children(f".page-{page}")
            for widget in part.query("*")
            if widget.can_focus and widget.display
        ]
        if page == len(PAGES):
            fields.extend(self.query("#brief-next"))
        return fields

    def on_page_bar_page_chosen(self, message: PageBar.PageChosen) -> None:
        message.stop()
        self.run_worker(self.show_page(message.page), group="brief-pages", exclusive=True)

    async def action_next_field(self) -> None:
        """Tab: the next field; from a page's last field, the next page's first."""
        focused = self.screen.focused
        if focused is self:
            self.action_start_typing()
            return
        fields = self._page_fields(self.page)
        if focused is fields[-1] and self.page < len(PAGES):
            await self.show_page(self.page + 1)
        else:
            self.screen.focus_next()

    async def action_previous_field(self) -> None:
        """Shift+Tab: the field before; from a page's first field, the previous page's last."""
        if self.screen.focused is self._page_fields(self.page)[0] and self.page > 1:
            await self.show_page(self.page - 1, focus_last=True)
        else:
            self.screen.focus_previous()

    # ------------------------------------------------------------- features

    @on(Input.Submitted, "#brief-feature")
    async def _add_feature(self, event: Input.Submitted) -> None:
        event.stop()
        feature = " ".join(event.value.split())
        if not feature:
            await self.action_next_field()
            return
        if self._add_features([feature]):
            event.input.value = ""

    def on_feature_input_pasted(self, event: FeatureInput.Pasted) -> None:
        from orkestra_tui.tui.widgets.brief_pages import FEATURE_LIMIT

        event.stop()
        self._add_features([" ".join(line.split())[:FEATURE_LIMIT] for line in event.lines])

    def _add_features(self, features: list[str]) -> bool:
        """Add the features not on the list yet; say which ones were already. Whether all were new."""
        repeated = [feature for feature in features if feature in self._features]
        self._features.extend(dict.fromkeys(f for f in features if f not in self._features))
        self._show_features()
        if repeated:
            verb = "is" if len(repeated) == 1 else "are"
            self.show_errors({"features": f"{', '.join(map(repr, repeated))} {verb} on the list already"})
            self.query_one("#brief-feature", Input).focus()
        else:
            self.show_errors({})
        return not repeated

    @on(Input.Changed, "#brief-feature")
    def _feature_changed(self) -> None:
        self._clear_error("features")

    def _features_list(self) -> OptionList | None:
        """The list of features, once its page is built."""
        from textual.widgets import OptionList

        found = self.query("#brief-features").results(OptionList)
        return next(iter(found), None)

    def _show_features(self) -> None:
        features = self._features_list()
        if features is not None:
            features.set_options([plain(f"• {feature}") for feature in self._features])
            features.display = bool(self._features)

    def action_remove_feature(self) -> None:
        features = self._features_list()
        if features is None or self.screen.focused is not features or features.highlighted is None:
            return
        del self._features[features.highlighted]
        self._after_removal()

    def action_remove_last_feature(self) -> None:
        """Delete or Backspace in the empty features field: the last feature goes."""
        if self._features:
            self._features.pop()
            self._after_removal()

    def _after_removal(self) -> None:
        self._show_features()
        self._clear_error("features")  # "already on the list" may no longer be true
        if not self._features:
            self.query_one("#brief-feature", Input).focus()

    def _clear_error(self, field: str) -> None:
        for error in self.query(f"#{field}-error").results(Static):
            error.update("")
            error.remove_class("-shown")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Asked for every binding each time the key bar is drawn: the focus alone answers, no query.
        focused = self.screen.focused
        if action == "remove_feature":
            return focused is not None and focused.id == "brief-features"
        if action == "remove_last_feature":
            return (
                isinstance(focused, Input)
                and focused.id == "brief-feature"
                and not focused.value
                and bool(self._features)
            )
        if action == "start_typing":
            return focused is self
        if action in ("next_field", "previous_field"):
            # Within the form; the select's open list keeps its own keys.
            return focused is not None and self in focused.ancestors_with_self
        return True

    @on(Input.Submitted, "#brief-name, #brief-goals, #brief-constraints, #brief-repository")
    async def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        await self.action_next_field()

    @on(Input.Changed, "#brief-name")
    def _name_changed(self) -> None:
        self.show_errors({})

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "brief-next":
            event.stop()
            self.submit()

    # --------------------------------------------------------------- submit

    def brief(self) -> Brief:
        """The brief as filled in; a page not built yet gives its fields' defaults."""
        from textual.widgets import RadioSet, Select, SelectionList, TextArea

        from orkestra_tui.engine.models import Involvement
        from orkestra_tui.engine.planning.planning import Brief

        description = ""
        involvement = Involvement.CHECKPOINTS
        agents = tuple(agent.name for agent in self._agents)
        method = self._default_method
        repository = ""
        if 2 in self._pages_built:
            description = self.query_one("#brief-description", TextArea).text
            repository = self.query_one("#brief-repository", Input).value.strip()
        if 3 in self._pages_built:
            pressed = self.query_one("#brief-involvement", RadioSet).pressed_button
            if pressed is not None:
                involvement = Involvement(int(pressed.name or 2))
            agents = tuple(self.query_one("#brief-agents", SelectionList).selected)
            method = str(self.query_one("#brief-method", Select).value)
        return Brief(
            name=self.query_one("#brief-name", Input).value.strip(),
            description=description,
            goals=self.query_one("#brief-goals", Input).value.strip(),
            constraints=self.query_one("#brief-constraints", Input).value.strip(),
            features=tuple(self._features),
            involvement=involvement,
            agents=agents,
            method=method,
            repository=repository,
        )

    def submit(self) -> None:
        """Post the brief for the screen to start the plan; the engine's problems come back by field."""
        self.show_errors({})
        self.post_message(self.Submitted(self.brief()))

    def show_errors(self, errors: dict[str, str]) -> None:
        """Show each problem under its field (none clears them), and the page and field of the first.

        A field the form has no error line for (the involvement, whose buttons cannot be wrong)
        shows its problem on the form's line. A page not built yet is built first.
        """
        errors = {field if field in FIELDS else "form": problem for field, problem in errors.items()}
        pages = {PAGE_OF_FIELD[field] for field in errors if field in PAGE_OF_FIELD}
        if pages - self._pages_built:
            self.call_next(self._show_errors_when_built, errors, pages)
            return
        focus = {
            "name": "#brief-name",
            "description": "#brief-description",
            "features": "#brief-feature",
            "repository": "#brief-repository",
            "agents": "#brief-agents",
            "method": "#brief-method",
        }
        for field in errors:
            self._add_error_line(field)
        first = next((field for field in FIELDS if field in errors), None)
        if first in PAGE_OF_FIELD:
            self._show(PAGE_OF_FIELD[first])
        show_field_errors(self, FIELDS, errors, focus)

    async def _show_errors_when_built(self, errors: dict[str, str], pages: set[int]) -> None:
        await self._build_pages(pages)
        self.show_errors(errors)

    def _add_error_line(self, field: str) -> None:
        """Add the field's error line, under its row, unless it is there already."""
        if self.query(f"#{field}-error"):
            return
        line = Static(id=f"{field}-error", classes="field-error")
        if field in ERROR_AFTER:
            field_widget = self.query_one(ERROR_AFTER[field])
            row = field_widget.parent
            if row is not None and row.parent is self:  # a row of the first page: the line is on it too
                line.add_class("page-1")
                line.set_class(self.page != 1, "-other-page")
            if isinstance(row, FieldRow) and isinstance(row.parent, Widget):
                row.parent.mount(line, after=row)
            elif isinstance(row, Widget):
                row.mount(line, after=field_widget)
        else:
            self.mount(line, before=self._last_line())

    def clear(self) -> None:
        """An empty brief, for the next project, from its first page."""
        from textual.widgets import TextArea

        text_fields = "#brief-name, #brief-goals, #brief-constraints, #brief-feature, #brief-repository"
        for field in self.query(text_fields).results(Input):
            field.value = ""
        for description in self.query("#brief-description").results(TextArea):
            description.text = ""
        self._features.clear()
        self._show_features()
        self.show_errors({})
        self._show(1)
