"""A data service's one-time steps, run in one process as they are in one container."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.sandbox.steps import Step, decode, encode, run


def _main(data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "kit.sandbox.steps"], input=data, capture_output=True, check=False
    )


@given(
    st.lists(
        st.builds(
            Step,
            st.tuples(st.text(min_size=1)).map(tuple),
            st.one_of(st.none(), st.binary()),
        ),
        max_size=5,
    )
)
def test_steps_survive_their_encoding(steps: list[Step]) -> None:
    assert decode(encode(steps)) == steps


def test_each_step_gets_its_own_input_and_the_first_failure_stops_the_rest(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    steps = [
        Step(("/bin/sh", "-c", f'cat > "{out}"'), b"secret\n"),
        Step(("/bin/sh", "-c", "exit 3")),
        Step(("/bin/sh", "-c", f'echo never > "{out}"')),
    ]
    done = _main(encode(steps))
    assert done.returncode == 3
    assert out.read_bytes() == b"secret\n"
    assert done.stderr.decode().splitlines()[-1] == "dotkit: `sh` exited with status 3"


def test_a_step_without_input_reads_nothing_and_does_not_wait() -> None:
    err = io.StringIO()
    assert run([Step(("/bin/cat",))], err) == 0 and err.getvalue() == ""


def test_a_missing_program_is_named() -> None:
    err = io.StringIO()
    assert run([Step(("/nonexistent/initdb", "-D", "/x"))], err) == 127
    assert err.getvalue().startswith("dotkit: `initdb` could not start:")


@pytest.mark.parametrize(
    "data",
    [b"", b"{}", b"[1]", b'[{"argv": []}]', b'[{"argv": ["a"], "input": 5}]', b"\xff"],
)
def test_anything_but_a_list_of_steps_is_refused_with_status_2(data: bytes) -> None:
    done = _main(data)
    assert done.returncode == 2, done.stderr
    assert done.stderr.decode().startswith("dotkit: steps:")
