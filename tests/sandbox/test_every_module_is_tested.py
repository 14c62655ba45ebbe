"""tests/sandbox mirrors kit/sandbox: each module has its test file, or the test that covers
it is named here with the reason it has none of its own."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SANDBOX = REPO / "kit" / "sandbox"
TESTS = REPO / "tests" / "sandbox"

# module (relative to kit/sandbox, without .py) -> where it is tested, and why there
COVERED_ELSEWHERE = {
    "__init__": "a docstring only",
    "cinit": "the first process inside a real container: every push in tests/e2e",
    "client": "talks to a real platform process: tests/e2e/test_push.py",
    "dbready": "real MariaDB and PostgreSQL: tests/sandbox/test_datastores_real.py",
    "dataservices": "real redis: tests/e2e/test_platform.py::test_redis_keeps_its_data_through_ten_pushes",
    "destroy": "tests/sandbox/test_commands.py (the verbs) and tests/e2e (nothing left running)",
    "engine": "tests/e2e/test_push.py::test_process_backend_runs_a_single_service",
    "fields": "tests/sandbox/test_state.py (each damaged-file message)",
    "folders": "tests/sandbox/test_state.py and tests/sandbox/test_commands.py",
    "owner": "tests/sandbox/test_daemon.py (the Platform it holds), and every push in tests/e2e",
    "pids": "signals real containers: tests/e2e/test_platform.py::test_faults_are_recovered",
    "probe": "real instances in tests/e2e; faked at its seam in test_push_orchestration.py",
    "records": "tests/sandbox/test_state.py",
    "relay": "real relays: tests/e2e/test_push.py::test_containers_are_isolated",
    "router": "tests/sandbox/test_daemon.py, and tests/e2e/test_platform.py (zero failed requests)",
    "runtime": "tests/sandbox/test_state.py and tests/sandbox/test_daemon.py",
    "seams": "its fakes (testing/sandbox.py) drive test_push_orchestration.py; the real ones tests/e2e",
    "push/__init__": "a docstring and the package's names",
    "push/build": "test_push_orchestration.py (a failing hook); the builder itself: test_build.py",
    "push/context": "test_push_orchestration.py (the journal each crash is recovered from)",
    "push/datamove": "test_push_orchestration.py (moved, reported, put back on failure and crash)",
    "push/home": "test_push_steps.py (written once) and test_push_orchestration.py (contents)",
    "push/launch": "test_push_orchestration.py (start and readiness failures)",
    "push/lock": "tests/e2e/test_push.py::test_a_push_killed_half_way_is_cleaned_up",
    "push/log": "test_push_orchestration.py (the log's lines, in order)",
    "push/orchestrate": "test_push_orchestration.py",
    "push/plan": "test_push_orchestration.py (build file errors; ports and passwords)",
    "push/postinstall": "test_push_orchestration.py (a failing postinstall); tests/e2e for real",
    "push/recover": "test_push_orchestration.py (a crash after each step and each journal write)",
    "push/stores": "tests/e2e/test_platform.py::test_redis_keeps_its_data_through_ten_pushes",
    "push/switch": "test_push_steps.py (routes) and test_push_orchestration.py (switch, retire)",
    "push/upload": "test_push_steps.py and test_push_orchestration.py",
}
# Packages of their own, tested by their own files (tests/sandbox/<prefix>*.py).
OWN_PACKAGES = {"isolation": "test_isolation_", "gateway": "test_gateway_"}


def _modules() -> list[str]:
    found = []
    for path in sorted(SANDBOX.rglob("*.py")):
        rel = path.relative_to(SANDBOX).with_suffix("").as_posix()
        if rel.split("/")[0] not in OWN_PACKAGES:
            found.append(rel)
    return found


def test_every_sandbox_module_has_a_test_file_or_a_named_reason() -> None:
    missing = [
        m
        for m in _modules()
        if m not in COVERED_ELSEWHERE and not (TESTS / f"test_{m.replace('/', '_')}.py").is_file()
    ]
    assert missing == [], (
        "add tests/sandbox/test_<module>.py, or name the test that covers it (and why) in "
        "COVERED_ELSEWHERE"
    )


def test_the_reasons_name_modules_that_exist() -> None:
    assert sorted(set(COVERED_ELSEWHERE) - set(_modules())) == []


def test_each_package_of_its_own_has_its_test_files() -> None:
    for package, prefix in OWN_PACKAGES.items():
        assert (SANDBOX / package / "__init__.py").is_file(), package
        assert sorted(TESTS.glob(f"{prefix}*.py")), f"no tests/sandbox/{prefix}*.py for {package}"
