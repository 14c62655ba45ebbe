"""Golden tests: the guide's sample app converts to exactly the committed files.

Set DOTKIT_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change,
then review the diff before committing it.
"""

from __future__ import annotations

import configparser
import json
import os
from pathlib import Path

import pytest
import yaml
from conftest import GOLDEN

UPDATE = os.environ.get("DOTKIT_UPDATE_GOLDEN") == "1"
CASES = {
    "nodesocket-guide": [],
    "nodesocket-guide-fix": ["--fix"],
}
FILES = ["dotcloud.yml", "Gear1/supervisord.conf", "Gear2/supervisord.conf"]


def _ini(text: str) -> dict[str, dict[str, str]]:
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=True)
    parser.read_string(text)
    return {name: dict(parser[name]) for name in parser.sections()}


def _report(stdout: str) -> dict[str, object]:
    doc = json.loads(stdout)
    return {key: doc[key] for key in ("services", "rows", "findings", "edits", "summary")}


def _compare(name: str, produced: str, golden: Path) -> None:
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(produced, encoding="utf-8")
    expected = golden.read_text(encoding="utf-8")
    if name.endswith(".yml"):
        assert yaml.safe_load(produced) == yaml.safe_load(expected)
    elif name.endswith(".conf"):
        assert _ini(produced) == _ini(expected)
    elif name.endswith(".json"):
        assert json.loads(produced) == json.loads(expected)
    else:
        assert produced == expected


@pytest.mark.parametrize("case", sorted(CASES))
def test_guide_sample_matches_golden(case: str, guide_app: Path, tmp_path: Path, cli) -> None:
    out = tmp_path / "out"
    result = cli("convert", guide_app, "-o", out, "--format", "json", *CASES[case])
    assert result.code == 0, result.err
    assert result.err == ""
    golden = GOLDEN / case
    for rel in FILES:
        _compare(rel, (out / rel).read_text(encoding="utf-8"), golden / rel)
    code = (out / "Gear1" / "server.js").read_text(encoding="utf-8")
    if "--fix" in CASES[case]:
        _compare("Gear1/server.js", code, golden / "Gear1" / "server.js")
    else:  # without --fix the code is copied byte for byte
        assert code == (guide_app / "Gear1" / "server.js").read_text(encoding="utf-8")
    report = json.dumps(_report(result.out), indent=2) + "\n"
    _compare("report.json", report, golden / "report.json")


def test_build_file_values_are_all_strings(guide_app: Path, tmp_path: Path, cli) -> None:
    cli("convert", guide_app, "-o", tmp_path / "out")
    data = yaml.safe_load((tmp_path / "out" / "dotcloud.yml").read_text())
    for service in data.values():
        for value in service.get("environment", {}).values():
            assert isinstance(value, str)


def test_converted_tree_matches_the_guide_layout(guide_app: Path, tmp_path: Path, cli) -> None:
    (guide_app / "node_modules" / "x").mkdir(parents=True)
    (guide_app / "node_modules" / "x" / "index.js").write_text("")
    (guide_app / "Gear1" / "debug.log").write_text("ignored by .gitignore")
    (guide_app / ".git").mkdir()
    (guide_app / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    out = tmp_path / "out"
    assert cli("convert", guide_app, "-o", out).code == 0
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        ".dotkit/convert.json",  # what the conversion wrote, for the next one
        ".gitignore",
        "Gear1/file1.js",
        "Gear1/file2.js",
        "Gear1/package.json",
        "Gear1/server.js",
        "Gear1/supervisord.conf",
        "Gear2/file1.js",
        "Gear2/file2.js",
        "Gear2/package.json",
        "Gear2/server.js",
        "Gear2/supervisord.conf",
        "README.md",
        "dotcloud.yml",
    ]
    # The source app is never modified.
    assert (guide_app / "Gear1" / ".torque").exists()
    assert not (guide_app / "dotcloud.yml").exists()
