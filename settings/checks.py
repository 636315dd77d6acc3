"""Rules that relate values of the stack config to each other, each naming the path it blames.

Every function takes the validated groups (settings/schema.py) and a `Problems` list and adds one
line per broken rule, so `load_settings` can report every problem of a stack at once.
"""

from __future__ import annotations

from decimal import Decimal

from flask_k8s_components.vocabulary import MAX_NAME, image_tag, secret_looking_word

from settings.decisions import Pods
from settings.problems import PROJECT, Problems
from settings.schema import (
    AppGroup,
    AutoscalingGroup,
    ClusterGroup,
    DatabaseGroup,
    IngressGroup,
    NamespaceGroup,
    ServiceGroup,
    TlsGroup,
    parse_quantity,
)

# How long after the progress deadline `up` may give up at the earliest (see check_rollout).
DEADLINE_SLACK_SECONDS = 30
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
# ConfigMap entries that other keys own: set through them, not through app.env.
ENV_OWNED = {"GRACEFUL_TIMEOUT": "app.termination.gracefulTimeoutSeconds"}


def _amount(value: str | None) -> Decimal | None:
    return None if value is None else parse_quantity(value)


def _check_le(p: Problems, path: str, value: str | None, bound_path: str, bound: str | None, why: str = "") -> None:
    small, large = _amount(value), _amount(bound)
    if small is not None and large is not None and small > large and not p.wrong(bound_path):
        p.add(path, value, f"must not exceed {PROJECT}:{bound_path} = {bound!r}{why}")


def check_app(p: Problems, app: AppGroup, autoscaling: AutoscalingGroup) -> None:
    longest = f"{app.name}-service"  # as long as <name>-ingress
    if len(longest) > MAX_NAME:
        p.add(
            "app.name",
            app.name,
            f"the derived names {longest!r} and <name>-ingress must be at most {MAX_NAME} characters",
        )
    if app.reject_latest_tag and image_tag(app.image) in (None, "latest") and "@" not in app.image:
        p.add("app.image", app.image, "must name a fixed tag or a digest: app.rejectLatestTag refuses 'latest'")
    req, lim = app.resources.requests, app.resources.limits
    for resource, small, large in (
        ("cpu", req.cpu, lim.cpu),
        ("memory", req.memory, lim.memory),
        ("ephemeral-storage", req.ephemeral_storage, lim.ephemeral_storage),
    ):
        _check_le(p, f"app.resources.requests.{resource}", small, f"app.resources.limits.{resource}", large)
    if autoscaling.enabled and "replicas" in app.model_fields_set:
        # A count nobody applies would mislead whoever reads the stack file.
        p.add("app.replicas", app.replicas, "means nothing while autoscaling.enabled: the HPA owns the count")
    # Compared while autoscaling is off too: bounds that are wrong today would be found only the day
    # someone turns it on.
    if autoscaling.max_replicas < autoscaling.min_replicas and not p.wrong("autoscaling.minReplicas"):
        p.add(
            "autoscaling.maxReplicas",
            autoscaling.max_replicas,
            f"must be at least {PROJECT}:autoscaling.minReplicas = {autoscaling.min_replicas}",
        )
    check_rollout(p, app)
    check_env(p, app.env)


def check_rollout(p: Problems, app: AppGroup) -> None:
    rollout, term = app.rollout, app.termination
    if rollout.max_surge == 0 and rollout.max_unavailable == 0 and not p.wrong("app.rollout.maxUnavailable"):
        p.add("app.rollout.maxSurge", 0, "and app.rollout.maxUnavailable cannot both be 0 (the rollout could not move)")
    stop = term.pre_stop_sleep_seconds + term.graceful_timeout_seconds
    if term.grace_period_seconds <= stop and not p.wrong(
        "app.termination.preStopSleepSeconds", "app.termination.gracefulTimeoutSeconds"
    ):
        # The kubelet kills the container at the end of the grace period, counted from the moment the
        # pod is marked terminating: requests still being finished then are lost.
        p.add(
            "app.termination.gracePeriodSeconds",
            term.grace_period_seconds,
            f"must exceed preStopSleepSeconds + gracefulTimeoutSeconds = {term.pre_stop_sleep_seconds} + "
            f"{term.graceful_timeout_seconds} = {stop}, or the kubelet kills requests still in flight",
        )
    # pulumi-kubernetes' await does not stop at ProgressDeadlineExceeded: it reports that reason when
    # its own timeout ends the wait, so the deadline must have passed by then, with some slack for
    # the controller to notice.
    earliest = rollout.progress_deadline_seconds + DEADLINE_SLACK_SECONDS
    if rollout.timeout_seconds < earliest and not p.wrong("app.rollout.progressDeadlineSeconds"):
        p.add(
            "app.rollout.timeoutSeconds",
            rollout.timeout_seconds,
            f"must be at least app.rollout.progressDeadlineSeconds + {DEADLINE_SLACK_SECONDS} = {earliest}: a stuck "
            "rollout should fail with the Deployment's own reason (ProgressDeadlineExceeded), not a bare timeout",
        )


def check_env(p: Problems, env: dict[str, str]) -> None:
    for key, value in env.items():
        path = f"app.env.{key}"
        if key in ENV_OWNED:
            p.add(path, value, f"is set by {PROJECT}:{ENV_OWNED[key]}; change that instead")
        elif secret_looking_word(key) is not None:
            # The value is not echoed: it may well be the secret.
            p.note(
                f"{PROJECT}:{path} looks like a secret (password/token/key): ConfigMaps are not encrypted, "
                "give it as a secret instead"
            )
    if "LOG_LEVEL" in env and env["LOG_LEVEL"] not in LOG_LEVELS:
        p.add("app.env.LOG_LEVEL", env["LOG_LEVEL"], f"must be one of: {', '.join(LOG_LEVELS)}")
    workers = env.get("WORKERS")
    if workers is not None and not (workers.isdigit() and 1 <= int(workers) <= 64):
        p.add("app.env.WORKERS", workers, "must be a whole number of gunicorn workers, 1 to 64")


def check_quota(p: Problems, pods: Pods, app: AppGroup, namespace: NamespaceGroup) -> None:
    """A quota set by hand must still hold the peak of a rollout, or it stalls with 'exceeded quota'."""
    if p.wrong("autoscaling.enabled", pods.count_path, "app.rollout.maxSurge", "app.rollout.maxUnavailable"):
        return
    peak, rule = pods.peak, pods.peak_rule
    quota = namespace.quota
    if quota.pods is not None and peak > quota.pods:
        p.add("namespace.quota.pods", quota.pods, f"must allow {rule} = {peak} pods during a rolling update")
    res = app.resources
    for path, hard, per_pod_path, per_pod in (
        ("requests.cpu", quota.requests.cpu, "requests.cpu", res.requests.cpu),
        ("requests.memory", quota.requests.memory, "requests.memory", res.requests.memory),
        ("limits.cpu", quota.limits.cpu, "limits.cpu", res.limits.cpu),
        ("limits.memory", quota.limits.memory, "limits.memory", res.limits.memory),
    ):
        if hard is None or p.wrong(f"app.resources.{per_pod_path}"):
            continue
        if peak * parse_quantity(per_pod) > parse_quantity(hard):
            p.add(
                f"namespace.quota.{path}",
                hard,
                f"must fit ({rule}) x app.resources.{per_pod_path} {per_pod} during a rolling update; "
                "raise it, unset it (derived), or lower the pod count or per-pod value",
            )


def check_limit_range(p: Problems, app: AppGroup, namespace: NamespaceGroup) -> None:
    """The LimitRange's default request must not exceed its default limit (Kubernetes refuses the
    LimitRange otherwise), each of them the app's own request or limit when the stack leaves it unset."""
    limits, res = namespace.limits, app.resources
    for resource, attr in (("cpu", "cpu"), ("memory", "memory"), ("ephemeral-storage", "ephemeral_storage")):
        request_path, default_path = (
            f"namespace.limits.defaultRequest.{resource}",
            f"namespace.limits.default.{resource}",
        )
        request, default = getattr(limits.default_request, attr), getattr(limits.default, attr)
        app_request, app_limit = getattr(res.requests, attr), getattr(res.limits, attr)
        if request is not None and default is not None:
            _check_le(p, request_path, request, default_path, default)
        elif request is not None:
            why = f" (the LimitRange's default while {default_path} is unset)"
            _check_le(p, request_path, request, f"app.resources.limits.{resource}", app_limit, why)
        elif (
            default is not None
            and not p.wrong(f"app.resources.requests.{resource}")
            and parse_quantity(app_request) > parse_quantity(default)
        ):
            p.add(
                default_path,
                default,
                f"must be at least {PROJECT}:app.resources.requests.{resource} = {app_request!r} "
                f"(the LimitRange's defaultRequest while {request_path} is unset)",
            )


def check_cluster(
    p: Problems, cluster: ClusterGroup, app: AppGroup, service: ServiceGroup, kubeconfig_set: bool
) -> None:
    if p.wrong("cluster.target", "cluster.context", "cluster.kind.loadImage"):
        return  # every rule here depends on the target, and on these defaults standing in for nothing
    if cluster.target == "kind":
        kind = cluster.kind
        if kind.node_image and not kind.create:
            # Silently ignoring it would leave users believing their cluster runs that version.
            p.add("cluster.kind.nodeImage", kind.node_image, "only applies with cluster.kind.create true")
        if kubeconfig_set or cluster.context:
            p.add("cluster.target", "kind", "kind takes its kubeconfig from Kind: unset kubeconfig and cluster.context")
        if kind.load_image and "@" in app.image:
            p.add("app.image", app.image, "cannot be pinned by digest when cluster.kind.loadImage builds it locally")
        if service.type == "LoadBalancer":
            p.add("service.type", service.type, "needs a cloud load balancer, which Kind has not: use ClusterIP")
        if cluster.ingress_controller.exposure == "LoadBalancer":
            p.add(
                "cluster.ingressController.exposure",
                "LoadBalancer",
                "needs a cloud load balancer, which Kind has not: use hostPorts",
            )
    else:
        if not kubeconfig_set and not cluster.context:
            # Falling back to the ambient current context is how people deploy to the wrong cluster.
            p.add(
                "cluster.context",
                "",
                "the existing target needs it, or a kubeconfig (pulumi config set --secret kubeconfig ...)",
            )


def check_route(p: Problems, ingress: IngressGroup, by_traefik: bool) -> None:
    """The Gateway API route's settings, checked whichever route the stack uses now."""
    shared = ingress.gateway.shared
    if shared.name and not shared.namespace:
        p.add("ingress.gateway.shared.namespace", "", "is required with ingress.gateway.shared.name")
    if not shared.name and (shared.namespace or shared.section_name):
        path = "ingress.gateway.shared.namespace" if shared.namespace else "ingress.gateway.shared.sectionName"
        p.add(path, shared.namespace or shared.section_name, "only applies with ingress.gateway.shared.name")
    if ingress.api == "gateway" and ingress.annotations:
        # Annotations nobody reads would mislead whoever reads the stack file.
        p.add(
            "ingress.annotations",
            ingress.annotations,
            "are the Ingress's (ingress.api ingress); a Gateway API route takes none (see ingress.gateway)",
        )
    if (
        ingress.api == "gateway"
        and "max_body_size" in ingress.gateway.model_fields_set
        and not p.wrong("cluster.ingressController", "ingress.gateway.className")
        and not by_traefik
    ):
        # A limit nobody enforces would mislead whoever reads the stack file.
        p.add(
            "ingress.gateway.maxBodySize",
            ingress.gateway.max_body_size,
            "is enforced through Traefik's Middleware: only on a Gateway of the class "
            "cluster.ingressController installs; set the limit in your Gateway's own policy instead",
        )


def check_tls(p: Problems, tls: TlsGroup, ingress: IngressGroup) -> None:
    if tls.mode != "none" and not ingress.enabled:
        p.add("tls.mode", tls.mode, "terminates TLS at the route: set ingress.enabled true or tls.mode none")
    if tls.mode != "none" and ingress.api == "gateway" and ingress.gateway.shared.name:
        p.add(
            "tls.mode", tls.mode, "a shared Gateway (ingress.gateway.shared) terminates TLS itself: set tls.mode none"
        )
    manager = tls.cert_manager
    if not manager.install or p.wrong("tls.mode"):
        return
    if tls.mode != "cert-manager":
        p.add("tls.certManager.install", True, "only applies with tls.mode cert-manager")
    elif not manager.acme_email and not p.wrong("tls.certManager.acmeEmail"):
        # Its grammar is checked by the schema whether or not cert-manager is installed; here only
        # that installing needs one.
        p.add("tls.certManager.acmeEmail", manager.acme_email, "must be an e-mail address when install is true")


def check_database(p: Problems, database: DatabaseGroup, password_set: bool) -> None:
    if password_set and not database.host and not p.wrong("database.host"):
        p.note(f"{PROJECT}:databasePassword is set but no database.host: there is no database to use it")
