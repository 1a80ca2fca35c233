"""`record` behaves as `dataclass(frozen=True)` does, for every use the package makes of one."""

from __future__ import annotations

import copy
import pickle
from dataclasses import FrozenInstanceError, asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path

import pytest

from orkestra_tui.config import Paths
from orkestra_tui.records import record
from orkestra_tui.settings import AgentSettings, EngineSettings, Settings


@record
class Point:
    """A record with a default, a field left out of comparison and one left out of its repr."""

    x: int
    y: int = 0
    label: str = field(default="", compare=False)
    secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class FrozenPoint:
    x: int
    y: int = 0
    label: str = field(default="", compare=False)
    secret: str = field(default="", repr=False)


def test_a_record_is_built_compared_hashed_and_shown_as_a_frozen_dataclass() -> None:
    for kind in (Point, FrozenPoint):
        assert is_dataclass(kind)
        assert [item.name for item in fields(kind)] == ["x", "y", "label", "secret"]
    mine, theirs = Point(1, 2, "a", "s"), FrozenPoint(1, 2, "a", "s")
    assert repr(mine) == repr(theirs).replace("FrozenPoint", "Point") == "Point(x=1, y=2, label='a')"
    assert mine == Point(1, 2, "other label", "s") and mine != Point(1, 3)
    assert hash(mine) == hash(Point(1, 2, "b", "s")) and len({mine, Point(1, 2)}) == 2
    others: list[object] = [theirs, (1, 2)]
    assert all(mine != other for other in others)  # another type is never equal, as with a dataclass
    assert asdict(mine) == asdict(theirs)
    assert replace(mine, y=5) == Point(1, 5, secret="s") and mine.y == 2
    assert copy.deepcopy(mine) == mine and pickle.loads(pickle.dumps(mine)) == mine
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]


def test_a_record_is_frozen_once_built() -> None:
    point = Point(1)
    with pytest.raises(FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        point.z = 3  # type: ignore[attr-defined]
    with pytest.raises(FrozenInstanceError):
        del point.y
    assert (point.x, point.y) == (1, 0)


def test_the_settings_and_paths_are_records_that_compare_as_before(tmp_path: Path) -> None:
    assert Settings() == Settings()
    assert replace(Settings().engine, max_concurrent_tasks=2) != Settings().engine
    assert EngineSettings() == EngineSettings() and "EngineSettings(" in repr(EngineSettings())
    agent = AgentSettings(name="claude", provider="anthropic")
    assert replace(agent, model="m").model == "m" and agent.model != "m"
    paths = Paths(tmp_path / "c", tmp_path / "d", tmp_path / "s", tmp_path / "l")
    assert paths.database == tmp_path / "d" / "orkestra.db"
    with pytest.raises(FrozenInstanceError):
        paths.data_dir = tmp_path  # type: ignore[misc]


@record
class Sized:
    """A record with a field made from a factory, and one its `__post_init__` sets."""

    name: str
    tags: tuple[str, ...] = field(default_factory=tuple)
    size: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", len(self.name))


def test_a_record_is_built_from_its_arguments_as_a_dataclass_is() -> None:
    assert Sized("abc") == Sized(name="abc") and Sized("abc").size == 3
    assert Sized("a", ("x",)).tags == ("x",) and Sized("a").tags == ()
    assert Point(1, secret="s").secret == "s" and Point(y=2, x=1) == Point(1, 2)
    for arguments, keywords, error in (
        ((), {}, "missing 1 required argument(s): 'name'"),
        (("a", (), 3), {}, "takes 2 positional arguments but 3 were given"),
        (("a",), {"size": 3}, "unexpected keyword argument 'size'"),
        (("a",), {"name": "b"}, "multiple values for argument 'name'"),
    ):
        with pytest.raises(TypeError, match=error.replace("(", r"\(").replace(")", r"\)")):
            Sized(*arguments, **keywords)
    with pytest.raises(FrozenInstanceError):
        Sized("a").size = 2  # type: ignore[misc]
