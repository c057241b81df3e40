"""The supported combinations of choices, in one place: the tests run each one, and
docs/combinations.md lists them (tests/test_matrix.py checks that the page is current)."""

from __future__ import annotations

import itertools

FRAMEWORKS = ("express", "fastify")
DATABASES = ("sqlite", "postgres", "mongodb")
AUTHS = ("jwt",)

# Every framework works with every database and auth choice.
COMBINATIONS: list[dict[str, str]] = [
    {"framework": framework, "database": database, "auth": auth}
    for framework, database, auth in itertools.product(FRAMEWORKS, DATABASES, AUTHS)
]


def combination_id(combination: dict[str, str]) -> str:
    return "-".join(combination[axis] for axis in ("framework", "database", "auth"))
