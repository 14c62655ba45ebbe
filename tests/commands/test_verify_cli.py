"""`dotkit verify` and `dotkit rules` from the command line: output forms, selection, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.verify.catalog import all_rules


@pytest.fixture
def converted(guide_app: Path, tmp_path: Path, cli) -> Path:
    out = tmp_path / "out"
    assert cli("convert", guide_app, "-o", out).code == 0
    return out


def test_converted_guide_sample_has_exactly_the_3535_listen(converted: Path, cli) -> None:
    result = cli("verify", converted, "--format", "json")
    assert result.code == 1
    doc = json.loads(result.out)
    assert doc["findings"] == [
        {
            "rule": "http-port-not-8080",
            "severity": "error",
            "path": "Gear1/server.js",
            "line": 24,
            "column": 8,
            "message": "the HTTP server listens on 3535; on dotCloud it must listen on 8080",
            "fix": "listen on 8080: .listen(8080) or .listen(process.env.PORT_NODEJS || 8080)",
        }
    ]
    assert doc["summary"] == {"errors": 1, "warnings": 0, "infos": 0, "files": 1}


def test_text_output_has_a_code_frame(converted: Path, cli) -> None:
    result = cli("verify", converted)
    assert result.out == (
        "Gear1/server.js\n"
        "  24:8    error   http-port-not-8080  the HTTP server listens on 3535; on dotCloud it must listen on 8080\n"
        "    24 | server.listen(3535);\n"
        "       |        ^\n"
        "    fix: listen on 8080: .listen(8080) or .listen(process.env.PORT_NODEJS || 8080)\n"
        "\n"
        "1 error(s), 0 warning(s), 0 note(s) in 1 file(s).\n"
    )


def test_fixed_conversion_passes(guide_app: Path, tmp_path: Path, cli) -> None:
    cli("convert", guide_app, "-o", tmp_path / "fixed", "--fix")
    result = cli("verify", tmp_path / "fixed")
    assert (result.code, result.out) == (0, f"{tmp_path / 'fixed'}: no problems found.\n")


def test_sarif_is_2_1_0_with_rules_and_regions(converted: Path, cli) -> None:
    doc = json.loads(cli("verify", converted, "--format", "sarif").out)
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert ids == [rule.slug for rule in all_rules()]
    (result,) = run["results"]
    assert result["ruleId"] == "http-port-not-8080"
    assert result["level"] == "error"
    assert ids[result["ruleIndex"]] == "http-port-not-8080"
    location = result["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "Gear1/server.js"},
        "region": {"startLine": 24, "startColumn": 8},
    }


def test_select_and_ignore(converted: Path, cli) -> None:
    (converted / "dotcloud.yml").write_text(
        (converted / "dotcloud.yml").read_text() + "  aproot: x\n"
    )
    both = json.loads(cli("verify", converted, "--format", "json").out)
    assert sorted(f["rule"] for f in both["findings"]) == ["http-port-not-8080", "unknown-key"]
    only_code = cli("verify", converted, "--format", "json", "--select", "code")
    assert [f["rule"] for f in json.loads(only_code.out)["findings"]] == ["http-port-not-8080"]
    ignored = cli("verify", converted, "--format", "json", "--ignore", "http-port-not-8080")
    assert [f["rule"] for f in json.loads(ignored.out)["findings"]] == ["unknown-key"]
    assert ignored.code == 0  # a warning alone does not fail
    prefix = cli("verify", converted, "--format", "json", "--select", "unknown-")
    assert [f["rule"] for f in json.loads(prefix.out)["findings"]] == ["unknown-key"]


def test_usage_errors_exit_2(tmp_path: Path, cli) -> None:
    assert cli("verify", tmp_path / "missing").code == 2
    bad = cli("verify", tmp_path, "--select", "http-port-not-8O80")
    assert bad.code == 2
    assert "there is no rule 'http-port-not-8O80'; did you mean http-port-not-8080?" in bad.err


def test_missing_build_file_is_a_finding(tmp_path: Path, cli) -> None:
    result = cli("verify", tmp_path)
    assert result.code == 1
    assert "build-file-missing  there is no dotcloud.yml at the app's root" in result.out


def test_rules_lists_and_explains(cli) -> None:
    listing = cli("rules")
    assert listing.code == 0
    for rule in all_rules():
        assert rule.slug in listing.out
    explained = cli("rules", "http-port-not-8080")
    assert explained.out.startswith("http-port-not-8080 (error, code)\n")
    assert "Fails:" in explained.out and "Passes:" in explained.out
    assert json.loads(cli("rules", "yaml-tab", "--format", "json").out)["severity"] == "error"
    unknown = cli("rules", "yaml-tabs")
    assert (unknown.code, unknown.err) == (
        2,
        "dotkit: error: there is no rule 'yaml-tabs'; did you mean yaml-tab?\n",
    )


def test_design_slugs_are_all_in_the_catalogue() -> None:
    required = [
        "build-file-missing",
        "yaml-syntax",
        "yaml-tab",
        "build-file-schema",
        "unknown-key",
        "unknown-service-type",
        "invalid-service-name",
        "approot-missing",
        "approot-outside-app",
        "process-and-processes",
        "node-version-unsupported",
        "env-name-invalid",
        "supervisord-missing",
        "supervisord-syntax",
        "supervisord-missing-program",
        "supervisord-directory",
        "supervisord-command-missing-file",
        "supervisord-percent",
        "http-port-not-8080",
        "tcp-port-undeclared",
        "tcp-port-hardcoded",
        "localhost-service",
        "data-dir-with-instances",
        "package-json-missing",
        "package-json-syntax",
        "uncommitted-changes",
        "untracked-files",
        "git-submodule",
        "symlink-outside-app",
        "node-modules-committed",
    ]
    slugs = [rule.slug for rule in all_rules()]
    assert set(required) <= set(slugs)
    assert len(slugs) == len(set(slugs))
    for rule in all_rules():
        assert rule.summary and rule.explanation and rule.bad and rule.good, rule.slug


def test_pre_commit_hook_runs_verify() -> None:
    import yaml

    hooks = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml").read_text()
    )
    assert hooks[0]["id"] == "dotkit-verify"
    assert hooks[0]["entry"] == "dotkit verify"
