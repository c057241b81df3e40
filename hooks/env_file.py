"""`.env` for a freshly generated project: `.env.example` with its placeholders replaced by
fresh random secrets (and an Ed25519 signing key when the project signs tokens with one), and,
with the Redis rate-limit store, a key prefix of the project's own. Written once, at
generation; an update never writes or rotates secrets, nor changes the prefix."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

ENV_HEADER = """\
# Written by Rampart at generation time from .env.example, with fresh random secrets.
# Never commit this file. Copier never overwrites it on update.
"""

# The Redis store's default prefix is `<package name>:rl`: two projects generated with the same
# name would count each other's requests on one Redis. `.env` gets `<package name>:<random>:rl`.
PREFIX_SETTING = "# RATE_LIMIT_REDIS_PREFIX"
PREFIX_MAX_LENGTH = 128  # what src/security/rate-limit-store.ts accepts

# PKCS#8 wrapping of a raw 32-byte Ed25519 private key (RFC 8410): the key is just the seed.
ED25519_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")


def ed25519_private_key_pem() -> str:
    """A fresh Ed25519 private key in PKCS#8 PEM, with no dependency beyond the standard library."""
    body = base64.b64encode(ED25519_PKCS8_PREFIX + secrets.token_bytes(32)).decode("ascii")
    return f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"


def own_redis_prefix(default: str) -> str:
    """`<package name>:rl` made this project's own: `<package name>:<8 random hex digits>:rl`."""
    own = f":{secrets.token_hex(4)}:rl"
    return default.removesuffix(":rl")[: PREFIX_MAX_LENGTH - len(own)] + own


def env_from_example(example: str) -> str:
    """.env.example with its placeholders replaced by fresh secrets (and a signing key when the
    project signs tokens with Ed25519, and a Redis key prefix of its own when it counts in
    Redis), so .env holds exactly the settings the project reads."""
    lines = []
    for line in example.splitlines():
        name = line.split("=", 1)[0]
        if name in ("JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET"):
            line = f"{name}={secrets.token_urlsafe(48)}"
        elif name == "# JWT_PRIVATE_KEY":
            # One line: the server turns the literal \n back into newlines.
            line = "JWT_PRIVATE_KEY=" + ed25519_private_key_pem().replace("\n", "\\n")
        elif name == PREFIX_SETTING:
            line = f"RATE_LIMIT_REDIS_PREFIX={own_redis_prefix(line.split('=', 1)[1].strip())}"
        lines.append(line)
    return ENV_HEADER + "\n".join(lines) + "\n"


def write_env(project: Path) -> None:
    env_file = project / ".env"
    if env_file.exists():
        return
    example = (project / ".env.example").read_text(encoding="utf-8")
    env_file.write_text(env_from_example(example), encoding="utf-8")
    env_file.chmod(0o600)
