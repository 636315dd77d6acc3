"""__main__.py run per stack file, as `pulumi up` would run it, under mocks."""

from __future__ import annotations

import json

import pytest

from devtools.harness import MOCK_KUBECONFIG, PROJECT, ROOT, Deployment, run_stack, stack_config

K8S_PROVIDER = "pulumi:providers:kubernetes"
APP_DEPLOYMENT = "flask-app-workload-deployment"
# Every stack file whose cluster is Kind (cluster.target defaults to kind), so a new one is covered too.
KIND_STACKS = [
    stack
    for stack in sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml"))
    if json.loads(stack_config(stack)[f"{PROJECT}:cluster"]).get("target", "kind") == "kind"
]


@pytest.fixture(scope="module")
def dev() -> Deployment:
    return run_stack("dev")


@pytest.fixture(scope="module")
def prod() -> Deployment:
    return run_stack("prod")


def assert_every_kubernetes_object_uses_the_stack_provider(d: Deployment) -> None:
    (provider,) = d.of_type(K8S_PROVIDER)
    objects = d.kubernetes_objects()
    assert objects
    for obj in objects:
        # Provider references are "<provider URN>::<provider id>"; a default provider would have a
        # URN ending in ::default_<version>.
        assert obj.provider.startswith(provider.urn + "::"), f"{obj.urn} uses {obj.provider or 'the default provider'}"


# --- dev: the article's objects on a Kind cluster ----------------------------------------------------------------


def test_dev_creates_the_articles_objects(dev: Deployment) -> None:
    assert dev.one("kubernetes:core/v1:Namespace", "flask-app-ns").get("metadata.name") == "flask-app"
    dep = dev.one("kubernetes:apps/v1:Deployment", "flask-app-workload-deployment")
    assert dep.get("metadata.name") == "flask-app"
    assert dep.get("metadata.namespace") == "flask-app"
    assert dep.get("metadata.labels")["app"] == "flask-app"
    assert dep.get("spec.template.metadata.labels")["app"] == "flask-app"  # kubectl logs -l app=flask-app
    assert dep.get("spec.replicas") == 3
    (container,) = dep.get("spec.template.spec.containers")
    assert container["image"] == "flask-app:1.0"
    svc = dev.one("kubernetes:core/v1:Service")
    assert (svc.get("metadata.name"), svc.get("spec.type")) == ("flask-app-service", "ClusterIP")
    ing = dev.one("kubernetes:networking.k8s.io/v1:Ingress")
    assert ing.get("spec.rules")[0]["host"] == "flask-app.local"
    assert ing.get("spec.tls") == [{"hosts": ["flask-app.local"], "secretName": "flask-app-tls"}]
    cm = dev.one("kubernetes:core/v1:ConfigMap", "flask-app-config")
    assert cm.get("data")["FLASK_ENV"] == "development"
    assert cm.get("data")["WORKERS"] == "4"
    assert not cm.is_secret("data")


def test_dev_every_kubernetes_object_uses_the_explicit_provider(dev: Deployment) -> None:
    assert_every_kubernetes_object_uses_the_stack_provider(dev)


def test_dev_provider_takes_the_kind_clusters_kubeconfig(dev: Deployment) -> None:
    provider = dev.one(K8S_PROVIDER)
    assert provider.get("kubeconfig") == MOCK_KUBECONFIG
    assert provider.is_secret("kubeconfig")
    assert dev.one("command:local:Command", "kind-create").urn in provider.dependencies


def test_dev_creates_and_deletes_the_kind_cluster(dev: Deployment) -> None:
    cmd = dev.one("command:local:Command", "kind-create")
    assert "kind create cluster --name devops-lab" in cmd.get("create")
    assert cmd.get("delete") == "kind delete cluster --name devops-lab"


def test_dev_uses_kinds_default_node_image_unless_one_is_pinned(dev: Deployment) -> None:
    assert "--image" not in dev.one("command:local:Command", "kind-create").get("create")
    pinned = run_stack("dev", {"cluster.kind.nodeImage": "kindest/node:v1.34.0"})
    cmd = pinned.one("command:local:Command", "kind-create")
    assert "kind create cluster --name devops-lab --image kindest/node:v1.34.0 --config -" in cmd.get("create")
    assert "kindest/node:v1.34.0" in cmd.get("triggers")


def test_dev_builds_and_loads_the_image_and_rolls_pods_on_source_change(dev: Deployment) -> None:
    image = dev.one("command:local:Command", "app-image-build-load")
    assert (
        image.get("create")
        == "docker build -t flask-app:1.0 app && kind load docker-image flask-app:1.0 --name devops-lab"
    )
    source_hash, cluster, cluster_revision = image.get("triggers")
    assert cluster == "devops-lab"
    assert len(source_hash) == 64
    assert len(cluster_revision) == 64  # the cluster's: see test_a_recreated_cluster_gets_the_image_loaded_again
    # The command registers only under its component, which waits for the cluster to be created.
    component = dev.one("flask-k8s:components:KindImage")
    assert image.parent == component.urn
    assert dev.one("command:local:Command", "kind-create").urn in component.dependencies
    dep = dev.one("kubernetes:apps/v1:Deployment", APP_DEPLOYMENT)
    assert dep.get("spec.template.metadata.annotations") == {"flask-k8s/image-source-hash": source_hash}


@pytest.mark.parametrize("change", [{"cluster.kind.nodeImage": "kindest/node:v1.34.0"}, {"cluster.kind.workers": 3}])
def test_a_recreated_cluster_gets_the_image_loaded_again(dev: Deployment, change: dict[str, object]) -> None:
    # Kind nodes of a new cluster hold none of the old one's images: without a reload the pods could
    # not start (the image is in no registry).
    changed = run_stack("dev", change)

    def triggers(d: Deployment, name: str) -> list[str]:
        return d.one("command:local:Command", name).get("triggers")

    assert triggers(changed, "kind-create") != triggers(dev, "kind-create")
    assert triggers(changed, "app-image-build-load") != triggers(dev, "app-image-build-load")


def test_dev_installs_the_maintained_controller_before_the_ingress_and_no_ingress_nginx(dev: Deployment) -> None:
    # depends_on a component waits for all of its children: the controller's Deployment is Ready
    # and its classes exist.
    waits_for = dev.one("flask-k8s:components:AppIngress").dependencies
    for child in ("ingress-controller-deployment", "ingress-controller-ingress-class"):
        assert any(urn.endswith(f"::{child}") for urn in waits_for), (child, waits_for)
    (container,) = dev.one("kubernetes:apps/v1:Deployment", "ingress-controller-deployment").get(
        "spec.template.spec.containers"
    )
    assert container["image"] == "traefik:v3.6.12"
    assert dev.one("kubernetes:networking.k8s.io/v1:IngressClass").get("metadata.name") == "nginx"
    # Nothing of ingress-nginx: no manifest from its repository, no object in its namespace.
    for config_file in dev.of_type("kubernetes:yaml/v2:ConfigFile"):
        assert "ingress-nginx" not in config_file.get("file"), config_file.urn
    for obj in dev.kubernetes_objects():
        metadata = obj.inputs.get("metadata") or {}
        assert "ingress-nginx" not in (metadata.get("namespace"), metadata.get("name")), obj.urn


def test_dev_can_route_through_gateway_api_instead() -> None:
    d = run_stack("dev", {"ingress.api": "gateway"})
    assert d.of_type("kubernetes:networking.k8s.io/v1:Ingress") == []
    gateway = d.one("kubernetes:gateway.networking.k8s.io/v1:Gateway")
    assert gateway.get("spec.gatewayClassName") == "traefik"
    routes = d.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
    assert sorted(r.name for r in routes) == ["flask-app-ingress-gateway-redirect", "flask-app-ingress-gateway-route"]
    assert d.one("kubernetes:traefik.io/v1alpha1:Middleware").get("spec.buffering.maxRequestBodyBytes") == 5 * 2**20
    # The route waits for the controller (its GatewayClass accepted) and for the Ready Deployment.
    waits_for = d.one("flask-k8s:components:AppIngress").dependencies
    assert d.one("kubernetes:gateway.networking.k8s.io/v1:GatewayClass").urn in waits_for
    assert d.outputs["url"] == "https://flask-app.local/"
    assert d.outputs["caCertificate"].startswith("-----BEGIN CERTIFICATE-----")


def test_dev_serves_a_self_signed_certificate(dev: Deployment) -> None:
    tls_secret = dev.one("kubernetes:core/v1:Secret", "flask-app-ingress-tls")
    assert tls_secret.get("metadata.name") == "flask-app-tls"
    assert tls_secret.get("type") == "kubernetes.io/tls"
    assert tls_secret.is_secret("stringData.tls.key")
    assert dev.of_type("kubernetes:cert-manager.io/v1:ClusterIssuer") == []
    assert "cert-manager.io/cluster-issuer" not in dev.one("kubernetes:networking.k8s.io/v1:Ingress").get(
        "metadata.annotations"
    )


def test_dev_outputs(dev: Deployment) -> None:
    assert dev.outputs["url"] == "https://flask-app.local/"
    assert dev.outputs["namespace"] == "flask-app"
    assert dev.outputs["deploymentName"] == "flask-app"
    assert dev.outputs["serviceName"] == "flask-app-service"
    assert "ingressAddress" in dev.outputs
    assert dev.outputs["caCertificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert dev.secret_outputs == {"kubeconfig"}
    assert "loadBalancerAddress" not in dev.outputs


def test_no_secret_value_is_sent_in_plain_text(dev: Deployment) -> None:
    for secret in dev.of_type("kubernetes:core/v1:Secret"):
        for key in secret.get("stringData"):
            if key != "tls.crt":  # a certificate is public
                assert secret.is_secret(f"stringData.{key}"), f"{secret.urn} stringData.{key}"


@pytest.mark.parametrize("overrides", [{}, {"cluster.kind.create": False}], ids=["new-cluster", "existing-cluster"])
@pytest.mark.parametrize("stack", KIND_STACKS)
def test_no_command_carries_a_secret_in_its_triggers(stack: str, overrides: dict[str, bool]) -> None:
    # On the first preview of a stack the kubeconfig is unknown; a secret that is also unknown in
    # `triggers` is refused by the engine ("triggers[1]: malformed secret: missing value").
    commands = run_stack(stack, overrides).of_type("command:local:Command")
    assert [c.name for c in commands if "triggers" in c.inputs], f"{stack}: no command with triggers was checked"
    for cmd in commands:
        secret = cmd.secrets_within("triggers")
        assert not secret, f"{cmd.urn} sends secret triggers: {sorted(secret)}"


def test_existing_kind_cluster_is_not_created_or_deleted() -> None:
    d = run_stack("dev", {"cluster.kind.create": False})
    assert d.of_type("command:local:Command")[0].name in {"kind-kubeconfig", "app-image-build-load"}
    assert not [c for c in d.of_type("command:local:Command") if "delete" in c.inputs]


def test_without_image_loading_nothing_is_built() -> None:
    d = run_stack("dev", {"cluster.kind.loadImage": False})
    assert [c.name for c in d.of_type("command:local:Command")] == ["kind-create"]
    assert "annotations" not in d.one("kubernetes:apps/v1:Deployment", APP_DEPLOYMENT).get("spec.template.metadata")


# --- prod: an existing managed cluster behind a cloud load balancer ----------------------------------------------


def test_prod_creates_nothing_outside_kubernetes(prod: Deployment) -> None:
    assert prod.of_type("command:local:Command") == []
    assert not [r for r in prod.resources if r.type.startswith("tls:")]


def test_prod_provider_uses_the_named_context(prod: Deployment) -> None:
    provider = prod.one(K8S_PROVIDER)
    assert provider.get("context") == "flask-prod"
    assert "kubeconfig" not in provider.inputs
    assert_every_kubernetes_object_uses_the_stack_provider(prod)


def test_prod_provider_can_take_a_secret_kubeconfig() -> None:
    d = run_stack(
        "prod", {"cluster.context": "", "kubeconfig": "apiVersion: v1\nkind: Config\n"}, secret_keys=["kubeconfig"]
    )
    provider = d.one(K8S_PROVIDER)
    assert provider.is_secret("kubeconfig")
    assert d.outputs["kubeconfig"] == "apiVersion: v1\nkind: Config\n"
    assert "kubeconfig" in d.secret_outputs


def test_prod_exposes_the_controller_through_a_load_balancer_with_its_annotations(prod: Deployment) -> None:
    lb = prod.one("kubernetes:core/v1:Service", "ingress-controller-service")
    assert lb.get("spec.type") == "LoadBalancer"
    assert lb.get("metadata.annotations") == {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}
    # The app itself is reached through the controller only.
    assert prod.one("kubernetes:core/v1:Service", "flask-app-service").get("spec.type") == "ClusterIP"
    controller = prod.one("kubernetes:apps/v1:Deployment", "ingress-controller-deployment")
    assert controller.get("spec.replicas") == 2
    assert prod.one("kubernetes:policy/v1:PodDisruptionBudget", "ingress-controller-pdb")


def test_prod_routes_through_gateway_api_with_a_cert_manager_certificate(prod: Deployment) -> None:
    assert prod.of_type("kubernetes:networking.k8s.io/v1:Ingress") == []
    gateway = prod.one("kubernetes:gateway.networking.k8s.io/v1:Gateway")
    assert gateway.get("metadata.annotations") == {"cert-manager.io/cluster-issuer": "letsencrypt-prod"}
    https = next(item for item in gateway.get("spec.listeners") if item["name"] == "https")
    assert (https["hostname"], https["tls"]["certificateRefs"]) == (
        "flask-app.example.com",
        [{"kind": "Secret", "name": "flask-app-tls"}],
    )
    # cert-manager fills the Secret; the program must not create one of the same name.
    assert [s.name for s in prod.of_type("kubernetes:core/v1:Secret")] == ["flask-app-secrets"]
    assert "caCertificate" not in prod.outputs
    assert prod.outputs["url"] == "https://flask-app.example.com/"


def test_prod_is_stricter_than_dev(prod: Deployment, dev: Deployment) -> None:
    def spec(d: Deployment, path: str) -> int:
        return d.one("kubernetes:apps/v1:Deployment", APP_DEPLOYMENT).get(path)

    assert prod.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").get("spec.minReplicas") > spec(
        dev, "spec.replicas"
    )
    assert spec(prod, "spec.strategy.rollingUpdate.maxUnavailable") == 0
    assert prod.one("kubernetes:core/v1:ConfigMap", "flask-app-config").get("data")["LOG_LEVEL"] == "warning"
    assert prod.outputs["namespace"] == "flask-production"


def test_prod_can_install_cert_manager_and_its_issuer() -> None:
    d = run_stack("prod", {"tls.certManager.install": True, "tls.certManager.acmeEmail": "ops@example.com"})
    issuer = d.one("kubernetes:cert-manager.io/v1:ClusterIssuer")
    assert issuer.get("metadata.name") == "letsencrypt-prod"
    ingress_waits_for = d.one("flask-k8s:components:AppIngress").dependencies
    manifest = d.one("kubernetes:yaml/v2:ConfigFile", "cert-manager-manifest")
    assert {issuer.urn, manifest.urn} <= set(ingress_waits_for)
    assert_every_kubernetes_object_uses_the_stack_provider(d)


# --- Production hardening, per stack ---------------------------------------------------------------------------


def test_every_stack_namespace_enforces_pod_security(dev: Deployment, prod: Deployment) -> None:
    for d in (dev, prod):
        labels = d.one("kubernetes:core/v1:Namespace", "flask-app-ns").get("metadata.labels")
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.34"
    # The controller's: restricted behind a load balancer; on Kind its host ports need privileged,
    # which audit and warn still measure against restricted.
    enforced = [
        d.one("kubernetes:core/v1:Namespace", "ingress-controller-ns").get("metadata.labels")[
            "pod-security.kubernetes.io/enforce"
        ]
        for d in (dev, prod)
    ]
    assert enforced == ["privileged", "restricted"]


def test_dev_has_fixed_replicas_and_prod_an_autoscaler(dev: Deployment, prod: Deployment) -> None:
    assert dev.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler") == []
    assert dev.one("kubernetes:apps/v1:Deployment", APP_DEPLOYMENT).get("spec.replicas") == 3
    hpa = prod.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    assert (hpa.get("spec.minReplicas"), hpa.get("spec.maxReplicas")) == (4, 6)
    # Created at the HPA's minimum; after that the HPA's count is never reset (ignoreChanges).
    deployment = prod.one("kubernetes:apps/v1:Deployment", APP_DEPLOYMENT)
    assert deployment.get("spec.replicas") == 4
    assert deployment.ignore_changes == ["spec.replicas"]


def test_prod_spreads_across_zones_and_dev_across_nodes(dev: Deployment, prod: Deployment) -> None:
    def keys(d: Deployment) -> list[str]:
        spread = d.one("kubernetes:apps/v1:Deployment", APP_DEPLOYMENT).get(
            "spec.template.spec.topologySpreadConstraints"
        )
        return [c["topologyKey"] for c in spread]

    assert keys(dev) == ["kubernetes.io/hostname"]
    assert keys(prod) == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]


def test_network_policies_per_stack(dev: Deployment, prod: Deployment) -> None:
    # Both stacks' entry point is the controller: only its namespace reaches the app's port.
    for d in (dev, prod):
        app = d.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "flask-app-netpol-app")
        assert app.get("spec.ingress")[0]["from"] == [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "traefik"}}}
        ]
    prod_app = prod.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "flask-app-netpol-app")
    assert {
        "to": [{"ipBlock": {"cidr": "10.0.12.0/24"}}],
        "ports": [{"protocol": "TCP", "port": 5432}],
    } in prod_app.get("spec.egress")


def test_every_object_carries_the_recommended_labels(dev: Deployment, prod: Deployment) -> None:
    for d in (dev, prod):
        for obj in d.kubernetes_objects():
            if obj.type.startswith(("kubernetes:yaml/", "kubernetes:cert-manager.io/")):
                continue  # third-party manifests and cluster-wide issuers are not the app's
            if obj.name.startswith("ingress-controller-"):
                assert obj.get("metadata.labels")["app.kubernetes.io/name"] == "traefik", obj.urn
                continue  # the controller is its own app, with its own labels
            if obj.type.endswith("Patch"):
                continue  # patches of objects Kubernetes owns (the default ServiceAccount) set one field only
            labels = obj.get("metadata.labels")
            assert labels["app.kubernetes.io/name"] == "flask-app", obj.urn
            assert labels["app.kubernetes.io/managed-by"] == "pulumi", obj.urn
