"""The app as git sees it: changes, untracked files, submodules, a committed node_modules.

The porting guide asks for all the code under one tree and, with git, all of it
committed. Git is asked through :func:`kit.proc.run`, a handful of times per app,
with its optional locks and prompts off. Nothing under a ``node_modules`` folder
is ever listed by the kit: the folder itself is only ``stat``-ed, and git
answers whether it is tracked. The platform CLI's own folder ``.dotcloud/`` and
the converter's record ``.dotkit/`` are the kit's files, never an untracked-files
finding.
"""

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from kit.findings import Finding
from kit.platform.facts import CONFIG_DIR, UPLOAD_IGNORE_FILES
from kit.platform.model import Service
from kit.verify.model import Rule, Target

if TYPE_CHECKING:
    from kit.proc import Completed

CATEGORY = "project"
PACKAGE_JSON = "package.json"
NODE_MODULES = "node_modules"
SHOWN_PATHS = 5
GIT_TIMEOUT = 30.0
# Folders the kit's tools write into an app: never the user's forgotten files.
TOOL_FOLDERS = (f"{CONFIG_DIR}/", ".dotkit/")

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
RULES: tuple[Rule, ...] = (UNCOMMITTED, UNTRACKED, SUBMODULE, NODE_MODULES_COMMITTED, UNUSABLE_GIT)


def _rel(approot: str, name: str) -> str:
    return name if approot in ("", ".") else f"{approot}/{name}"


def _listing(paths: list[str]) -> str:
    shown = ", ".join(paths[:SHOWN_PATHS])
    more = len(paths) - SHOWN_PATHS
    return f"{shown} and {more} more" if more > 0 else shown


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


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


def git_state(app: Target, node_modules: list[str]) -> GitState | Finding | None:
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
        if code == "??" and path.startswith(TOOL_FOLDERS):
            continue  # `dotkit create` wrote .dotcloud/, `dotkit convert` .dotkit/
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


def status_findings(git: GitState) -> list[Finding]:
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


def submodules(app: Target, git: GitState | None) -> list[Finding]:
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


def node_modules(
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
