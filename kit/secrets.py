"""Which values are secrets, and how they are shown: never.

Values of keys that look secret, and passwords inside URLs, are written to the
files the user asked for but masked in every report, diff and message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

SECRET_WORDS = ("PASS", "SECRET", "TOKEN", "KEY", "AUTH")
MASK = "********"
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@/\s]+)(?=@)")


def is_secret_key(key: str) -> bool:
    upper = key.upper()
    return any(word in upper for word in SECRET_WORDS)


def mask_url_passwords(text: str) -> str:
    """``redis://root:hunter2@host`` to ``redis://root:********@host``."""
    return _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)


def shown_value(key: str, value: str) -> str:
    """The value as it may appear on a terminal or in a report."""
    if is_secret_key(key):
        return MASK
    return mask_url_passwords(value)


def has_secret(key: str, value: str) -> bool:
    return is_secret_key(key) or shown_value(key, value) != value


def mask_text(text: str, secrets: Iterable[str]) -> str:
    """Hide every secret value (and its JSON-escaped form) and URL passwords."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) < 3:
            continue
        text = text.replace(secret, MASK)
        escaped = json.dumps(secret)[1:-1]
        if escaped != secret:
            text = text.replace(escaped, MASK)
    return mask_url_passwords(text)
