"""The CrossGuard policies: each wraps a check of rules.py, with its enforcement level and config.

Enforcement levels (the reason for each is beside its policy below, and in README.md): all five
are mandatory. Each checks something exact (rule 3: a narrow list of words in key names, with an
allow-list), each violation is an exposure or an outage waiting to happen, and the app passes all
of them in every stack, so a violation means a real regression. An advisory level would let
`pulumi up` go ahead with a warning nobody reads. A stack can still lower one in its
policy/config/<stack>.json (`"<policy-name>": "advisory"`), in review like any other change.

Config (per stack, policy/config/<stack>.json): every policy takes `excludedNamespaces`, for
third-party manifests the stack installs as they are published (dev's ingress-nginx: no
limits on its controller, no Pod Security label on its namespace); `service-load-balancer` takes
`allowLoadBalancer`; `configmap-no-secrets` takes `allowedKeys`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)
from pulumi_policy.proxy import UnknownValueError

from .rules import (
    CONFIG_MAP,
    DEPLOYMENT,
    INGRESS,
    NAMESPACE,
    POD,
    SERVICE,
    UNKNOWN,
    configmap_violations,
    deployment_violations,
    ingress_violations,
    is_unknown,
    namespace_of,
    namespace_violations,
    pod_violations,
    service_violations,
)

PACK_NAME: Final = "flask-k8s"

EXCLUDED_NAMESPACES: Final = "excludedNamespaces"
ALLOW_LOAD_BALANCER: Final = "allowLoadBalancer"
ALLOWED_KEYS: Final = "allowedKeys"

_STRING_LIST: Final[dict[str, Any]] = {"type": "array", "items": {"type": "string"}, "default": []}
_EXCLUDED_NAMESPACES_SCHEMA: Final[dict[str, Any]] = {
    **_STRING_LIST,
    "description": "Namespaces (and Namespace objects) this policy skips: third-party manifests applied as published.",
}


def plain_props(value: Any) -> Any:
    """The engine's props as plain dicts and lists, with UNKNOWN where a value is unknown at preview.

    The SDK hands a policy its props behind a proxy that raises UnknownValueError on reading an
    unknown value, which would abort the whole policy for that resource (the SDK then reports "can't
    run policy during preview"). Converting first lets every check run on what is known and skip
    only what depends on the unknown part.
    """
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, Mapping):
        plain: dict[str, Any] = {}
        for key in value:  # iterating keys never reads a value, so it never raises
            try:
                plain[key] = plain_props(value[key])
            except UnknownValueError:
                plain[key] = UNKNOWN
        return plain
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain_props(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def _string_list(config: Mapping[str, Any], key: str) -> frozenset[str]:
    value = config.get(key)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()


Check = Callable[[str, Mapping[str, Any], str, Mapping[str, Any]], list[str]]
"""(resource type, plain props, Pulumi resource name, policy config) -> violation messages."""


Validate = Callable[[ResourceValidationArgs, ReportViolation], None]
"""The callback signature ResourceValidationPolicy takes."""


def _validator(resource_types: frozenset[str], check: Check) -> Validate:
    """A validate callback: filters by type, honours excludedNamespaces, reports each message."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in resource_types:
            return
        props = plain_props(args.props)
        if not isinstance(props, Mapping):
            return
        config = args.get_config()
        namespace = namespace_of(args.resource_type, props)
        if namespace is not None and namespace in _string_list(config, EXCLUDED_NAMESPACES):
            return
        for message in check(args.resource_type, props, args.name, config):
            report_violation(message, None)

    return validate


def _containers(resource_type: str, props: Mapping[str, Any], name: str, _config: Mapping[str, Any]) -> list[str]:
    return deployment_violations(props, name) if resource_type == DEPLOYMENT else pod_violations(props, name)


def _ingress(_type: str, props: Mapping[str, Any], name: str, _config: Mapping[str, Any]) -> list[str]:
    return ingress_violations(props, name)


def _configmap(_type: str, props: Mapping[str, Any], name: str, config: Mapping[str, Any]) -> list[str]:
    return configmap_violations(props, name, _string_list(config, ALLOWED_KEYS))


def _service(_type: str, props: Mapping[str, Any], name: str, config: Mapping[str, Any]) -> list[str]:
    return service_violations(props, name, allow_load_balancer=config.get(ALLOW_LOAD_BALANCER) is True)


def _namespace(_type: str, props: Mapping[str, Any], name: str, _config: Mapping[str, Any]) -> list[str]:
    return namespace_violations(props, name)


container_requirements = ResourceValidationPolicy(
    name="container-requirements",
    description=(
        "Containers of Deployments and Pods set cpu/memory requests and limits, liveness and readiness probes, "
        "run as a numeric non-root user, and use a pinned image (a version tag or a digest, not ':latest')."
    ),
    # MANDATORY: without limits one pod can starve its node, without probes a hung pod keeps getting
    # traffic, root widens any breach, and ':latest' makes a rollback pull whatever is newest. All exact
    # checks that the app's Deployment passes in every stack.
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PolicyConfigSchema(properties={EXCLUDED_NAMESPACES: _EXCLUDED_NAMESPACES_SCHEMA}),
    validate=_validator(frozenset({DEPLOYMENT, POD}), _containers),
    remediation_steps="Set resources, livenessProbe/readinessProbe, securityContext.runAsNonRoot and a numeric "
    "runAsUser, and an image with a version tag or digest.",
)

ingress_tls = ResourceValidationPolicy(
    name="ingress-tls",
    description="Every Ingress serves TLS: spec.tls entries with hosts and a secretName, covering every rule's host.",
    # MANDATORY: an Ingress without TLS sends session cookies and tokens in clear text over the
    # network; the check is exact and every stack's Ingress has TLS (tlsMode none is then refused).
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PolicyConfigSchema(properties={EXCLUDED_NAMESPACES: _EXCLUDED_NAMESPACES_SCHEMA}),
    validate=_validator(frozenset({INGRESS}), _ingress),
    remediation_steps="Add a spec.tls entry listing each rule's host and the Secret holding its certificate.",
)

configmap_no_secrets = ResourceValidationPolicy(
    name="configmap-no-secrets",
    description=(
        "No ConfigMap key looks like a secret (password, passwd, secret, token, api key, private key, credential)."
    ),
    # MANDATORY: a secret in a ConfigMap is readable by whoever may read ConfigMaps and sits unencrypted in
    # etcd and in the Pulumi state; once applied it has leaked and must be rotated. The word list is
    # narrow (the one settings/ already refuses in app.env: flask_k8s_components/vocabulary.py) and a false
    # positive has a reviewed way out (allowedKeys), so blocking costs little.
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    config_schema=PolicyConfigSchema(
        properties={
            EXCLUDED_NAMESPACES: _EXCLUDED_NAMESPACES_SCHEMA,
            ALLOWED_KEYS: {
                **_STRING_LIST,
                "description": "Key names that look like secrets but are not (e.g. TOKEN_TTL_SECONDS).",
            },
        }
    ),
    validate=_validator(frozenset({CONFIG_MAP}), _configmap),
    remediation_steps="Move the value into a Secret (pulumi config set --secret) and reference it from there.",
)

service_load_balancer = ResourceValidationPolicy(
    name="service-load-balancer",
    description="Services of type LoadBalancer only in stacks whose policy config sets allowLoadBalancer.",
    # MANDATORY: the stack's config decides, so there is no false positive to tolerate: a LoadBalancer
    # is a paid, internet-facing entry point beside the Ingress (and on Kind it never gets an address).
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    config_schema=PolicyConfigSchema(
        properties={
            EXCLUDED_NAMESPACES: _EXCLUDED_NAMESPACES_SCHEMA,
            ALLOW_LOAD_BALANCER: {
                "type": "boolean",
                "default": False,
                "description": "Whether this stack may create Services of type LoadBalancer.",
            },
        }
    ),
    validate=_validator(frozenset({SERVICE}), _service),
    remediation_steps="Use a ClusterIP Service behind the Ingress, or set allowLoadBalancer in the stack's policy "
    "config.",
)

namespace_pod_security = ResourceValidationPolicy(
    name="namespace-pod-security",
    description="Namespaces enforce Pod Security Admission baseline or restricted (label "
    "pod-security.kubernetes.io/enforce; privileged is refused).",
    # MANDATORY: the label is what makes the API server itself refuse privileged pods, whatever
    # created them; without it (or with privileged) the container rules above are the only guard.
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PolicyConfigSchema(properties={EXCLUDED_NAMESPACES: _EXCLUDED_NAMESPACES_SCHEMA}),
    validate=_validator(frozenset({NAMESPACE}), _namespace),
    remediation_steps="Label the namespace pod-security.kubernetes.io/enforce=restricted (podSecurityEnforce).",
)

POLICIES: Final[list[ResourceValidationPolicy]] = [
    container_requirements,
    ingress_tls,
    configmap_no_secrets,
    service_load_balancer,
    namespace_pod_security,
]
