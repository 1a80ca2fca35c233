"""`record`: a frozen dataclass that is cheap to define, for the classes on the way to the first frame.

`@dataclass(frozen=True)` writes six methods as source text for each class and
compiles them as the class is defined: about a millisecond a class, paid at every
start. The settings, the paths and the other records `orkestra` builds before its
first screen are `record`s instead. Each is still a dataclass (`fields`,
`replace` and `asdict` work, and type checkers see a frozen dataclass), but none
of its methods is generated: `__init__`, equality, hashing, `repr` and
frozenness are the shared functions below, the same for every record, reading
the fields each class lists once as it is defined.

A record is frozen once `__init__` has set each field: setting one again, or any
other attribute, raises `FrozenInstanceError`, as a frozen dataclass does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, FrozenInstanceError, field
from typing import Any, TypeVar, dataclass_transform

RecordType = TypeVar("RecordType", bound=type)


def _field_names(record: object) -> tuple[str, ...]:
    names: tuple[str, ...] = type(record).__record_fields__  # type: ignore[attr-defined]
    return names


def _values(record: object) -> tuple[Any, ...]:
    return tuple(getattr(record, name) for name in _field_names(record))


def _init(record: object, *args: Any, **kwargs: Any) -> None:
    """Every record's `__init__`: what the generated one does, with the same errors for bad arguments."""
    kind = type(record)
    parameters: tuple[str, ...] = kind.__record_parameters__  # type: ignore[attr-defined]
    if len(args) > len(parameters):
        raise TypeError(
            f"{kind.__qualname__}() takes {len(parameters)} positional arguments but {len(args)} were given"
        )
    given = dict(zip(parameters, args, strict=False))  # the ones not given positionally come next
    for name, value in kwargs.items():
        if name not in parameters:
            raise TypeError(f"{kind.__qualname__}() got an unexpected keyword argument {name!r}")
        if name in given:
            raise TypeError(f"{kind.__qualname__}() got multiple values for argument {name!r}")
        given[name] = value
    missing = [name for name in kind.__record_required__ if name not in given]  # type: ignore[attr-defined]
    if missing:
        names = ", ".join(repr(name) for name in missing)
        raise TypeError(f"{kind.__qualname__}() missing {len(missing)} required argument(s): {names}")
    for name, default, factory in kind.__record_defaults__:  # type: ignore[attr-defined]
        if name not in given:
            given[name] = default if factory is MISSING else factory()
    for name, value in given.items():
        object.__setattr__(record, name, value)
    post_init = getattr(record, "__post_init__", None)
    if post_init is not None:
        post_init()


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
    """Make `cls` a frozen dataclass whose methods are the shared ones (see the module's text)."""
    # `__init__` first: dataclass reads a class's signature for a class without a docstring, and
    # without an `__init__` of its own that signature is parsed from `object`'s text (slowly).
    shared: Any = cls
    shared.__init__ = _init
    made: Any = dataclasses.dataclass(cls, init=False, eq=False, repr=False)
    fields = dataclasses.fields(made)
    made.__record_parameters__ = tuple(item.name for item in fields if item.init)
    made.__record_required__ = tuple(
        item.name
        for item in fields
        if item.init and item.default is MISSING and item.default_factory is MISSING
    )
    made.__record_defaults__ = tuple(
        (item.name, item.default, item.default_factory)
        for item in fields
        if item.default is not MISSING or item.default_factory is not MISSING
    )
    made.__record_fields__ = tuple(item.name for item in fields if item.compare)
    made.__record_shown__ = tuple(item.name for item in fields if item.repr)
    made.__setattr__ = _setattr
    made.__delattr__ = _delattr
    made.__eq__ = _eq
    made.__hash__ = _hash
    made.__repr__ = _repr
    return cls
