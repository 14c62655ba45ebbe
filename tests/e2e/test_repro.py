"""`dotkit repro` for real: a customer's app reproduced in the sandbox, and its bundle.

The customer sample (sample_apps/customer-ticket) has two seeded problems and
secrets in its .torque; its code prints one of them to its log. Every canary
must stay out of the bundle and the terminal.
"""

from __future__ import annotations

import json
import tarfile
import urllib.request
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO, Sandbox, deployments, needs_node

pytestmark = [pytest.mark.e2e, needs_node]

CUSTOMER = REPO / "sample_apps" / "customer-ticket"
TORQUE_CANARIES = ("canary-Hq7vX2-db-password", "canary-Zp4kW9-url-password")
ENV_CANARY = "canary-Tk3m8Q-env-token"
MASK = "********"


def _bundle(path: Path) -> dict[str, str]:
    """Every file of the bundle, unpacked and read."""
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name).decode("utf-8") for name in zf.namelist()}


def _no_canary(*texts: str) -> None:
    for text in texts:
        for canary in (*TORQUE_CANARIES, ENV_CANARY):
            assert canary not in text
            assert canary.split("-")[1] not in text  # not even a part of it


def _env_file(tmp_path: Path) -> Path:
    path = tmp_path / "customer-env.txt"
    path.write_text(f"# dotcloud env list, as the customer sent it\nAPI_TOKEN={ENV_CANARY}\n")
    return path


def test_customer_sample_gets_the_verdict_and_both_findings_and_no_secret_leaks(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    done = sandbox.dotkit(
        "repro", CUSTOMER, "--ticket", "4242", "--env-file", _env_file(tmp_path),
        "--timeout", "20", cwd=tmp_path,
    )  # fmt: skip
    assert done.code == 1, done.text
    verdict = (
        "the push failed: shop.0 is not responsive: the app listens on 3535, not on 8080, "
        "so the router can never reach it"
    )
    assert f"\nVerdict: {verdict}\n" in done.out
    assert (
        "  error    shop/server.js:31:8  [http-port-not-8080]  the HTTP server listens on 3535"
        in done.out
    )
    assert (
        "  warning  shop/server.js:11:20  [localhost-service]  redis://localhost:6379/0 points at this container"
        in done.out
    )
    assert "Destroy it with: dotkit -A ticket-4242 -y destroy\n" in done.out
    assert f"Bundle: {tmp_path / 'repro-4242.zip'}\n" in done.out

    files = _bundle(tmp_path / "repro-4242.zip")
    names = {name.removeprefix("repro-4242/") for name in files}
    assert {
        "summary.md", "summary.html", "repro.json", "findings.json", "probes.json",
        "versions.json", "migration-report.json", "migration-report.txt", "deployment.log",
        "build.log", "environment/shop.0.json",
    } <= names  # fmt: skip
    summary = files["repro-4242/summary.md"]
    assert f"**Verdict: {verdict}**" in summary
    what_explains, others = summary.split("## What explains it")[1].split("## Other findings")
    assert "- **error** `shop/server.js:31:8` [http-port-not-8080]" in what_explains
    assert "  - fix: listen on 8080: .listen(8080)" in what_explains
    assert "- **warning** `shop/server.js:11:20` [localhost-service]" in others
    assert "  - fix: declare a redis service in dotcloud.yml" in others

    findings = json.loads(files["repro-4242/findings.json"])["findings"]
    assert [(f["rule"], f["path"], f["line"]) for f in findings] == [
        ("localhost-service", "shop/server.js", 11),
        ("http-port-not-8080", "shop/server.js", 31),
    ]
    page = files["repro-4242/summary.html"]
    assert f"Verdict: {verdict}" in page
    assert "DOTCLOUD_&lt;SERVICE&gt;_REDIS_URL" in page and "<SERVICE>" not in page

    env = json.loads(files["repro-4242/environment/shop.0.json"])
    assert env["DB_PASSWORD"] == env["API_TOKEN"] == MASK
    assert env["BACKUP_URL"] == f"https://shop:{MASK}@backups.example.com/shop"
    assert env["DOTCLOUD_PROJECT"] == "ticket-4242"
    log = files["repro-4242/deployment.log"]
    assert f"shop: connecting to redis://localhost:6379/0 with password {MASK}" in log
    assert "Deployment failed: shop.0 is not responsive" in log
    assert "Running npm install" in files["repro-4242/build.log"]
    probes = json.loads(files["repro-4242/probes.json"])
    assert [(p["service"], p["kind"], p["ok"]) for p in probes] == [("shop", "http", False)]
    versions = json.loads(files["repro-4242/versions.json"])
    assert {"dotkit", "node", "npm", "supervisord", "backend"} <= set(versions)
    assert versions["node"].startswith("v")
    report = json.loads(files["repro-4242/migration-report.json"])
    assert report["written"] is True
    _no_canary(done.out, done.err, *files.values())

    assert "ticket-4242 (sandbox)" in sandbox.dotkit("list").out
    destroy = sandbox.dotkit("-A", "ticket-4242", "-y", "destroy")
    assert destroy.code == 0, destroy.text
    assert sandbox.leftovers() == []
    assert not (sandbox.home / "apps" / "ticket-4242").exists()


def _healthy_app(root: Path) -> Path:
    (root / "www").mkdir(parents=True)
    (root / "dotcloud.yml").write_text(
        "www:\n  type: nodejs\n  approot: www\n  process: node server.js\n"
    )
    (root / "www" / "server.js").write_text(
        "var http = require('http');\n"
        "console.log('www: starting with token ' + process.env.API_TOKEN);\n"
        "http.createServer(function (req, res) {\n"
        "  res.end('hello from ' + process.env.DOTCLOUD_PROJECT + ' token=' + process.env.API_TOKEN);\n"
        "}).listen(8080);\n"
    )
    return root


def _get(url: str) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return response.read().decode()


def test_two_tickets_side_by_side_then_replaced_and_destroyed(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    app = _healthy_app(tmp_path / "customer-app")
    env = _env_file(tmp_path)
    archive = tmp_path / "customer-app.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(app, arcname="customer-app")

    first = sandbox.dotkit("repro", app, "--ticket", "101", "--env-file", env, cwd=tmp_path)
    assert first.code == 0, first.text
    assert (
        "\nVerdict: deployed and every service answers; dotkit verify reports no errors\n"
        in first.out
    )
    missing = sandbox.dotkit("repro", archive, "-o", tmp_path / "nowhere" / "b.zip")
    assert (missing.code, missing.err) == (
        2, f"dotkit: error: the folder {tmp_path / 'nowhere'} for the bundle does not exist\n"
    )  # fmt: skip
    (tmp_path / "bundles").mkdir()
    second = sandbox.dotkit(
        "repro", archive, "--ticket", "102", "--env-file", env, "--format", "json",
        "-o", tmp_path / "bundles", cwd=tmp_path,
    )  # fmt: skip
    assert second.code == 0, second.text
    doc = json.loads(second.out)
    assert (doc["application"], doc["ok"], doc["layout"]) == ("ticket-102", True, "dotcloud")
    assert doc["bundle"] == str(tmp_path / "bundles" / "repro-102.zip")
    [probe] = doc["probes"]
    assert probe["detail"] == f"hello from ticket-102 token={MASK}"

    # Both run at once, each its own app with its own URL.
    urls = {}
    for ticket in ("101", "102"):
        out = sandbox.dotkit("-A", f"ticket-{ticket}", "url", "www").out.strip()
        urls[ticket] = out
        assert _get(out).startswith(f"hello from ticket-{ticket} token=")
    assert urls["101"] != urls["102"]

    # The same ticket again replaces its reproduction; the other one keeps serving.
    again = sandbox.dotkit("repro", app, "--ticket", "101", "--env-file", env, cwd=tmp_path)
    assert again.code == 0, again.text
    assert "==> Replacing the earlier reproduction ticket-101\n" in again.out
    dlist = deployments(sandbox.dotkit("-A", "ticket-101", "dlist").out)
    assert len(dlist) == 1 and dlist[0].endswith(" d1     deployed")
    assert _get(urls["102"]).startswith("hello from ticket-102")

    bundles = [_bundle(tmp_path / "repro-101.zip"), _bundle(tmp_path / "bundles" / "repro-102.zip")]
    for files in bundles:
        logs = [text for name, text in files.items() if "/logs/www.0/" in name]
        assert any(f"www: starting with token {MASK}" in text for text in logs)
        _no_canary(*files.values())
    _no_canary(first.out, first.err, second.out, second.err, again.out, again.err)

    for ticket in ("101", "102"):
        destroy = sandbox.dotkit("-A", f"ticket-{ticket}", "-y", "destroy")
        assert destroy.code == 0, destroy.text
    assert sandbox.leftovers() == []
    assert sandbox.dotkit("list").out == "No applications yet: dotkit create APP\n"
    assert list((sandbox.home / "apps").iterdir()) == []
