"""Typed values out of a state file's JSON, with errors that name the file and the key.

State files are input like any other: a person may edit one, a crash of something
else may cut one short, a file may come from another version of the kit. Each
converter checks one type and says, in words, which key of which file is wrong
(``apps/shop/app.json: "tcp_ports.www.irc" should be a whole number, not 'x'``),
so a damaged file stops the commands of its own app with a clear message, never
with a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from kit.errors import EXIT_BAD_INPUT, KitError

_SHOWN_CHARS = 40


class Form(NamedTuple):
    """A kind of name a state file holds, and how to say it in a message."""

    regex: re.Pattern[str]
    words: str  # "a deployment id like d3"

    def fullmatch(self, text: str) -> bool:
        return self.regex.fullmatch(text) is not None


class StateError(KitError):
    """A sandbox state file is unreadable, damaged, or from a newer dotkit."""

    exit_code = EXIT_BAD_INPUT


def _shown(value: object) -> str:
    """``value`` as the file spells it (JSON), shortened."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def parse_json(path: Path, hint: str) -> object:
    """The JSON in ``path``; a :class:`StateError` naming the file if it is not JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise StateError(f"{path} is not UTF-8 text; {hint}") from None
    except OSError as exc:
        raise StateError(f"{path} cannot be read ({exc.strerror or exc}); {hint}") from None
    if not text.strip():
        raise StateError(f"{path} is empty; {hint}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise StateError(
                f"{path} ends in the middle of its JSON (cut short?); {hint}"
            ) from None
        raise StateError(
            f"{path} is not valid JSON at line {exc.lineno}, column {exc.colno}; {hint}"
        ) from None
    except RecursionError:
        raise StateError(f"{path} nests its JSON too deeply to be a state file; {hint}") from None


class Fields:
    """One JSON object of a state file; each method reads one key as one type."""

    def __init__(self, data: object, where: str, hint: str, path: str = "") -> None:
        self.where, self.hint, self.path = where, hint, path
        if not isinstance(data, dict):
            raise self._error("", "an object", data)
        self.data: dict[str, Any] = data

    def _key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _error(self, key: str, wanted: str, value: object) -> StateError:
        where = f'"{key}"' if key else "its content"
        return StateError(
            f"{self.where}: {where} should be {wanted}, not {_shown(value)}; {self.hint}"
        )

    def fail(self, key: str, wanted: str) -> StateError:
        """The error for ``key`` holding something other than ``wanted``."""
        return self._error(self._key(key), wanted, self.data.get(key))

    def _get(self, key: str, default: object) -> object:
        if key in self.data:
            return self.data[key]
        if default is _REQUIRED:
            raise StateError(f'{self.where}: "{self._key(key)}" is missing; {self.hint}')
        return default

    def text(self, key: str, default: str | None = None, *, pattern: Form | None = None) -> str:
        value = self._get(key, _REQUIRED if default is None else default)
        if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
            raise self.fail(key, pattern.words if pattern else "a string")
        return value

    def optional_text(self, key: str, *, pattern: Form | None = None) -> str | None:
        if self.data.get(key) is None:
            return None
        return self.text(key, pattern=pattern)

    def number(self, key: str, default: float | None = None) -> float:
        value = self._get(key, _REQUIRED if default is None else default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "a number")
        return float(value)

    def optional_number(self, key: str) -> float | None:
        return None if self.data.get(key) is None else self.number(key)

    def integer(self, key: str, default: int | None = None) -> int:
        value = self._get(key, _REQUIRED if default is None else default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "a whole number")
        return value

    def optional_integer(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.integer(key)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "true or false")
        return value

    def _mapping(self, key: str) -> Mapping[str, object]:
        value = self._get(key, {})
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "an object")
        return value

    def _check_name(self, key: str, name: str, names: Form | None) -> None:
        if names is not None and not names.fullmatch(name):
            raise StateError(
                f'{self.where}: "{self._key(key)}" holds {_shown(name)}, which is not '
                f"{names.words}; {self.hint}"
            )

    def texts(self, key: str, *, names: Form | None = None) -> dict[str, str]:
        """An object of strings (its names of the form ``names``, when given)."""
        out = {}
        for name, value in self._mapping(key).items():
            self._check_name(key, name, names)
            if not isinstance(value, str):
                raise self._error(f"{self._key(key)}.{name}", "a string", value)
            out[name] = value
        return out

    def integers(self, key: str, *, names: Form | None = None) -> dict[str, int]:
        out = {}
        for name, value in self._mapping(key).items():
            self._check_name(key, name, names)
            if isinstance(value, bool) or not isinstance(value, int):
                raise self._error(f"{self._key(key)}.{name}", "a whole number", value)
            out[name] = value
        return out

    def numbers(self, key: str) -> dict[str, float]:
        out = {}
        for name, value in self._mapping(key).items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self._error(f"{self._key(key)}.{name}", "a number", value)
            out[name] = float(value)
        return out

    def text_list(self, key: str, *, pattern: Form | None = None) -> tuple[str, ...]:
        value = self._get(key, [])
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(key, "a list")
        for index, item in enumerate(value):
            if not isinstance(item, str) or (pattern is not None and not pattern.fullmatch(item)):
                wanted = pattern.words if pattern else "a string"
                raise self._error(f"{self._key(key)}[{index}]", wanted, item)
        return tuple(value)

    def text_lists(self, key: str, *, names: Form, pattern: Form) -> dict[str, tuple[str, ...]]:
        """An object of lists of strings, under names of the form ``names``."""
        out = {}
        for name in self._mapping(key):
            self._check_name(key, name, names)
            inner = Fields(self.data[key], self.where, self.hint, self._key(key))
            out[name] = inner.text_list(name, pattern=pattern)
        return out

    def objects(self, key: str) -> dict[str, Fields]:
        """An object of objects, each as :class:`Fields` of its own."""
        return {
            name: Fields(value, self.where, self.hint, f"{self._key(key)}.{name}")
            for name, value in self._mapping(key).items()
        }

    def object_list(self, key: str) -> list[Fields]:
        value = self._get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, "a list")
        return [
            Fields(item, self.where, self.hint, f"{self._key(key)}[{index}]")
            for index, item in enumerate(value)
        ]


_REQUIRED: Any = object()
