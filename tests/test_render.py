from __future__ import annotations

from kit.convert.naming import assign_service_names
from kit.convert.render import ServicePlan, key_lines, render_build_file, supervisor_command
from kit.platform.names import env_key_problem, normalize_env_key
from kit.secrets import mask_url_passwords, shown_value


def _plan(**env: str) -> ServicePlan:
    return ServicePlan("web", "web", "v0.8.x", tuple(env.items()), (), ("node", "server.js"))


def test_every_environment_value_is_double_quoted_in_the_text() -> None:
    text = render_build_file([_plan(A="yes", B="0755", C="1.10", D="plain")], source="app")
    env_lines = text.split("  environment:\n", 1)[1].splitlines()
    assert env_lines == ['    A: "yes"', '    B: "0755"', '    C: "1.10"', '    D: "plain"']


def test_key_lines_are_one_based() -> None:
    text = render_build_file([_plan(A="1")], source="app")
    lines = key_lines(text)
    assert text.splitlines()[lines[("web",)] - 1] == "web:"
    assert text.splitlines()[lines[("web", "environment", "A")] - 1] == '    A: "1"'


def test_masked_build_file_hides_secrets() -> None:
    plan = ServicePlan(
        "web",
        "web",
        "v0.8.x",
        (("DB_PASSWORD", "hunter2"), ("URL", "redis://u:pw@h:1")),
        (),
        ("node", "s.js"),
        frozenset({"DB_PASSWORD"}),
    )
    masked = render_build_file([plan], source="app", mask=True)
    assert "hunter2" not in masked and ":pw@" not in masked
    assert 'DB_PASSWORD: "********"' in masked
    assert 'URL: "redis://u:********@h:1"' in masked


def test_supervisor_command_quoting() -> None:
    assert supervisor_command(("node", "server.js", "--development", "--verbose")) == (
        "node server.js --development --verbose"
    )
    assert supervisor_command(("node", "s.js", "a b", "50%")) == "node s.js 'a b' 50%%"
    assert supervisor_command(("node", "s.js", "x ;y")) == "node s.js 'x '';y'"


def test_service_names() -> None:
    names = assign_service_names(["Gear1", "gear-1", "Gear_1", "x" * 20, "ÄÖ"])
    assert [n.name for n in names] == ["gear1", "gear_1", "gear_1_2", "x" * 16, "__"]
    assert [n.collided for n in names] == [False, False, True, False, False]


def test_env_keys() -> None:
    assert normalize_env_key("mongo-host") == "MONGO_HOST"
    assert normalize_env_key("app.name") == "APP_NAME"
    assert env_key_problem("MONGO_HOST") is None
    assert env_key_problem("A B") == "it holds characters a variable name cannot have: ' '"
    assert (
        env_key_problem("DOTCLOUD_X")
        == "names starting with DOTCLOUD_ are reserved for the platform"
    )


def test_secret_display() -> None:
    assert shown_value("API_KEY", "abc") == "********"
    assert shown_value("HOST", "db") == "db"
    assert mask_url_passwords("postgres://u:p%40ss@h/db and http://h/") == (
        "postgres://u:********@h/db and http://h/"
    )
