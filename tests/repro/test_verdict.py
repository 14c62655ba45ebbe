"""The verdict of a reproduction: one sentence for each way it can end, and the findings first."""

from __future__ import annotations

from kit.findings import Finding
from kit.repro.model import Probe
from kit.repro.verdict import explaining, first_line, judge

PORT = Finding(
    "http-port-not-8080", "error", "shop/server.js", 31, 8, "the HTTP server listens on 3535"
)
TAB = Finding("yaml-tab", "error", "dotcloud.yml", 3, 1, "a tab indents this line")
LOCAL = Finding("localhost-service", "warning", "shop/server.js", 11, 20, "redis on localhost")


def _probe(service: str, ok: bool, status: int | None = None, detail: str = "") -> Probe:
    return Probe(service, "http", f"http://{service}.shop.sandbox/", ok, status, detail, 0.1)


def test_first_line_skips_leading_blank_lines() -> None:
    assert first_line("\n  the push failed: www.0 is not responsive\nmore\n") == (
        "the push failed: www.0 is not responsive"
    )
    assert first_line(" \n ") == ""


def test_a_conversion_that_failed() -> None:
    verdict = judge(stage="convert", problem="Gear1/.torque: not JSON\n", findings=(), probes=())
    assert verdict == ("the app cannot be converted: Gear1/.torque: not JSON", False)


def test_a_push_that_failed_is_said_once() -> None:
    said = judge(stage="push", problem="the push failed: www.0 exited", findings=(), probes=())
    assert said == ("the push failed: www.0 exited", False)
    plain = judge(stage="push", problem="www.0 is not responsive\nlog", findings=(), probes=())
    assert plain == ("the push failed: www.0 is not responsive", False)


def test_failed_probes_are_counted_and_named() -> None:
    probes = (
        _probe("www", True, 200),
        _probe("api", False, 502),
        _probe("db", False, detail="connection refused\nafter 3 tries"),
    )
    verdict, ok = judge(stage="done", problem="", findings=(PORT,), probes=probes)
    assert verdict == (
        "deployed, but 2 of 3 probe(s) failed: api http: HTTP 502; db http: connection refused"
    )
    assert not ok


def test_errors_of_the_verifier_do_not_fail_an_app_that_answers() -> None:
    verdict, ok = judge(stage="done", problem="", findings=(PORT, TAB, LOCAL), probes=())
    assert verdict == (
        "deployed and every service answers, but dotkit verify reports 2 error(s) "
        "the platform may still trip on"
    )
    assert ok


def test_an_app_that_answers_with_no_errors() -> None:
    verdict = judge(stage="done", problem="", findings=(LOCAL,), probes=(_probe("www", True, 200),))
    assert verdict == ("deployed and every service answers; dotkit verify reports no errors", True)


def test_after_a_failed_push_the_errors_it_names_come_first() -> None:
    by_rule = explaining("push", "www.0 is not responsive [http-port-not-8080]", (TAB, LOCAL, PORT))
    assert by_rule == ((PORT, TAB), (LOCAL,))
    by_place = explaining("push", "see shop/server.js:31:8", (TAB, PORT))
    assert by_place == ((PORT, TAB), ())


def test_otherwise_errors_explain_in_their_order_and_warnings_are_the_rest() -> None:
    assert explaining("done", "[http-port-not-8080]", (TAB, LOCAL, PORT)) == ((TAB, PORT), (LOCAL,))


def test_a_place_is_named_only_as_a_whole() -> None:
    folder = Finding("approot-missing", "error", "shop", None, None, "no such approot")
    line3 = Finding("yaml-tab", "error", "shop/server.js", 3, 8, "a tab")
    problem = "www.0 did not answer: see shop/server.js:31:8"
    assert explaining("push", problem, (folder, line3, PORT)) == ((PORT, folder, line3), ())
    assert explaining("push", "the approot shop is missing", (line3, folder))[0][0] == folder
