"""dotcloud.yml checks: one failing and one passing example per rule, exact messages."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.verify.buildfile import RULES, check_build_file, schema

GUIDE_EXAMPLE = (
    Path(__file__).resolve().parents[2] / "sample_apps" / "guide-examples" / "dotcloud.yml"
).read_text()

BOMB = "\n".join(
    [f"a0: &a0 [{', '.join(['lol'] * 9)}]"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
)


def _check(tmp_path: Path, text: str | bytes, dirs: tuple[str, ...] = ()):
    for d in dirs:
        (tmp_path / d).mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    (tmp_path / "dotcloud.yml").write_bytes(data)
    services, findings = check_build_file(tmp_path, ["dotcloud.yml"])
    return services, [(f.rule, f.severity, f.line, f.column, f.message) for f in findings], findings


def test_guide_example_is_reported_at_its_mis_indented_line(tmp_path: Path) -> None:
    _, got, findings = _check(tmp_path, GUIDE_EXAMPLE, ("Gear1", "Gear2"))
    assert got == [
        (
            "yaml-syntax",
            "error",
            3,
            5,
            "'approot:' is indented deeper than 'type:' on line 2, so YAML reads it as part of the value of 'type'",
        )
    ]
    assert findings[0].fix == "indent 'approot:' exactly as far as 'type:' (2 spaces)"


def test_fixed_guide_example_passes(tmp_path: Path) -> None:
    fixed = GUIDE_EXAMPLE.replace("    approot: Gear1", "  approot: Gear1")
    services, got, _ = _check(tmp_path, fixed, ("Gear1", "Gear2"))
    assert got == []
    assert [(s.name, s.approot, s.environment) for s in services] == [
        ("gear1", "Gear1", {"MONGO_HOST": "pearl.mongohq.com", "MONGO_PORT": "28936"}),
        ("gear2", "Gear2", {}),
    ]


def test_every_tab_is_reported_at_its_line(tmp_path: Path) -> None:
    _, got, _ = _check(tmp_path, "www:\n  type: nodejs\n  config:\n  \tnode_version: v0.8.x\n\t\n")
    assert got == [
        ("yaml-tab", "error", 4, 3, "a tab in the indentation; YAML indents with spaces only"),
        ("yaml-tab", "error", 5, 1, "a tab in the indentation; YAML indents with spaces only"),
    ]


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    start = time.perf_counter()
    _, got, _ = _check(tmp_path, BOMB)
    assert time.perf_counter() - start < 1.0
    assert [g[0] for g in got] == ["yaml-aliases"]


@pytest.mark.parametrize(
    ("text", "dirs", "expected"),
    [
        (
            "www: [a, b\n",
            (),
            [("yaml-syntax", "error", 2, 1, "a [ or { list opened at line 1 is never closed")],
        ),
        (
            b"www:\n  type: \xff\n",
            (),
            [("yaml-syntax", "error", 2, 9, "byte 0xff is not valid UTF-8")],
        ),
        (
            "www:\n  type: nodejs\n  type: python\n",
            (),
            [
                (
                    "duplicate-key",
                    "error",
                    3,
                    3,
                    "'www.type' is given twice (first at line 2); YAML keeps only the last one",
                ),
            ],
        ),
        ("", (), [("build-file-schema", "error", 1, 1, "the build file is empty")]),
        (
            "- www\n",
            (),
            [
                (
                    "build-file-schema",
                    "error",
                    1,
                    1,
                    "the build file holds a list; it must map service names to their definitions",
                )
            ],
        ),
        (
            "www: nodejs\n",
            (),
            [("build-file-schema", "error", 1, 6, "www must be a mapping, not a string")],
        ),
        (
            "www:\n  type: nodejs\n  instances: two\n",
            (),
            [
                (
                    "build-file-schema",
                    "error",
                    3,
                    14,
                    "www.instances must be a whole number, not a string",
                )
            ],
        ),
        (
            "www:\n  approot: web\n",
            ("web",),
            [("build-file-schema", "error", 1, 1, "service 'www' has no type")],
        ),
        (
            "www:\n  type: nodejs\n  aproot: web\n",
            (),
            [
                (
                    "unknown-key",
                    "warning",
                    3,
                    3,
                    "'aproot' is not a key the platform knows in service 'www'; it is ignored",
                ),
            ],
        ),
        (
            "www:\n  type: node\n",
            (),
            [
                (
                    "unknown-service-type",
                    "error",
                    2,
                    9,
                    "'node' is not a service type the platform offers",
                )
            ],
        ),
        (
            "My-Web:\n  type: nodejs\n",
            (),
            [
                (
                    "invalid-service-name",
                    "error",
                    1,
                    1,
                    "service name 'My-Web' is not 1 to 16 characters of a-z, 0-9 and _",
                )
            ],
        ),
        (
            "www:\n  type: nodejs\n  approot: Web\n",
            ("web",),
            [("approot-missing", "error", 3, 12, "approot 'Web' does not exist")],
        ),
        (
            "www:\n  type: nodejs\n  approot: ../shared\n",
            (),
            [("approot-outside-app", "error", 3, 12, "approot '../shared' points outside the app")],
        ),
        (
            "www:\n  type: nodejs\n  process: node a.js\n  processes:\n    b: node b.js\n",
            (),
            [
                (
                    "process-and-processes",
                    "error",
                    4,
                    3,
                    "service 'www' sets both process and processes",
                ),
            ],
        ),
        (
            "www:\n  type: nodejs\n  config:\n    node_version: v0.10.x\n",
            (),
            [
                (
                    "node-version-unsupported",
                    "error",
                    4,
                    19,
                    "node_version 'v0.10.x' is not offered by the nodejs service",
                ),
            ],
        ),
        (
            "www:\n  type: nodejs\n  environment:\n    mongo-host: db\n    DOTCLOUD_X: y\n",
            (),
            [
                (
                    "env-name-invalid",
                    "error",
                    4,
                    5,
                    "'mongo-host' in www.environment is not a valid variable name",
                ),
                (
                    "env-name-invalid",
                    "error",
                    5,
                    5,
                    "'DOTCLOUD_X' in www.environment is not a valid variable name",
                ),
            ],
        ),
        (
            "www:\n  type: nodejs\n  ports:\n    chat: tcpp\n",
            (),
            [
                (
                    "build-file-schema",
                    "error",
                    4,
                    11,
                    "www.ports.chat is 'tcpp'; a port is http, tcp or udp",
                )
            ],
        ),
    ],
)
def test_failing_examples(
    tmp_path: Path, text: str, dirs: tuple[str, ...], expected: list[tuple]
) -> None:
    _, got, findings = _check(tmp_path, text, dirs)
    assert sorted(got) == sorted(expected)
    assert all(f.fix for f in findings)


def test_did_you_mean(tmp_path: Path) -> None:
    _, _, findings = _check(tmp_path, "www:\n  type: nodjs\n  enviroment: {}\n")
    fixes = {f.rule: f.fix for f in findings}
    assert fixes["unknown-service-type"].startswith("did you mean 'nodejs'?")
    assert fixes["unknown-key"].startswith("did you mean 'environment'?")


def test_missing_build_file(tmp_path: Path) -> None:
    (tmp_path / "dotcloud.yaml").write_text("www:\n  type: nodejs\n")
    services, findings = check_build_file(tmp_path, ["dotcloud.yaml"])
    assert services == ()
    assert [(f.rule, f.message, f.fix) for f in findings] == [
        (
            "build-file-missing",
            "there is no dotcloud.yml at the app's root",
            "rename dotcloud.yaml to dotcloud.yml",
        )
    ]


def test_a_full_valid_build_file_passes(tmp_path: Path) -> None:
    text = """\
www:
  type: nodejs
  approot: web
  instances: 2
  prebuild: ./prebuild.sh
  postinstall: ./postinstall
  systempackages: [imagemagick]
  config:
    node_version: v0.6.x
  ports:
    chat: tcp
  environment:
    NODE_ENV: production
    WORKERS: 4
  processes:
    app: node app.js
cache:
  type: redis
"""
    services, got, _ = _check(tmp_path, text, ("web",))
    assert got == []
    www = services[0]
    assert (www.instances, dict(www.ports), www.tcp_ports, www.is_code) == (
        2,
        {"chat": "tcp"},
        ("chat",),
        True,
    )
    assert services[1].is_code is False


def test_schema_is_valid_json_schema_data() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema())
    packaged = Path(__file__).resolve().parents[2] / "kit" / "data" / "dotcloud-yml.schema.json"
    assert json.loads(packaged.read_text()) == schema()


def test_every_rule_has_words_and_examples() -> None:
    for rule in RULES:
        assert rule.summary.endswith(".") and len(rule.explanation) > 60
        assert rule.bad and rule.good


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(alphabet=st.sampled_from(" \t\n:-[]{}&*!|>'\"#%@`abc0"), max_size=120),
    )
)
def test_any_input_gives_findings_never_a_traceback(
    tmp_path_factory: pytest.TempPathFactory, data: bytes | str
) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    raw = data.encode() if isinstance(data, str) else data
    (root / "dotcloud.yml").write_bytes(raw)
    _, findings = check_build_file(root, ["dotcloud.yml"])
    for f in findings:
        assert f.line is None or f.line >= 1
        assert f.message and f.fix
