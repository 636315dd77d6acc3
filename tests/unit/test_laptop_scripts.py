"""The laptop branch of scripts/kind-cluster.sh and scripts/demo.sh, which CI cannot run.

Where Docker runs and kind is installed (a laptop, a GitHub runner) and KIND_OFFLINE is not set, the
scripts take a branch that CI here (no container registry) never takes. Here that branch runs for
real, in bash, with stand-in `docker`, `kind`, `kubectl`, `pulumi` and `go` executables first on PATH:
each appends its arguments (one JSON line per call) to a log and prints what the real tool prints
where the scripts read it. So a renamed config key, a missing file or a manifest fetched from a URL
fails here instead of on a user's laptop. Nothing reaches the network, Docker or the real cache.
The last test runs demo.sh's KIND_OFFLINE=1 branch the same way, which CI does not run either.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask_k8s_components.kind_cluster import kind_config

from devtools.harness import ROOT

SCRIPTS = ROOT / "scripts"
CLUSTER = "flask-ci"  # kind-cluster.sh's default, which demo.sh and Pulumi.kind-ci.yaml use
URL = "https://flask-app.local/"


def pinned_versions() -> dict[str, str]:
    """scripts/versions.env: plain KEY=value lines, as its header promises."""
    lines = (SCRIPTS / "versions.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


VERSIONS = pinned_versions()

# One program plays every tool, by the name it is called with. Behaviour follows the real tools only
# where the scripts read it: exit codes, `kind get clusters`, the kubeconfig `kind create cluster`
# writes, `pulumi version` and `pulumi stack output`. `go` fails: nothing may be built here.
STANDIN = """\
import json, os, sys
from pathlib import Path

HERE = Path(__file__).parent
tool, args = sys.argv[1], sys.argv[2:]
call = {"tool": tool, "argv": args}
if tool == "pulumi":
    # Where the stack's state, passphrase and temporary files are (names and paths only).
    call["env"] = {k: v for k, v in os.environ.items() if k.startswith("PULUMI_") or k == "TMPDIR"}
clusters = HERE / "kind-clusters"
names = clusters.read_text().split() if clusters.exists() else []


def flag(name):
    return args[args.index(name) + 1]


out, code = "", 0
if tool == "kind" and args[:2] == ["get", "clusters"]:
    out = "".join(n + "\\n" for n in names)
elif tool == "kind" and args[:2] == ["create", "cluster"]:
    call["stdin"] = sys.stdin.read()
    kubeconfig = "apiVersion: v1\\nkind: Config\\ncurrent-context: kind-" + flag("--name") + "\\n"
    Path(flag("--kubeconfig")).write_text(kubeconfig)
    clusters.write_text(" ".join([*names, flag("--name")]))
elif tool == "kind" and args[:2] == ["delete", "cluster"]:
    clusters.write_text(" ".join(n for n in names if n != flag("--name")))
elif tool == "pulumi" and args == ["version"]:
    out = "v@PULUMI_VERSION@\\n"
elif tool == "pulumi" and args[:3] == ["stack", "output", "url"]:
    out = "@URL@\\n"
elif tool == "pulumi" and args[:3] == ["stack", "output", "caCertificate"]:
    out = "-----BEGIN CERTIFICATE-----\\nstand-in\\n-----END CERTIFICATE-----\\n"
elif tool == "go":
    out, code = "go: a stand-in; nothing may be built in this test\\n", 1
elif tool == "kubectl" and "apply" in args:
    # A cluster that enforces NetworkPolicy, as Kind's kindnetd does on a laptop: kind-cluster.sh's
    # check applies a default-deny policy and expects its probe refused from then on.
    call["stdin"] = sys.stdin.read()
    if "kind: NetworkPolicy" in call["stdin"]:
        (HERE / "policy").write_text("default-deny")
elif tool == "kubectl" and "exec" in args:
    code = 1 if (HERE / "policy").exists() else 0
elif tool == "kubectl" and "delete" in args and "namespace" in args:
    (HERE / "policy").unlink(missing_ok=True)
elif tool == "kubectl" and "jsonpath={.status.podIP}" in args:
    out = "10.244.1.7"
with open(HERE / "calls.jsonl", "a") as log:
    log.write(json.dumps(call) + "\\n")
(sys.stderr if code else sys.stdout).write(out)
sys.exit(code)
"""
TOOLS = ("docker", "kind", "kubectl", "pulumi", "go")


@dataclass
class Laptop:
    """A machine with Docker, kind, kubectl and the pinned Pulumi CLI installed, as stand-ins."""

    env: dict[str, str]
    standins: Path
    cache: Path
    home: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [shutil.which("bash") or "bash", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )

    def calls(self, tool: str | None = None) -> list[dict[str, Any]]:
        log = self.standins / "calls.jsonl"
        lines = log.read_text().splitlines() if log.exists() else []
        return [c for c in map(json.loads, lines) if tool is None or c["tool"] == tool]

    def argvs(self, tool: str) -> list[list[str]]:
        return [c["argv"] for c in self.calls(tool)]


def executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


@pytest.fixture
def laptop(tmp_path: Path) -> Laptop:
    standins, cache, home = tmp_path / "bin", tmp_path / "cache", tmp_path / "home"
    (standins / "standin.py").parent.mkdir(parents=True)
    (standins / "standin.py").write_text(
        STANDIN.replace("@PULUMI_VERSION@", VERSIONS["PULUMI_VERSION"]).replace("@URL@", URL)
    )
    for tool in TOOLS:
        executable(standins / tool, f'#!/bin/sh\nexec "{sys.executable}" "{standins}/standin.py" {tool} "$@"\n')
    # The official CLI's archive has the Python language host beside `pulumi`; scripts/toolchain/pulumi.sh
    # links it from there with the CLI.
    executable(standins / "pulumi-language-python", "#!/bin/sh\nexit 0\n")
    (standins / "pulumi-language-python-exec").write_text("")
    # Providers installed by `pulumi plugin install`, where pulumi.sh looks for them.
    for name in ("kubernetes", "random", "tls"):
        version = VERSIONS[f"PULUMI_{name.upper()}_VERSION"]
        executable(home / ".pulumi" / "plugins" / f"resource-{name}-v{version}" / f"pulumi-resource-{name}", "")
    # pulumi.sh has no "installed already" path for these two (it copies the dynamic provider's script
    # out of the sdk/v3 Go module and builds the YAML host): they stand in the cache as a previous run
    # of pulumi.sh leaves them, with its stamps.
    bin_dir = cache / "bin"
    for name, version in (
        ("pulumi-resource-pulumi-python", VERSIONS["PULUMI_VERSION"]),
        ("pulumi-language-yaml", VERSIONS["PULUMI_YAML_VERSION"]),
    ):
        executable(bin_dir / name, "#!/bin/sh\nexit 0\n")
        (bin_dir / f".{name}.version").write_text(f"v{version}\n")
    # Only the stand-ins and the base system on PATH, and nothing of this process's environment
    # (no KIND_OFFLINE, KUBECONFIG, PULUMI_*): the real tools, if installed, are never reached.
    bash_dir = str(Path(shutil.which("bash") or "/bin/bash").parent)
    path = os.pathsep.join(dict.fromkeys([str(standins), bash_dir, "/usr/bin", "/bin"]))
    env = {"PATH": path, "HOME": str(home), "FLASK_K8S_CACHE": str(cache), "LANG": "C.UTF-8"}
    return Laptop(env=env, standins=standins, cache=cache, home=home)


def assert_ok(result: subprocess.CompletedProcess[str], what: str) -> None:
    assert result.returncode == 0, f"{what} exited {result.returncode}:\n{result.stderr[-3000:]}"


def assert_creates_the_cluster_and_loads_the_app(laptop: Laptop, kubeconfig: Path) -> None:
    creates = [c for c in laptop.calls("kind") if c["argv"][:2] == ["create", "cluster"]]
    assert len(creates) == 1, laptop.argvs("kind")
    argv = creates[0]["argv"]
    node_image = f"kindest/node:v{VERSIONS['KUBERNETES_VERSION']}"
    assert argv[argv.index("--image") + 1] == node_image
    assert argv[argv.index("--config") + 1] == "-"
    assert argv[argv.index("--name") + 1] == CLUSTER
    assert argv[argv.index("--kubeconfig") + 1] == str(kubeconfig)
    # The config on stdin is the product's Kind layout: the control plane labelled ingress-ready=true
    # with host ports 80 and 443, two workers.
    config = json.loads(creates[0]["stdin"])
    assert config == kind_config(2)
    control_plane = config["nodes"][0]
    assert control_plane["role"] == "control-plane"
    assert 'node-labels: "ingress-ready=true"' in control_plane["kubeadmConfigPatches"][0]
    assert {(p["containerPort"], p["hostPort"]) for p in control_plane["extraPortMappings"]} == {(80, 80), (443, 443)}

    builds = [a for a in laptop.argvs("docker") if a[:1] == ["build"]]
    assert len(builds) == 1, laptop.argvs("docker")
    assert builds[0][builds[0].index("-t") + 1] == "flask-app:ci"
    assert builds[0][builds[0].index("-f") + 1] == str(ROOT / "app" / "Dockerfile")
    assert builds[0][-1] == str(ROOT / "app")
    assert ["load", "docker-image", "flask-app:ci", "--name", CLUSTER] in laptop.argvs("kind")


def assert_applies_nothing_from_a_url(laptop: Laptop) -> None:
    for argv in laptop.argvs("kubectl"):
        assert not any(arg.startswith(("http://", "https://")) for arg in argv), argv


def test_kind_cluster_up_on_a_laptop_creates_the_cluster_and_loads_the_app(laptop: Laptop, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kube" / "flask-ci.kubeconfig"
    result = laptop.run("scripts/kind-cluster.sh", "up", str(kubeconfig))
    assert_ok(result, "kind-cluster.sh up")
    # The NetworkPolicy check ran against the laptop's own enforcer: probe, default-deny, probe.
    kubectl = laptop.argvs("kubectl")
    assert sum("exec" in argv for argv in kubectl) >= 2, kubectl
    assert "NetworkPolicy is enforced" in result.stderr
    # Only the kubeconfig path goes to stdout, for `$(bash scripts/kind-cluster.sh up)`.
    assert result.stdout == f"{kubeconfig}\n"
    assert kubeconfig.stat().st_mode & 0o777 == 0o600
    assert ["get", "clusters"] in laptop.argvs("kind")
    assert_creates_the_cluster_and_loads_the_app(laptop, kubeconfig)
    assert_applies_nothing_from_a_url(laptop)
    assert not laptop.calls("go")  # nothing built on a laptop

    result = laptop.run("scripts/kind-cluster.sh", "down")
    assert_ok(result, "kind-cluster.sh down")
    default_kubeconfig = str(laptop.cache / "kind" / "flask-ci.kubeconfig")  # `down` takes no path
    assert ["delete", "cluster", "--name", CLUSTER, "--kubeconfig", default_kubeconfig] in laptop.argvs("kind")
    assert (laptop.standins / "kind-clusters").read_text().split() == []


def assert_venv_current() -> None:
    """demo.sh runs scripts/install.sh, which would run pip (from the network) on a .venv older than
    the lock: these tests need it current, so that it does nothing."""
    check = subprocess.run(["bash", "scripts/install.sh", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_demo_on_a_laptop_deploys_stack_kind_ci_and_removes_it(laptop: Laptop) -> None:
    assert_venv_current()
    demo = laptop.cache / "demo"
    project = str(demo / "project")
    result = laptop.run("scripts/demo.sh")
    assert_ok(result, "demo.sh")
    assert "installing the Python dependencies" not in result.stderr
    kubeconfig = laptop.cache / "kind" / "flask-ci.kubeconfig"
    assert_creates_the_cluster_and_loads_the_app(laptop, kubeconfig)
    assert_applies_nothing_from_a_url(laptop)
    assert not laptop.calls("go")  # the pinned CLI and plugins were used as installed

    pulumi = laptop.argvs("pulumi")
    assert ["stack", "select", "kind-ci", "--create", "--cwd", project] in pulumi
    assert ["up", "--stack", "kind-ci", "--cwd", project, "--yes", "--skip-preview"] in pulumi
    # Online the stack keeps its default controller image (the official one, pulled by the nodes).
    assert not [a for a in pulumi if a[:2] == ["config", "set"]], pulumi
    (select,) = [i for i, a in enumerate(pulumi) if a[:2] == ["stack", "select"]]
    (up,) = [i for i, a in enumerate(pulumi) if a[:1] == ["up"]]
    assert select < up
    stack_file = demo / "project" / "Pulumi.kind-ci.yaml"
    assert stack_file.read_text() == (ROOT / "Pulumi.kind-ci.yaml").read_text()
    assert f"The app is deployed (stack kind-ci): {URL}" in result.stdout
    assert "--resolve flask-app.local:443:127.0.0.1 https://flask-app.local/" in result.stdout
    # No account and no prompt: a file backend and a passphrase file of the demo's, generated once,
    # readable by its owner only, and a TMPDIR of its own for the kubeconfig copies of the provider.
    (up_call,) = [c for c in laptop.calls("pulumi") if c["argv"][:1] == ["up"]]
    passphrase = demo / "passphrase"
    assert up_call["env"] == {
        "PULUMI_BACKEND_URL": (demo / "state").as_uri(),
        "PULUMI_CONFIG_PASSPHRASE_FILE": str(passphrase),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "TMPDIR": str(demo / "tmp"),
    }
    assert passphrase.stat().st_mode & 0o777 == 0o600
    secret = passphrase.read_text()
    assert len(secret.strip()) >= 24
    assert secret.strip() not in result.stdout + result.stderr

    # The next run refreshes the project copy and keeps the salt `pulumi stack init` wrote into it (the
    # stand-in writes none), so the state stays readable; the passphrase stays the same.
    salt = "encryptionsalt: v1:c2FsdA==:v1:c3RhbmQtaW4=:bm90IGEgcmVhbCBzYWx0\n"
    stack_file.write_text(salt + stack_file.read_text())
    (demo / "project" / "left-over.txt").write_text("gone after the refresh")
    assert_ok(laptop.run("scripts/demo.sh"), "demo.sh, a second time")
    assert stack_file.read_text() == salt + (ROOT / "Pulumi.kind-ci.yaml").read_text()
    assert not (demo / "project" / "left-over.txt").exists()
    assert passphrase.read_text() == secret

    result = laptop.run("scripts/demo.sh", "down")
    assert_ok(result, "demo.sh down")
    assert ["destroy", "--stack", "kind-ci", "--cwd", project, "--yes", "--skip-preview"] in laptop.argvs("pulumi")
    assert ["delete", "cluster", "--name", CLUSTER, "--kubeconfig", str(kubeconfig)] in laptop.argvs("kind")
    assert (laptop.standins / "kind-clusters").read_text().split() == []


def stamped_binary(path: Path, version: str, text: str = "#!/bin/sh\nexit 0\n") -> None:
    executable(path, text)
    (path.parent / f".{path.name}.version").write_text(f"{version}\n")


def prebuilt_offline_tools(laptop: Laptop) -> None:
    """The cache as scripts/toolchain/kube.sh and kind.sh leave it for KIND_OFFLINE=1: every binary
    stamped with its pinned version, so they build nothing (the `go` stand-in fails if they try)."""

    def v(key: str) -> str:
        return "v" + VERSIONS[key].removeprefix("v")

    bin_dir, node_bin = laptop.cache / "bin", laptop.cache / "kind-node" / "bin"
    built = {
        bin_dir: {
            v("KUBERNETES_VERSION"): [
                "kube-apiserver",
                "kube-controller-manager",
                "kube-scheduler",
                "kubeadm",
                "kubelet",
                "kube-proxy",
            ],
            v("ETCD_VERSION"): ["etcd"],
            v("KWOK_VERSION"): ["kwok", "kwokctl"],
        },
        node_bin: {
            v("CONTAINERD_VERSION"): ["containerd", "ctr", "containerd-shim-runc-v2"],
            v("RUNC_VERSION"): ["runc"],
            v("CRICTL_VERSION"): ["crictl"],
            v("CNI_PLUGINS_VERSION"): ["host-local", "loopback", "ptp", "portmap"],
            v("COREDNS_VERSION"): ["coredns"],
            v("TRAEFIK_VERSION"): ["traefik"],
            v("KUBE_ROUTER_VERSION"): ["kube-router"],
            v("KUBERNETES_VERSION"): ["pause"],
        },
    }
    for folder, versions in built.items():
        for version, names in versions.items():
            for name in names:
                stamped_binary(folder / name, version)
    # The CRD files crds.sh writes from Go modules, as an earlier run left them.
    crds = laptop.cache / "crds"
    crds.mkdir(parents=True, exist_ok=True)
    gateway_api, traefik = v("GATEWAY_API_VERSION"), v("TRAEFIK_VERSION")
    for name in (f"gateway-api-{gateway_api}-standard-install.yaml", f"traefik-{traefik}-crds.yaml"):
        (crds / name).write_text("# CRDs\n")
    # kind and kubectl are built into the bin folder, which kind-cluster.sh puts first on PATH: there
    # they are the stand-ins.
    for tool, key in (("kind", "KIND_VERSION"), ("kubectl", "KUBERNETES_VERSION")):
        stamped_binary(bin_dir / tool, v(key), (laptop.standins / tool).read_text())


def test_demo_offline_points_the_stack_at_the_traefik_image_it_loads(laptop: Laptop) -> None:
    assert_venv_current()
    prebuilt_offline_tools(laptop)
    # The node image as scripts/kind/images.sh names it; given here, so that script (all Docker) is skipped.
    node_image = f"local/kind-node:v{VERSIONS['KUBERNETES_VERSION']}"
    laptop.env |= {"KIND_OFFLINE": "1", "KIND_NODE_IMAGE": node_image}
    project = str(laptop.cache / "demo" / "project")
    result = laptop.run("scripts/demo.sh")
    assert_ok(result, "KIND_OFFLINE=1 demo.sh")
    assert not laptop.calls("go")

    kind = laptop.argvs("kind")
    (create,) = [a for a in kind if a[:2] == ["create", "cluster"]]
    assert create[create.index("--image") + 1] == node_image
    traefik = f"local/traefik:v{VERSIONS['TRAEFIK_VERSION'].removeprefix('v')}"
    # Into every node (no --nodes): where Traefik runs is the program's choice.
    assert ["load", "docker-image", traefik, "--name", CLUSTER] in kind
    assert_applies_nothing_from_a_url(laptop)

    pulumi = laptop.argvs("pulumi")
    set_image = ["config", "set", "--path", "cluster.ingressController.image", traefik, "--stack", "kind-ci"]
    assert [*set_image, "--cwd", project] in pulumi, pulumi
    # The CRDs from the folder crds.sh wrote, not from their releases' URLs.
    set_crds = ["config", "set", "--path", "cluster.ingressController.crds.dir", str(laptop.cache / "crds")]
    assert [*set_crds, "--stack", "kind-ci", "--cwd", project] in pulumi, pulumi
    # `pulumi config set --stack` fails on a stack that does not exist yet: after select --create.
    order = [a[0] if a[0] != "stack" else f"stack {a[1]}" for a in pulumi if a[:1] != ["version"]]
    assert order[:4] == ["stack select", "config", "config", "up"], pulumi
