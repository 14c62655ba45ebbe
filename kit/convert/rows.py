"""Report rows as a Gear's conversion collects them.

A row's target line in dotcloud.yml is known only once the build file is
rendered, so rows are collected with the key they land on (:class:`PendingRow`)
and their lines filled in by :func:`kit.convert.app.convert_app`.
"""

from typing import NamedTuple

from kit.convert.gears import GearInput
from kit.convert.migration import GUIDE_CONFIG, Action, ReportRow
from kit.convert.torque import Torque


class PendingRow(NamedTuple):
    """A report row whose target line is found once the build file is rendered."""

    row: ReportRow
    target_key: tuple[str, ...] | None = None


class Rows:
    """The rows of one Gear, each with the build-file key it lands on."""

    def __init__(self, gear: GearInput, service: str, torque: Torque) -> None:
        self.gear, self.service, self.torque = gear, service, torque
        self.rows: list[PendingRow] = []

    def add(
        self,
        source: str,
        action: Action,
        old: str,
        new: str,
        line: int | None,
        target: tuple[str | None, tuple[str, ...] | None, int | None],
        reason: str,
        guide: str = GUIDE_CONFIG,
        source_path: str | None = None,
    ) -> None:
        path, key, target_line = target
        row = ReportRow(
            self.gear.dirname,
            self.service,
            source,
            action,
            old,
            new,
            source_path or self.torque.path,
            line,
            path,
            target_line,
            reason,
            guide,
        )
        self.rows.append(PendingRow(row, key))
