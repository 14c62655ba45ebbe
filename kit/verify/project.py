"""Checks of the app as a project: package.json, git state, links, node_modules.

The porting guide asks for all the code under one tree and, with git, all of it
committed; the platform runs ``npm install`` from package.json during the build
and rebuilds node_modules there. These checks look for what breaks that:
package.json in :mod:`kit.verify.packagejson`, git in :mod:`kit.verify.gitstate`,
and symbolic links here.
"""

import posixpath
from collections.abc import Iterable

from kit.findings import Finding
from kit.platform.model import Service
from kit.verify import gitstate, packagejson
from kit.verify.disk import Disk
from kit.verify.model import Rule, Target, disk_of
from kit.verify.packagejson import package_json_problems

CATEGORY = "project"
NODE_MODULES = "node_modules"

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
RULES: tuple[Rule, ...] = (
    packagejson.PACKAGE_MISSING,
    packagejson.PACKAGE_SYNTAX,
    gitstate.UNCOMMITTED,
    gitstate.UNTRACKED,
    gitstate.SUBMODULE,
    SYMLINK,
    gitstate.NODE_MODULES_COMMITTED,
    gitstate.UNUSABLE_GIT,
    packagejson.NODE_VERSION_ENGINES,
    packagejson.DEPENDENCY_UNPINNED,
)


def check_project(app: Target) -> list[Finding]:
    """Findings about package.json, git, symbolic links and node_modules."""
    return check_project_files(app) + check_project_git(app)


def check_project_files(app: Target) -> list[Finding]:
    """The findings that depend on the app's files alone: package.json and links."""
    findings: list[Finding] = []
    files = frozenset(app.files)
    for service in _node_approots(app.services).values():
        findings.extend(packagejson.check_package(app, files, service))
    findings.extend(_symlinks(app))
    return findings


def check_project_git(app: Target) -> list[Finding]:
    """The findings that need git's view: changes, untracked files, submodules, node_modules."""
    approots = _node_approots(app.services)
    findings: list[Finding] = []
    files = frozenset(app.files)
    git = gitstate.git_state(app, [_rel(a, NODE_MODULES) for a in approots])
    if isinstance(git, Finding):
        findings.append(git)
        git = None
    if git is not None:
        findings.extend(gitstate.status_findings(git))
    findings.extend(gitstate.submodules(app, git))
    findings.extend(gitstate.node_modules(app, files, approots, git))
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


__all__ = ["RULES", "check_project", "link_leaves_tree", "package_json_problems"]
