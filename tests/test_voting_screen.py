"""The Voting screen from the keyboard: live votes, the human's ballot, questions, feedback, tie-breaks."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from fakes import ScriptedProvider, ballot_for
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import HUMAN_VOTER, Decision, DecisionStatus, InboxKind, InboxStatus
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.feedback import FeedbackScreen
from orkestra_tui.tui.screens.help import HelpScreen
from orkestra_tui.tui.screens.human_ballot import HumanBallotScreen
from orkestra_tui.tui.screens.new_question import NewQuestionScreen
from orkestra_tui.tui.screens.tie_break import TieBreakScreen
from orkestra_tui.tui.screens.voting import VotingScreen
from orkestra_tui.tui.widgets.ballot_card import BallotCard
from orkestra_tui.tui.widgets.decision_detail import DecisionDetail
from orkestra_tui.tui.widgets.decision_list import DecisionList
from orkestra_tui.tui.widgets.mode_bar import ModeBar
from orkestra_tui.tui.widgets.ranking_editor import RankingEditor
from orkestra_tui.tui.widgets.tally_bars import TallyBars

SIZE = (100, 30)
TIED = ("Ship on Friday", "Ship on Monday")
VOTERS = ("claude", "chatgpt", "gemini", "copilot")
SAMPLE_VOTE_UNDER_WAY = 3
"""The sample's vote in its second round, waiting for the human's ballot."""
KEY_NAMES = {"tab", "enter", "backspace"}
"""Keys pressed by name in the form tests; any other string is typed."""
HOSTILE_REASONING = "[bold]not bold[/] [link=https://evil.example]click[/link] \x1b[31mred\x1b[0m done"


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Let the app work until `condition` holds (no fixed sleeps: each pause waits for the app)."""
    for _ in range(300):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"never happened: {what}")


def screen_text(app: OrkestraApp) -> str:
    """The screen as plain lines, rebuilt from its SVG screenshot (which leaves out runs of spaces)."""
    svg = app.export_screenshot()
    lines: dict[float, list[str]] = {}
    for x, y, length, content in re.findall(
        r'<text [^>]*?x="([0-9.]+)" y="([0-9.]+)" textLength="([0-9.]+)"[^>]*>(.*?)</text>', svg
    ):
        text = html.unescape(content).replace("\xa0", " ")
        line = lines.setdefault(float(y), [])
        column = round(float(x) / (float(length) / len(text))) if text else 0
        line.extend(" " * (column - len(line)))
        line[column : column + len(text)] = text
    return "\n".join("".join(line) for _y, line in sorted(lines.items()))


def tied_decision(engine: Engine) -> Decision:
    """Two agents for each option, one round of plurality: a tie that no agent can mediate."""
    for voter, option in zip(VOTERS, (TIED[0], TIED[0], TIED[1], TIED[1]), strict=True):
        engine.use_provider(voter, ScriptedProvider(ballot_for(option)))
    return engine.open_decision("When do we ship?", TIED, method="plurality", voters=VOTERS, max_rounds=1)


def tie_break_modals(app: OrkestraApp) -> int:
    return sum(isinstance(screen, TieBreakScreen) for screen in app.screen_stack)


# ------------------------------------------------------------------ the screen


def is_decided(engine: Engine, decision_id: int) -> bool:
    decision = engine.store.decision(decision_id)
    return decision is not None and decision.status is DecisionStatus.DECIDED


async def test_the_vote_under_way_shows_its_round_tally_and_voters(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        detail = app.screen.query_one(DecisionDetail)
        assert detail.view is not None and detail.view.decision.id == SAMPLE_VOTE_UNDER_WAY
        tally = app.screen.query_one(TallyBars).tally
        assert tally is not None
        assert tally.title == "Round 2 of 3 · first choices, 5 of 6 ballots in"
        assert tally.waiting == (HUMAN_VOTER,)
        assert sum(count for _label, _option, count in tally.rows) == 5
        cards = [card.card for card in app.screen.query(BallotCard)]
        assert [card.voter for card in cards if card] == [
            "claude",
            "chatgpt",
            "gemini",
            "copilot",
            "grok",
            "human",
        ]
        text = screen_text(app)
        assert "Waiting for: you (press h)" in text
        assert "Your feedback for round 2" in text
        assert "This round: estimated $0.0000" in text


async def test_a_ballot_shows_as_it_arrives(engine: Engine) -> None:
    fakes = {voter: ScriptedProvider(ballot_for(TIED[0])) for voter in VOTERS}
    fakes["copilot"].blocking = True
    for voter, fake in fakes.items():
        engine.use_provider(voter, fake)
    decision = engine.open_decision("When do we ship?", TIED, method="plurality", voters=VOTERS, max_rounds=1)
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.run_committee(decision.id)
        bars = app.screen.query_one(TallyBars)
        await wait_until(
            pilot, lambda: bars.tally is not None and bars.tally.waiting == ("copilot",), "3 ballots"
        )
        assert bars.tally is not None
        assert "3 of 4 ballots in" in bars.tally.title
        assert "copilot  thinking…" in screen_text(app)
        fakes["copilot"].release.set()
        await wait_until(pilot, lambda: bars.tally is not None and bars.tally.winner == TIED[0], "the result")
        assert "plurality" in screen_text(app) and "Result:" in screen_text(app)


async def test_ranked_choice_shows_its_eliminations(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "down")
        await pilot.pause()
        detail = app.screen.query_one(DecisionDetail)
        assert detail.view is not None and detail.view.decision.method == "ranked_choice"
        eliminated = [step.eliminated for step in detail.view.runoff]
        assert len(eliminated) == 3 and eliminated[-1] is None and all(eliminated[:2])
        assert detail.view.pairwise is None
        await pilot.press("down")
        await pilot.pause()
        condorcet = detail.view  # a new view, read afresh: mypy keeps the one narrowed above
        assert condorcet is not None and condorcet.decision.method == "condorcet"
        assert condorcet.pairwise is not None and condorcet.runoff == ()
        assert "Head to head" in screen_text(app)


async def test_agent_text_with_markup_and_escapes_is_shown_literally(engine: Engine) -> None:
    engine.use_provider("claude", ScriptedProvider(ballot_for(TIED[0], reasoning=HOSTILE_REASONING)))
    decision = engine.open_decision("Markup?", TIED, method="plurality", voters=["claude"], max_rounds=1)
    await engine.decide(decision.id)
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "[bold]not bold[/] [link=https://evil.example]click[/link]" in text
        assert "\\x1b[31mred\\x1b[0m done" in text
        assert "\x1b" not in text
        (card,) = app.screen.query(BallotCard)
        rendered = card.render()
        assert "[bold]not bold[/]" in rendered.plain
        assert not any("link" in str(span.style) for span in rendered.spans)


# ------------------------------------------------------------------ the human's ballot


async def test_the_human_ranks_and_casts_a_ballot(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "h")
        await pilot.pause()
        assert isinstance(app.screen, HumanBallotScreen)
        editor = app.screen.query_one(RankingEditor)
        first, second, third = (text for _label, text in editor.entries)
        # Cursor to the second option, move it up to first place, then drop the third.
        await pilot.press("down", "shift+up", "down", "down", "space")
        assert editor.ranking == (second, first)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, VotingScreen)
        human = [
            ballot
            for ballot in sample_engine.store.ballots(SAMPLE_VOTE_UNDER_WAY, 2)
            if ballot.voter == HUMAN_VOTER
        ]
        assert [ballot.ranking for ballot in human] == [(second, first)]
        assert third not in human[0].ranking


async def test_h_does_nothing_where_the_human_does_not_vote(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "down", "h")
        await pilot.pause()
        assert isinstance(app.screen, VotingScreen)
        assert app.screen.check_action("human_ballot", ()) is None  # shown dimmed in the key bar


# ------------------------------------------------------------------ new questions and feedback


async def test_a_question_put_from_the_form_is_voted_on(engine: Engine) -> None:
    posted: list[Message] = []
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NewQuestionScreen)
        await pilot.press(*"Which queue?", "tab", *"Redis", "enter", *"RabbitMQ", "enter", *"Kafka", "tab")
        await pilot.press("enter", "down", "down", "enter")  # method: majority -> ranked choice
        await pilot.press("tab", "backspace", "3")  # max rounds
        await pilot.press("tab", "tab", "tab", *"ops", "tab")  # past threshold and quorum, to category
        await pilot.press("end", "space")  # voters: "me" as well
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, VotingScreen)
        (decision,) = engine.decisions()
        assert decision.question == "Which queue?"
        assert decision.options == ("Redis", "RabbitMQ", "Kafka")
        assert (decision.method, decision.max_rounds, decision.category) == ("ranked_choice", 3, "ops")
        assert decision.rules == {"threshold": 0.75, "quorum": "majority"}
        assert decision.voters == (*engine.runtimes, HUMAN_VOTER)
        assert {m.decision_id for m in posted if isinstance(m, VotingScreen.QuestionPut)} == {decision.id}
        # The committee votes at once, and asks for the human's ballot.
        await wait_until(
            pilot,
            lambda: any(item.kind is InboxKind.BALLOT for item in engine.inbox.open_items()),
            "the ballot request",
        )
        assert app.screen.query_one(DecisionList).highlighted_decision_id == decision.id


@pytest.mark.parametrize(
    ("keys", "field", "message"),
    [
        ((), "question", "a decision needs a question"),
        (("Q?", "tab", "only one"), "options", "a decision needs at least two non-empty options"),
        (
            (
                "Q?",
                "tab",
                "A",
                "enter",
                "B",
                "tab",
                "tab",
                "tab",
                "backspace",
                "backspace",
                "backspace",
                "backspace",
                "2",
            ),
            "rules",
            "threshold must be a number from 0 to 1, not 2",
        ),
        (("Q?", "tab", "A", "enter", "B", "tab", "tab", "backspace", "0"), "rounds", "at least one round"),
        (("Q?", "tab", "A", "enter", "A"), "options", "two options are the same"),
    ],
    ids=["no-question", "one-option", "threshold", "rounds", "same-options"],
)
async def test_the_form_shows_what_is_wrong_beside_the_field(
    engine: Engine, keys: tuple[str, ...], field: str, message: str
) -> None:
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        for key in keys:
            await pilot.press(*([key] if key in KEY_NAMES else key))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, NewQuestionScreen)
        error = app.screen.query_one(f"#{field}-error", Static)
        assert message in str(error.render())
        assert error.display
        assert engine.decisions() == []


async def test_feedback_goes_to_the_next_round(sample_engine: Engine) -> None:
    app = OrkestraApp(sample_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "f")
        await pilot.pause()
        assert isinstance(app.screen, FeedbackScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "feedback cannot be empty" in str(app.screen.query_one("#feedback-error", Static).render())
        await pilot.press(*"Mind the [b]night[/b] shift.", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, VotingScreen)
        last = sample_engine.store.feedback(SAMPLE_VOTE_UNDER_WAY)[-1]
        assert (last.round, last.text) == (3, "Mind the [b]night[/b] shift.")
        assert "Your feedback for round 3: Mind the [b]night[/b] shift." in screen_text(app)


# ------------------------------------------------------------------ tie-breaks


async def test_the_tie_break_opens_by_itself_and_enter_confirms_the_choice(engine: Engine) -> None:
    decision = tied_decision(engine)
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.run_committee(decision.id)
        await wait_until(pilot, lambda: isinstance(app.screen, TieBreakScreen), "the tie-break modal")
        modal = app.screen
        assert isinstance(modal, TieBreakScreen)
        assert [option for option, _support in modal.options] == sorted(TIED)
        await pilot.press("enter")  # nothing picked yet: it says so and stays
        assert isinstance(app.screen, TieBreakScreen)
        assert "Pick an option first" in str(modal.query_one("#tie-error", Static).render())
        await pilot.press("9")  # out of range: ignored
        assert modal.picked is None
        await pilot.press("2", "enter")
        await wait_until(pilot, lambda: is_decided(engine, decision.id), "the decision")
        decided = engine.store.decision(decision.id)
        assert decided is not None and decided.outcome is not None
        assert decided.outcome["winner"] == sorted(TIED)[1]
        assert decided.outcome["how"] == "human tie-break"
        assert isinstance(app.screen, VotingScreen)
        assert app.tie_breaks_waiting == 0
        assert "tie-break" not in str(app.screen.query_one(ModeBar).render())


async def test_escape_defers_the_badge_reminds_and_ctrl_t_reopens_anywhere(engine: Engine) -> None:
    decision = tied_decision(engine)
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.run_committee(decision.id)
        await wait_until(pilot, lambda: isinstance(app.screen, TieBreakScreen), "the tie-break modal")
        await pilot.press("ctrl+t")  # already open: never a second one
        assert tie_break_modals(app) == 1
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, VotingScreen)
        assert app.tie_breaks_waiting == 1
        assert "1 tie-break" in str(app.screen.query_one(ModeBar).render())
        assert "Waiting for your tie-break" in screen_text(app)
        (request,) = engine.inbox.open_items()
        assert request.kind is InboxKind.TIE_BREAK and request.status is InboxStatus.OPEN
        await pilot.press("4")  # another screen
        await pilot.pause()
        assert app.current_mode == "health"
        assert "1 tie-break" in str(app.screen.query_one(ModeBar).render())
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert isinstance(app.screen, TieBreakScreen)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: is_decided(engine, decision.id), "the decision")
        assert app.current_mode == "health" and app.tie_breaks_waiting == 0


async def test_the_help_lists_the_tie_break_key(engine: Engine) -> None:
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        everywhere = dict(app.screen.sections)["Everywhere"]
        assert any(getattr(binding, "key", "") == "ctrl+t" for binding in everywhere)


# ------------------------------------------------------------------ the committee's workers


async def test_a_vote_that_fails_becomes_an_error_notification(engine: Engine) -> None:
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        app.run_committee(404)
        await wait_until(pilot, lambda: "The vote stopped" in screen_text(app), "the notification")
        assert "there is no decision 404" in screen_text(app)
        assert app.is_running


async def test_closing_the_app_stops_the_votes_and_the_next_start_resumes_them(engine: Engine) -> None:
    fakes = {voter: ScriptedProvider(ballot_for(TIED[1])) for voter in VOTERS}
    fakes["copilot"].blocking = True
    for voter, fake in fakes.items():
        engine.use_provider(voter, fake)
    decision = engine.open_decision("When do we ship?", TIED, method="plurality", voters=VOTERS, max_rounds=1)
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.run_committee(decision.id)
        await wait_until(pilot, lambda: len(engine.store.ballots(decision.id, 1)) == 3, "three ballots")
    assert [item.id for item in engine.decisions_under_way()] == [decision.id]
    fakes["copilot"].blocking = False
    again = OrkestraApp(engine, first_mode="voting")
    async with again.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: is_decided(engine, decision.id),
            "the resumed vote",
        )
    assert len(engine.store.ballots(decision.id, 1)) == 4
    assert [request.purpose for request in fakes["claude"].requests] == ["ballot"]  # not asked again


async def test_text_fields_keep_digits_and_letters(engine: Engine) -> None:
    """Keys that switch screens or act on the list type into the form's fields instead."""
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"Use 3 hosts, n f h?", "tab", *"2 nodes")
        assert isinstance(app.screen, NewQuestionScreen)
        assert app.screen.query_one("#question-text", Input).value == "Use 3 hosts, n f h?"
        assert app.screen.query_one(TextArea).text == "2 nodes"


def test_the_voting_bench_measures_keys_while_ballots_stream() -> None:
    from orkestra_tui.bench import voting

    figures = voting.run(quick=True)
    assert figures["keys"] == voting.QUICK_KEYS
    assert figures["ballots_during_measure"] > 0
    assert {"key_to_paint_ms", "idle_key_to_paint_ms", "key_to_paint_p95_ms"} <= set(figures)
