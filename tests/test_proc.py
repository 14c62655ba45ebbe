"""kit.proc: the one way the kit runs another program."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from kit import proc
from kit.errors import OperationFailed
from testing.apps import write_files

PY = sys.executable


def test_run_captures_output() -> None:
    done = proc.run([PY, "-c", "import sys; print('out'); print('err', file=sys.stderr)"])
    assert done == proc.Completed((PY, "-c", done.argv[2]), 0, "out\n", "err\n")


def test_run_passes_input_and_environment(tmp_path: Path) -> None:
    code = "import os, sys; print(os.environ.get('A'), sys.stdin.read(), os.getcwd())"
    done = proc.run([PY, "-c", code], input=b"hello", env={"A": "1"}, cwd=tmp_path)
    assert done.stdout == f"1 hello {tmp_path}\n"


def test_missing_program() -> None:
    with pytest.raises(proc.CommandFailed) as caught:
        proc.run(["dotkit-no-such-program", "x"])
    assert str(caught.value) == "cannot run dotkit-no-such-program: not installed"
    assert caught.value.returncode is None
    assert isinstance(caught.value, OperationFailed)


def test_missing_path_program_and_folder(tmp_path: Path) -> None:
    with pytest.raises(proc.CommandFailed, match=r"^cannot run \./nope: no such file$"):
        proc.run(["./nope"], cwd=tmp_path)
    with pytest.raises(proc.CommandFailed) as caught:
        proc.run([PY, "-V"], cwd=tmp_path / "gone")
    assert str(caught.value) == (
        f"cannot run {PY}: the folder {tmp_path / 'gone'} does not exist or is not a folder"
    )


def test_not_executable(tmp_path: Path) -> None:
    write_files(tmp_path, {"script": "#!/bin/sh\n"})
    with pytest.raises(proc.CommandFailed, match="permission denied"):
        proc.run([str(tmp_path / "script")])


def test_failure_names_command_code_and_output_tail() -> None:
    code = "import sys\nfor i in range(20): print('line', i)\nsys.exit(3)"
    with pytest.raises(proc.CommandFailed) as caught:
        proc.run([PY, "-c", code])
    lines = str(caught.value).splitlines()
    assert lines[0].endswith(" failed with exit code 3:")
    assert lines[0].startswith(f"`{PY} -c ")
    assert lines[1:] == [f"  line {i}" for i in range(10, 20)]
    assert caught.value.returncode == 3
    assert caught.value.stdout.count("\n") == 20


def test_failure_without_check_is_returned() -> None:
    done = proc.run([PY, "-c", "raise SystemExit(4)"], check=False)
    assert (done.returncode, done.stdout, done.stderr) == (4, "", "")


def test_failure_without_output_and_by_signal() -> None:
    with pytest.raises(proc.CommandFailed, match=r"exit code 4 \(no output\)$"):
        proc.run([PY, "-c", "raise SystemExit(4)"])
    with pytest.raises(proc.CommandFailed, match=r"was killed by SIGTERM \(no output\)$"):
        proc.run(["sh", "-c", "kill -TERM $$"])


def test_timeout_stops_the_whole_process_group() -> None:
    started = time.monotonic()
    with pytest.raises(proc.CommandFailed) as caught:
        # The background sleep keeps the pipes open; killing only sh would hang here.
        proc.run(["sh", "-c", "echo started; sleep 30 & sleep 30"], timeout=0.3)
    assert time.monotonic() - started < 5
    assert str(caught.value) == (
        "`sh -c 'echo started; sleep 30 & sleep 30'` did not finish within 0.3 seconds and was "
        "stopped"
    )
    assert caught.value.stdout == "started\n"


def test_output_that_is_not_utf8() -> None:
    done = proc.run([PY, "-c", "import sys; sys.stdout.buffer.write(b'caf\\xe9')"])
    assert done.stdout == "caf\ufffd"


def test_empty_command() -> None:
    with pytest.raises(proc.CommandFailed, match="cannot run an empty command"):
        proc.run([])


def test_stream_hands_over_each_line() -> None:
    lines: list[str] = []
    code = "import sys\nfor i in range(3): print(i, flush=True)\nprint('err', file=sys.stderr)"
    assert proc.stream([PY, "-c", code], on_line=lines.append) == 0
    assert lines == ["0", "1", "2", "err"]


def test_stream_failure_and_timeout() -> None:
    with pytest.raises(proc.CommandFailed, match=r"failed with exit code 3:\n  boom"):
        proc.stream([PY, "-c", "print('boom'); raise SystemExit(3)"], on_line=lambda _: None)
    start = time.monotonic()
    with pytest.raises(proc.CommandFailed, match=r"did not finish within 0\.5 seconds"):
        proc.stream([PY, "-c", "import time; time.sleep(30)"], on_line=lambda _: None, timeout=0.5)
    assert time.monotonic() - start < 5
