"""The supported combinations of choices, read from copier.yml's questions: tests/test_matrix.py
runs every one, and docs/combinations.md shows them (the test checks that the page lists
exactly these). A choice added to copier.yml is a new set of combinations here, with nothing
to keep in step by hand."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import yaml

QUESTIONS = yaml.safe_load((Path(__file__).resolve().parent.parent / "copier.yml").read_text(encoding="utf-8"))
AXES = ("framework", "database", "auth", "rate_limit_store")


def choices(question: str) -> tuple[str, ...]:
    """The values a question accepts, in copier.yml's order (its choices map labels to values)."""
    return tuple(QUESTIONS[question]["choices"].values())


FRAMEWORKS, DATABASES, AUTHS, RATE_LIMIT_STORES = (choices(axis) for axis in AXES)

# Every choice works with every other: nothing is refused.
COMBINATIONS: list[dict[str, str]] = [
    dict(zip(AXES, values)) for values in itertools.product(FRAMEWORKS, DATABASES, AUTHS, RATE_LIMIT_STORES)
]

# Answers Copier needs beyond the axes for some choices (it refuses them empty), the same
# example values wherever a test renders the template: with_required_answers() adds them.
REQUIRED_ANSWERS: dict[str, dict[str, dict[str, str]]] = {
    "auth": {
        "oidc": {"oidc_issuer": "https://login.example.com", "oidc_audience": "api://example"},
    },
}


def with_required_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers, plus the example answers their choices require (REQUIRED_ANSWERS) that
    they do not give themselves; answers without such a choice come back unchanged."""
    required: dict[str, Any] = {}
    for question, by_choice in REQUIRED_ANSWERS.items():
        required |= by_choice.get(str(answers.get(question, QUESTIONS[question]["default"])), {})
    return {**required, **answers}


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
