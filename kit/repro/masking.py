"""The one masking function every line of a reproduction goes through.

It learns the secret values first (from ``.torque`` and ``dotcloud.yml``
environments, the customer's env file, ``environment.json``, the passwords of
data services), then replaces them, in any text, with ``********``: as
written, JSON-escaped, URL-encoded and HTML-escaped. Passwords inside URLs are
masked whether or not they were learnt.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from urllib.parse import quote, unquote

from kit.secrets import MASK, is_secret_key, mask_text

# A secret shorter than this cannot be told apart from ordinary words in a log.
MIN_TEXT_SECRET = 3
# Values of the env file are all treated as secrets, but a short one or a number is
# only masked where its key is shown beside it (environment.json), not in free text.
MIN_ENV_FILE_TEXT_SECRET = 6
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s\"']*:([^@/\s\"']+)@")
# `key: value`, `"key": "value"` and `KEY=value`, for files that may not even parse.
_ASSIGNMENT = re.compile(
    r"""["']?(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)["']?\s*[:=]\s*["']?(?P<value>[^"'\s,}#][^"',}\n]*)"""
)


class Masker:
    """Knows the secret values of one reproduction and hides them."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.keys: set[str] = set()  # keys whose values are masked wherever they are listed

    def add_value(self, value: str) -> None:
        value = value.strip()
        if len(value) < MIN_TEXT_SECRET:
            return
        for variant in (value, quote(value, safe=""), unquote(value), html.escape(value)):
            if len(variant) >= MIN_TEXT_SECRET:
                self.secrets.add(variant)

    def add_secret(self, value: str) -> None:
        """A secret value; one holding a URL with a password gives that password only, so
        the rest of the URL (which host, which database) stays readable."""
        passwords = _URL_PASSWORD.findall(value)
        for password in passwords:
            self.add_value(password)
        if not passwords:
            self.add_value(value)

    def add_env(self, env: Mapping[str, str], *, all_secret: bool = False) -> None:
        """Learn from ``env``: values of secret-looking keys, URL passwords, and with
        ``all_secret`` (the customer's env file) every value."""
        for key, value in env.items():
            value = str(value)
            for password in _URL_PASSWORD.findall(value):
                self.add_value(password)
            if is_secret_key(key):
                self.keys.add(key)
                self.add_value(value)
            elif all_secret:
                self.keys.add(key)
                if len(value) >= MIN_ENV_FILE_TEXT_SECRET and not value.isdigit():
                    self.add_value(value)

    def add_text(self, text: str) -> None:
        """Learn from a file that may not parse: ``key: value`` pairs with secret keys and
        passwords inside URLs, wherever they are."""
        for match in _ASSIGNMENT.finditer(text):
            if is_secret_key(match.group("key")):
                self.add_value(match.group("value").strip())
        for password in _URL_PASSWORD.findall(text):
            self.add_value(password)

    def text(self, text: str) -> str:
        return mask_text(text, self.secrets)

    def env(self, env: Mapping[str, str]) -> dict[str, str]:
        """``env`` with the values of secret keys replaced, and the rest masked as text."""
        return {
            key: MASK if key in self.keys or is_secret_key(key) else self.text(str(value))
            for key, value in env.items()
        }
