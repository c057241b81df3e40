"""A real Prometheus and a real Jaeger on free loopback ports, for tests/test_observability.py
and bench/run's traced cells: each a processes.ChildProcess with a configuration of its own in
a temporary directory (nothing shared with another run, nothing left behind), and the few
queries their HTTP APIs answer that the callers need.

- Prometheus: Debian's `prometheus` binary (`.ci/services/prometheus.sh` installs it),
  scraping the targets it is started with every second; `query()` is its instant-query API.
  One per test: it is ready in a fraction of a second, where a target added to a running one
  (file-based discovery) waits for the scrape manager's five-second reload.
- Jaeger: the `jaeger` binary (Jaeger v2, an OpenTelemetry Collector distribution) that
  `.ci/services/jaeger.sh` builds from its Go module, with an OTLP/HTTP receiver in, its query
  service out, and in-memory storage; `spans(trace_id)` reads a trace back through the query
  service's API v3, `GET /api/v3/traces/{trace_id}` (OTLP JSON).

No pytest here (bench/run.py uses it too): a failure raises `error(message)`, ProcessError
unless the caller names its own exception.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from processes import ChildProcess, ProcessError, free_loopback_port

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS_SCRIPT = ".ci/services/prometheus.sh"
JAEGER_SCRIPT = ".ci/services/jaeger.sh"
# What .ci/services/jaeger.sh builds (github.com/jaegertracing/jaeger v1.76.0 is Jaeger v2.13.0).
JAEGER_VERSION = "v2.13.0"
START_TIMEOUT = 60.0
# OTLP span kinds (opentelemetry-proto trace.proto, Span.SpanKind).
SPAN_KIND_SERVER = 2
SPAN_KIND_CLIENT = 3
# OTLP status codes (Status.StatusCode).
STATUS_ERROR = 2

Error = Callable[[str], BaseException]


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def get_json(url: str, timeout: float = 10) -> tuple[int, Any]:
    """GET `url`: (status, the JSON body, or the text when it is not JSON)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as failed:
        status, raw = failed.code, failed.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


# --- Prometheus ----------------------------------------------------------------------------------


def prometheus_binary(error: Error = ProcessError) -> str:
    binary = os.environ.get("PROMETHEUS_BIN") or shutil.which("prometheus") or ("/usr/bin/prometheus" if os.access("/usr/bin/prometheus", os.X_OK) else "")
    if not binary:
        raise error(f"prometheus is not installed (looked at $PROMETHEUS_BIN, PATH, /usr/bin): run `bash {PROMETHEUS_SCRIPT}` as root (Debian's prometheus package)")
    return binary


class Prometheus(ChildProcess):
    """Prometheus on a free loopback port, scraping the `targets` (host:port, each labelled with
    `labels`) every `scrape_interval` and evaluating the `rule_files` (alerting and recording
    rules) as often, its storage in `workdir`; ready once constructed. A rule file Prometheus
    cannot load stops it at start, which fails the construction."""

    def __init__(
        self,
        workdir: Path,
        targets: Sequence[str],
        labels: dict[str, str] | None = None,
        scrape_interval: str = "1s",
        error: Error = ProcessError,
        rule_files: Sequence[Path] = (),
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        config = {
            "global": {"scrape_interval": scrape_interval, "scrape_timeout": scrape_interval, "evaluation_interval": scrape_interval},
            "rule_files": [str(path) for path in rule_files],
            "scrape_configs": [{"job_name": "rampart", "static_configs": [{"targets": list(targets), "labels": labels or {}}]}],
        }
        (workdir / "prometheus.yml").write_text(json.dumps(config, indent=2), encoding="utf-8")  # YAML is a superset of JSON
        self.port = free_loopback_port(error)
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(
            [
                prometheus_binary(error),
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                "--storage.tsdb.retention.time=1h",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            cwd=workdir,
            name=f"Prometheus on 127.0.0.1:{self.port}",
            keep=500,
            error=error,
        )
        try:
            self.wait_for_http(f"{self.url}/-/ready", START_TIMEOUT, interval=0.2)
        except BaseException:
            self.stop()
            raise

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector `promql` evaluates to now: [{"metric": {labels}, "value": [time, "value"]}]."""
        status, body = get_json(f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}")
        if status != 200 or not isinstance(body, dict) or body.get("status") != "success":
            raise self.error(f"Prometheus refused the query {promql!r}: {status} {body}")
        return list(body["data"]["result"])

    def rules(self) -> list[dict[str, Any]]:
        """Every loaded rule, as /api/v1/rules describes it (name, query, health, lastError, state...)."""
        status, body = get_json(f"{self.url}/api/v1/rules")
        if status != 200 or not isinstance(body, dict) or body.get("status") != "success":
            raise self.error(f"Prometheus refused GET /api/v1/rules: {status} {body}")
        return [rule for group in body["data"]["groups"] for rule in group["rules"]]

    def target_health(self) -> list[dict[str, Any]]:
        """What Prometheus says of each active target (scrapeUrl, health, lastError), to explain a failure."""
        _, body = get_json(f"{self.url}/api/v1/targets?state=active")
        targets = body.get("data", {}).get("activeTargets", []) if isinstance(body, dict) else []
        return [{key: target.get(key) for key in ("scrapeUrl", "health", "lastError", "lastScrape")} for target in targets]


# --- Jaeger --------------------------------------------------------------------------------------


def jaeger_binary(error: Error = ProcessError) -> str:
    """The Jaeger of .ci/services/jaeger.sh: $JAEGER_BIN, PATH, $JAEGER_BIN_DIR, $(go env GOPATH)/bin, ~/go/bin."""
    candidates = [os.environ.get("JAEGER_BIN", ""), shutil.which("jaeger") or ""]
    if os.environ.get("JAEGER_BIN_DIR"):
        candidates.append(str(Path(os.environ["JAEGER_BIN_DIR"]) / "jaeger"))
    go = shutil.which("go") or ("/usr/local/go/bin/go" if os.access("/usr/local/go/bin/go", os.X_OK) else "")
    if go:
        gopath = subprocess.run([go, "env", "GOPATH"], capture_output=True, text=True, timeout=30).stdout.strip()
        candidates += [str(Path(entry) / "bin" / "jaeger") for entry in gopath.split(os.pathsep) if entry]
    candidates.append(str(Path.home() / "go" / "bin" / "jaeger"))
    for candidate in filter(None, candidates):
        if os.access(candidate, os.X_OK):
            version = subprocess.run([candidate, "version"], capture_output=True, text=True, timeout=30)
            if re.search(rf'"gitVersion":\s*"{re.escape(JAEGER_VERSION)}"', version.stdout):
                return candidate
    raise error(
        f"Jaeger {JAEGER_VERSION} was not found (looked at $JAEGER_BIN, PATH, $JAEGER_BIN_DIR, $(go env GOPATH)/bin, ~/go/bin): "
        f"run `bash {JAEGER_SCRIPT}` to build and install it"
    )


@dataclass(frozen=True)
class Span:
    """One span as Jaeger's API v3 returns it (OTLP JSON), flattened: its service, names, ids in
    lowercase hex, kind and status code as OTLP numbers them, attributes as plain values."""

    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    status_code: int
    attributes: dict[str, Any]


def _value(any_value: dict[str, Any]) -> Any:
    """An OTLP AnyValue as a plain value (ints come as strings in OTLP JSON)."""
    for key, value in any_value.items():
        if key == "intValue":
            return int(value)
        if key in ("stringValue", "boolValue", "doubleValue"):
            return value
        if key == "arrayValue":
            return [_value(item) for item in value.get("values", [])]
    return None


def _attributes(entries: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {entry["key"]: _value(entry.get("value", {})) for entry in entries or []}


class Jaeger(ChildProcess):
    """Jaeger v2 on free loopback ports: an OTLP/HTTP receiver (`otlp_endpoint`, the value of
    OTEL_EXPORTER_OTLP_ENDPOINT) and the query service (`query_url`), in-memory storage of at
    most `max_traces` traces; ready once constructed. `cpu`: pinned there with taskset."""

    def __init__(self, workdir: Path, max_traces: int = 10_000, cpu: int | None = None, error: Error = ProcessError) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.otlp_port, self.query_port, query_grpc_port = (free_loopback_port(error) for _ in range(3))
        self.otlp_endpoint = f"http://127.0.0.1:{self.otlp_port}"
        self.query_url = f"http://127.0.0.1:{self.query_port}"
        config = {
            "service": {
                "extensions": ["jaeger_storage", "jaeger_query"],
                "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["batch"], "exporters": ["jaeger_storage_exporter"]}},
                # No telemetry listener of its own (the default is a Prometheus endpoint on :8888).
                "telemetry": {"metrics": {"level": "none"}, "logs": {"level": "warn"}},
            },
            "extensions": {
                "jaeger_storage": {"backends": {"memory_store": {"memory": {"max_traces": max_traces}}}},
                "jaeger_query": {
                    "storage": {"traces": "memory_store"},
                    "http": {"endpoint": f"127.0.0.1:{self.query_port}"},
                    "grpc": {"endpoint": f"127.0.0.1:{query_grpc_port}"},
                },
            },
            "receivers": {"otlp": {"protocols": {"http": {"endpoint": f"127.0.0.1:{self.otlp_port}"}}}},
            # Stored within a tenth of a second of arriving: a test reads its trace back at once.
            "processors": {"batch": {"timeout": "100ms"}},
            "exporters": {"jaeger_storage_exporter": {"trace_storage": "memory_store"}},
        }
        config_file = workdir / "jaeger.yaml"
        config_file.write_text(json.dumps(config, indent=2), encoding="utf-8")  # YAML is a superset of JSON
        command = [jaeger_binary(error), f"--config={config_file}"]
        if cpu is not None:
            command = ["taskset", "-c", str(cpu), *command]
        super().__init__(command, cwd=workdir, name=f"Jaeger (OTLP/HTTP on 127.0.0.1:{self.otlp_port}, query on {self.query_port})", keep=500, error=error)
        try:
            # The query service starts first (an extension), the receiver last: both must answer.
            self.wait_until(lambda: listening(self.otlp_port) and get_json(f"{self.query_url}/api/v3/services")[0] == 200, "its receiver and query service", START_TIMEOUT, 0.2)
        except BaseException:
            self.stop()
            raise

    def spans(self, trace_id: str) -> list[Span]:
        """The spans of the trace stored so far; [] while Jaeger has none of it."""
        status, body = get_json(f"{self.query_url}/api/v3/traces/{trace_id}")
        if status == 404:
            return []
        if status != 200 or not isinstance(body, dict):
            raise self.error(f"Jaeger's GET /api/v3/traces/{trace_id} answered {status}: {str(body)[:2000]}")
        found = []
        for resource_spans in body.get("result", {}).get("resourceSpans", []):
            service = str(_attributes(resource_spans.get("resource", {}).get("attributes")).get("service.name", ""))
            for scope_spans in resource_spans.get("scopeSpans", []):
                for span in scope_spans.get("spans", []):
                    found.append(
                        Span(
                            service=service,
                            name=span.get("name", ""),
                            trace_id=span.get("traceId", "").lower(),
                            span_id=span.get("spanId", "").lower(),
                            parent_span_id=span.get("parentSpanId", "").lower(),
                            kind=int(span.get("kind", 0)),
                            status_code=int(span.get("status", {}).get("code", 0)),
                            attributes=_attributes(span.get("attributes")),
                        )
                    )
        return found
