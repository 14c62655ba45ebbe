"""How fast `dotkit convert` is, measured against a bare Python process in the same run.

Prints:
- the CLI's wall time converting the guide's sample app, as a ratio to a bare
  `python -c "import yaml"` process (target: at most 3);
- the wall time converting a generated app of 500 Gears (target: under 2 s).

Usage: .venv/bin/python benchmarks/convert.py [--runs N] [--gears N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "sample_apps" / "nodesocket-guide"


def _dotkit() -> list[str]:
    script = Path(sys.executable).with_name("dotkit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kit"]


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed ({proc.returncode}):\n{proc.stderr.decode()}")
    return elapsed


def _generate(root: Path, gears: int) -> None:
    for i in range(gears):
        gear = root / f"Gear{i:03d}"
        gear.mkdir(parents=True)
        (gear / ".torque").write_text(
            json.dumps(
                {
                    "start": "server.js",
                    "route": f"127.0.0.1:{3000 + i}",
                    "env": {"port": 3000 + i, "mongo-host": "db.example.com", "name": f"gear {i}"},
                    "parameters": ["--verbose"],
                },
                indent=4,
            )
        )
        (gear / "server.js").write_text(
            "var http = require('http');\n"
            "var util = require('./util');\n"
            "http.createServer(function (req, res) { res.end(util.hello()); })"
            f".listen({3000 + i});\n"
        )
        (gear / "util.js").write_text("exports.hello = function () { return 'hi'; };\n")
        (gear / "package.json").write_text(json.dumps({"name": f"gear{i}", "version": "1.0.0"}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--gears", type=int, default=500)
    args = parser.parse_args()
    dotkit = _dotkit()
    # An installed package has its bytecode compiled; an editable checkout may not
    # (PYTHONDONTWRITEBYTECODE), and compiling on every start is not what users see.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "kit")], env=env, check=True
    )

    with tempfile.TemporaryDirectory(prefix="dotkit-bench-") as tmp:
        work = Path(tmp)
        app = work / "guide"
        shutil.copytree(GUIDE, app)
        out = work / "guide-out"
        convert = [*dotkit, "convert", str(app), "-o", str(out), "--force"]
        bare = [sys.executable, "-c", "import yaml"]
        _wall(convert)  # warm the page cache for both
        _wall(bare)
        cli_times, bare_times = [], []
        for _ in range(args.runs):  # interleaved, so drift hits both alike
            cli_times.append(_wall(convert))
            bare_times.append(_wall(bare))
        cli_med, bare_med = statistics.median(cli_times), statistics.median(bare_times)
        print(f"guide sample: dotkit convert median {cli_med * 1000:.1f} ms over {args.runs} runs")
        print(f"bare python -c 'import yaml': median {bare_med * 1000:.1f} ms")
        ratio = cli_med / bare_med
        print(
            f"ratio convert / bare: {ratio:.2f}  (target <= 3)  {'OK' if ratio <= 3 else 'MISSED'}"
        )

        big = work / "big"
        _generate(big, args.gears)
        big_out = work / "big-out"
        big_convert = [*dotkit, "convert", str(big), "-o", str(big_out), "--force"]
        times = [_wall(big_convert) for _ in range(3)]
        best = min(times)
        print(
            f"{args.gears}-gear app: convert {best:.2f} s (best of 3; "
            f"median {statistics.median(times):.2f} s)  (target < 2 s)  "
            f"{'OK' if best < 2 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
