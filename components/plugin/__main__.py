"""Hosts flask_k8s_components' FlaskApp as the Pulumi package `flask-k8s` (schema inferred from its
type annotations: flask_k8s_components/package.py)."""

from importlib.metadata import version

from flask_k8s_components.package import PACKAGE_NAME, FlaskApp
from pulumi.provider.experimental import component_provider_host

if __name__ == "__main__":
    component_provider_host(components=[FlaskApp], name=PACKAGE_NAME, version=version("flask-k8s-components"))
