"""Paths and `config.toml`: where the files are, and reading, checking and writing the settings.

Paths come from platformdirs for the app name `orkestra`; `--data-dir DIR` or
`ORKESTRA_HOME=DIR` puts all of them under DIR. The settings are the frozen
dataclasses of `orkestra_tui.settings` (handed on from here), whose fields
carry their own documentation, which is written into the default config file
as comments. Unknown keys are rejected with the nearest valid key suggested,
and every problem is reported as one line naming the file and, where it can be
found, the line.

API keys are never stored here: an agent's key comes from the environment
(see `orkestra_tui.providers.registry`).
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, fields
from pathlib import Path

from orkestra_tui.errors import OrkestraError
from orkestra_tui.records import record
from orkestra_tui.settings import (
    PROVIDERS,
    QUORUM_MAJORITY,
    ROUTING_STRATEGIES,
    AgentSettings,
    Bounds,
    ConfigError,
    EngineSettings,
    Settings,
    SimulationSettings,
    TelemetrySettings,
    UISettings,
    default_agents,
    setting_bounds,
)

__all__ = [
    "APP_NAME",
    "CANNOT_WRITE_ERRNOS",
    "CONFIG_FILE_NAME",
    "DATABASE_FILE_NAME",
    "HOME_ENV",
    "PROVIDERS",
    "QUORUM_MAJORITY",
    "ROUTING_STRATEGIES",
    "AgentSettings",
    "Bounds",
    "ConfigError",
    "EngineSettings",
    "Paths",
    "Settings",
    "SimulationSettings",
    "TelemetrySettings",
    "UISettings",
    "default_agents",
    "ensure_config",
    "load_settings",
    "parse_settings",
    "render_config",
    "resolve_paths",
    "setting_bounds",
    "write_config",
]

APP_NAME = "orkestra"
HOME_ENV = "ORKESTRA_HOME"
CONFIG_FILE_NAME = "config.toml"
DATABASE_FILE_NAME = "orkestra.db"

# --------------------------------------------------------------------- paths


@record
class Paths:
    """Where Orkestra keeps its files."""

    config_dir: Path
    data_dir: Path
    state_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / CONFIG_FILE_NAME

    @property
    def database(self) -> Path:
        return self.data_dir / DATABASE_FILE_NAME

    @property
    def snapshots_dir(self) -> Path:
        return self.data_dir / "snapshots"

    @property
    def projects_dir(self) -> Path:
        return self.data_dir / "projects"

    def create(self) -> None:
        """Make every directory that does not exist yet."""
        for directory in (self.config_dir, self.data_dir, self.state_dir, self.log_dir):
            directory.mkdir(parents=True, exist_ok=True)

    def as_dict(self) -> dict[str, str]:
        return {
            "config_file": str(self.config_file),
            "database": str(self.database),
            "data_dir": str(self.data_dir),
            "state_dir": str(self.state_dir),
            "log_dir": str(self.log_dir),
        }


def resolve_paths(
    data_dir: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Paths:
    """`data_dir` wins, then $ORKESTRA_HOME, then the per-user directories."""
    environment = os.environ if env is None else env
    root = data_dir if data_dir is not None else environment.get(HOME_ENV) or None
    if root is not None:
        base = Path(root).expanduser().resolve()
        return Paths(
            config_dir=base,
            data_dir=base / "data",
            state_dir=base / "state",
            log_dir=base / "logs",
        )
    from platformdirs import PlatformDirs

    dirs = PlatformDirs(APP_NAME, appauthor=False)
    return Paths(
        config_dir=Path(dirs.user_config_dir),
        data_dir=Path(dirs.user_data_dir),
        state_dir=Path(dirs.user_state_dir),
        log_dir=Path(dirs.user_log_dir),
    )


# ------------------------------------------------------------------- loading


def load_settings(path: Path) -> Settings:
    """Read and validate config.toml; a missing file gives the defaults."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except UnicodeDecodeError:
        raise ConfigError(path, "not a text file (expected UTF-8 TOML)") from None
    except OSError as error:
        raise ConfigError(path, f"cannot be read: {error.strerror or error}") from None
    if len(text) == DEFAULT_CONFIG_LENGTH:
        defaults = Settings()
        if text == render_config(defaults):
            # The file Orkestra writes into a new home, untouched: its settings are the defaults (a
            # test reads it back to check), known in a quarter of the time parsing it takes.
            return defaults
    return parse_settings(text, path)


def parse_settings(text: str, path: Path) -> Settings:
    """Validate the text of a config file; `path` names it in errors."""
    import tomllib  # here, not at the top: a first run writes the defaults and never parses them

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if match is None:
            raise ConfigError(path, f"invalid TOML: {message}") from None
        problem = message[: match.start()]
        raise ConfigError(
            path, f"invalid TOML: {problem} (column {match.group(2)})", int(match.group(1))
        ) from None
    from orkestra_tui.config_reader import SettingsReader

    reader = SettingsReader(text, path)
    settings = reader.read_settings(document)
    reader.check_semantics(settings)
    return settings


CANNOT_WRITE_ERRNOS = (errno.EROFS, errno.EACCES, errno.EPERM)
"""A directory that cannot be written: commands that only read go on without making or writing in it."""


def ensure_config(paths: Paths) -> Settings:
    """Create the directories and a default config.toml if missing, then load it.

    On a read-only disk (or without permission) nothing is made: the defaults
    are used, so commands that only read still work; the store refuses
    commands that write, in one line.
    """
    try:
        paths.create()
    except OSError as error:
        if error.errno not in CANNOT_WRITE_ERRNOS:
            raise OrkestraError(f"cannot create {error.filename}: {error.strerror}") from None
    if not paths.config_file.exists():
        try:
            write_config(paths.config_file, Settings())
        except OSError as error:
            if error.errno not in CANNOT_WRITE_ERRNOS:
                raise
        return Settings()  # what was just written (tests check that it reads back the same)
    return load_settings(paths.config_file)


def write_config(path: Path, settings: Settings) -> None:
    """Write settings atomically: a crash leaves the old file or the new one, never half."""
    import tempfile

    text = render_config(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


DEFAULT_CONFIG_LENGTH = 6396
"""The length of the config.toml a new home gets, `render_config(Settings())`.

Only a file of this length is compared with the defaults (`load_settings`): any
other is parsed at once, without rendering them. A test keeps it current; if it
were not, a default file would only be parsed as an edited one is.
"""


def render_config(settings: Settings) -> str:
    """config.toml text: a commented reference of every key, then the values (via tomli-w)."""
    import tomli_w

    lines = [
        "# Orkestra configuration. Every key is optional; unknown keys are rejected.",
        "# API keys never go here: they come from the environment (see README).",
        "#",
    ]
    for section_name, section_type in (
        ("engine", EngineSettings),
        ("simulation", SimulationSettings),
        ("ui", UISettings),
        ("telemetry", TelemetrySettings),
        ("[agents]", AgentSettings),
    ):
        lines.append(f"# [{section_name}]  {section_type.__doc__}")
        for item in fields(section_type):
            bounds = item.metadata.get("bounds")
            if bounds is None:
                lines.append(f"#   {item.name}: {item.metadata['doc']}")
            else:
                each = "each " if item.name == "specialties" else ""
                lines.append(f"#   {item.name}: {item.metadata['doc']} ({each}{bounds.short()})")
    lines.append("")
    body = tomli_w.dumps(
        {
            "engine": asdict(settings.engine),
            "simulation": asdict(settings.simulation),
            "ui": asdict(settings.ui),
            "telemetry": asdict(settings.telemetry),
        }
    )
    blocks = [body.rstrip("\n")]
    if settings.contest:  # a top-level key: before every table
        from orkestra_tui.contest_rules import rules_document

        blocks.insert(0, tomli_w.dumps({"contest": rules_document(settings.contest)}).rstrip("\n"))
    for agent in settings.agents:
        values = asdict(agent)
        specialties = values.pop("specialties")
        block = "[[agents]]\n" + tomli_w.dumps(values)
        if specialties:
            block += "\n[agents.specialties]\n" + tomli_w.dumps(specialties)
        blocks.append(block.rstrip("\n"))
    return "\n".join(lines) + "\n" + "\n\n".join(blocks) + "\n"
