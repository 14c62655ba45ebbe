"""How to trust the sandbox's CA, said once for every tool that asks."""

from __future__ import annotations

import shlex
from pathlib import Path


def trust_help(ca: Path, example_url: str | None = None) -> str:
    """The commands that make clients trust the CA at ``ca`` (only ``.localhost`` names)."""
    path = shlex.quote(str(ca))
    url = example_url or "https://APP.localhost:PORT/"
    lines = [
        "The sandbox's HTTPS certificates are signed by its own CA:",
        f"  {ca}",
        "It can vouch only for names under .localhost. To trust it:",
        f"  curl:            curl --cacert {path} {url}",
        f"  Python:          SSL_CERT_FILE={path} python ...",
        f"  requests:        REQUESTS_CA_BUNDLE={path} python ...",
        f"  Node.js:         NODE_EXTRA_CA_CERTS={path} node ...",
        f"  Debian, Ubuntu:  sudo cp {path} /usr/local/share/ca-certificates/dotkit-sandbox.crt",
        "                   && sudo update-ca-certificates",
        "  Chrome, Firefox: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n 'dotkit sandbox' "
        f"-i {path}  (libnss3-tools)",
        "  macOS:           sudo security add-trusted-cert -d -r trustRoot "
        f"-k /Library/Keychains/System.keychain {path}",
    ]
    return "\n".join(lines)
