from __future__ import annotations

from kit.cli import run

if __name__ == "__main__":
    run()
