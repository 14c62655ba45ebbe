"""Project checks: package.json, git state, symbolic links and node_modules."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kit.appfs import list_app_files
from kit.findings import Finding
from kit.platform.model import Service
from kit.proc import run
from kit.verify.model import Target as App
from kit.verify.project import RULES, check_project, link_leaves_tree, package_json_problems
from testing.apps import make_service, write_files

PACKAGE = '{"name": "gear1", "dependencies": {"express": "3.x"}}\n'

# Paths under node_modules opened or listed while a check runs (audit hooks stay
# installed for the whole session, so this one records only when asked).
_WATCHED: list[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _WATCHED is not None and event in ("open", "os.listdir", "os.scandir") and args:
        path = os.fsdecode(args[0]) if isinstance(args[0], (str, bytes, os.PathLike)) else ""
        if "node_modules/" in path or path.endswith("node_modules"):
            _WATCHED.append(f"{event} {path}")


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def _no_parent_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git must never find a repository above the test's folder."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))


def service(approot: str = ".", **changes: Any) -> Service:
    return make_service(approot=approot, line=2, **changes)


def make_app(root: Path, files: Mapping[str, str | bytes] = {}, *services: Service) -> App:
    write_files(root, files)
    return App(root=root, files=tuple(list_app_files(root)), services=services or (service(),))


def findings_for(app: App, rule: str) -> list[Finding]:
    return [f for f in check_project(app) if f.rule == rule]


def git(root: Path, *args: str) -> str:
    config = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    config += ["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
    return run(["git", *config, *args], cwd=root).stdout


def repo(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """A git repository holding ``files``, all committed."""
    write_files(root, files)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    return root


@contextmanager
def watching_node_modules() -> Iterator[list[str]]:
    global _WATCHED
    _WATCHED = []
    try:
        yield _WATCHED
    finally:
        _WATCHED = None


def check_without_node_modules(app: App) -> list[Finding]:
    """check_project, asserting it opened and listed nothing under node_modules."""
    with watching_node_modules() as opened:
        findings = check_project(app)
    assert opened == []
    return findings


def test_rules_are_documented() -> None:
    assert [r.slug for r in RULES] == [
        "package-json-missing",
        "package-json-syntax",
        "uncommitted-changes",
        "untracked-files",
        "git-submodule",
        "symlink-outside-app",
        "node-modules-committed",
        "git-unusable",
        "node-version-engines",
        "dependency-unpinned",
    ]
    for rule in RULES:
        assert rule.category == "project"
        assert "\n" not in rule.summary
        assert len(rule.explanation) > 150
        if rule.slug != "git-unusable":
            assert ":\n" in rule.bad and ":\n" in rule.good


# --- package-json-missing --------------------------------------------------------------


def test_package_json_missing(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"Gear1/server.js": ""}, service("Gear1"))
    assert check_project(app) == [
        Finding(
            rule="package-json-missing",
            severity="warning",
            path="Gear1/package.json",
            line=None,
            column=None,
            message="service www has no Gear1/package.json, so push runs no npm install and "
            "every module the code requires must be committed with it",
            fix="run `npm init -y` in Gear1, then `npm install --save <module>` for each module "
            "the code requires",
        )
    ]


def test_package_json_ignored(tmp_path: Path) -> None:
    app = make_app(tmp_path, {".dotcloudignore": "package.json\n", "package.json": PACKAGE})
    app = app._replace(files=tuple(list_app_files(tmp_path, ignore_files=(".dotcloudignore",))))
    (f,) = findings_for(app, "package-json-missing")
    assert f.message == (
        "package.json is ignored by .gitignore or .dotcloudignore, so push leaves it out and runs "
        "no npm install"
    )


def test_package_json_present(tmp_path: Path) -> None:
    assert check_project(make_app(tmp_path, {"package.json": PACKAGE})) == []


def test_only_nodejs_services_need_package_json(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"x.py": ""}, service(type="python"), service(approot_ok=False))
    assert check_project(app) == []


# --- package-json-syntax ---------------------------------------------------------------


def syntax(text: str | bytes) -> list[Finding]:
    data = text.encode() if isinstance(text, str) else text
    return package_json_problems("Gear1/package.json", data)


def test_package_json_trailing_comma(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"package.json": '{\n  "dependencies": {"a": "1.x",}\n}\n'})
    assert check_project(app) == [
        Finding(
            rule="package-json-syntax",
            severity="error",
            path="package.json",
            line=2,
            column=31,
            message="is not valid JSON: a key in double quotes is expected here (JSON has no "
            "trailing commas, comments or single quotes)",
            fix="correct the JSON at this point; npm installs nothing until the file parses",
        )
    ]


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ('{"a": 1 "b": 2}', 1, 9, "is not valid JSON: a comma is missing before this point"),
        ('{"a" 1}', 1, 6, "is not valid JSON: a colon is missing after the key"),
        ('{"a": "x}', 1, 7, "is not valid JSON: a string starts here and is never closed"),
        ("{} {}", 1, 4, "is not valid JSON: more text follows the end of the JSON object"),
        (
            "// c\n{}",
            1,
            1,
            "is not valid JSON: a value is missing here (JSON has no comments or trailing commas)",
        ),
        ("  \n", None, None, "is empty, and npm needs at least {}"),
        ("[1, 2]", 1, 1, "holds a list, but npm needs a JSON object ({...})"),
        ("\n  true", 2, 3, "holds true, but npm needs a JSON object ({...})"),
        (b'{"name": "caf\xe9"}', 1, 14, "is not UTF-8 text (byte 0xe9), so npm cannot read it"),
        ("[" * 100_000, None, None, "nests too deeply to be read"),
        (
            '{"name": "x",\n "dependencies": ["express"]}',
            2,
            18,
            "dependencies is a list, but must map module names to versions",
        ),
        (
            '{"dependencies": {\n  "a": "1.x",\n  "b": 2\n}}',
            3,
            8,
            "the version of 'b' in dependencies is a number, not a string",
        ),
        (
            '{"dependencies": null}',
            1,
            18,
            "dependencies is null, but must map module names to versions",
        ),
    ],
)
def test_package_json_problems(
    text: str | bytes, line: int | None, column: int | None, message: str
) -> None:
    (f,) = syntax(text)
    assert (f.rule, f.severity, f.line, f.column, f.message) == (
        "package-json-syntax",
        "error",
        line,
        column,
        message,
    )


@pytest.mark.parametrize(
    "text",
    [PACKAGE, "\ufeff{}", '{"dependencies": {}}', '{"devDependencies": {"a": 1}}', "{}"],
)
def test_package_json_accepted(text: str) -> None:
    assert syntax(text) == []


# --- symlink-outside-app ---------------------------------------------------------------


def test_symlinks_that_leave_the_app(tmp_path: Path) -> None:
    app_root = tmp_path / "app"
    write_files(app_root, {"package.json": PACKAGE, "lib/real.js": "", "shared/x.js": ""})
    write_files(tmp_path, {"common/util.js": ""})
    (app_root / "lib" / "common").symlink_to("../../common")
    (app_root / "lib" / "abs").symlink_to(app_root / "shared")
    (app_root / "lib" / "gone.js").symlink_to("nowhere.js")
    (app_root / "lib" / "ok.js").symlink_to("real.js")
    (app_root / "lib" / "dir").symlink_to("../shared")
    (app_root / "lib" / "deps").symlink_to("../node_modules/x")
    app = App(app_root, tuple(list_app_files(app_root)), (service(),))
    assert [(f.path, f.message) for f in check_project(app)] == [
        (
            "lib/abs",
            f"lib/abs points to the absolute path {app_root}/shared; the upload drops links with "
            "absolute targets",
        ),
        (
            "lib/common",
            "lib/common points to ../../common, outside the app; the upload drops such links",
        ),
        ("lib/gone.js", "lib/gone.js points to nowhere.js, which does not exist"),
    ]
    assert {f.rule for f in check_project(app)} == {"symlink-outside-app"}
    assert check_project(app)[0].fix == (
        "replace the link with a copy of what it points to, or link to a path inside the app"
    )


@pytest.mark.parametrize(
    ("rel", "target", "leaves"),
    [
        ("a", "b", False),
        ("a", "../b", True),
        ("d/a", "../b", False),
        ("d/a", "../../d/b", True),
        ("d/a", "x/../../b", False),
        ("d/a", "x/../../../b", True),
        ("a", "/etc", True),
        ("a", "./././b", False),
    ],
)
def test_safe_links_like_rsync(rel: str, target: str, leaves: bool) -> None:
    assert link_leaves_tree(rel, target) is leaves


# --- git: uncommitted-changes, untracked-files, git-unusable ---------------------------


def test_not_a_repository_means_no_git_findings(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"package.json": PACKAGE, "server.js": ""})
    assert check_project(app) == []


def test_clean_repository(tmp_path: Path) -> None:
    repo(tmp_path, {"package.json": PACKAGE, "server.js": ""})
    assert check_project(make_app(tmp_path)) == []


def test_uncommitted_changes(tmp_path: Path) -> None:
    repo(tmp_path, {"package.json": PACKAGE, "server.js": "", "lib/a.js": "", "lib/b.js": ""})
    write_files(tmp_path, {"server.js": "changed"})
    (tmp_path / "lib" / "a.js").unlink()
    git(tmp_path, "mv", "lib/b.js", "lib/c.js")
    app = make_app(tmp_path)
    assert check_project(app) == [
        Finding(
            rule="uncommitted-changes",
            severity="warning",
            path="lib/a.js",
            line=None,
            column=None,
            message="4 tracked files changed but not committed: lib/a.js, lib/b.js, lib/c.js, "
            "server.js",
            fix="commit them (`git commit -am '...'`) or stash them before pushing",
        )
    ]


def test_untracked_files(tmp_path: Path) -> None:
    repo(tmp_path, {"package.json": PACKAGE, ".gitignore": "*.log\n"})
    write_files(tmp_path, {f"new{i}.js": "" for i in range(7)} | {"debug.log": "", "tmp/x": ""})
    (f,) = check_project(make_app(tmp_path))
    assert (f.rule, f.severity, f.path) == ("untracked-files", "warning", "new0.js")
    assert f.message == (
        "8 untracked files not ignored: new0.js, new1.js, new2.js, new3.js, new4.js and 3 more"
    )


def test_git_scope_is_the_app_folder(tmp_path: Path) -> None:
    repo(tmp_path, {"other/x.js": "", "app/package.json": PACKAGE, "app/server.js": ""})
    write_files(tmp_path, {"other/x.js": "changed", "other/new.js": "", "app/server.js": "changed"})
    app = make_app(tmp_path / "app")
    assert [(f.rule, f.path, f.message) for f in check_project(app)] == [
        (
            "uncommitted-changes",
            "server.js",
            "1 tracked file changed but not committed: server.js",
        )
    ]


def test_no_git_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo(tmp_path, {"package.json": PACKAGE})
    write_files(tmp_path, {"new.js": ""})
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    assert check_project(make_app(tmp_path)) == []


def test_dubious_ownership_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "git"
    write_files(
        tmp_path,
        {
            "bin/git": '#!/bin/sh\necho "fatal: detected dubious ownership in repository at '
            "'$PWD'\" >&2\nexit 128\n"
        },
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    app_root = tmp_path / "app"
    app = make_app(app_root, {"package.json": PACKAGE})
    (app_root / ".git").mkdir()  # git is asked only where a repository could be
    (f,) = check_project(app)
    assert f == Finding(
        rule="git-unusable",
        severity="info",
        path=".",
        line=None,
        column=None,
        message="git could not read the repository, so the git checks were skipped: detected "
        f"dubious ownership in repository at '{app_root}'",
        fix="run the kit as the folder's owner, or mark the folder safe with "
        "`git config --global --add safe.directory <folder>`",
    )


def test_broken_repository_is_explained(tmp_path: Path) -> None:
    write_files(tmp_path, {".git": "gitdir: /nowhere/at/all\n", "package.json": PACKAGE})
    (f,) = check_project(make_app(tmp_path))
    assert (f.rule, f.severity) == ("git-unusable", "info")
    assert f.message == (
        "git could not read the repository, so the git checks were skipped: not a git "
        "repository: /nowhere/at/all"
    )


# --- git-submodule ---------------------------------------------------------------------

GITMODULES = '[submodule "lib"]\n\tpath = vendor/lib\n\turl = https://example.com/lib.git\n'


def test_submodule_declared(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"package.json": PACKAGE, ".gitmodules": GITMODULES})
    assert check_project(app) == [
        Finding(
            rule="git-submodule",
            severity="warning",
            path=".gitmodules",
            line=None,
            column=None,
            message="the app uses git submodules (vendor/lib); the platform does not fetch code "
            "from other repositories",
            fix="vendor the code into the app: remove the submodule (`git submodule deinit "
            "<path>` and `git rm --cached <path>`), copy its files in and commit them",
        )
    ]


def test_submodule_checked_out(tmp_path: Path) -> None:
    files = {"package.json": PACKAGE, "lib/.git": "gitdir: ../.git/modules/lib\n"}
    (f,) = findings_for(make_app(tmp_path, files), "git-submodule")
    assert (f.path, f.message) == (
        "lib",
        "the app uses git submodules (lib); the platform does not fetch code from other "
        "repositories",
    )


def test_submodule_of_the_enclosing_repository(tmp_path: Path) -> None:
    gitmodules = GITMODULES + '[submodule "x"]\n\tpath = app/deps/x\n\turl = ../x.git\n'
    repo(tmp_path, {".gitmodules": gitmodules, "app/package.json": PACKAGE})
    (f,) = findings_for(make_app(tmp_path / "app"), "git-submodule")
    assert (f.path, f.message) == (
        "deps/x",
        "the app uses git submodules (deps/x); the platform does not fetch code from other "
        "repositories",
    )


def test_no_submodules(tmp_path: Path) -> None:
    assert findings_for(make_app(tmp_path, {"package.json": PACKAGE}), "git-submodule") == []


# --- node-modules-committed ------------------------------------------------------------


def test_node_modules_uploaded(tmp_path: Path) -> None:
    files = {"Gear1/package.json": PACKAGE, "Gear1/node_modules/express/index.js": ""}
    app = make_app(tmp_path, files, service("Gear1"))
    assert check_without_node_modules(app) == [
        Finding(
            rule="node-modules-committed",
            severity="warning",
            path="Gear1/node_modules",
            line=None,
            column=None,
            message="Gear1/node_modules is not ignored, so push uploads it with the code; the "
            "platform runs npm install from package.json instead",
            fix="add node_modules/ to .gitignore",
        )
    ]


@pytest.mark.parametrize(
    "ignore",
    [
        {".gitignore": "node_modules/\n"},
        {".gitignore": "/Gear1/node_modules\n"},
        {"Gear1/.gitignore": "node_modules\n"},
        {".dotcloudignore": "node_modules\n"},
    ],
)
def test_node_modules_ignored(tmp_path: Path, ignore: dict[str, str]) -> None:
    files = {"Gear1/package.json": PACKAGE, "Gear1/node_modules/a/index.js": "", **ignore}
    assert check_without_node_modules(make_app(tmp_path, files, service("Gear1"))) == []


def test_node_modules_committed(tmp_path: Path) -> None:
    repo(tmp_path, {"package.json": PACKAGE, "node_modules/a/index.js": ""})
    write_files(tmp_path, {".gitignore": "node_modules/\n"})
    git(tmp_path, "add", ".gitignore")
    git(tmp_path, "commit", "-q", "-m", "ignore")
    write_files(tmp_path, {"node_modules/a/index.js": "changed", "node_modules/b.js": ""})
    (f,) = check_without_node_modules(make_app(tmp_path))
    assert (f.rule, f.path) == ("node-modules-committed", "node_modules")
    assert f.message == (
        "node_modules is committed to git, so push uploads it with the code; the platform runs "
        "npm install from package.json instead"
    )
    assert f.fix == "add node_modules/ to .gitignore and run `git rm -r --cached node_modules`"


def test_node_modules_without_package_json(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"node_modules/a.js": ""})
    (f,) = findings_for(app, "node-modules-committed")
    assert f.fix == "list its modules in package.json first, then add node_modules/ to .gitignore"


def test_no_node_modules(tmp_path: Path) -> None:
    repo(tmp_path, {"package.json": PACKAGE, ".gitignore": "node_modules/\n"})
    assert check_project(make_app(tmp_path)) == []


def test_the_watcher_sees_opens(tmp_path: Path) -> None:
    write_files(tmp_path, {"node_modules/a.js": ""})
    with watching_node_modules() as opened:
        (tmp_path / "node_modules" / "a.js").read_bytes()
        list((tmp_path / "node_modules").iterdir())
    assert [entry.split()[0] for entry in opened] == ["open", "os.listdir"]


def test_pre_commit_hook_runs_verify() -> None:
    import yaml

    hooks = yaml.safe_load((Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "dotkit-verify"
    assert hook["entry"] == "dotkit verify"
    assert (hook["language"], hook["pass_filenames"], hook["always_run"]) == ("python", False, True)
    assert hook["name"] and hook["description"]
