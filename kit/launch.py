"""The ``dotkit`` entry point: a verify server takes ``dotkit verify`` if one runs.

Only ``verify`` is ever handed over (see :mod:`kit.verifyd.client`); every other
command, and ``verify`` when no server answers, goes straight to the click CLI in
:mod:`kit.cli`. Nothing is imported for the check but what it needs.
"""

import sys


def run() -> None:
    """Console-script entry point."""
    if sys.argv[1:2] == ["verify"]:
        from kit.verifyd.client import forward

        code = forward(sys.argv[1:])
        if code is not None:
            sys.exit(code)
    from kit.cli import run as run_cli

    run_cli()
