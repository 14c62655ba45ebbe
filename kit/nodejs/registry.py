"""Talking to the npm registry about Node.js: which registry, the release list, one download.

The registry is the one npm is configured with (``npm config get registry
cafile``), so a mirror and its CA work. The answers are hostile input: sizes
are capped, the packument is read by :func:`kit.nodejs.versions.releases`,
and every way the network can fail becomes one :class:`NodeFetchFailed` that
says what to do. A failure that may pass (no answer in time, a connection
reset, a 5xx or 429 answer) is :class:`RegistryUnreachable`, which
:func:`retrying` tries again a couple of times before giving up. ``opener`` is
the seam tests replace with a registry in a dict.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.client import HTTPException
from typing import IO, Any, TypeVar

from kit.errors import OperationFailed
from kit.nodejs.versions import PACKAGE, Release, branch_of, releases
from kit.platform.facts import NODE_VERSIONS
from kit.proc import CommandFailed, run

DEFAULT_REGISTRY = "https://registry.npmjs.org/"
TIMEOUT = 60.0
MAX_PACKUMENT = 32 << 20
# The registry's short packument (versions and dist only) is far smaller than the full one.
_ACCEPT = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8"

ATTEMPTS = 3
RETRY_PAUSE = 1.0  # seconds before the second attempt; doubled before each next one

Opener = Callable[[str, Mapping[str, str], float], IO[bytes]]
T = TypeVar("T")


class NodeFetchFailed(OperationFailed):
    """The registry could not be reached, or answered with something unusable."""


class RegistryUnreachable(NodeFetchFailed):
    """A failure that may pass if tried again: the network's, or the registry's 5xx/429."""


def retrying(action: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """``action()``, tried up to ``attempts`` times while it fails in a way that may pass."""
    for attempt in range(1, attempts):
        try:
            return action()
        except RegistryUnreachable:
            time.sleep(RETRY_PAUSE * 2 ** (attempt - 1))
    return action()


@dataclass(frozen=True)
class Registry:
    url: str  # ends with "/"
    cafile: str | None = None


def registry(env: Mapping[str, str] | None = None) -> Registry:
    """The registry and CA file npm uses here (``npm config get registry cafile``)."""
    try:
        done = run(["npm", "config", "get", "registry", "cafile"], env=env, timeout=30)
    except CommandFailed:
        return Registry(DEFAULT_REGISTRY)
    found = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    url = found.get("registry", "").strip() or DEFAULT_REGISTRY
    if not url.startswith(("https://", "http://")):
        url = DEFAULT_REGISTRY
    cafile = found.get("cafile", "").strip()
    return Registry(url.rstrip("/") + "/", cafile if cafile not in ("", "null") else None)


def url_opener(where: Registry, given: Opener | None = None) -> Opener:
    """``given`` (a test's), else HTTPS with the CA file npm uses."""
    if given is not None:
        return given
    context = ssl.create_default_context(cafile=where.cafile if where.cafile else None)

    def open_url(url: str, headers: Mapping[str, str], timeout: float) -> IO[bytes]:
        request = urllib.request.Request(url, headers=dict(headers))
        response: IO[bytes] = urllib.request.urlopen(request, timeout=timeout, context=context)
        return response

    return open_url


def fetch_releases(where: Registry, opener: Opener) -> dict[str, Release]:
    """The releases of the platform's branches in the registry's packument, by version."""
    url = where.url + PACKAGE
    with get(url, opener, where, {"Accept": _ACCEPT}) as response:
        body = response.read(MAX_PACKUMENT + 1)
    if len(body) > MAX_PACKUMENT:
        raise NodeFetchFailed(f"the registry's answer for {PACKAGE} is too large to be real")
    try:
        packument: Any = json.loads(body)
    except ValueError:
        raise NodeFetchFailed(f"the registry's answer for {PACKAGE} ({url}) is not JSON") from None
    if not isinstance(packument, dict):
        raise NodeFetchFailed(f"the registry's answer for {PACKAGE} ({url}) is not a packument")
    platform = {v: r for v, r in releases(packument).items() if branch_of(v) in NODE_VERSIONS}
    return platform


@contextlib.contextmanager
def get(
    url: str, opener: Opener, where: Registry, headers: Mapping[str, str]
) -> Iterator[IO[bytes]]:
    """The answer to ``url``; what goes wrong on the way is a :class:`NodeFetchFailed`."""
    try:
        with opener(url, headers, TIMEOUT) as response:
            yield response
    except urllib.error.HTTPError as exc:
        passing = exc.code >= 500 or exc.code == 429
        raise (RegistryUnreachable if passing else NodeFetchFailed)(
            f"the npm registry answered {exc.code} {exc.reason} for {url}"
        ) from None
    except (urllib.error.URLError, HTTPException, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise RegistryUnreachable(
            f"cannot reach the npm registry at {where.url} to fetch Node.js ({reason}). "
            "Connect this machine to the network, point npm at a reachable mirror "
            "(npm config set registry URL), or use --node-version host to run this "
            "machine's own node instead"
        ) from None
    except ValueError as exc:  # not an address urllib can use: trying again will not help
        raise NodeFetchFailed(
            f"cannot reach the npm registry at {where.url} to fetch Node.js ({exc}). "
            "Connect this machine to the network, point npm at a reachable mirror "
            "(npm config set registry URL), or use --node-version host to run this "
            "machine's own node instead"
        ) from None
