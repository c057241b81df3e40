"""The supported combinations of choices, in one place: tests/test_matrix.py runs every one,
and docs/combinations.md shows them (the test checks that the page lists exactly these)."""

from __future__ import annotations

import itertools

FRAMEWORKS = ("express", "fastify")
DATABASES = ("sqlite", "postgres", "mongodb")
AUTHS = ("jwt", "jwt-asymmetric", "none")
RATE_LIMIT_STORES = ("memory", "redis")
AXES = ("framework", "database", "auth", "rate_limit_store")

# Every choice works with every other: nothing is refused.
COMBINATIONS: list[dict[str, str]] = [
    dict(zip(AXES, values)) for values in itertools.product(FRAMEWORKS, DATABASES, AUTHS, RATE_LIMIT_STORES)
]

# What each choice needs at run time, and which database server its proof suite talks to.
DATABASE_SERVERS = {"sqlite": "none (embedded file)", "postgres": "PostgreSQL", "mongodb": "MongoDB (FerretDB in Rampart's own CI)"}


def combination_id(combination: dict[str, str]) -> str:
    return "-".join(combination[axis] for axis in AXES)


def markdown_table() -> str:
    rows = ["| Framework | Database | Auth | Rate-limit store | Proof suite runs against |", "|---|---|---|---|---|"]
    for combination in COMBINATIONS:
        servers = DATABASE_SERVERS[combination["database"]]
        if combination["rate_limit_store"] == "redis":
            servers = "Redis" if combination["database"] == "sqlite" else f"{servers}, Redis"
        rows.append(
            f"| {combination['framework']} | {combination['database']} | {combination['auth']} | {combination['rate_limit_store']} | {servers} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
