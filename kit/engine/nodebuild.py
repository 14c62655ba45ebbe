"""The platform's Node.js builds in the image: the ones the sandbox runs, from :mod:`kit.nodejs`.

For each ``config: node_version`` branch the npm registry has builds of, the
image carries the build the sandbox runs for it (the newest of the branch:
:func:`kit.nodejs.versions.own_builds`); a branch with none of its own is left
out. The release list and the builds come from the sandbox's fetcher and its
cache (``$DOTKIT_HOME/cache/node`` unless told otherwise): the registry is
asked for the list only when that cache has none, so the image's key is
computed offline once it has, and a build the sandbox downloaded is not
downloaded again for the image (nor checked and unpacked another way).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

from kit.nodejs.fetch import cached, ensure_release, platform_releases
from kit.nodejs.versions import PACKAGE, NoNodeBuild, Release, own_builds
from kit.platform.facts import NODE_VERSIONS


def image_builds(cache: Path | None = None) -> dict[str, Release]:
    """The build the image carries for each branch, oldest branch first."""
    builds = own_builds(platform_releases(cache=cache))
    if not builds:
        raise NoNodeBuild(
            f"the npm registry publishes no {PACKAGE} build for any of the platform's "
            f"branches ({', '.join(NODE_VERSIONS)}); use --node-version host to put this "
            "machine's own node in the image instead"
        )
    return builds


def key_part(builds: Mapping[str, Release]) -> bytes:
    """What the image's key hashes of its builds: each branch's version and integrity."""
    table = {branch: [r.version, r.integrity] for branch, r in builds.items()}
    return json.dumps(table, sort_keys=True).encode()


def fetch_builds(
    builds: Mapping[str, Release], cache: Path | None, say: Callable[[str], None]
) -> dict[str, Path]:
    """Each branch's build folder (``bin/node``...), fetched into ``cache`` when missing."""
    folders = {}
    for branch, release in builds.items():
        if cached(release.version, cache) is None:
            name = f"{PACKAGE}@{release.version}"
            say(f"Node.js {release.version} for {branch}: {name} from the npm registry")
        folders[branch] = ensure_release(release, cache=cache)
    return folders
