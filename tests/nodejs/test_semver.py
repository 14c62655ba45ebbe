"""npm's version ranges, as engines.node fields of every era write them."""

from __future__ import annotations

import pytest

from kit.nodejs.semver import parse_version, satisfies

V0828 = (0, 8, 28)


@pytest.mark.parametrize(
    ("range_text", "expected"),
    [
        ("*", True),
        ("", True),
        ("x", True),
        (">= 0.8.0", True),
        (">=0.8", True),
        (">= 0.10", False),
        (">=0.10.0", False),
        (">=6.0", False),
        ("0.8.x", True),
        ("0.8", True),
        ("0.6.x", False),
        ("0.8.28", True),
        ("=0.8.27", False),
        ("v0.8.28", True),
        ("~0.8.1", True),
        ("~0.8", True),
        ("~0.6.1", False),
        ("~> 0.8.0", True),
        ("^0.8.0", True),
        ("^0.8.29", False),
        ("^0.10.0", False),
        ("^0.0.3", False),
        ("^0", True),
        (">0.8", False),
        (">0.7", True),
        (">0.8.27", True),
        ("<0.9", True),
        ("<0.8", False),
        ("<= 0.8", True),
        ("<=0.8.27", False),
        (">=0.4 <0.9", True),
        (">=0.4 <0.8.28", False),
        ("0.6 - 0.8", True),
        ("0.8.29 - 0.10", False),
        ("0.4.0 - 0.8.28", True),
        (">=0.10 || 0.8.x", True),
        (">=4 || >=0.12", False),
        ("0.8.28-pre", True),
        ("4.x || >=6.0.0", False),
    ],
)
def test_ranges(range_text: str, expected: bool) -> None:
    assert satisfies(V0828, range_text) is expected


@pytest.mark.parametrize("range_text", ["latest", ">= 0.4.0 && < 0.9", "node", "0.8.28.1", ">=a.b"])
def test_unreadable_ranges_give_none(range_text: str) -> None:
    assert satisfies(V0828, range_text) is None


def test_one_readable_alternative_is_enough() -> None:
    assert satisfies(V0828, "banana || 0.8.x") is True
    assert satisfies(V0828, "banana || 0.6.x") is False


def test_parse_version() -> None:
    assert parse_version("v0.8.28") == (0, 8, 28)
    assert parse_version(" 0.10.0 ") == (0, 10, 0)
    assert parse_version("0.8") is None
    assert parse_version("0.8.x") is None
    assert parse_version("banana") is None
