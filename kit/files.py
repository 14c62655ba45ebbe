"""A file to write: what renderers return and the one writer (`kit.appfs.write_tree`) takes."""

from typing import NamedTuple


class OutFile(NamedTuple):
    """A file to write, relative to the output directory."""

    path: str
    content: bytes
    mode: int = 0o644
