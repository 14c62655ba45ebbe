"""The one table of the sandbox's differences from the platform, and the places that show it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kit.sandbox import fidelity
from kit.sandbox.fidelity import ALWAYS, DIFFERENCES, DOCKER, HOST_NODE, PROCESS

ROOT = Path(__file__).resolve().parents[2]


def _claims() -> dict[str, dict[str, str]]:
    data = yaml.safe_load((ROOT / "notebooks" / "claims.yml").read_text(encoding="utf-8"))
    return {claim["id"]: claim for claim in data["claims"]}


def test_every_row_is_complete_and_named_once() -> None:
    ids = [row.id for row in DIFFERENCES]
    assert len(ids) == len(set(ids))
    for row in DIFFERENCES:
        assert row.when in (ALWAYS, PROCESS, HOST_NODE, DOCKER), row.id
        for field in (row.behaviour, row.platform, row.sandbox, row.why, row.source):
            assert field.strip(), row.id


def test_every_claim_the_sandbox_differs_on_is_explained_by_a_row() -> None:
    """A claim marked ``differs`` is named by a row, or its ``doctor`` words are in a row's
    line, unless it says why no sandbox could do it (``outside``)."""
    claims = _claims()
    explained = fidelity.claims_explained()
    listed = "\n".join(fidelity.lines(DIFFERENCES))
    unexplained = [
        cid
        for cid, claim in claims.items()
        if claim["sandbox"] == "differs"
        and "outside" not in claim
        and cid not in explained
        and not ("doctor" in claim and claim["doctor"] in listed)
    ]
    assert unexplained == [], "add a row that names the claim"
    assert sorted(set(explained) - set(claims)) == [], "a row names a claim that does not exist"
    same = sorted(cid for cid in explained if claims[cid]["sandbox"] == "same")
    assert same == [], "a row explains a claim the notebooks say the sandbox does the same"


def test_rows_hold_by_backend_and_node() -> None:
    bwrap = {row.id for row in fidelity.applicable(backend="bwrap")}
    plain = {row.id for row in fidelity.applicable(backend="process")}
    host = {row.id for row in fidelity.applicable(backend="bwrap", node="host")}
    assert "process-network" in plain and "process-network" not in bwrap
    assert "host-node" in host and "host-node" not in bwrap
    assert {"os", "urls", "ssh"} <= bwrap <= plain
    docker = {row.id for row in fidelity.applicable(backend="docker")}
    assert "docker-uid" in docker and "docker-uid" not in bwrap | plain
    assert bwrap <= docker and "process-network" not in docker


def test_doctor_prints_the_rows_that_hold_here(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOTKIT_BACKEND", "process")
    monkeypatch.setenv("DOTKIT_NODE_VERSION", "host")
    out = cli("doctor").out
    listed = out.split("Not faithful to the platform", 1)[1]
    for line in fidelity.lines(fidelity.applicable(backend="process", node="host")):
        assert f"  - {line}\n" in listed
    assert listed.count("\n  - ") == len(fidelity.applicable(backend="process", node="host"))


def test_the_docs_show_the_whole_table() -> None:
    assert "<!-- fidelity -->" in (ROOT / "docs" / "sandbox.md").read_text(encoding="utf-8")
    table = fidelity.markdown()
    for row in DIFFERENCES:
        assert fidelity._cell(row.sandbox) in table
    assert table.count("\n| ") == len(DIFFERENCES) + 4  # a header row per group
