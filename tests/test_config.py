"""Paths, config.toml and typed settings, the bad inputs included."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from orkestra_tui.cli import main
from orkestra_tui.config import (
    DEFAULT_CONFIG_LENGTH,
    ConfigError,
    Settings,
    ensure_config,
    load_settings,
    parse_settings,
    render_config,
    resolve_paths,
)


def test_data_dir_argument_wins_over_orkestra_home(tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path / "a", env={"ORKESTRA_HOME": str(tmp_path / "b")})
    assert paths.config_file == tmp_path / "a" / "config.toml"
    assert paths.database == tmp_path / "a" / "data" / "orkestra.db"


def test_orkestra_home_puts_everything_under_one_folder(tmp_path: Path) -> None:
    paths = resolve_paths(None, env={"ORKESTRA_HOME": str(tmp_path)})
    for folder in (paths.config_dir, paths.data_dir, paths.state_dir, paths.log_dir):
        assert folder.is_relative_to(tmp_path)


def test_without_either_the_per_user_directories_are_used() -> None:
    from platformdirs import PlatformDirs

    paths = resolve_paths(None, env={})
    dirs = PlatformDirs("orkestra", appauthor=False)
    assert paths.config_dir == Path(dirs.user_config_dir)
    assert paths.data_dir == Path(dirs.user_data_dir)
    assert paths.log_dir == Path(dirs.user_log_dir)


def test_first_run_writes_a_default_config_that_reads_back_as_the_defaults(tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path)
    settings = ensure_config(paths)
    assert paths.config_file.exists()
    assert settings == Settings()
    assert [agent.name for agent in settings.agents] == [
        "claude",
        "chatgpt",
        "gemini",
        "copilot",
        "grok",
    ]
    text = paths.config_file.read_text()
    assert "max_concurrent_tasks: Most tasks running at once" in text  # every field is documented
    assert "api_key" not in tomllib.loads(text)["agents"][0]


def test_an_existing_config_is_never_overwritten(tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path)
    paths.create()
    paths.config_file.write_text("[engine]\nmax_rounds = 9\n")
    assert ensure_config(paths).engine.max_rounds == 9
    assert paths.config_file.read_text() == "[engine]\nmax_rounds = 9\n"


def test_rendered_config_round_trips() -> None:
    settings = Settings()
    assert parse_settings(render_config(settings), Path("config.toml")) == settings


def test_an_untouched_default_config_reads_as_the_defaults(tmp_path: Path) -> None:
    assert len(render_config(Settings())) == DEFAULT_CONFIG_LENGTH, "set DEFAULT_CONFIG_LENGTH to it"
    paths = resolve_paths(tmp_path)
    ensure_config(paths)
    assert load_settings(paths.config_file) == Settings()
    # Edited to a file of the same length, it is read as it is (test_startup_config: parsed).
    text = paths.config_file.read_text()
    assert "max_rounds = 5\n" in text
    paths.config_file.write_text(text.replace("max_rounds = 5\n", "max_rounds = 7\n"))
    assert load_settings(paths.config_file).engine.max_rounds == 7


def problem(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, Path("/home/ann/config.toml"))
    return caught.value


def test_unknown_key_names_the_line_and_the_nearest_valid_key() -> None:
    error = problem("[engine]\nmax_rounds = 3\nmax_concurent_tasks = 4\n")
    assert error.line == 3
    assert str(error) == (
        "/home/ann/config.toml, line 3: unknown key 'max_concurent_tasks' in [engine];"
        " did you mean 'max_concurrent_tasks'?"
    )


def test_unknown_key_in_the_second_agent_points_at_its_line() -> None:
    text = (
        '[[agents]]\nname = "a"\nprovider = "openai"\n\n'
        '[[agents]]\nname = "b"\nprovider = "anthropic"\nmodle = "x"\n'
    )
    error = problem(text)
    assert error.line == 8
    assert "[[agents]] #2" in str(error)
    assert "did you mean 'model'?" in str(error)


def test_unknown_section_is_rejected_with_a_suggestion() -> None:
    error = problem("[engin]\nmax_rounds = 3\n")
    assert error.line == 1
    assert "did you mean 'engine'?" in str(error)


def test_invalid_toml_names_the_line() -> None:
    error = problem("[engine]\nmax_rounds = = 3\n")
    assert error.line == 2
    assert str(error).startswith("/home/ann/config.toml, line 2: invalid TOML:")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[engine]\nmax_rounds = 'five'\n",
            "max_rounds in [engine] must be a whole number from 1 to 100, not 'five'",
        ),
        ("[engine]\nmax_rounds = 0\n", "max_rounds in [engine] must be from 1 to 100, not 0"),
        ("[engine]\ndefault_method = 'best'\n", "default_method 'best' is not a method"),
        ("[simulation]\nfailure_rate = 2.0\n", "failure_rate in [simulation] must be from 0 to 1, not 2.0"),
        ("[ui]\ntheme = 3\n", "theme in [ui] must be a string, not 3"),
        ('[[agents]]\nname = "a"\nprovider = "anthropc"\n', "did you mean 'anthropic'?"),
        ('[[agents]]\nname = "a"\n', "[[agents]] #1 needs a provider key"),
        ('[[agents]]\nname = "a b"\nprovider = "openai"\n', "agent name 'a b' must be"),
        (
            '[[agents]]\nname = "a"\nprovider = "openai"\n[[agents]]\nname = "a"\nprovider = "openai"\n',
            "two agents are named 'a'",
        ),
        ('[[agents]]\nname = "a"\nprovider = "command"\n', "sets no command"),
        (
            '[[agents]]\nname = "a"\nprovider = "openai"\n[agents.specialties]\ncode = 3\n',
            "specialties.code in [[agents]] #1 must be from 0 to 1, not 3",
        ),
        ("engine = 3\n", "[engine] must be a table"),
    ],
)
def test_bad_values_get_one_clear_line(text: str, expected: str) -> None:
    message = str(problem(text))
    assert expected in message
    assert "\n" not in message


def test_a_config_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not a text file"):
        load_settings(path)


def test_broken_config_makes_commands_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.toml").write_text("[engine]\nmax_round = 3\n")
    assert main(["--data-dir", str(tmp_path), "status"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines == [
        f"orkestra: {tmp_path / 'config.toml'}, line 2: unknown key 'max_round' in [engine];"
        " did you mean 'max_rounds'?"
    ]


def test_broken_config_stops_the_tui_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.toml").write_text("[ui\n")

    def no_app(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the app must not start on a broken config")

    monkeypatch.setattr("orkestra_tui.tui.app.OrkestraApp.run", no_app)
    monkeypatch.setenv("ORKESTRA_HOME", str(tmp_path))
    assert main([]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"orkestra: {tmp_path / 'config.toml'}, line 1: invalid TOML")
    assert len(error.splitlines()) == 1


def test_an_unwritable_data_dir_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["--data-dir", str(blocker / "home"), "status"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("orkestra: cannot create")
    assert len(error.splitlines()) == 1
    assert os.path.isfile(blocker)
