"""A refused answer on screen: the Health screen's detail and dialog, and the Voting screen's cards.

The answer is hostile: Rich markup, a link, terminal escapes, a bidi override and the agent's
own key. It must read literally, escapes made visible, and the key never shown.
"""

from __future__ import annotations

import json

from fakes import ScriptedProvider, answers, ballot_for
from fresh import current_screen
from test_voting_screen import screen_text

from orkestra_tui.config import Paths, Settings
from orkestra_tui.engine.clock import FixedClock
from orkestra_tui.engine.engine import Engine
from orkestra_tui.tui.app import OrkestraApp
from orkestra_tui.tui.screens.refused_answers import RefusedAnswersScreen
from orkestra_tui.tui.widgets.ballot_card import BallotCard

KEY = "anthropic-key-5e7a9c1b3d5f7a9c1e3b5d7f9a1c3e5b7d"
HOSTILE = (
    "I will not [bold]vote[/] [link=https://evil.example]here[/link] \x1b[2J\x1b]52;c;cGFzdGU=\x07"
    f" \u202eesrever key {KEY} and more words"
)
REPAIRED = json.dumps({"ranking": ["A"], "confidence": 0.5, "reasoning": "second try"})
OPTIONS = ["SQLite", "PostgreSQL"]


async def voted_engine(paths: Paths, settings: Settings, clock: FixedClock) -> Engine:
    """claude refused twice (it abstains), chatgpt repaired, gemini counted at once."""
    engine = Engine(paths, settings, clock=clock, env={"ANTHROPIC_API_KEY": KEY})
    engine.use_provider("claude", ScriptedProvider(answers(HOSTILE, HOSTILE + " again")))
    engine.use_provider("chatgpt", ScriptedProvider(answers("[red]no json[/red]", REPAIRED)))
    engine.use_provider("gemini", ScriptedProvider(ballot_for("SQLite")))
    decision = engine.open_decision(
        "Which database?", OPTIONS, method="plurality", voters=["claude", "chatgpt", "gemini"], max_rounds=1
    )
    await engine.decide(decision.id, tie_break="first")
    return engine


def assert_literal(text: str) -> None:
    assert "[bold]vote[/] [link=https://evil.example]here[/link]" in text
    assert "\\x1b[2J\\x1b]52;c;cGFzdGU=\\x07" in text and "\\u202eesrever" in text
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert KEY not in text and KEY[:20] not in text


async def test_the_health_screen_shows_the_last_refused_answer_and_enter_shows_them_all(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    engine = await voted_engine(paths, settings, clock)
    app = OrkestraApp(engine, first_mode="health")
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "refused ballot answer, round 1 (Enter: in full): answer holds no JSON object" in text
        assert "│ I will not [bold]vote[/] [link=https://evil.example]here[/link] \\x1b[2J" in text
        assert "\x1b" not in text

        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RefusedAnswersScreen)
        assert len(app.screen.answers) == 2
        text = screen_text(app)
        assert "claude's refused answers" in text
        assert_literal(text)
        endings = [line for line in text.splitlines() if "[redacted] and more words" in line]
        assert ["again" in line for line in endings] == [True, False]  # whole, the newest first
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(current_screen(app), RefusedAnswersScreen)

        await pilot.press("down", "down")  # gemini: every answer was used
        await pilot.pause()
        assert "refused ballot answer" not in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(current_screen(app), RefusedAnswersScreen)
        assert any("gemini has no refused answers" in str(toast.message) for toast in app._notifications)
    engine.close()


async def test_the_ballot_card_shows_the_answer_behind_an_abstention_and_a_repair(
    paths: Paths, settings: Settings, clock: FixedClock
) -> None:
    engine = await voted_engine(paths, settings, clock)
    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        cards = {card.card.voter: card for card in app.screen.query(BallotCard) if card.card}
        assert [len(cards[voter].card.refused) for voter in ("claude", "chatgpt", "gemini")] == [2, 1, 0]  # type: ignore[union-attr]  # only cards with a ballot were kept
        claude = cards["claude"].render().plain
        assert "the last of 2 answers: I will not [bold]vote[/]" in claude
        assert_literal(claude)
        chatgpt = cards["chatgpt"].render().plain
        assert "counted after a repair; the refused answer: [red]no json[/red]" in chatgpt
        assert "answer" not in cards["gemini"].render().plain
        text = screen_text(app)
        assert "the last of 2 answers: I will not [bold]vote[/]" in text
        assert "counted after a repair; the refused answer: [red]no json[/red]" in text
        assert "\x1b" not in text and KEY not in text
        assert not any("link" in str(span.style) for span in cards["claude"].render().spans)
    engine.close()
