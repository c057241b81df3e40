"""Every combination's Kubernetes manifests (deploy/kubernetes/ in the generated project),
checked the way a cluster would receive them, without a cluster: none can run on these
machines (no container runtime for kind or k3s; docs/kubernetes.md).

- kustomize (.ci/services/kubernetes-tools.sh builds the pinned version) renders the base;
- kubernetes-validate (requirements-test.txt) checks every object against the Kubernetes API
  schemas, strictly: an unknown or misplaced field is an error, not ignored as a cluster would;
- kube-score reviews the objects, with warnings counted as failures; each check it is told to
  skip is named in KUBE_SCORE_SKIPPED with its reason, and the manifests say why beside it;
- the template's own rules, per choice: the restricted Pod Security Standard field by field,
  replicas, strategy, autoscaler and volume, the network policy's exact egress, secrets only by
  reference, one pinned image, a grace period longer than the server's shutdown.

Only deploy/ and .env.example are rendered (no tasks, no npm): the manifests depend on the
answers alone. A deliberately weak Deployment shows each tool reporting what it should, so
"no findings" cannot come from a tool that looked at nothing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT
from copier import run_copy
from matrix import COMBINATIONS, combination_id, with_required_answers

TOOLS_SCRIPT = ".ci/services/kubernetes-tools.sh"
KUSTOMIZE_VERSION = re.search(r"^KUSTOMIZE_VERSION=(\S+)$", (ROOT / TOOLS_SCRIPT).read_text(), re.MULTILINE).group(1)  # type: ignore[union-attr]
KUBE_SCORE_VERSION = re.search(r"^KUBE_SCORE_VERSION=v(\S+)$", (ROOT / TOOLS_SCRIPT).read_text(), re.MULTILINE).group(1)  # type: ignore[union-attr]
# The Kubernetes version whose schemas the manifests must satisfy: kubernetes-validate's newest.
KUBERNETES_VERSION = "1.37.0"

# kube-score checks the manifests skip on purpose (a `kube-score/ignore` annotation on the
# Deployment, with the reason beside it), and why. Nothing else may be skipped.
KUBE_SCORE_SKIPPED_EVERYWHERE = {
    # The image's own non-root user is uid/gid 1000 (the official Node image's `node`, which owns
    # /app/data in the image): kube-score wants above 10000 to stay clear of the node's users,
    # which matters only if a container escapes; another uid would need another image.
    "container-security-context-user-group-id",
}


def kube_score_skipped(combination: dict[str, str]) -> set[str]:
    if combination["database"] == "sqlite":
        # One file that one pod writes: one replica, replaced with Recreate, never rolled.
        return KUBE_SCORE_SKIPPED_EVERYWHERE | {"deployment-replicas", "deployment-strategy"}
    if combination["rate_limit_store"] == "memory":
        # Counters in each pod's memory: a second replica would double every limit.
        return KUBE_SCORE_SKIPPED_EVERYWHERE | {"deployment-replicas"}
    return KUBE_SCORE_SKIPPED_EVERYWHERE


SHUTDOWN_MARGIN_SECONDS = 5
DATABASE_PORTS = {"postgres": 5432, "mongodb": 27017}


def tool(name: str, version_argument: list[str], want: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not on PATH: run `bash {TOOLS_SCRIPT}` (as root: it builds it with Go)", pytrace=False)
    output = subprocess.run([path, *version_argument], capture_output=True, text=True, timeout=30).stdout
    if want not in output:
        pytest.fail(f"{path} is not {name} {want} ({output.strip()!r}): run `bash {TOOLS_SCRIPT}`", pytrace=False)
    return path


def kustomize_build(directory: Path) -> list[dict[str, Any]]:
    binary = tool("kustomize", ["version"], KUSTOMIZE_VERSION)
    result = subprocess.run([binary, "build", str(directory)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"kustomize build {directory} failed:\n{result.stderr}"
    return [document for document in yaml.safe_load_all(result.stdout) if document]


def schema_errors(objects: list[dict[str, Any]]) -> list[str]:
    import kubernetes_validate

    errors = []
    for manifest in objects:
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{manifest['kind']}/{manifest['metadata']['name']}: {error.message} at {'.'.join(map(str, error.path))}")
    return errors


def kube_score(objects: list[dict[str, Any]], directory: Path) -> list[str]:
    """Every WARNING and CRITICAL line kube-score writes for the objects."""
    binary = tool("kube-score", ["version"], KUBE_SCORE_VERSION)
    rendered = directory / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(objects), encoding="utf-8")
    result = subprocess.run([binary, "score", "--output-format", "ci", str(rendered)], capture_output=True, text=True, timeout=60)
    if result.returncode not in (0, 1):  # 1: a critical finding; others: it could not run
        pytest.fail(f"kube-score exited {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}", pytrace=False)
    lines = result.stdout.splitlines()
    assert any(line.startswith("[OK]") for line in lines), f"kube-score checked nothing:\n{result.stdout}"
    return [line for line in lines if line.startswith(("[WARNING]", "[CRITICAL]"))]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every combination's deploy/ and .env.example rendered by Copier (no tasks), one
    subdirectory each, from a plain copy of the working tree (no clone per combination)."""
    root = tmp_path_factory.mktemp("kubernetes")
    template = root / "template-copy"
    shutil.copytree(ROOT, template, ignore=shutil.ignore_patterns(".git", ".venv", "node_modules", "__pycache__"))
    only_manifests = ["*", "!deploy", "!deploy/**", "!.env.example"]
    for combination in COMBINATIONS:
        run_copy(str(template), root / combination_id(combination), data=with_required_answers(combination), defaults=True,
                 unsafe=True, quiet=True, skip_tasks=True, exclude=only_manifests)
    return root


def by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    kinds = [manifest["kind"] for manifest in objects]
    assert len(kinds) == len(set(kinds)), f"one object of each kind expected: {kinds}"
    return {manifest["kind"]: manifest for manifest in objects}


def expected_secrets(combination: dict[str, str]) -> set[str]:
    names = {"jwt": {"JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET"}, "jwt-asymmetric": {"JWT_PRIVATE_KEY"}}.get(combination["auth"], set())
    if combination["database"] != "sqlite":
        names.add("DATABASE_URL")
    if combination["rate_limit_store"] == "redis":
        names.add("REDIS_URL")
    return names


def check_pod_security(pod: dict[str, Any]) -> None:
    """The restricted Pod Security Standard, and what the image needs to keep its hardening."""
    assert pod["automountServiceAccountToken"] is False
    context = pod["securityContext"]
    assert context["runAsNonRoot"] is True and context["runAsUser"] == 1000 and context["runAsGroup"] == 1000, context
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}, context
    for forbidden in ("hostNetwork", "hostPID", "hostIPC"):
        assert not pod.get(forbidden), forbidden
    [container] = pod["containers"]
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False and security["readOnlyRootFilesystem"] is True, security
    assert security["capabilities"] == {"drop": ["ALL"]}, security
    assert security.get("privileged") is False and "runAsUser" not in security, security
    for volume in pod.get("volumes", []):
        assert set(volume) <= {"name", "persistentVolumeClaim", "configMap", "secret", "emptyDir", "projected", "ephemeral"}, volume
    resources = container["resources"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources[kind]), resources
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"


@pytest.mark.parametrize("combination", COMBINATIONS, ids=combination_id)
def test_manifests_render_and_pass_the_schemas_kube_score_and_the_rules(rendered: Path, combination: dict[str, str]) -> None:
    project = rendered / combination_id(combination)
    objects = kustomize_build(project / "deploy/kubernetes")
    assert schema_errors(objects) == []
    findings = kube_score(objects, project)
    assert findings == [], "kube-score findings:\n" + "\n".join(findings)

    kinds = by_kind(objects)
    server_database = combination["database"] != "sqlite"
    scales_out = server_database and combination["rate_limit_store"] == "redis"
    expected_kinds = {"ServiceAccount", "ConfigMap", "Deployment", "Service", "NetworkPolicy", "PodDisruptionBudget"}
    expected_kinds |= {"HorizontalPodAutoscaler"} if scales_out else set()
    expected_kinds |= set() if server_database else {"PersistentVolumeClaim"}
    assert set(kinds) == expected_kinds, "no Secret, nothing cluster-wide: " + ", ".join(sorted(kinds))

    deployment = kinds["Deployment"]
    ignored = set(filter(None, deployment["metadata"].get("annotations", {}).get("kube-score/ignore", "").split(",")))
    assert ignored == kube_score_skipped(combination), f"skipped kube-score checks: {ignored}"
    pod = deployment["spec"]["template"]["spec"]
    check_pod_security(pod)
    [container] = pod["containers"]

    # Replicas that fit the answers.
    if not server_database:
        assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"] == {"type": "Recreate"}
        [mount] = container["volumeMounts"]
        assert mount["mountPath"] == "/app/data"
        [volume] = pod["volumes"]
        assert volume["persistentVolumeClaim"]["claimName"] == kinds["PersistentVolumeClaim"]["metadata"]["name"]
        assert kinds["PersistentVolumeClaim"]["spec"]["accessModes"] == ["ReadWriteOnce"]
    elif not scales_out:
        assert deployment["spec"]["replicas"] == 1, "the memory store counts per pod: one replica"
    else:
        assert "replicas" not in deployment["spec"], "the autoscaler owns the count"
        autoscaler = kinds["HorizontalPodAutoscaler"]["spec"]
        assert autoscaler["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment["metadata"]["name"]}
        assert 2 <= autoscaler["minReplicas"] < autoscaler["maxReplicas"]
    assert kinds["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1

    # Secrets by reference only, from one Secret the docs say how to create.
    settings = kinds["ConfigMap"]["data"]
    env = container.get("env", [])
    assert all("valueFrom" in variable and "value" not in variable for variable in env), env
    references = {variable["valueFrom"]["secretKeyRef"]["key"] for variable in env}
    assert {variable["name"] for variable in env} == references == expected_secrets(combination)
    assert {variable["valueFrom"]["secretKeyRef"]["name"] for variable in env} <= {f"{deployment['metadata']['name']}-secrets"}
    assert not expected_secrets(combination) & set(settings), "a secret setting in the ConfigMap"
    assert [source["configMapRef"]["name"] for source in container["envFrom"]] == [kinds["ConfigMap"]["metadata"]["name"]]
    # Every setting is one the server reads (.env.example lists them all).
    env_example = (project / ".env.example").read_text(encoding="utf-8")
    for name in [*settings, *references]:
        assert re.search(rf"^#? ?{name}=", env_example, re.MULTILINE), f"{name} is not a setting of the server"

    # Graceful shutdown fits: the kubelet's SIGKILL comes after the server's own deadline.
    shutdown_seconds = int(settings["SHUTDOWN_TIMEOUT_MS"]) / 1000
    assert pod["terminationGracePeriodSeconds"] >= shutdown_seconds + SHUTDOWN_MARGIN_SECONDS

    # One image, pinned: a tag other than latest, or a digest.
    image = container["image"]
    assert re.fullmatch(r"[a-z0-9./-]+(:[A-Za-z0-9_.-]+|@sha256:[0-9a-f]{64})", image) and not image.endswith(":latest"), image
    assert container["imagePullPolicy"] == "Always"

    # The network policy denies by default and allows only what this service needs.
    policy = kinds["NetworkPolicy"]["spec"]
    assert policy["podSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    open_ingress = [rule for rule in policy["ingress"] if "from" not in rule]
    assert [port for rule in open_ingress for port in rule["ports"]] == [{"port": "http", "protocol": "TCP"}], "only the API port is open"
    [metrics_rule] = [rule for rule in policy["ingress"] if "from" in rule]
    assert metrics_rule["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    assert metrics_rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    assert {port["name"]: port["containerPort"] for port in container["ports"]} == {"http": 3000, "metrics": 9464}
    assert [port["targetPort"] for port in kinds["Service"]["spec"]["ports"]] == ["http"], "metrics stay out of the Service"
    egress = {(port["port"], port["protocol"]) for rule in policy["egress"] for port in rule["ports"]}
    expected_egress = {(53, "UDP"), (53, "TCP")}
    expected_egress |= {(DATABASE_PORTS[combination["database"]], "TCP")} if server_database else set()
    expected_egress |= {(6379, "TCP")} if combination["rate_limit_store"] == "redis" else set()
    expected_egress |= {(443, "TCP")} if combination["auth"] == "oidc" else set()
    assert egress == expected_egress
    assert all(rule.get("to") for rule in policy["egress"] if any(port["port"] == 53 for port in rule["ports"])), "DNS only to the cluster's resolver"

    # Every object carries the service's name label, and the Service reaches the pods' port.
    name = deployment["metadata"]["name"]
    assert all(manifest["metadata"]["labels"]["app.kubernetes.io/name"] == name for manifest in objects)
    assert kinds["Service"]["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert kinds["Service"]["spec"]["ports"][0]["targetPort"] == "http"


WEAK_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: weak
  labels:
    app.kubernetes.io/name: weak
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: weak
  template:
    metadata:
      labels:
        app.kubernetes.io/name: weak
    spec:
      containers:
        - name: api
          image: registry.example.com/weak:latest
          unknownField: true
"""


def test_the_tools_report_a_weak_deployment(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base/deployment.yaml").write_text(WEAK_DEPLOYMENT, encoding="utf-8")
    (tmp_path / "base/kustomization.yaml").write_text("resources:\n  - deployment.yaml\n", encoding="utf-8")
    objects = kustomize_build(tmp_path / "base")
    assert any("unknownField" in error for error in schema_errors(objects)), schema_errors(objects)
    findings = "\n".join(kube_score(objects, tmp_path))
    for expected in ("Image with latest tag", "no configured security context", "does not have a matching NetworkPolicy", "Memory limit is not set"):
        assert expected in findings, f"kube-score did not report {expected!r}:\n{findings}"


def test_the_name_is_a_dns_label_whatever_the_package_name(tmp_path: Path) -> None:
    template = tmp_path / "template-copy"
    shutil.copytree(ROOT, template, ignore=shutil.ignore_patterns(".git", ".venv", "node_modules", "__pycache__"))
    for package_slug, expected in (("@acme/orders-api", "orders-api"), ("9lives.api", "lives-api"), ("x" * 80, "x" * 63)):
        destination = tmp_path / expected
        run_copy(str(template), destination, data={"package_slug": package_slug}, defaults=True, unsafe=True, quiet=True,
                 skip_tasks=True, exclude=["*", "!deploy", "!deploy/**"])
        service = yaml.safe_load((destination / "deploy/kubernetes/service.yaml").read_text(encoding="utf-8"))
        assert service["metadata"]["name"] == expected, package_slug
