"""Every number setting has a range beside its definition: config.toml and the command line keep to it.

A value below, above or absurdly above its range (20 digits, past what SQLite
stores), or NaN and infinity where a fraction is allowed, is one line naming the
file, the line and the key, and exit status 2 for a command; never a traceback.
"""

from __future__ import annotations

from dataclasses import MISSING, Field, fields
from pathlib import Path
from typing import Any

import pytest
from processes import orkestra

from orkestra_tui.cli import main
from orkestra_tui.config import (
    AgentSettings,
    Bounds,
    ConfigError,
    EngineSettings,
    Paths,
    Settings,
    SimulationSettings,
    parse_settings,
    render_config,
    setting_bounds,
)
from orkestra_tui.engine.engine import Engine, EngineError

ABSURD = "99999999999999999999"
"""Twenty digits: more than a 64-bit integer (SQLite's) holds."""
CONFIG = Path("/home/ann/config.toml")
AGENT = 'name = "a"\nprovider = "simulated"\n'
VOTE = ("vote", "Q?", "--option", "A", "--option", "B", "--tie-break", "first")


def number_fields() -> list[tuple[str, Field[Any]]]:
    """(section, field) for every number setting, the specialties' weights included."""
    found = []
    for section, kind in (
        ("engine", EngineSettings),
        ("simulation", SimulationSettings),
        ("agents", AgentSettings),
    ):
        found += [(section, item) for item in fields(kind) if item.metadata.get("bounds") is not None]
    return found


NUMBER_FIELDS = number_fields()
IDS = [f"{section}.{item.name}" for section, item in NUMBER_FIELDS]


def config_text(section: str, key: str, value: str) -> str:
    """config.toml setting `key` of `section` to the TOML `value`, the key on line 3."""
    if section == "agents":
        if key == "specialties":
            return f"[[agents]]\n{AGENT}[agents.specialties]\ncode = {value}\n"
        return f"[[agents]]\n{AGENT}{key} = {value}\n"
    return f"# the first line\n[{section}]\n{key} = {value}\n"


def expected_line(section: str, key: str) -> int:
    return 5 if key == "specialties" else (4 if section == "agents" else 3)


def problem(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, CONFIG)
    return caught.value


def toml_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def outside_values(bounds: Bounds) -> list[str]:
    """A value just below the range, just above it, and absurdly above it (as TOML)."""
    step = 1 if isinstance(bounds.low, int) and isinstance(bounds.high, int) else 0.5
    below = bounds.low if bounds.low_excluded else bounds.low - step
    return [toml_number(below), toml_number(bounds.high + step), ABSURD]


# ------------------------------------------------------------------ the ranges


def test_every_number_setting_has_a_range_and_its_default_is_in_it() -> None:
    every_number = [
        item.name
        for kind in (EngineSettings, SimulationSettings, AgentSettings)
        for item in fields(kind)
        if item.type in ("int", "float", "float | str", "dict[str, float]")
    ]
    assert [item.name for _, item in NUMBER_FIELDS] == every_number
    defaults: dict[str, Any] = {
        "engine": EngineSettings(),
        "simulation": SimulationSettings(),
        "agents": AgentSettings(name="a", provider="simulated"),
    }
    for section, item in NUMBER_FIELDS:
        bounds = item.metadata["bounds"]
        assert bounds.low < bounds.high
        if item.name == "specialties":
            continue  # an empty table by default; each weight is checked
        default = getattr(defaults[section], item.name)
        if isinstance(default, str):
            continue  # a word that stands for a share (quorum = "majority")
        assert default in bounds, item.name
    for agent in Settings().agents:
        assert all(
            weight in setting_bounds(AgentSettings, "specialties") for weight in agent.specialties.values()
        )


def test_the_first_run_config_shows_each_range_beside_its_key() -> None:
    text = render_config(Settings())
    assert "#   max_rounds: Most voting rounds before a deadlock is declared. (1 to 100)\n" in text
    assert (
        "#   agent_timeout_s: Seconds an agent may take to answer one request. (more than 0, at most 86400)"
        in text
    )
    assert "#   failure_rate: Share of simulated calls that fail with a retryable error. (0 to 1)" in text
    assert "(each 0 to 1)" in text
    for _, item in NUMBER_FIELDS:
        (line,) = [line for line in text.splitlines() if line.startswith(f"#   {item.name}: ")]
        assert line.endswith(f"{item.metadata['bounds'].short()})")


@pytest.mark.parametrize(("section", "item"), NUMBER_FIELDS, ids=IDS)
def test_the_ends_of_each_range_are_accepted(section: str, item: Field[Any]) -> None:
    bounds: Bounds = item.metadata["bounds"]
    ends = [bounds.high] if bounds.low_excluded else [bounds.low, bounds.high]
    for end in ends:
        settings = parse_settings(config_text(section, item.name, toml_number(end)), CONFIG)
        if section == "agents":
            (agent,) = settings.agents
            value = agent.specialties["code"] if item.name == "specialties" else getattr(agent, item.name)
        else:
            value = getattr(getattr(settings, section), item.name)
        assert value == end


@pytest.mark.parametrize(("section", "item"), NUMBER_FIELDS, ids=IDS)
def test_below_above_and_absurdly_above_the_range_is_one_line(section: str, item: Field[Any]) -> None:
    bounds: Bounds = item.metadata["bounds"]
    key = f"{item.name}.code" if item.name == "specialties" else item.name
    where = "[[agents]] #1" if section == "agents" else f"[{section}]"
    for value in outside_values(bounds):
        error = problem(config_text(section, item.name, value))
        assert str(error) == (
            f"{CONFIG}, line {expected_line(section, item.name)}: "
            f"{key} in {where} must be {bounds.describe()}, not {value}"
        )


FRACTION_FIELDS = [
    (section, item) for section, item in NUMBER_FIELDS if item.type in ("float", "dict[str, float]")
]


@pytest.mark.parametrize(
    ("section", "item"), FRACTION_FIELDS, ids=[f"{section}.{item.name}" for section, item in FRACTION_FIELDS]
)
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "10" * 250])
def test_nan_infinity_and_huge_numbers_are_refused_where_fractions_are_allowed(
    section: str, item: Field[Any], value: str
) -> None:
    error = problem(config_text(section, item.name, value))
    message = str(error)
    assert error.line == expected_line(section, item.name)
    assert f"must be a number {item.metadata['bounds'].describe()}, not" in message or (
        f"must be {item.metadata['bounds'].describe()}, not" in message
    )
    assert "\n" not in message


def test_whole_number_settings_refuse_fractions_with_their_range() -> None:
    error = problem(config_text("engine", "max_rounds", "2.5"))
    assert str(error).endswith("max_rounds in [engine] must be a whole number from 1 to 100, not 2.5")


def test_the_bounds_are_exact_for_any_size_of_number() -> None:
    bounds = Bounds(0, 1)
    assert 10**400 not in bounds
    assert -(10**400) not in bounds
    assert float("nan") not in bounds  # noqa: PLW0177 - NaN is in no range
    assert True not in bounds  # a bool is not a number here
    assert 1 in bounds and 0.5 in bounds
    assert 0 not in Bounds(0, 1, low_excluded=True)


def test_no_field_without_a_default_has_bounds() -> None:
    for _, item in NUMBER_FIELDS:
        assert item.default is not MISSING or item.default_factory is not MISSING


# ------------------------------------------------------------ the real command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"[engine]\nmax_rounds = {ABSURD}\n",
            f"line 2: max_rounds in [engine] must be from 1 to 100, not {ABSURD}",
        ),
        (
            "[simulation]\nseed = 7\nfailure_rate = nan\n",
            "line 3: failure_rate in [simulation] must be a number from 0 to 1, not nan",
        ),
        (
            f"[[agents]]\n{AGENT}concurrency = -{ABSURD}\n",
            f"line 4: concurrency in [[agents]] #1 must be from 0 to 1000, not -{ABSURD}",
        ),
    ],
)
def test_the_orkestra_command_exits_2_with_one_line(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "config.toml").write_text(text)
    result = orkestra(tmp_path, "vote", "Which?", "--option", "A", "--option", "B", "--tie-break", "first")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"orkestra: {tmp_path / 'config.toml'}, {expected}\n"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            ("audit", "--limit", ABSURD),
            f"orkestra audit: argument --limit: '{ABSURD}' must be from 0 to 1000000000",
        ),
        (("audit", "--limit", "-5"), "orkestra audit: argument --limit: '-5' must be from 0 to 1000000000"),
        (
            ("audit", "--follow", "--limit", ABSURD),
            f"orkestra audit: argument --limit: '{ABSURD}' must be from 0 to 1000000000",
        ),
        (
            ("run", "--max-concurrent", ABSURD),
            f"orkestra run: argument --max-concurrent: '{ABSURD}' must be from 1 to 1000",
        ),
        (
            ("run", "--max-concurrent", "-1"),
            "orkestra run: argument --max-concurrent: '-1' must be from 1 to 1000",
        ),
        (
            ("decisions", "export", "--decision", ABSURD),
            f"orkestra decisions export: argument --decision: '{ABSURD}' is larger than any id",
        ),
        (
            ("decisions", "export", "--decision", "-3"),
            "orkestra decisions export: argument --decision: '-3' must",
        ),
        ((*VOTE, "--rounds", ABSURD), f"--rounds must be from 1 to 100, not {ABSURD}"),
        ((*VOTE, "--rounds", "101"), "--rounds must be from 1 to 100, not 101"),
        ((*VOTE, "--rounds", "-1"), "--rounds must be from 1 to 100, not -1"),
        (
            ("vote", "--tie-break", "first", "--resume", ABSURD),
            f"--resume takes a decision number, not '{ABSURD}'",
        ),
        (("vote", "--tie-break", "first", "--resume", "-2"), "--resume takes a decision number, not '-2'"),
        ((*VOTE, "--threshold", "nan"), '--threshold must be a number from 0 to 1, not "nan"'),
        ((*VOTE, "--quorum", "inf"), '--quorum must be majority or a number from 0 to 1, not "inf"'),
        (
            ("tally", "ballots.json", "--threshold", ABSURD),
            f'--threshold must be a number from 0 to 1, not "{ABSURD}"',
        ),
        (
            ("plan", "--name", "X", "--description", "Y", "--involvement", ABSURD),
            f'--involvement must be 1, 2 or 3, not "{ABSURD}"',
        ),
    ],
)
def test_integer_options_out_of_range_are_one_line_and_exit_2(
    paths: Paths, capsys: pytest.CaptureFixture[str], arguments: tuple[str, ...], expected: str
) -> None:
    try:
        status = main(["--data-dir", str(paths.config_dir), *arguments])
    except SystemExit as exit_:  # argparse's own exits
        status = int(exit_.code or 0)
    captured = capsys.readouterr()
    assert (status, captured.out) == (2, "")
    assert expected in captured.err
    assert len(captured.err.splitlines()) == 1


def test_the_real_command_refuses_an_absurd_limit_and_rounds(tmp_path: Path) -> None:
    for arguments, expected in (
        (("audit", "--json", "--limit", ABSURD), f"'{ABSURD}' must be from 0 to 1000000000"),
        ((*VOTE, "--rounds", ABSURD), "--rounds must be from 1 to 100"),
        (("decisions", "export", "--out", str(tmp_path), "--decision", ABSURD), "is larger than any id"),
    ):
        result = orkestra(tmp_path, *arguments)
        assert (result.returncode, result.stdout) == (2, "")
        assert expected in result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert "Traceback" not in result.stderr


def test_a_decision_of_too_many_rounds_is_refused_by_the_engine(engine: Engine) -> None:
    with pytest.raises(EngineError, match="a decision has at most 100 rounds, not 101"):
        engine.open_decision("Which?", ["A", "B"], max_rounds=101)


async def test_the_new_question_form_shows_too_many_rounds_beside_the_field(engine: Engine) -> None:
    from textual.widgets import Static

    from orkestra_tui.tui.app import OrkestraApp
    from orkestra_tui.tui.screens.new_question import NewQuestionScreen

    app = OrkestraApp(engine, first_mode="voting")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"Which?", "tab", "A", "enter", "B", "tab", "tab", "backspace", *ABSURD, "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, NewQuestionScreen)
        error = app.screen.query_one("#rounds-error", Static)
        assert f"a decision has at most 100 rounds, not {ABSURD}" in str(error.render())
        assert engine.decisions() == []
