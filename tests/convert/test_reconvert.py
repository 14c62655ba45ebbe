"""Converting again into an existing output never destroys what the user made there."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from kit.appfs import MANIFEST, read_manifest


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def converted(guide_app: Path, tmp_path: Path, cli) -> Path:
    out = tmp_path / "out"
    result = cli("convert", guide_app, "-o", out)
    assert result.code == 0, result.err
    return out


def test_the_output_records_what_it_wrote(converted: Path) -> None:
    recorded = read_manifest(converted)
    assert "dotcloud.yml" in recorded and "Gear1/supervisord.conf" in recorded
    assert "Gear1/server.js" in recorded
    assert not any(path.endswith(".torque") for path in recorded)
    document = json.loads((converted / MANIFEST).read_text())
    assert document["version"] == 1


def test_git_history_made_in_the_output_survives(guide_app: Path, converted: Path, cli) -> None:
    git(converted, "init", "-q", "-b", "main")
    git(converted, "add", "-A")
    git(converted, "commit", "-q", "-m", "first conversion")
    (converted / "NOTES.md").write_text("mine\n")
    git(converted, "add", "NOTES.md")
    git(converted, "commit", "-q", "-m", "my notes")
    before = git(converted, "log", "--format=%H %s")

    (guide_app / "Gear2" / "server.js").write_text("// changed in the source\n")
    result = cli("convert", guide_app, "-o", converted, "--force")

    assert result.code == 0, result.err
    assert git(converted, "log", "--format=%H %s") == before
    assert (
        git(converted, "status", "--porcelain") == " M .dotkit/convert.json\n M Gear2/server.js\n"
    )
    assert (converted / "NOTES.md").read_text() == "mine\n"
    assert "1 updated" in result.out
    assert "Kept what the conversion did not write: .git/, NOTES.md." in result.out


def test_dotcloud_config_and_user_files_are_kept(guide_app: Path, converted: Path, cli) -> None:
    config = converted / ".dotcloud" / "config"
    config.parent.mkdir()
    config.write_text('{"application": "portedapp", "version": "0.9.8"}\n')
    (converted / "Gear1" / "local-notes.txt").write_text("todo\n")
    result = cli("convert", guide_app, "-o", converted, "--force", "--format", "json")
    assert result.code == 0, result.err
    write = json.loads(result.out)["write"]
    assert write["kept"] == [".dotcloud/", "Gear1/local-notes.txt"]
    assert write["updated"] == [] and write["added"] == []
    assert config.read_text() == '{"application": "portedapp", "version": "0.9.8"}\n'
    assert (converted / "Gear1" / "local-notes.txt").read_text() == "todo\n"


def test_an_edited_build_file_is_never_overwritten_silently(
    guide_app: Path, converted: Path, cli
) -> None:
    edited = (converted / "dotcloud.yml").read_text() + "db:\n  type: redis\n"
    (converted / "dotcloud.yml").write_text(edited)
    (guide_app / "Gear1" / "server.js").write_text("// source changed too\n")

    refused = cli("convert", guide_app, "-o", converted, "--force")

    assert refused.code == 2
    assert "dotcloud.yml" in refused.err and "--overwrite-edited" in refused.err
    assert "nothing was written" in refused.err
    assert (converted / "dotcloud.yml").read_text() == edited
    assert (converted / "Gear1" / "server.js").read_text() != "// source changed too\n"

    replaced = cli("convert", guide_app, "-o", converted, "--force", "--overwrite-edited")
    assert replaced.code == 0, replaced.err
    assert "db:" not in (converted / "dotcloud.yml").read_text()
    assert "1 replaced (edited since, as asked)" in replaced.out


def test_files_no_longer_produced_are_removed_unless_edited(
    guide_app: Path, converted: Path, cli
) -> None:
    (guide_app / "Gear2" / "old.js").write_text("// gone soon\n")
    (guide_app / "Gear1" / "older.js").write_text("// gone soon\n")
    assert cli("convert", guide_app, "-o", converted, "--force").code == 0
    (converted / "Gear1" / "older.js").write_text("// edited in the output\n")
    (guide_app / "Gear2" / "old.js").unlink()
    (guide_app / "Gear1" / "older.js").unlink()

    result = cli("convert", guide_app, "-o", converted, "--force", "--format", "json")

    write = json.loads(result.out)["write"]
    assert write["removed"] == ["Gear2/old.js"]
    assert write["left"] == ["Gear1/older.js"]
    assert not (converted / "Gear2" / "old.js").exists()
    assert (converted / "Gear1" / "older.js").read_text() == "// edited in the output\n"


def test_a_file_the_user_put_where_the_conversion_now_writes_is_a_conflict(
    guide_app: Path, converted: Path, cli
) -> None:
    (converted / "Gear2" / "routes.js").write_text("// the user's own\n")
    (guide_app / "Gear2" / "routes.js").write_text("// the source's\n")
    refused = cli("convert", guide_app, "-o", converted, "--force")
    assert refused.code == 2
    assert "Gear2/routes.js" in refused.err
    assert (converted / "Gear2" / "routes.js").read_text() == "// the user's own\n"


def test_a_link_in_the_output_is_never_written_through(
    guide_app: Path, converted: Path, tmp_path: Path, cli
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (converted / "Gear1" / "supervisord.conf").unlink()
    (converted / "Gear1" / "supervisord.conf").symlink_to(elsewhere / "target.conf")
    result = cli("convert", guide_app, "-o", converted, "--force", "--overwrite-edited")
    assert result.code == 0, result.err
    assert not (elsewhere / "target.conf").exists()
    assert not (converted / "Gear1" / "supervisord.conf").is_symlink()

    victim = tmp_path / "victim"
    victim.mkdir()
    (converted / "Gear2").rename(tmp_path / "moved")
    (converted / "Gear2").symlink_to(victim)
    refused = cli("convert", guide_app, "-o", converted, "--force", "--overwrite-edited")
    assert refused.code == 2
    assert "links, folders or special files" in refused.err
    assert list(victim.iterdir()) == []


def test_an_earlier_output_without_a_record_keeps_everything_that_differs(
    guide_app: Path, converted: Path, cli
) -> None:
    (converted / MANIFEST).unlink()
    (converted / "Gear1" / "server.js").write_text("// edited, and nothing says by whom\n")
    refused = cli("convert", guide_app, "-o", converted, "--force")
    assert refused.code == 2
    assert "Gear1/server.js" in refused.err
    (guide_app / "Gear1" / "server.js").write_text("// edited, and nothing says by whom\n")
    assert cli("convert", guide_app, "-o", converted, "--force").code == 0
    assert (converted / MANIFEST).is_file()


def test_a_damaged_record_counts_as_none(guide_app: Path, converted: Path, cli) -> None:
    (converted / MANIFEST).write_text('{"version": 1, "files": {"../../etc/passwd": "x"}}')
    assert read_manifest(converted) == {}
    (converted / MANIFEST).write_text("not json")
    assert read_manifest(converted) == {}
    assert cli("convert", guide_app, "-o", converted, "--force").code == 0
