"""`record`: a frozen dataclass that is cheap to define, for the classes on the way to the first frame.

`@dataclass(frozen=True)` writes six methods as source text for each class and
compiles them as the class is defined: about a millisecond a class, paid at every
start. The settings, the paths and the other records `orkestra` builds before its
first screen are `record`s instead. Each is still a dataclass (`fields`,
`replace` and `asdict` work, and type checkers see a frozen dataclass), but only
its `__init__` is generated; equality, hashing, `repr` and frozenness are the
shared functions below, the same for every record.

A record is frozen once `__init__` has set each field: setting one again, or any
other attribute, raises `FrozenInstanceError`, as a frozen dataclass does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import FrozenInstanceError, field
from typing import Any, TypeVar, dataclass_transform

RecordType = TypeVar("RecordType", bound=type)


def _field_names(record: object) -> tuple[str, ...]:
    names: tuple[str, ...] = type(record).__record_fields__  # type: ignore[attr-defined]
    return names


def _values(record: object) -> tuple[Any, ...]:
    return tuple(getattr(record, name) for name in _field_names(record))


def _setattr(record: object, name: str, value: Any) -> None:
    # Each field once, as `__init__` sets it; nothing after that.
    if name in record.__dict__ or name not in type(record).__dataclass_fields__:  # type: ignore[attr-defined]
        raise FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(record, name, value)


def _delattr(record: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _eq(record: object, other: object) -> bool:
    if type(other) is not type(record):
        return NotImplemented  # type: ignore[no-any-return]  # typeshed types it as Any
    same: bool = _values(record) == _values(other)
    return same


def _hash(record: object) -> int:
    return hash(_values(record))


def _repr(record: object) -> str:
    names: tuple[str, ...] = type(record).__record_shown__  # type: ignore[attr-defined]
    shown = (f"{name}={getattr(record, name)!r}" for name in names)
    return f"{type(record).__qualname__}({', '.join(shown)})"


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: RecordType) -> RecordType:
    """Make `cls` a frozen dataclass with only its `__init__` generated (see the module's text)."""
    made: Any = dataclasses.dataclass(cls, eq=False, repr=False)
    fields = dataclasses.fields(made)
    made.__record_fields__ = tuple(item.name for item in fields if item.compare)
    made.__record_shown__ = tuple(item.name for item in fields if item.repr)
    made.__setattr__ = _setattr
    made.__delattr__ = _delattr
    made.__eq__ = _eq
    made.__hash__ = _hash
    made.__repr__ = _repr
    return cls
