"""The supported combinations of choices, in one place: tests/test_matrix.py runs every one,
and docs/combinations.md shows them (the test checks that the page lists exactly these)."""

from __future__ import annotations

import itertools

FRAMEWORKS = ("express", "fastify")
DATABASES = ("sqlite", "postgres", "mongodb")
AUTHS = ("jwt",)

# Every framework works with every database and auth choice: nothing is refused.
COMBINATIONS: list[dict[str, str]] = [
    {"framework": framework, "database": database, "auth": auth}
    for framework, database, auth in itertools.product(FRAMEWORKS, DATABASES, AUTHS)
]

# What each choice needs at run time, and which database server its proof suite talks to.
DATABASE_SERVERS = {"sqlite": "none (embedded file)", "postgres": "PostgreSQL", "mongodb": "MongoDB (FerretDB in Rampart's own CI)"}


def combination_id(combination: dict[str, str]) -> str:
    return "-".join(combination[axis] for axis in ("framework", "database", "auth"))


def markdown_table() -> str:
    rows = ["| Framework | Database | Auth | Proof suite runs against |", "|---|---|---|---|"]
    for combination in COMBINATIONS:
        rows.append(f"| {combination['framework']} | {combination['database']} | {combination['auth']} | {DATABASE_SERVERS[combination['database']]} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
