"""Build settings node-gyp needs to compile addons against an old Node.js build.

node-gyp, given ``--nodedir`` (``npm_config_nodedir``), reads the target's
headers from ``include/node`` and two settings files from there:
``common.gypi`` (compiler flags; it fails without it) and ``config.gypi``
(the build's configure variables; without it, it uses those of the node that
runs node-gyp, here the machine's modern one). The official v0.8 binary
tarballs ship the headers but neither file, so the cache entry gets these two,
written from what Node.js 0.8's own build files set. C++ is compiled as
``gnu++98``, the default of the compilers of the time, so era code that a
modern default (``gnu++17``) rejects still builds.
"""

from __future__ import annotations

import json
from pathlib import Path

MARK = "# Written by dotkit: the official binary build of this Node.js ships no gyp settings."

COMMON_GYPI = f"""{MARK}
{{
  'variables': {{
    'visibility%': 'hidden',
    'library%': 'static_library',
    'component%': 'static_library',
    'target_arch%': 'x64',
    'host_arch%': 'x64',
  }},
  'target_defaults': {{
    'default_configuration': 'Release',
    'configurations': {{
      'Debug': {{
        'defines': ['DEBUG', '_DEBUG'],
        'cflags': ['-g', '-O0'],
      }},
      'Release': {{
        'cflags': ['-O3', '-fno-strict-aliasing', '-fno-omit-frame-pointer'],
      }},
    }},
    'defines': ['_LARGEFILE_SOURCE', '_FILE_OFFSET_BITS=64'],
    'cflags': ['-Wall', '-pthread', '-fPIC', '-m64'],
    'cflags_cc': ['-fno-rtti', '-fno-exceptions', '-std=gnu++98'],
    'ldflags': ['-pthread', '-rdynamic', '-m64'],
  }},
}}
"""

# node-gyp reads this one as JSON once quotes are swapped: no trailing commas.
CONFIG_GYPI = (
    MARK
    + "\n"
    + json.dumps(
        {
            "target_defaults": {
                "cflags": [],
                "default_configuration": "Release",
                "defines": [],
                "include_dirs": [],
                "libraries": [],
            },
            "variables": {
                "host_arch": "x64",
                "target_arch": "x64",
                "node_install_npm": "true",
                "node_prefix": "/",
                "node_shared_openssl": "false",
                "node_shared_v8": "false",
                "node_shared_zlib": "false",
                "node_use_openssl": "true",
                "node_use_dtrace": "false",
                "v8_use_snapshot": "true",
                "visibility": "",
            },
        },
        indent=2,
    )
    + "\n"
)


def add_missing(build: Path) -> list[str]:
    """Write the settings files a build lacks; the names written (none for newer builds)."""
    headers = build / "include" / "node"
    if not (headers / "node.h").is_file():
        return []
    written = []
    for name, text in (("common.gypi", COMMON_GYPI), ("config.gypi", CONFIG_GYPI)):
        target = headers / name
        if not target.exists():
            target.write_text(text)
            target.chmod(0o644)
            written.append(name)
    return written
