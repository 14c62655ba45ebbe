"""Who may talk to the kit's servers: the owner (or root), outside every container."""

from __future__ import annotations

import os
from pathlib import Path

from kit.peers import peer_refusal


def test_peers_outside_the_owners_namespaces_are_refused(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    for pid, user in (("self", "user:[1]"), ("42", "user:[1]"), ("43", "user:[2]")):
        (proc / pid / "ns").mkdir(parents=True)
        for name in ("user", "pid", "mnt"):
            (proc / pid / "ns" / name).symlink_to(user if name == "user" else f"{name}:[1]")
    euid = os.geteuid() or 1000
    assert peer_refusal(42, euid, euid=euid, proc=proc) is None
    assert peer_refusal(42, 0, euid=euid, proc=proc) is None  # root may always ask
    assert peer_refusal(42, 4242, euid=euid, proc=proc) == (
        f"uid 4242 is not the sandbox's owner (uid {euid})"
    )
    assert "runs in a container" in str(peer_refusal(43, euid, euid=euid, proc=proc))
    assert "cannot be read" in str(peer_refusal(44, euid, euid=euid, proc=proc))
    assert "outside the platform's PID namespace" in str(
        peer_refusal(0, euid, euid=euid, proc=proc)
    )
