"""JSON data back to the model's dataclasses, checked against their type hints.

`report --merge` (`project.inventory`) reads per-repository JSON reports back into findings. The
decoder follows the dataclasses' own type hints, so a field added to `model` is carried without
touching this module, and anything of the wrong shape is a `CodecError`, never a half-built object.
(The result cache used to store its entries as JSON through this module; it now keeps signed pickles,
which load seven times faster: `project.result_cache`.)
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any


class CodecError(ValueError):
    """The stored value does not have the shape the type asks for (a corrupt or foreign entry)."""


@functools.lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(kind: Any, data: Any) -> Any:
    """``data`` as an instance of ``kind`` (a dataclass, ``tuple[X, ...]``, ``X | None``, a mapping or a
    primitive); raises `CodecError` on any mismatch."""
    try:
        return _decoder(kind)(data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise CodecError(str(exc)) from None


Decoder = typing.Callable[[Any], Any]


@functools.lru_cache(maxsize=None)
def _decoder(kind: Any) -> Decoder:
    """One function per type, built once: a cache hit decodes thousands of findings, and walking the
    type hints for each of them would cost more than parsing the file again."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(options) != 1:
            raise CodecError(f"unsupported union {kind}")
        inner = _decoder(options[0])
        return lambda data: None if data is None else inner(data)
    if origin is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return lambda data: tuple(item(v) for v in _expect(data, list))
        items = [_decoder(a) for a in args]

        def fixed(data: Any) -> tuple[Any, ...]:
            if len(_expect(data, list)) != len(items):
                raise CodecError(f"expected {len(items)} items for {kind}")
            return tuple(f(v) for f, v in zip(items, data))
        return fixed
    if origin in (dict, Mapping, typing.Mapping) or kind is dict:
        value = _decoder(typing.get_args(kind)[1]) if typing.get_args(kind) else _any
        return lambda data: {k: value(v) for k, v in _expect(data, dict).items()}
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        fields = {name: _decoder(hint) for name, hint in _hints(kind).items()
                  if name in {f.name for f in dataclasses.fields(kind)}}
        if kind.__dataclass_params__.frozen and all(_plain(_hints(kind)[name]) for name in fields):  # type: ignore[attr-defined]
            return _interned(kind, fields)
        return lambda data: kind(**{name: fields[name](v) for name, v in _expect(data, dict).items()})
    if kind is Any:
        return _any
    if kind is float:
        return lambda data: float(_expect(data, (int, float)))
    if kind in (str, int, bool):
        return lambda data: data if type(data) is kind else _wrong(kind, data)
    raise CodecError(f"unsupported type {kind}")


#: Field types of the small immutable values a result repeats thousands of times (a target's status
#: and replacement, a portable rewrite).
_SCALARS = frozenset({str, int, bool, float, str | None, int | None})


def _plain(hint: Any) -> bool:
    """A scalar, or tuples of scalars: values that can key a dict once lists are made tuples."""
    if hint in _SCALARS:
        return True
    return typing.get_origin(hint) is tuple and all(a is Ellipsis or _plain(a) for a in typing.get_args(hint))


def _frozen(data: Any) -> Any:
    return tuple(_frozen(v) for v in data) if isinstance(data, list) else data


def _interned(kind: type, fields: dict[str, Decoder]) -> Decoder:
    """One instance per distinct value: vLLM's 9,000 findings hold 60,000 target entries but a few
    hundred distinct ones, and building each again dominated loading the cache."""
    seen: dict[tuple[Any, ...], Any] = {}

    def decode_value(data: Any) -> Any:
        key = tuple(sorted((k, _frozen(v)) for k, v in _expect(data, dict).items()))
        value = seen.get(key)
        if value is None:
            value = seen[key] = kind(**{name: fields[name](v) for name, v in data.items()})
        return value
    return decode_value


def _any(data: Any) -> Any:
    return data


def _expect(data: Any, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(data, kind):
        raise CodecError(f"expected {kind}, got {type(data).__name__}")
    return data


def _wrong(kind: type, data: Any) -> Any:
    raise CodecError(f"expected {kind.__name__}, got {type(data).__name__}")
