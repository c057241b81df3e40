"""Issue 23's observability, read back from real backends: a real Prometheus scrapes a running
generated API, and a real Jaeger receives its traces.

For a few combinations (both frameworks; SQLite, PostgreSQL and MongoDB; jwt and oidc), the
combination's prepared project (tests/combination_projects.py, shared with its proof-suite
test) is started as its proof suite starts it (tests/verification.py's running_app: a fresh
database, the suite's identity provider for oidc) with its metrics listener on a free loopback
port and tracing exported over OTLP/HTTP to Jaeger. The test then sends what a platform team's
dashboards and alerts would see: signed-in requests, ids that exist and ids that do not,
unknown paths, a method outside HTTP's usual set, a refused token and a CORS refusal, some of
them with a W3C `traceparent`.

- Prometheus (Debian's package) scrapes the METRICS_PORT every second; its query API must
  return `http_server_request_duration_seconds_count` series by route template, exactly as
  many requests as were sent in each (three different unknown ids are one series, unknown paths
  are `(unmatched)`, PROPFIND is `_OTHER`: nothing the client wrote becomes a label value), the contract's
  buckets, `security_events_total` by event name, and the runtime metrics. The API port does
  not serve /metrics, and the metrics listener answers nothing but GET /metrics.
- The same Prometheus loads the alert rules the project's docs/observability.md gives, as a team
  would copy them: each rule evaluates, counts only security events the server exports (a
  renamed event would leave its alert silent), and with jwt a refresh token presented twice
  makes RefreshTokenReuse fire.
- Jaeger (v2, built from its Go module) must return, by the trace id the test sent, the server
  spans (named by method and route template, children of the sent parent span, with the
  semantic-convention attributes) and their store spans (`items.create`, `items.findById`,
  kind CLIENT, `db.system.name`); the refused token's security event in the server's log
  carries that request's trace id and one of its span ids.

Jaeger is started once for this file, Prometheus once per test, scraping only that test's
server (`.ci/services/prometheus.sh` and `.ci/services/jaeger.sh` install them; without them
these tests fail, saying so). Each wait is bounded: scrapes every second, Jaeger's batches
every 100 ms.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import verification
from combination_projects import prepared_project
from conftest import failure, free_port
from matrix import COMBINATIONS, combination_id
from observability_backends import SPAN_KIND_CLIENT, SPAN_KIND_SERVER, STATUS_ERROR, Jaeger, Prometheus, Span

T = TypeVar("T")

OBSERVED = [
    {"framework": "express", "database": "sqlite", "auth": "jwt", "rate_limit_store": "memory"},
    {"framework": "fastify", "database": "postgres", "auth": "oidc", "rate_limit_store": "memory"},
    {"framework": "fastify", "database": "mongodb", "auth": "jwt", "rate_limit_store": "memory"},
]
assert all(combination in COMBINATIONS for combination in OBSERVED), "an observed combination is not a supported one (tests/matrix.py)"

# The contract's histogram buckets, in seconds (docs: obs-contract, issue 23).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
UNMATCHED_ROUTE = "(unmatched)"  # src/security/events.ts
DB_SYSTEM = {"sqlite": "sqlite", "postgres": "postgresql", "mongodb": "mongodb"}
RUNTIME_METRICS = ("process_cpu_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes")
USER_AGENT = "rampart-observability-test/1"
FOREIGN_ORIGIN = "https://attacker.example.test"
# How long Prometheus (1 s scrapes) and Jaeger (100 ms batches, plus the app's own export
# delay) get to show what was sent: generous for a loaded two-core machine.
READ_BACK_TIMEOUT = 30.0
HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


@pytest.fixture(scope="module")
def jaeger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jaeger]:
    with Jaeger(tmp_path_factory.mktemp("jaeger"), max_traces=1000, error=failure) as server:
        yield server


def eventually(read: Callable[[], T], done: Callable[[T], bool], timeout: float = READ_BACK_TIMEOUT) -> T:
    """Reads until `done(value)` or the timeout; returns the last value either way (the
    assertions that follow say what is missing)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() >= deadline:
            return value
        time.sleep(0.5)


def new_traceparent() -> tuple[str, str, str]:
    """(trace id, parent span id, the W3C traceparent header carrying them, sampled)."""
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, parent_id, f"00-{trace_id}-{parent_id}-01"


def send(method: str, url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"user-agent": USER_AGENT, **(headers or {})})
    if data is not None:
        request.add_header("content-type", "application/json")
    unanswered = None
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (OSError, urllib.error.URLError) as error:
        unanswered = error
    if unanswered is not None:
        pytest.fail(f"{method} {url}: no answer ({unanswered})", pytrace=False)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def sign_in(base_url: str) -> tuple[str, str]:
    """jwt: a new account's access token and refresh token."""
    account = {"email": f"observed-{secrets.token_hex(4)}@example.test", "name": "Observed", "age": 40, "password": "observability-passphrase-0123"}
    status, body = send("POST", f"{base_url}/api/auth/register", account)
    assert status == 201, f"POST /api/auth/register answered {status}: {body}"
    status, body = send("POST", f"{base_url}/api/auth/login", {"email": account["email"], "password": account["password"]})
    assert status == 200 and isinstance(body, dict), f"POST /api/auth/login answered {status}: {body}"
    return str(body["accessToken"]), str(body["refreshToken"])


def reuse_refresh_token(base_url: str, refresh_token: str) -> None:
    """jwt: rotates the refresh token, then presents the used one again, as a thief holding a
    copy would (the reuse revokes the session, so this comes after any request using it)."""
    status, body = send("POST", f"{base_url}/api/auth/refresh", {"refreshToken": refresh_token})
    assert status == 200, f"POST /api/auth/refresh answered {status}: {body}"
    status, body = send("POST", f"{base_url}/api/auth/refresh", {"refreshToken": refresh_token})
    assert status == 401, f"a used refresh token presented again was answered {status}: {body}"


def documented_alert_rules(project: Path) -> str:
    """The alert rules the generated project's manual gives (docs/observability.md, "Alert
    rules for the security events"), as a team would copy them into its Prometheus."""
    manual = (project / "docs" / "observability.md").read_text(encoding="utf-8")
    section = manual.split("### Alert rules", 1)[-1]
    found = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert found, "docs/observability.md gives no ```yaml block of alert rules"
    return found.group(1)


def alert_rule_failures(rules: list[dict[str, Any]], events_seen: set[str]) -> list[str]:
    """What is wrong with the loaded rules: one not yet evaluated or failing, or one counting a
    security event this server never exports (a renamed event would leave it silent forever)."""
    failures = []
    for rule in rules:
        if rule.get("health") != "ok":
            failures.append(f"{rule.get('name')}: health {rule.get('health')!r} {rule.get('lastError', '')}")
        failures += [f"{rule.get('name')} counts event {event!r}, which is not exported" for event in re.findall(r'event="([^"]*)"', str(rule.get("query"))) if event not in events_seen]
    return failures


def series_key(sample: dict[str, Any]) -> tuple[str, str, str]:
    labels = sample["metric"]
    return labels.get("http_request_method", ""), labels.get("http_route", ""), labels.get("http_response_status_code", "")


def by_series(samples: list[dict[str, Any]]) -> dict[tuple[str, str, str], float]:
    return {series_key(sample): float(sample["value"][1]) for sample in samples}


def metrics_text(port: int) -> str:
    """The listener's own answer, for a failure message."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            return response.read().decode(errors="replace")
    except (OSError, urllib.error.URLError) as error:
        return f"(GET /metrics on 127.0.0.1:{port} failed: {error})"


def spans_named(spans: list[Span], name: str) -> list[Span]:
    return [span for span in spans if span.name == name]


@pytest.mark.parametrize("combination", OBSERVED, ids=combination_id)
def test_prometheus_and_jaeger_read_back_a_running_api(shared_root: Path, tmp_path: Path, jaeger: Jaeger, combination: dict[str, str]) -> None:
    verification.require_servers(combination)
    project = prepared_project(shared_root, combination)
    name = combination_id(combination)
    metrics_port = free_port()
    instance = f"127.0.0.1:{metrics_port}"
    service = f"rampart-observed-{name}"
    settings = {
        "METRICS_PORT": str(metrics_port),
        "METRICS_HOST": "127.0.0.1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": jaeger.otlp_endpoint,
        "OTEL_SERVICE_NAME": service,
        # The OpenTelemetry SDK's batch delay (default 5 s): the test reads its spans back at once.
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    unknown_ids = [f"{secrets.token_hex(4)}-0000-4000-8000-{secrets.token_hex(6)}" for _ in range(3)]
    unknown_paths = [f"/no-such-path-{secrets.token_hex(6)}/{secrets.token_hex(4)}" for _ in range(3)]
    created_trace, create_parent, create_traceparent = new_traceparent()
    _, read_parent, _ = new_traceparent()
    read_traceparent = f"00-{created_trace}-{read_parent}-01"  # the same trace, another parent span
    refused_trace, refused_parent, refused_traceparent = new_traceparent()
    unmatched_trace, _, unmatched_traceparent = new_traceparent()

    alert_rules = tmp_path / "security-alerts.yml"
    alert_rules.write_text(documented_alert_rules(project), encoding="utf-8")
    prometheus_server = Prometheus(tmp_path / "prometheus", [instance], {"combination": name}, scrape_interval="1s", error=failure, rule_files=[alert_rules])
    with prometheus_server as prometheus, verification.running_app(project, settings) as app:
        api_port = int(app.url.rsplit(":", 1)[1])
        token, refresh_token = (app.provider_token, None) if app.provider_token else sign_in(app.url)

        # --- The traffic ------------------------------------------------------------------------
        status, created = send("POST", f"{app.url}/api/items", {"title": "observed"}, {**bearer(token), "traceparent": create_traceparent})
        assert status == 201, f"POST /api/items answered {status}: {created}"
        item_id = str(created["id"])
        status, body = send("GET", f"{app.url}/api/items/{item_id}", headers={**bearer(token), "traceparent": read_traceparent})
        assert status == 200, f"GET /api/items/:id answered {status}: {body}"
        for unknown_id in unknown_ids:
            status, body = send("GET", f"{app.url}/api/items/{unknown_id}", headers=bearer(token))
            assert status == 404, f"GET /api/items/{unknown_id} answered {status}: {body}"
        for path in unknown_paths:
            status, body = send("GET", f"{app.url}{path}", headers=bearer(token))
            assert status == 404, f"GET {path} answered {status}: {body}"
        status, body = send("GET", f"{app.url}/no-such-path", headers={"traceparent": unmatched_traceparent})
        assert status == 404, f"GET /no-such-path answered {status}: {body}"
        status, body = send("GET", f"{app.url}/api/items", headers={**bearer("not-a-token"), "traceparent": refused_traceparent})
        assert status == 401, f"GET /api/items with a malformed token answered {status}: {body}"
        status, body = send("GET", f"{app.url}/api/items", headers={**bearer(token), "origin": FOREIGN_ORIGIN})
        assert status == 403, f"GET /api/items from {FOREIGN_ORIGIN} answered {status}: {body}"
        status, body = send("GET", f"{app.url}/metrics")
        assert status == 404, f"the API port answered GET /metrics with {status}: the metrics must never be served on the API port"
        # A method Node parses but HTTP's conventions do not list: the client's word, never a label value.
        status, body = send("PROPFIND", f"{app.url}/api/items", headers=bearer(token))
        assert status in (404, 405), f"PROPFIND /api/items answered {status}: {body}"
        if refresh_token:
            # After a first scrape, as in a running service, so Prometheus has seen its counter at
            # 0; and last, since the reuse ends the session `token` belongs to.
            scraped = eventually(lambda: prometheus.query(f'up{{instance="{instance}"}}'), lambda up: bool(up) and up[0]["value"][1] == "1")
            assert scraped and scraped[0]["value"][1] == "1", f"Prometheus has not scraped {instance}: {prometheus.target_health()}"
            reuse_refresh_token(app.url, refresh_token)

        # --- The metrics listener answers GET /metrics and nothing else ------------------------
        metrics_url = f"http://127.0.0.1:{metrics_port}"
        status, _ = send("GET", f"{metrics_url}/metrics")
        assert status == 200, f"GET /metrics on METRICS_PORT answered {status}"
        for method, path in (("GET", "/"), ("GET", "/api/items"), ("GET", "/metrics/x"), ("POST", "/metrics"), ("DELETE", "/metrics")):
            status, _ = send(method, f"{metrics_url}{path}", {} if method == "POST" else None)
            assert status in (404, 405), f"the metrics listener answered {method} {path} with {status}, not 404 or 405"

        # --- Prometheus ---------------------------------------------------------------------------
        expected = {
            ("POST", "/api/items", "201"): 1,
            ("GET", "/api/items/:id", "200"): 1,
            # Three different ids, one series: an id is never a label value.
            ("GET", "/api/items/:id", "404"): len(unknown_ids),
            ("GET", "/api/items", "401"): 1,
            # Three unknown paths, /no-such-path and the API port's /metrics: one fixed value.
            ("GET", UNMATCHED_ROUTE, "404"): len(unknown_paths) + 2,
        }

        def request_series() -> dict[tuple[str, str, str], float]:
            return by_series(prometheus.query(f'http_server_request_duration_seconds_count{{instance="{instance}"}}'))

        seen = eventually(request_series, lambda series: all(series.get(key) == count for key, count in expected.items()))
        explanation = f"Prometheus's targets: {prometheus.target_health()}\nthe listener's /metrics:\n{metrics_text(metrics_port)[:6000]}"
        for key, count in expected.items():
            assert seen.get(key) == count, f"http_server_request_duration_seconds_count{{method, route, status}}={key}: {seen.get(key)} in Prometheus, {count} sent.\nall series: {seen}\n{explanation}"
        other_methods = [key for key in seen if key[0] not in ("GET", "POST")]
        assert [key[0] for key in other_methods] == ["_OTHER"] and seen[other_methods[0]] == 1, f"PROPFIND is counted as _OTHER, once: {other_methods}"
        refused_cors = [key for key in seen if key[0] == "GET" and key[2] == "403"]
        assert refused_cors and refused_cors[0][1] in ("/api/items", UNMATCHED_ROUTE), f"no series for the CORS refusal (GET, 403): {seen}"
        for method, route, status_code in seen:
            written = [*unknown_ids, item_id, *unknown_paths, "no-such-path"]
            assert not any(value in route for value in written) and not UUID.search(route), f"a label value carries what the client wrote: http_route={route!r}"
            assert route == UNMATCHED_ROUTE or route.startswith("/"), f"http_route={route!r} is neither a route template nor {UNMATCHED_ROUTE}"
            assert re.fullmatch(r"[A-Z]+|_OTHER", method) and re.fullmatch(r"[1-5][0-9]{2}", status_code), f"unexpected labels {method!r} {status_code!r}"

        buckets = prometheus.query(f'http_server_request_duration_seconds_bucket{{instance="{instance}", http_route="/api/items", http_request_method="POST"}}')
        bounds = sorted(float(sample["metric"]["le"]) for sample in buckets)
        assert bounds == [*BUCKETS, math.inf], f"the histogram's buckets are {bounds}, the contract's are {list(BUCKETS)} and +Inf"

        events = eventually(
            lambda: {sample["metric"].get("event"): float(sample["value"][1]) for sample in prometheus.query(f'security_events_total{{instance="{instance}"}}')},
            lambda counted: counted.get("authn_token_invalid") == 1 and counted.get("malicious_cors") == 1 and (not refresh_token or counted.get("authn_token_reuse") == 1),
        )
        assert events.get("authn_token_invalid") == 1, f"security_events_total{{event=\"authn_token_invalid\"}}: {events}\n{explanation}"
        assert events.get("malicious_cors") == 1, f"security_events_total{{event=\"malicious_cors\"}}: {events}\n{explanation}"
        if combination["auth"] == "jwt":
            assert events.get("authn_login_success") == 1, f"security_events_total{{event=\"authn_login_success\"}} after one sign-in: {events}"

        # --- The manual's alert rules, loaded as a team would load them -------------------------
        # Prometheus refused to start on a rule file it cannot parse; each rule must also evaluate
        # and count only events this server exports. The reuse alert has no `for`, so the one
        # reuse above must make it fire.
        events_seen = set(events)
        rules = eventually(prometheus.rules, lambda loaded: bool(loaded) and not alert_rule_failures(loaded, events_seen))
        assert rules and not alert_rule_failures(rules, events_seen), f"docs/observability.md's alert rules in Prometheus: {alert_rule_failures(rules, events_seen) or 'none loaded'}"
        alert_names = {rule["name"] for rule in rules}
        wanted_alerts = {"RateLimitStorm"} | ({"TokenFailuresBurst"} if combination["auth"] != "none" else set()) | ({"RefreshTokenReuse"} if refresh_token else set())
        assert wanted_alerts <= alert_names, f"the manual's alert rules lack {sorted(wanted_alerts - alert_names)}: {sorted(alert_names)}"
        if refresh_token:
            assert events.get("authn_token_reuse") == 1, f"security_events_total{{event=\"authn_token_reuse\"}} after one reuse: {events}"
            reuse_alert = eventually(
                lambda: next(rule for rule in prometheus.rules() if rule["name"] == "RefreshTokenReuse"),
                lambda rule: rule.get("state") == "firing",
            )
            assert reuse_alert.get("state") == "firing", f"RefreshTokenReuse is {reuse_alert.get('state')!r} after a refresh token's reuse: {reuse_alert}"

        runtime = {sample["metric"]["__name__"] for sample in prometheus.query(f'{{__name__=~"{"|".join(RUNTIME_METRICS)}", instance="{instance}"}}')}
        assert runtime == set(RUNTIME_METRICS), f"runtime metrics in Prometheus: {sorted(runtime)}; expected {sorted(RUNTIME_METRICS)}"

        # --- Jaeger -------------------------------------------------------------------------------
        wanted = ("POST /api/items", "GET /api/items/:id", "items.create", "items.findById")
        spans = eventually(lambda: jaeger.spans(created_trace), lambda found: all(spans_named(found, span_name) for span_name in wanted))
        names = sorted(span.name for span in spans)
        for span_name in wanted:
            assert spans_named(spans, span_name), f"no span {span_name!r} in trace {created_trace} in Jaeger; its spans: {names}\n{jaeger.output()[-2000:]}"
        for server_name, parent, status_code, store_call, path in (
            ("POST /api/items", create_parent, 201, "items.create", "/api/items"),
            ("GET /api/items/:id", read_parent, 200, "items.findById", f"/api/items/{item_id}"),
        ):
            joined = [span for span in spans_named(spans, server_name) if span.parent_span_id == parent]
            assert len(joined) == 1, f"{len(joined)} {server_name!r} spans are children of the sent parent span {parent}: {spans_named(spans, server_name)}"
            server_span = joined[0]
            assert (server_span.trace_id, server_span.kind, server_span.service) == (created_trace, SPAN_KIND_SERVER, service), server_span
            attributes = server_span.attributes
            method, route = server_name.split(" ", 1)
            assert attributes.get("http.request.method") == method and attributes.get("http.route") == route, attributes
            assert attributes.get("http.response.status_code") == status_code and attributes.get("url.path") == path, attributes
            assert attributes.get("url.scheme") == "http" and attributes.get("server.port") == api_port, attributes
            assert str(attributes.get("client.address", "")).endswith("127.0.0.1") and attributes.get("user_agent.original") == USER_AGENT, attributes
            assert server_span.status_code != STATUS_ERROR, f"{server_name} answered {status_code} but its span's status is ERROR"
            children = [span for span in spans_named(spans, store_call) if span.parent_span_id == server_span.span_id]
            assert children, f"no {store_call!r} span is a child of the {server_name!r} span {server_span.span_id}: {spans_named(spans, store_call)}"
            assert children[0].kind == SPAN_KIND_CLIENT, children[0]
            assert children[0].attributes.get("db.system.name") == DB_SYSTEM[combination["database"]], children[0].attributes
        assert not any(item_id in span.name for span in spans), f"a span name carries the item's id: {names}"

        unmatched = eventually(lambda: jaeger.spans(unmatched_trace), lambda found: any(span.kind == SPAN_KIND_SERVER for span in found))
        assert [span.name for span in unmatched if span.kind == SPAN_KIND_SERVER] == ["GET"], f"the server span of an unmatched request is named by its method alone: {unmatched}"

        refused = eventually(lambda: jaeger.spans(refused_trace), lambda found: bool(spans_named(found, "GET /api/items")))
        joined = [span for span in spans_named(refused, "GET /api/items") if span.parent_span_id == refused_parent]
        assert len(joined) == 1, f"{len(joined)} 'GET /api/items' spans for the refused token in trace {refused_trace}: {refused}"
        refused_span = joined[0]
        assert refused_span.attributes.get("http.response.status_code") == 401 and refused_span.status_code != STATUS_ERROR, refused_span

    # --- The refused token's security event carries its trace (the log is whole once stopped) ---
    logs = [json.loads(line) for line in app.output().splitlines() if line.startswith("{")]
    invalid = [line for line in logs if line.get("event") == "authn_token_invalid"]
    assert len(invalid) == 1, f"authn_token_invalid events in the server's log: {invalid}"
    assert invalid[0].get("trace_id") == refused_trace, f"the refused token's event carries trace_id {invalid[0].get('trace_id')!r}, not the request's {refused_trace}: {invalid[0]}"
    assert HEX16.match(str(invalid[0].get("span_id"))) and invalid[0]["span_id"] in {span.span_id for span in refused}, (
        f"the refused token's event carries span_id {invalid[0].get('span_id')!r}, not one of its trace's spans {[span.span_id for span in refused]}"
    )
    cors_refusals = [line for line in logs if line.get("event") == "malicious_cors"]
    assert cors_refusals and all(HEX32.match(str(line.get("trace_id"))) for line in cors_refusals), f"the CORS refusal's event (a request traced from its start, without a traceparent) carries no trace id of its own: {cors_refusals}"
