"""Findings about ``dotcloud.yml``, placed at the line and column of the key they concern."""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kit.findings import Finding
from kit.platform.facts import BUILD_FILE
from kit.verify.model import Rule

if TYPE_CHECKING:
    from kit.verify.yamlpos import YamlDoc


class Collector:
    """Collects findings; each is placed at its key's mark, or the nearest parent's."""

    def __init__(self, doc: "YamlDoc | None") -> None:
        self.items: list[Finding] = []
        self.doc = doc

    def at(
        self, rule: Rule, path: Sequence[str], message: str, fix: str, *, value: bool = False
    ) -> None:
        where = None
        if self.doc is not None:
            marks = self.doc.value_marks if value else self.doc.marks
            where = marks.get(tuple(path))
            if where is None and value:
                where = self.doc.marks.get(tuple(path))
            probe = list(path)
            while where is None and probe:
                probe.pop()
                where = self.doc.marks.get(tuple(probe))
        line, column = where if where else (1, 1)
        self.items.append(rule.finding(BUILD_FILE, line, column, message, fix))


def dotted(path: Sequence[Any]) -> str:
    return ".".join(str(p) for p in path) or "the file"
