"""Checks of the app as a project: package.json, git state, links, node_modules.

The porting guide asks for all the code under one tree and, with git, all of it
committed; the platform runs ``npm install`` from package.json during the build
and rebuilds node_modules there. These checks look for what breaks that.

Git is asked through :func:`kit.proc.run`, a handful of times per app. Nothing
under a ``node_modules`` folder is ever opened or listed by the kit: the folder
itself is only ``stat``-ed, and git answers whether it is tracked.
"""

import json
import os
import posixpath
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from kit.findings import Finding
from kit.platform.facts import UPLOAD_IGNORE_FILES
from kit.platform.model import Service
from kit.verify.disk import Disk
from kit.verify.model import Rule, Target, disk_of

if TYPE_CHECKING:
    from kit.proc import Completed

CATEGORY = "project"
PACKAGE_JSON = "package.json"
NODE_MODULES = "node_modules"
SHOWN_PATHS = 5
GIT_TIMEOUT = 30.0

PACKAGE_MISSING = Rule(
    "package-json-missing",
    "warning",
    CATEGORY,
    "A nodejs service has no package.json.",
    "During a push the platform runs `npm install` in the approot, but only when it finds a "
    "package.json there. Without one no module is installed, so every `require()` of a module "
    "that is not committed with the code fails when the app starts. List the modules the app "
    "needs in package.json and let the platform install them.",
    bad="Gear1/server.js:\nvar express = require('express');",
    good='Gear1/package.json:\n{\n  "name": "gear1",\n  "dependencies": {"express": "3.x"}\n}',
)
PACKAGE_SYNTAX = Rule(
    "package-json-syntax",
    "error",
    CATEGORY,
    "package.json is not valid JSON, or its dependencies are malformed.",
    "npm reads package.json as strict JSON: no comments, no trailing commas, double quotes "
    "only. If it cannot read the file, or `dependencies` is not an object that maps module "
    "names to version strings, `npm install` fails and the push's build fails with it.",
    bad='Gear1/package.json:\n{\n  "dependencies": {"express": "3.x",}\n}',
    good='Gear1/package.json:\n{\n  "dependencies": {"express": "3.x"}\n}',
)
UNCOMMITTED = Rule(
    "uncommitted-changes",
    "warning",
    CATEGORY,
    "Tracked files have changes that are not committed.",
    "The porting guide asks that everything is checked in before a push. A git push uploads "
    "only what is committed, so local changes are silently left behind; an rsync push uploads "
    "them as they are, so what runs is not what the repository holds. Commit (or stash) first.",
    bad="Gear1/server.js:\n(edited since the last commit)",
    good="Gear1/server.js:\n(committed with `git commit -am 'Listen on 8080'`)",
)
UNTRACKED = Rule(
    "untracked-files",
    "warning",
    CATEGORY,
    "Files in the app are neither tracked by git nor ignored.",
    "A git push leaves untracked files behind, while an rsync push uploads them, so the app can "
    "work with one and fail with the other. Add the files the app needs to git, and list the "
    "others (logs, local settings) in .gitignore.",
    bad="Gear1/config.json:\n(created, never added to git)",
    good="Gear1/config.json:\n(added with `git add Gear1/config.json` and committed)",
)
UNUSABLE_GIT = Rule(
    "git-unusable",
    "info",
    CATEGORY,
    "git could not read the repository, so the git checks were skipped.",
    "The app is in a folder git refuses to read (for example one owned by another user, which "
    "git calls 'dubious ownership'). The kit skips its git checks rather than guess; fix the "
    "repository and run the checks again.",
    bad="(shell):\n$ git status\nfatal: detected dubious ownership in repository at '/srv/app'\n",
    good="(shell):\n$ git config --global --add safe.directory /srv/app\n$ git status\n",
)
SUBMODULE = Rule(
    "git-submodule",
    "warning",
    CATEGORY,
    "The app uses git submodules.",
    "The platform takes the code of one tree and does not fetch code from other repositories, "
    "so a submodule arrives empty (with a git push) or as whatever happens to be checked out "
    "(with rsync). Vendor the code into the app's own tree and commit it.",
    bad='.gitmodules:\n[submodule "lib"]\n\tpath = lib\n\turl = https://example.com/lib.git',
    good="lib/index.js:\n(committed as part of the app)",
)
SYMLINK = Rule(
    "symlink-outside-app",
    "error",
    CATEGORY,
    "A symbolic link points outside the app, or to nothing.",
    "The upload copies links as links and drops every link that leaves the app's tree "
    "(rsync's --safe-links: absolute targets and relative ones that climb above the app). A "
    "link whose target does not exist arrives broken. Either way the code that uses it fails on "
    "the platform while it works on your machine.",
    bad="Gear1/shared:\n-> ../../common (outside the app)",
    good="Gear1/shared:\n-> ../common (a folder inside the app)",
)
NODE_MODULES_COMMITTED = Rule(
    "node-modules-committed",
    "warning",
    CATEGORY,
    "A node_modules folder would be uploaded.",
    "Modules installed on your machine may hold compiled code that does not run on the "
    "platform's, and the platform runs `npm install` from package.json on every push anyway. "
    "Uploading node_modules makes pushes slow and can break native modules. Ignore it and let "
    "the build install the modules.",
    bad=".gitignore:\n(no node_modules entry; Gear1/node_modules committed)",
    good=".gitignore:\nnode_modules/",
)
RULES: tuple[Rule, ...] = (
    PACKAGE_MISSING,
    PACKAGE_SYNTAX,
    UNCOMMITTED,
    UNTRACKED,
    SUBMODULE,
    SYMLINK,
    NODE_MODULES_COMMITTED,
    UNUSABLE_GIT,
)


def check_project(app: Target) -> list[Finding]:
    """Findings about package.json, git, symbolic links and node_modules."""
    return check_project_files(app) + check_project_git(app)


def check_project_files(app: Target) -> list[Finding]:
    """The findings that depend on the app's files alone: package.json and links."""
    findings: list[Finding] = []
    files = frozenset(app.files)
    for service in _node_approots(app.services).values():
        findings.extend(_package_json(app, files, service))
    findings.extend(_symlinks(app))
    return findings


def check_project_git(app: Target) -> list[Finding]:
    """The findings that need git's view: changes, untracked files, submodules, node_modules."""
    approots = _node_approots(app.services)
    findings: list[Finding] = []
    files = frozenset(app.files)
    git = _git_state(app, [_rel(a, NODE_MODULES) for a in approots])
    if isinstance(git, Finding):
        findings.append(git)
        git = None
    if git is not None:
        findings.extend(_status_findings(git))
    findings.extend(_submodules(app, git))
    findings.extend(_node_modules(app, files, approots, git))
    return findings


def _node_approots(services: Iterable[Service]) -> dict[str, Service]:
    """The first nodejs service of each approot that exists."""
    out: dict[str, Service] = {}
    for service in services:
        if service.type == "nodejs" and service.approot_ok:
            out.setdefault(service.approot, service)
    return out


def _rel(approot: str, name: str) -> str:
    return name if approot in ("", ".") else f"{approot}/{name}"


def _listing(paths: list[str]) -> str:
    shown = ", ".join(paths[:SHOWN_PATHS])
    more = len(paths) - SHOWN_PATHS
    return f"{shown} and {more} more" if more > 0 else shown


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --- package.json ----------------------------------------------------------------------


def _package_json(app: Target, files: frozenset[str], service: Service) -> list[Finding]:
    path = _rel(service.approot, PACKAGE_JSON)
    where = service.approot if service.approot not in ("", ".") else "the app root"
    fix = (
        f"run `npm init -y` in {where}, then `npm install --save <module>` for each module "
        "the code requires"
    )
    if path not in files:
        if disk_of(app).is_file(path):
            message = (
                f"{path} is ignored by .gitignore or .dotcloudignore, so push leaves it out and "
                "runs no npm install"
            )
            fix = f"stop ignoring {path} in .gitignore or .dotcloudignore"
            return [PACKAGE_MISSING.finding(path, None, None, message, fix)]
        message = (
            f"service {service.name} has no {path}, so push runs no npm install and every "
            "module the code requires must be committed with it"
        )
        return [PACKAGE_MISSING.finding(path, None, None, message, fix)]
    try:
        data = disk_of(app).read(path)
    except OSError as exc:
        message = f"cannot be read: {exc.strerror or exc}"
        return [PACKAGE_SYNTAX.finding(path, None, None, message, "make it a readable file")]
    return package_json_problems(path, data)


def package_json_problems(path: str, data: bytes) -> list[Finding]:
    """Problems npm would have reading ``data`` as package.json."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"is not UTF-8 text (byte 0x{data[exc.start]:02x}), so npm cannot read it"
        return [PACKAGE_SYNTAX.finding(path, line, column, message, "save it as UTF-8")]
    text = text.removeprefix("\ufeff")  # npm strips a byte-order mark
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return [_json_error(path, text, exc)]
    except RecursionError:
        message = "nests too deeply to be read"
        return [PACKAGE_SYNTAX.finding(path, None, None, message, "flatten the JSON")]
    return _shape_problems(path, text, value)


_JSON_PLAIN: tuple[tuple[str, str], ...] = (
    ("Expecting value", "a value is missing here (JSON has no comments or trailing commas)"),
    (
        "Expecting property name enclosed in double quotes",
        "a key in double quotes is expected here (JSON has no trailing commas, comments or "
        "single quotes)",
    ),
    ("Expecting ',' delimiter", "a comma is missing before this point"),
    ("Expecting ':' delimiter", "a colon is missing after the key"),
    ("Unterminated string", "a string starts here and is never closed"),
    ("Invalid control character", "a string holds a raw line break or tab; write \\n or \\t"),
    ("Invalid \\uXXXX escape", "a \\u escape needs four hexadecimal digits"),
    ("Invalid \\escape", "a backslash starts an escape JSON does not have; write \\\\ for one"),
    ("Extra data", "more text follows the end of the JSON object"),
)


def _json_error(path: str, text: str, exc: json.JSONDecodeError) -> Finding:
    if not text.strip():
        message = "is empty, and npm needs at least {}"
        return PACKAGE_SYNTAX.finding(path, None, None, message, "write {} or run `npm init -y`")
    plain = next((words for start, words in _JSON_PLAIN if exc.msg.startswith(start)), exc.msg)
    return PACKAGE_SYNTAX.finding(
        path,
        exc.lineno,
        exc.colno,
        f"is not valid JSON: {plain}",
        "correct the JSON at this point; npm installs nothing until the file parses",
    )


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    return "a number"


class _Where(NamedTuple):
    line: int | None
    column: int | None


def _shape_problems(path: str, text: str, value: Any) -> list[Finding]:
    if not isinstance(value, dict):
        start = len(text) - len(text.lstrip())
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1) + 1
        message = f"holds {_kind(value)}, but npm needs a JSON object ({{...}})"
        fix = 'wrap the settings in an object: {"name": "app", "dependencies": {}}'
        return [PACKAGE_SYNTAX.finding(path, line, column, message, fix)]
    deps = value.get("dependencies")
    if deps is None and "dependencies" not in value:
        return []
    positions = _dependency_positions(text)
    if not isinstance(deps, dict):
        where = positions.get("", _Where(None, None))
        message = f"dependencies is {_kind(deps)}, but must map module names to versions"
        fix = 'write it as an object: "dependencies": {"express": "3.x"}'
        return [PACKAGE_SYNTAX.finding(path, *where, message, fix)]
    findings = []
    for name, version in deps.items():
        if not isinstance(version, str):
            where = positions.get(name, _Where(None, None))
            message = f"the version of {name!r} in dependencies is {_kind(version)}, not a string"
            fix = f'write the version range as a string, e.g. "{name}": "1.x"'
            findings.append(PACKAGE_SYNTAX.finding(path, *where, message, fix))
    return findings


def _dependency_positions(text: str) -> dict[str, _Where]:
    """Positions in ``dependencies``: "" for its value, module names for theirs."""
    from kit.jsonpos import JsonProblems, parse

    try:
        root = parse(text).root
    except JsonProblems:
        return {}  # valid for json, too deep or odd for the positioned reader
    out: dict[str, _Where] = {}
    for key, _, node in root.members:
        if key != "dependencies":
            continue
        out[""] = _Where(*node.pos)
        for name, _, child in node.members:
            out[name] = _Where(*child.pos)
    return out


# --- symbolic links --------------------------------------------------------------------


def _symlinks(app: Target) -> list[Finding]:
    disk = disk_of(app)
    links = app.links
    if links is None:  # not known from the listing: look at each file
        links = frozenset(rel for rel in app.files if (app.root / rel).is_symlink())
    findings = []
    for rel in sorted(links):
        target = disk.readlink(rel)
        if target is None:
            continue  # gone since the listing
        problem = _link_problem(disk, rel, target)
        if problem is not None:
            message, fix = problem
            findings.append(SYMLINK.finding(rel, None, None, message, fix))
    return findings


def link_leaves_tree(rel: str, target: str) -> bool:
    """rsync's --safe-links test: absolute, or climbing above the tree at any step."""
    if target.startswith("/"):
        return True
    depth = rel.count("/")  # folders between the tree's root and the link
    for part in target.split("/"):
        if part in ("", "."):
            continue
        depth = depth - 1 if part == ".." else depth + 1
        if depth < 0:
            return True
    return False


def _link_problem(disk: Disk, rel: str, target: str) -> tuple[str, str] | None:
    fix = "replace the link with a copy of what it points to, or link to a path inside the app"
    if target.startswith("/"):
        message = (
            f"{rel} points to the absolute path {target}; the upload drops links with absolute "
            "targets"
        )
        return message, fix
    if link_leaves_tree(rel, target):
        message = f"{rel} points to {target}, outside the app; the upload drops such links"
        return message, fix
    inside = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target))
    if NODE_MODULES in inside.split("/"):
        return None  # the kit never looks inside node_modules
    if not disk.exists(inside):
        message = f"{rel} points to {target}, which does not exist"
        return message, "create the target, or remove the link"
    return None


# --- git -------------------------------------------------------------------------------


class GitState(NamedTuple):
    prefix: str  # the app root relative to the top of the work tree, "" or "app/"
    toplevel: Path
    changed: list[str]  # tracked, modified or staged; relative to the app root
    untracked: list[str]


_NOT_A_REPO = re.compile(r"not a git repository \(or any (?:of the )?parent")


def _git(app: Target, *args: str) -> "Completed":
    # The app's repository is untrusted: nothing its config names may run.
    from kit.git import run_git  # only apps in a git work tree pay for the import

    return run_git(app.root, *args, timeout=GIT_TIMEOUT)


def _git_state(app: Target, node_modules: list[str]) -> GitState | Finding | None:
    """The app's git status, None when git is absent or the app is not in a work tree."""
    if shutil.which("git") is None or not _may_be_in_work_tree(app.root):
        return None
    from kit.proc import CommandFailed

    try:
        where = _git(app, "rev-parse", "--is-inside-work-tree", "--show-toplevel", "--show-prefix")
        if where.returncode != 0:
            return None if _NOT_A_REPO.search(where.stderr) else _unusable(where.stderr)
        lines = where.stdout.split("\n")
        if lines[0] != "true" or len(lines) < 3:
            return None  # inside .git itself, or a bare repository
        excludes = [f":(exclude,literal){path}" for path in node_modules]
        status = _git(app, "status", "--porcelain=v1", "-z", "--no-renames", "--", ".", *excludes)
        if status.returncode != 0:
            return _unusable(status.stderr)
    except CommandFailed as exc:
        return _unusable(str(exc))
    return _parse_status(lines[2], Path(lines[1]), status.stdout)


def _may_be_in_work_tree(root: Path) -> bool:
    """False only when git could not find a repository: no .git here or above, no GIT_DIR."""
    if "GIT_DIR" in os.environ or "GIT_WORK_TREE" in os.environ:
        return True
    folder = root.absolute()
    return any(os.path.lexists(f"{p}/.git") for p in (folder, *folder.parents))


def _parse_status(prefix: str, toplevel: Path, output: str) -> GitState:
    changed: list[str] = []
    untracked: list[str] = []
    for entry in output.split("\0"):
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        path = path[len(prefix) :] if prefix and path.startswith(prefix) else path
        (untracked if code == "??" else changed).append(path)
    return GitState(prefix, toplevel, changed, untracked)


def _unusable(stderr: str) -> Finding:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    reason = lines[0].removeprefix("fatal: ") if lines else "no reason given"
    fix = "run `git status` in the app folder to see the problem, fix it, and verify again"
    if "dubious ownership" in stderr:
        fix = (
            "run the kit as the folder's owner, or mark the folder safe with "
            "`git config --global --add safe.directory <folder>`"
        )
    message = f"git could not read the repository, so the git checks were skipped: {reason}"
    return UNUSABLE_GIT.finding(".", None, None, message, fix)


def _status_findings(git: GitState) -> list[Finding]:
    findings = []
    if git.changed:
        message = (
            f"{_plural(len(git.changed), 'tracked file')} changed but not committed: "
            f"{_listing(git.changed)}"
        )
        fix = "commit them (`git commit -am '...'`) or stash them before pushing"
        findings.append(UNCOMMITTED.finding(git.changed[0], None, None, message, fix))
    if git.untracked:
        message = (
            f"{_plural(len(git.untracked), 'untracked file')} not ignored: "
            f"{_listing(git.untracked)}"
        )
        fix = "add the ones the app needs (`git add`) and list the others in .gitignore"
        findings.append(UNTRACKED.finding(git.untracked[0], None, None, message, fix))
    return findings


# --- submodules ------------------------------------------------------------------------

_SUBMODULE_PATH = re.compile(r"^\s*path\s*=\s*(.*?)\s*$", re.MULTILINE)


def _submodules(app: Target, git: GitState | None) -> list[Finding]:
    """Submodules declared in a .gitmodules that covers the app, or checked out in it."""
    paths: list[str] = []
    if git is not None and git.prefix:
        declared = _declared_submodules(git.toplevel / ".gitmodules")
        paths += [p[len(git.prefix) :] for p in declared if p.startswith(git.prefix)]
    else:
        paths += _declared_submodules(app.root / ".gitmodules")
    # A checked-out submodule has a .git *file* (a folder would be a nested repository).
    paths += [rel[: -len("/.git")] for rel in app.files if rel.endswith("/.git")]
    paths = sorted(set(paths))
    if not paths:
        return []
    path = ".gitmodules" if ".gitmodules" in app.files else paths[0]
    message = (
        f"the app uses git submodules ({_listing(paths)}); the platform does not fetch code "
        "from other repositories"
    )
    fix = (
        "vendor the code into the app: remove the submodule (`git submodule deinit <path>` and "
        "`git rm --cached <path>`), copy its files in and commit them"
    )
    return [SUBMODULE.finding(path, None, None, message, fix)]


def _declared_submodules(gitmodules: Path) -> list[str]:
    from kit.safeio import read_text

    try:
        text = read_text(gitmodules)
    except OSError:
        return []
    return [p.strip("\"'") for p in _SUBMODULE_PATH.findall(text) if p]


# --- node_modules ----------------------------------------------------------------------


def _node_modules(
    app: Target, files: frozenset[str], approots: Mapping[str, Service], git: GitState | None
) -> list[Finding]:
    folders = {approot: _rel(approot, NODE_MODULES) for approot in approots}
    tracked = _tracked(app, list(folders.values())) if git is not None else set()
    specs: dict[str, Any] = {}
    findings = []
    for approot, rel in folders.items():
        full = app.root / rel
        present = full.is_dir() or full.is_symlink()  # stat of the folder only
        uploaded = present and not _ignored_for_upload(app.root, rel, specs)
        if rel not in tracked and not uploaded:
            continue
        if rel in tracked:
            message = f"{rel} is committed to git, so push uploads it with the code"
            fix = f"add node_modules/ to .gitignore and run `git rm -r --cached {rel}`"
        else:
            message = f"{rel} is not ignored, so push uploads it with the code"
            fix = "add node_modules/ to .gitignore"
        message += "; the platform runs npm install from package.json instead"
        if _rel(approot, PACKAGE_JSON) not in files:
            fix = f"list its modules in {_rel(approot, PACKAGE_JSON)} first, then {fix}"
        findings.append(NODE_MODULES_COMMITTED.finding(rel, None, None, message, fix))
    return findings


def _tracked(app: Target, paths: list[str]) -> set[str]:
    """Which of ``paths`` are in the last commit (ls-tree names the entry, not its content)."""
    if not paths:
        return set()
    from kit.proc import CommandFailed

    try:
        done = _git(app, "ls-tree", "-z", "--name-only", "HEAD", "--", *paths)
    except CommandFailed:
        return set()
    if done.returncode != 0:
        return set()  # no commit yet
    return {entry for entry in done.stdout.split("\0") if entry}


def _ignored_for_upload(root: Path, rel: str, specs: dict[str, Any]) -> bool:
    """Whether .gitignore or .dotcloudignore files from the root down leave ``rel`` out.

    ``specs`` caches the parsed ignore files by path, since every approot shares the root's.
    """
    parts = rel.split("/")
    for depth in range(len(parts)):
        base = "/".join(parts[:depth])
        for name in UPLOAD_IGNORE_FILES:
            spec_path = f"{base}/{name}" if base else name
            if spec_path not in specs:
                specs[spec_path] = _load_ignore_file(root / spec_path)
            spec = specs[spec_path]
            if spec is not None and spec.match_file("/".join(parts[depth:]) + "/"):
                return True
    return False


def _load_ignore_file(path: Path) -> Any:
    import pathspec  # only apps with a node_modules folder pay for the import

    from kit.safeio import read_text

    try:
        lines = read_text(path).splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)
