"""Building apps on disk and the services the verifier sees, for tests."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kit.verify.model import Service


def write_files(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``{relative path: content}`` under ``root``; text is UTF-8."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def make_service(name: str = "www", **fields: Any) -> Service:
    """A nodejs service with one instance and nothing else, changed by ``fields``."""
    base = Service(
        name=name,
        type="nodejs",
        approot=".",
        line=1,
        instances=1,
        ports={},
        environment={},
        process=None,
        processes={},
        approot_ok=True,
    )
    return base._replace(**fields)
