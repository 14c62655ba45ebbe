"""tests/nodejs mirrors kit/nodejs: each module has its test file, or the test that covers
it is named here with the reason it has none of its own."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "kit" / "nodejs"
TESTS = REPO / "tests" / "nodejs"

# module (relative to kit/nodejs, without .py) -> where it is tested, and why there
COVERED_ELSEWHERE = {
    "__init__": "a docstring only",
    "gypi": "test_fetch.py (the settings are added to a fetched build) and test_real.py "
    "(an addon compiled with node-gyp against a real build)",
}


def _modules() -> list[str]:
    return [p.relative_to(PACKAGE).with_suffix("").as_posix() for p in PACKAGE.rglob("*.py")]


def test_every_nodejs_module_has_a_test_file_or_a_named_reason() -> None:
    missing = [
        m
        for m in sorted(_modules())
        if m not in COVERED_ELSEWHERE and not (TESTS / f"test_{m.replace('/', '_')}.py").is_file()
    ]
    assert missing == [], (
        "add tests/nodejs/test_<module>.py, or name the test that covers it (and why) in "
        "COVERED_ELSEWHERE"
    )


def test_the_reasons_name_modules_that_exist() -> None:
    assert sorted(set(COVERED_ELSEWHERE) - set(_modules())) == []
