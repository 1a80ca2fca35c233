"""`orkestra serve` in a real headless browser: Debian's chromium, driven by Selenium and chromium-driver.

The page draws the terminal (xterm.js) on a canvas, so the DOM holds none of the
screen's text. The page keeps its terminal in a local object, so the test reads
it this way: before the page loads, a script makes the first object that gets a
`fitAddon` property (textual-serve's terminal view, in its constructor) known as
`window.orkestraTerminalView`; then the test reads the rows of that view's xterm
buffer, which is exactly what the canvas shows. Keys go where a user's do: into
xterm's hidden textarea, which has the focus.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from serving import WAIT_LIMIT_S, children_of, is_gone, new_home, poll, serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these, chromium's own connections to the internet are refused, many at a time.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,800",
)

FIND_THE_TERMINAL = """
Object.defineProperty(Object.prototype, "fitAddon", {
  configurable: true,
  set(value) {
    window.orkestraTerminalView = this;
    Object.defineProperty(this, "fitAddon", {value, writable: true, configurable: true, enumerable: true});
  },
});
"""
READ_THE_SCREEN = """
const view = window.orkestraTerminalView;
if (!view || !view.terminal) return null;
const buffer = view.terminal.buffer.active;
const rows = [];
for (let row = 0; row < view.terminal.rows; row++) {
  const line = buffer.getLine(buffer.viewportY + row);
  rows.push(line ? line.translateToString(true) : "");
}
return rows.join("\\n");
"""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} missing; .ci/run installs chromium and chromium-driver")
        pytest.skip(
            f"no headless browser: {', '.join(missing)} missing (apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium'}")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FIND_THE_TERMINAL})
        yield driver
    finally:
        driver.quit()


def screen_text(browser: webdriver.Chrome) -> str:
    text = browser.execute_script(READ_THE_SCREEN)
    return text if isinstance(text, str) else ""


def wait_for(browser: webdriver.Chrome, *needles: str) -> str:
    """The page's screen once it shows every one of `needles`; fails with what it shows otherwise."""
    return str(
        poll(
            f"the page showing {needles}",
            lambda: (text := screen_text(browser)) and all(needle in text for needle in needles) and text,
            lambda: f"the page shows:\n{screen_text(browser)}",
        )
    )


def test_the_page_shows_the_plan_screen_and_2_shows_the_board(
    tmp_path: Path, browser: webdriver.Chrome
) -> None:
    home = new_home(tmp_path)
    with serving(home) as served:
        browser.set_page_load_timeout(WAIT_LIMIT_S)
        browser.get(served.url)
        # A new data dir opens the wizard. The screen is drawn in several writes, so wait for all of it.
        wait_for(browser, "› Plan", "Fill in the brief", "1 Brief", "simulated")
        assert browser.execute_script("return document.querySelectorAll('.xterm-screen canvas').length") > 0
        browser.execute_script("document.querySelector('.xterm-helper-textarea').focus()")
        ActionChains(browser).send_keys("2").perform()
        wait_for(browser, "› Board", "No project yet")
        apps = children_of(served.process.pid)
        assert len(apps) == 1
        browser.get("about:blank")  # the tab leaves: its app quits
        poll("the tab's app ending", lambda: all(is_gone(pid) for pid in apps), served.output)
        assert served.stop(signal.SIGINT) == 0
    assert "Traceback" not in served.output()


def test_a_page_without_the_token_is_refused_in_the_browser(
    tmp_path: Path, browser: webdriver.Chrome
) -> None:
    with serving(new_home(tmp_path)) as served:
        browser.get(f"http://127.0.0.1:{served.port}/")
        poll("the refusal", lambda: "403 Forbidden" in browser.page_source, lambda: browser.page_source)
        assert not children_of(served.process.pid)  # no app was started for it
        assert served.stop() == 0
