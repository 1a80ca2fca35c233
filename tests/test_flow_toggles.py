"""Checkboxes and radio buttons read checked or not by their glyph, in any colour depth."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import RadioSet

from orkestra_tui.tui.widgets.toggles import MarkedRadioButton, MarkedSelectionList


class Toggles(App[None]):
    def compose(self) -> ComposeResult:
        with RadioSet():
            yield MarkedRadioButton("hands-off", value=False)
            yield MarkedRadioButton("checkpoints", value=True)
        yield MarkedSelectionList[str](("claude", "claude", True), ("gemini", "gemini", False))


async def test_checked_and_unchecked_differ_in_glyph_not_only_in_colour() -> None:
    app = Toggles()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        text = "\n".join(line.rstrip() for line in app.export_screenshot().splitlines())
        buttons = [str(button.render()) for button in app.query(MarkedRadioButton)]
        assert buttons[0].startswith("( )") and buttons[1].startswith("(•)")
        selection = app.query_one(MarkedSelectionList)
        lines = ["".join(segment.text for segment in selection.render_line(y)) for y in range(2)]
        assert lines[0].startswith("[x] claude") and lines[1].startswith("[ ] gemini")
        assert "▐" not in text
        await pilot.press("tab", "down", "space")  # into the list; select gemini
        lines = ["".join(segment.text for segment in selection.render_line(y)) for y in range(2)]
        assert lines[1].startswith("[x] gemini") and selection.selected == ["claude", "gemini"]
