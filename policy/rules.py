"""The checks of the policy pack, as plain functions of a Kubernetes object's inputs.

Each `*_violations` function takes an object's inputs as the engine reports them (camelCase, as in
the Kubernetes API: `props["spec"]["template"]["spec"]["containers"]`) and returns one message per
problem, each naming the object (`Kind/name`) and what is wrong. They import nothing from the policy
SDK, so they are tested without an engine; `pack.py` wraps them as CrossGuard policies.

Unknown values: during `pulumi preview`, an input computed from another resource's output (a
namespace's name, an auto-named ConfigMap's name, a hash) is not known yet. Such a value is never a
violation here: a check that depends on it is skipped, and it runs for real at `pulumi up`, when
the value is known. `pack.py` turns the engine's unknowns into `UNKNOWN`; the engine's raw sentinel
strings are recognised too, so the functions are safe on raw engine data as well.

Numbers: the engine sends every number as a protobuf double, so `runAsUser: 10001` arrives as
10001.0; integral floats count as integers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, Final

from flask_k8s_components.vocabulary import image_tag, is_image_reference, secret_looking_word

DEPLOYMENT: Final = "kubernetes:apps/v1:Deployment"
POD: Final = "kubernetes:core/v1:Pod"
INGRESS: Final = "kubernetes:networking.k8s.io/v1:Ingress"
CONFIG_MAP: Final = "kubernetes:core/v1:ConfigMap"
SERVICE: Final = "kubernetes:core/v1:Service"
NAMESPACE: Final = "kubernetes:core/v1:Namespace"


class _Unknown:
    """A value the engine does not know yet (preview); a singleton, see UNKNOWN."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()
"""Stands for a value that is unknown during preview (see pack.plain_props)."""

# The engine's markers for unknown values of each type, as pulumi_policy/proxy.py defines them
# (a test checks that these stay equal to the SDK's).
ENGINE_UNKNOWN_SENTINELS: Final = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


def is_unknown(value: Any) -> bool:
    """True for a value that is not known yet during preview."""
    return value is UNKNOWN or (isinstance(value, str) and value in ENGINE_UNKNOWN_SENTINELS)


def _mapping(value: Any) -> Mapping[str, Any] | None:
    """The value if it is a (known) mapping, else None."""
    return value if isinstance(value, Mapping) else None


def _sequence(value: Any) -> Sequence[Any] | None:
    """The value if it is a known list (not a string), else None."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return value
    return None


def _get(value: Any, *path: str) -> Any:
    """The value at a path of mapping keys; None where a key is missing, UNKNOWN where a step is unknown."""
    for key in path:
        if is_unknown(value):
            return UNKNOWN
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return UNKNOWN if is_unknown(value) else value


def _is_set(value: Any) -> bool:
    """A known, non-empty value (a quantity string, a number, a probe mapping)."""
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, str | Mapping | Sequence):
        return len(value) > 0
    return True


# --- Naming the object in messages -------------------------------------------------------------------


def object_ref(kind: str, props: Mapping[str, Any], fallback_name: str) -> str:
    """`Kind/name` for messages; the Pulumi resource name where metadata.name is not (yet) known.

    Auto-named objects (the app's ConfigMap and Secret) get their metadata.name from the provider,
    so the program's inputs may not carry one.
    """
    name = _get(props, "metadata", "name")
    if isinstance(name, str) and name and not is_unknown(name):
        return f"{kind}/{name}"
    return f"{kind}/{fallback_name} (Pulumi resource name)"


def namespace_of(resource_type: str, props: Mapping[str, Any]) -> str | None:
    """The namespace an object is in (a Namespace's own name); None if not known or not set."""
    path = ("metadata", "name") if resource_type == NAMESPACE else ("metadata", "namespace")
    value = _get(props, *path)
    return value if isinstance(value, str) and value and not is_unknown(value) else None


# --- Rule 1: containers ---------------------------------------------------------------------------------------

_RESOURCE_FIELDS: Final = (("requests", "request"), ("limits", "limit"))
_PROBES: Final = ("livenessProbe", "readinessProbe")


def image_problem(image: str) -> str | None:
    """Why an image reference is not pinned (a mutable or missing tag), or None if it is.

    The reference is parsed as the container runtime parses it (vocabulary.image_tag, the grammar of
    distribution/reference, where a ':' before a '/' is a registry port), and so is the program's
    own check of app.image. A digest (`@sha256:...`) pins the image whatever the tag says.
    """
    if "@" in image:
        if is_image_reference(image):
            return None
        name = image.split("@", 1)[0]
        return f"image {image!r} has a malformed digest" if is_image_reference(name) else _not_a_reference(image)
    tag = image_tag(image)
    if tag == "latest":
        return f"image {image!r} uses the mutable tag 'latest': pin a version tag or a digest"
    if tag is not None:
        return None
    if is_image_reference(image):
        return f"image {image!r} has no tag (Kubernetes pulls ':latest'): pin a version tag or a digest"
    if image.endswith(":") and is_image_reference(image[:-1]):
        return f"image {image!r} has an empty tag: pin a version tag or a digest"
    return _not_a_reference(image)


def _not_a_reference(image: str) -> str:
    return f"image {image!r} is not an image reference ([host[:port]/]path[:tag][@digest], lowercase path)"


def _effective_security_field(container: Mapping[str, Any], pod_spec: Mapping[str, Any], field: str) -> Any:
    """A security setting as Kubernetes resolves it: the container's, else the pod's; None if neither sets it."""
    for context in (container.get("securityContext"), pod_spec.get("securityContext")):
        if is_unknown(context):
            return UNKNOWN
        if isinstance(context, Mapping) and context.get(field) is not None:
            value = context[field]
            return UNKNOWN if is_unknown(value) else value
    return None


def _non_root_problems(container: Mapping[str, Any], pod_spec: Mapping[str, Any]) -> Iterator[str]:
    run_as_non_root = _effective_security_field(container, pod_spec, "runAsNonRoot")
    if run_as_non_root is not True and not is_unknown(run_as_non_root):
        state = "is false" if run_as_non_root is False else "is not set"
        yield f"runAsNonRoot {state}: set securityContext.runAsNonRoot: true on the pod or the container"
    run_as_user = _effective_security_field(container, pod_spec, "runAsUser")
    if is_unknown(run_as_user):
        return
    if run_as_user is None:
        # runAsNonRoot alone lets the kubelet check only a numeric USER of the image; a name is refused
        # at start-up. A numeric UID here makes the check certain before anything runs.
        yield "has no runAsUser: set a numeric, non-zero securityContext.runAsUser on the pod or the container"
    elif (
        isinstance(run_as_user, bool)
        or not isinstance(run_as_user, int | float)
        or not float(run_as_user).is_integer()  # also false for inf and nan
        or run_as_user <= 0
    ):
        shown = int(run_as_user) if isinstance(run_as_user, float) and run_as_user.is_integer() else run_as_user
        yield f"runAsUser {shown!r} is not a non-zero numeric UID (0 is root)"


def _container_problems(
    container: Mapping[str, Any], pod_spec: Mapping[str, Any], *, needs_probes: bool
) -> Iterator[str]:
    resources = container.get("resources")
    if not is_unknown(resources):
        resources = resources if isinstance(resources, Mapping) else {}
        for section, noun in _RESOURCE_FIELDS:
            values = resources.get(section)
            if is_unknown(values):
                continue
            values = values if isinstance(values, Mapping) else {}
            for resource in ("cpu", "memory"):
                value = values.get(resource)
                if not is_unknown(value) and not _is_set(value):
                    yield f"has no {resource} {noun} (resources.{section}.{resource})"
    if needs_probes:
        for probe in _PROBES:
            value = container.get(probe)
            if not is_unknown(value) and not (isinstance(value, Mapping) and len(value) > 0):
                yield f"has no {probe}"
    yield from _non_root_problems(container, pod_spec)
    image = container.get("image")
    if is_unknown(image):
        return
    if not isinstance(image, str) or not image.strip():
        yield "has no image"
    else:
        problem = image_problem(image.strip())
        if problem:
            yield problem


def container_violations(pod_spec: Mapping[str, Any]) -> list[str]:
    """Problems of a pod spec's containers: resources, probes, non-root user, pinned image.

    Init containers are held to the same rules except probes (Kubernetes does not run probes on
    them): an init container running as root or from ':latest' is as much of a risk.
    Messages name the container, not the object; workload_violations adds that.
    """
    containers = pod_spec.get("containers")
    if is_unknown(containers):
        return []
    found: list[str] = []
    listed = _sequence(containers)
    if not listed:
        found.append("has no containers (spec.containers is empty)")
    init_containers = _sequence(pod_spec.get("initContainers")) or []
    for label, items, needs_probes in (("container", listed or [], True), ("init container", init_containers, False)):
        for index, container in enumerate(items):
            if not isinstance(container, Mapping):  # unknown (or malformed): nothing to check yet
                continue
            name = container.get("name")
            shown = name if isinstance(name, str) and not is_unknown(name) else f"#{index}"
            for problem in _container_problems(container, pod_spec, needs_probes=needs_probes):
                found.append(f"{label} {shown!r} {problem}")
    return found


def _pod_spec_violations(ref: str, pod_spec: Any, where: str) -> list[str]:
    if is_unknown(pod_spec):
        return []
    if not isinstance(pod_spec, Mapping):
        return [f"{ref}: has no pod spec ({where})"]
    return [f"{ref}: {problem}" for problem in container_violations(pod_spec)]


def deployment_violations(props: Mapping[str, Any], fallback_name: str) -> list[str]:
    """Rule 1 for a Deployment: every container of its pod template."""
    ref = object_ref("Deployment", props, fallback_name)
    return _pod_spec_violations(ref, _get(props, "spec", "template", "spec"), "spec.template.spec")


def pod_violations(props: Mapping[str, Any], fallback_name: str) -> list[str]:
    """Rule 1 for a bare Pod."""
    ref = object_ref("Pod", props, fallback_name)
    return _pod_spec_violations(ref, _get(props, "spec"), "spec")


# --- Rule 2: Ingress TLS ---------------------------------------------------------------------------------------


def host_covered(host: str, tls_hosts: Collection[str]) -> bool:
    """Whether a TLS entry's hosts cover a rule's host: the same name, or a wildcard for exactly one more label."""
    host = host.lower().rstrip(".")
    for candidate in (h.lower().rstrip(".") for h in tls_hosts):
        if candidate == host:
            return True
        if candidate.startswith("*.") and "." in host and host.split(".", 1)[1] == candidate[2:]:
            return True
    return False


def ingress_violations(props: Mapping[str, Any], fallback_name: str) -> list[str]:
    """Rule 2: TLS entries present and complete, and every rule's host covered by one.

    Rules without a host (catch-all) are not checked for coverage: no TLS entry can name them, and the
    controller answers them with its default certificate.
    """
    ref = object_ref("Ingress", props, fallback_name)
    spec = props.get("spec")
    if is_unknown(spec):
        return []
    spec = spec if isinstance(spec, Mapping) else {}
    tls = spec.get("tls")
    if is_unknown(tls):
        return []
    entries = _sequence(tls)
    if not entries:
        return [f"{ref}: has no TLS (spec.tls is empty): list the hosts and the Secret of their certificate"]
    found: list[str] = []
    tls_hosts: list[str] = []
    coverage_known = True
    for index, entry in enumerate(entries):
        if is_unknown(entry):
            coverage_known = False
            continue
        if not isinstance(entry, Mapping):
            found.append(f"{ref}: spec.tls[{index}] is not an object with hosts and secretName")
            continue
        hosts = entry.get("hosts")
        if is_unknown(hosts):
            coverage_known = False
        elif not _sequence(hosts):
            found.append(f"{ref}: spec.tls[{index}] has no hosts")
        else:
            for host in _sequence(hosts) or []:
                if is_unknown(host):
                    coverage_known = False
                elif isinstance(host, str):
                    tls_hosts.append(host)
        secret_name = entry.get("secretName")
        if not is_unknown(secret_name) and not (isinstance(secret_name, str) and secret_name):
            found.append(f"{ref}: spec.tls[{index}] has no secretName")
    rules = spec.get("rules")
    if coverage_known and not is_unknown(rules):
        for index, rule in enumerate(_sequence(rules) or []):
            host = _get(rule, "host")
            if isinstance(host, str) and host and not is_unknown(host) and not host_covered(host, tls_hosts):
                found.append(f"{ref}: host {host!r} (spec.rules[{index}]) is not covered by any spec.tls entry")
    return found


# --- Rule 3: no secrets in ConfigMaps -------------------------------------------------------------------------


def configmap_violations(props: Mapping[str, Any], fallback_name: str, allowed_keys: Collection[str] = ()) -> list[str]:
    """Rule 3: no key of `data` (or `binaryData`) looks like a secret, unless allowed by name.

    Only key names are looked at, never values, so no message can echo a secret.
    """
    ref = object_ref("ConfigMap", props, fallback_name)
    found: list[str] = []
    for field in ("data", "binaryData"):
        entries = _mapping(props.get(field))
        for key in entries or {}:
            word = secret_looking_word(key)
            if word and key not in allowed_keys:
                found.append(
                    f"{ref}: key {key!r} in {field} looks like a secret ({word!r}); ConfigMaps are not "
                    "encrypted: put it in a Secret (or list the key in allowedKeys if it is not one)"
                )
    return found


# --- Rule 4: LoadBalancer Services ----------------------------------------------------------------------------


def service_violations(props: Mapping[str, Any], fallback_name: str, *, allow_load_balancer: bool) -> list[str]:
    """Rule 4: type LoadBalancer only where the stack's policy config allows it."""
    service_type = _get(props, "spec", "type")
    if service_type == "LoadBalancer" and not allow_load_balancer:
        ref = object_ref("Service", props, fallback_name)
        return [
            f"{ref}: type LoadBalancer is not allowed in this stack (policy config allowLoadBalancer is "
            "false): use ClusterIP behind the Ingress, or allow it in policy/config/<stack>.json"
        ]
    return []


# --- Rule 5: Pod Security Admission on namespaces --------------------------------------------------------------

PSA_ENFORCE_LABEL: Final = "pod-security.kubernetes.io/enforce"
PSA_ALLOWED_LEVELS: Final = ("baseline", "restricted")


def namespace_violations(props: Mapping[str, Any], fallback_name: str) -> list[str]:
    """Rule 5: the namespace enforces Pod Security `baseline` or `restricted`."""
    labels = _get(props, "metadata", "labels")
    if is_unknown(labels):
        return []
    ref = object_ref("Namespace", props, fallback_name)
    level = _get(labels, PSA_ENFORCE_LABEL) if isinstance(labels, Mapping) else None
    if is_unknown(level):
        return []
    if level is None:
        return [f"{ref}: has no {PSA_ENFORCE_LABEL} label: set it to restricted (or baseline)"]
    if level == "privileged":
        return [f"{ref}: {PSA_ENFORCE_LABEL}=privileged enforces nothing: use restricted (or baseline)"]
    if level not in PSA_ALLOWED_LEVELS:
        return [f"{ref}: {PSA_ENFORCE_LABEL}={level!r} is not a level Kubernetes knows: use restricted or baseline"]
    return []
