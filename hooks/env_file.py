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


# --- After an update that changed an answer: what .env lacks for the new choice ----------

# What DATABASE_URL looks like for each database, and the line .env.example gives it.
DATABASE_URL_SCHEMES = {
    "sqlite": ("file:", "a SQLite file"),
    "postgres": ("postgres://", "a PostgreSQL URL"),
    "mongodb": ("mongodb://", "a MongoDB URL"),
}
DATABASE_URL_EXAMPLES = {
    "sqlite": "DATABASE_URL=file:data/app.db",
    "postgres": "DATABASE_URL=postgres://app:app-password-for-local-development@127.0.0.1:5432/app",
    "mongodb": "DATABASE_URL=mongodb://127.0.0.1:27017/app",
}
SECRET_COMMAND = "node -e \"console.log(require('node:crypto').randomBytes(48).toString('base64url'))\""
KEY_COMMAND = ("node -e \"console.log(require('node:crypto').generateKeyPairSync('ed25519').privateKey"
               ".export({ type: 'pkcs8', format: 'pem' }))\"")


def read_env(text: str) -> dict[str, str]:
    settings = {}
    for line in text.splitlines():
        name, equals, value = line.strip().partition("=")
        if equals and not name.startswith("#"):
            settings[name.removeprefix("export ").strip()] = value.strip().strip("'\"")
    return settings


def database_url_scheme(url: str) -> str | None:
    lowered = url.lower()
    for database, (prefix, _) in DATABASE_URL_SCHEMES.items():
        if lowered.startswith(prefix) or (database == "postgres" and lowered.startswith("postgresql://")) \
                or (database == "mongodb" and lowered.startswith("mongodb+srv://")):
            return database
    return "sqlite" if url and "://" not in url else None


def env_for_new_answers(env_text: str, before: dict, after: dict) -> list[str]:
    """What .env must change for each answer this update changed, each a line naming the setting
    and its value (or how to make one); empty when it fits. Updates never write .env."""
    settings, needs = read_env(env_text), []
    if before.get("database") != after.get("database") and after.get("database") in DATABASE_URL_SCHEMES:
        database = after["database"]
        url = settings.get("DATABASE_URL", "")
        if database_url_scheme(url) != database and not (database == "sqlite" and not url):
            described = DATABASE_URL_SCHEMES.get(database_url_scheme(url) or "", (None, "not set"))[1] if url else "not set"
            where = "(the default: removing the line does the same)" if database == "sqlite" else "(or your server's URL)"
            needs.append(f"DATABASE_URL is {described}, and database is now {database}: set {DATABASE_URL_EXAMPLES[database]} {where}")
    if before.get("rate_limit_store") != after.get("rate_limit_store") == "redis" and not settings.get("REDIS_URL"):
        needs.append("REDIS_URL is not set, and rate_limit_store is now redis: set REDIS_URL=redis://127.0.0.1:6379 (or your Redis)")
    if before.get("auth") != after.get("auth"):
        if after.get("auth") == "jwt":
            missing = [name for name in ("JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET") if not settings.get(name)]
            if missing:
                needs.append(f"{' and '.join(missing)} not set, and auth is now jwt: set each to its own output of `{SECRET_COMMAND}`")
        elif after.get("auth") == "jwt-asymmetric" and not (settings.get("JWT_PRIVATE_KEY") or settings.get("JWT_PRIVATE_KEY_FILE")):
            needs.append("JWT_PRIVATE_KEY is not set, and auth is now jwt-asymmetric: set JWT_PRIVATE_KEY_FILE to a PEM file "
                         f"written by `{KEY_COMMAND} > jwt-private-key.pem` kept out of git (or JWT_PRIVATE_KEY to its text, newlines as \\n)")
    return needs
