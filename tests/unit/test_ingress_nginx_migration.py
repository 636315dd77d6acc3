"""A stack of the program's ingress-nginx (up to release a95f4cf) moves over to IngressController.

Two of the controller's objects take the place of the manifest's, and name them as aliases. Its
IngressClass `nginx` is the very object ingress-nginx made (one name, cluster-scoped): without the
alias the create is refused (server-side apply conflict on its labels). Its Deployment needs the
node's ports 80/443 that ingress-nginx's controller holds until Pulumi deletes it, at the end of
`up`: as that Deployment's replacement, deleted first, it can be scheduled. tests/e2e/test_upgrade.py
runs that `up` on an API server; here, under mocks, the aliases are checked against the URNs the
previous release's stack gave those objects.
"""

from __future__ import annotations

from flask_k8s_components.ingress_controller import CrdSources, IngressController, IngressControllerArgs

from devtools.harness import PROJECT, run, run_stack

INGRESS_CLASS = "kubernetes:networking.k8s.io/v1:IngressClass"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def ingress_nginx_urn(stack: str, type_: str, object_name: str) -> str:
    """The URN of an object of ingress-nginx's manifest in a stack of release a95f4cf: __main__.py's
    IngressNginx `ingress-nginx`, its ConfigFile `ingress-nginx-manifest`, the object named after it."""
    types = f"flask-k8s:components:IngressNginx$kubernetes:yaml/v2:ConfigFile${type_}"
    return f"urn:pulumi:{stack}::{PROJECT}::{types}::ingress-nginx-manifest:{object_name}"


def test_the_dev_stack_takes_over_ingress_nginx_class_and_controller() -> None:
    deployment = run_stack("dev")
    ingress_class = deployment.one(INGRESS_CLASS)
    assert ingress_class.inputs["metadata"]["name"] == "nginx"
    assert ingress_class.aliases == [ingress_nginx_urn("dev", INGRESS_CLASS, "nginx")], ingress_class.urn
    controller = deployment.one(DEPLOYMENT, "ingress-controller-deployment")
    assert controller.aliases == [ingress_nginx_urn("dev", DEPLOYMENT, "ingress-nginx/ingress-nginx-controller")], (
        controller.urn
    )
    # Host ports (Kind): the old pods must be gone before the new one can be scheduled.
    assert controller.delete_before_replace, controller.urn
    # Nothing else of the program claims to be something of ingress-nginx's.
    assert [r.urn for r in deployment.resources if r.aliases and r not in (ingress_class, controller)] == []


def test_the_aliases_follow_the_class_name_and_the_stack() -> None:
    args = IngressControllerArgs(crds=CrdSources.releases(), ingress_class_name="edge")
    deployment = run(lambda: IngressController("front", args), stack="staging")
    ingress_class = deployment.one(INGRESS_CLASS)
    assert ingress_class.aliases == [ingress_nginx_urn("staging", INGRESS_CLASS, "edge")], ingress_class.urn
    controller = deployment.one(DEPLOYMENT)
    assert controller.aliases == [ingress_nginx_urn("staging", DEPLOYMENT, "ingress-nginx/ingress-nginx-controller")], (
        controller.urn
    )


def test_behind_a_load_balancer_the_controller_is_replaced_new_one_first() -> None:
    args = IngressControllerArgs(crds=None, exposure="LoadBalancer", replicas=2)
    controller = run(lambda: IngressController("front", args)).one(DEPLOYMENT)
    # No host ports: the old and the new pods can run side by side, so nothing goes early.
    assert not controller.delete_before_replace, controller.urn
