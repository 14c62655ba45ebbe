"""The kit's one exception family.

Library code raises these; :func:`kit.cli.main` is the only place that turns
them into messages and exit codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kit.findings import Finding

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class KitError(Exception):
    """Base of every error the kit raises on purpose."""

    exit_code = EXIT_FAILED


class UsageError(KitError):
    """The command line or its arguments cannot be acted on."""

    exit_code = EXIT_BAD_INPUT


class InputError(KitError):
    """The user's files are not usable; carries every finding that says why."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, findings: Sequence[Finding] = ()) -> None:
        super().__init__(message)
        self.findings = tuple(findings)


class OperationFailed(KitError):
    """An operation ran and did not succeed (a strict check, a failed push)."""

    exit_code = EXIT_FAILED
