"""The keeper starts the platform process again when it is killed or crashes, and only
then (for real, with kill -9: tests/security/test_faults.py)."""

from __future__ import annotations

import signal
from typing import Any

from kit.sandbox.keeper import MAX_QUICK_DEATHS, keep, should_restart


class Ends:
    """A platform process that has ended with ``status``."""

    def __init__(self, status: int) -> None:
        self.status = status

    def wait(self) -> int:
        return self.status


def run(statuses: list[int], tick: float = 1.0) -> tuple[int, int, list[str], list[float]]:
    """keep() over processes ending with ``statuses``, each living ``tick`` seconds."""
    started: list[int] = []
    said: list[str] = []
    pauses: list[float] = []
    now = [0.0]

    def start() -> Any:
        started.append(1)
        return Ends(statuses[len(started) - 1])

    def clock() -> float:
        now[0] += tick / 2
        return now[0]

    status = keep(start, clock=clock, sleep=pauses.append, say=said.append)
    return status, len(started), said, pauses


def test_killed_or_crashed_is_started_again_asked_to_stop_is_not() -> None:
    assert should_restart(-signal.SIGKILL) and should_restart(-signal.SIGSEGV)
    assert should_restart(1)  # an uncaught error
    assert not should_restart(0) and not should_restart(3)  # stopped; refused to run
    assert not should_restart(-signal.SIGTERM) and not should_restart(-signal.SIGINT)


def test_a_killed_platform_process_is_started_again_at_once() -> None:
    status, starts, said, pauses = run([-9, -9, 0])
    assert (status, starts) == (0, 3)
    assert pauses[0] == 0.0
    assert said[0] == "keeper: the platform process ended (signal 9); starting it again in 0.0 s"


def test_one_that_keeps_dying_young_is_left_down() -> None:
    status, starts, said, pauses = run([1] * 50)
    assert status == 1 and starts == MAX_QUICK_DEATHS + 1
    assert pauses == sorted(pauses)  # longer and longer
    assert (
        said[-1]
        == f"keeper: the platform process died {MAX_QUICK_DEATHS} times in a row; left down"
    )


def test_one_that_lived_long_is_always_started_again() -> None:
    status, starts, _, pauses = run([-9] * 20 + [0], tick=60.0)
    assert (status, starts) == (0, 21) and set(pauses) == {0.0}


def test_a_keeper_asked_to_stop_starts_nothing_more() -> None:
    started: list[int] = []

    def start() -> Any:
        started.append(1)
        return Ends(-9)

    assert keep(start, stopping=lambda: True, sleep=lambda s: None, say=print) == -9
    assert started == [1]
