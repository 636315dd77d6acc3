"""Reusable Pulumi component resources for running a Flask app on Kubernetes.

One module per component; each takes one typed Args dataclass and never reads stack config:
`settings/` at the project root validates config and builds their Args; `__main__.py` composes them.

- namespace.AppNamespace    Namespace + ResourceQuota + LimitRange
- app_config.AppConfig      the app's ConfigMap (env vars and the mounted config file)
- secrets.AppSecrets        generated secrets and the Secret that carries them
- workload.Workload         the Deployment (rolling update, probes, resources)
- service.AppService        the Service in front of the pods
- ingress.AppIngress        the TLS Ingress
- flask_app.FlaskApp        all of the above for one app
- vocabulary                Kubernetes' name grammar and secret-looking words (also the policy pack's)

Children are named `f"{name}-<role>"`, except the one object a component exists for (the Service
of AppService, the Namespace of AppNamespace, ...), which takes the component's own name: so each
name says its role once (`flask-app-service`, never `flask-app-service-service`).
"""

# Every component's type token is f"{TYPE_PREFIX}:<Type>", one scheme for the whole package.
TYPE_PREFIX = "flask-k8s:components"


def resource_quantities(cpu: str, memory: str, ephemeral_storage: str | None) -> dict[str, str]:
    """A container's (or LimitRange default's) resource list; ephemeral-storage only when given."""
    values = {"cpu": cpu, "memory": memory}
    if ephemeral_storage is not None:
        values["ephemeral-storage"] = ephemeral_storage
    return values
