import subprocess
import sys

import click
import pytest

from kit.cli import _COMMANDS, cli, main


def test_every_lazy_command_is_the_command_of_its_name() -> None:
    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(_COMMANDS)
    for name in _COMMANDS:
        command = cli.get_command(ctx, name)
        assert isinstance(command, click.Command)
        assert command.name == name


def test_unknown_command_is_a_usage_error_with_a_suggestion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["verfy"]) == 2
    assert "No such command 'verfy'. Did you mean 'verify'?" in capsys.readouterr().err


def test_one_command_imports_only_its_own_module() -> None:
    code = (
        "import sys; from kit.cli import main; main(['rules', 'yaml-tab']); "
        "print(sorted(m for m in sys.modules if m.startswith('kit.commands.')"
        " and not m.startswith('kit.commands._')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "['kit.commands.rules']"
