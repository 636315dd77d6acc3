"""IngressNginx: the NGINX ingress controller for Kind, from a pinned release's manifest.

The article applies `deploy/static/provider/kind/deploy.yaml` from the `main` branch; this pins a
release tag so that a re-run installs the same thing. The provider waits for the manifest's objects
(the controller Deployment, the admission webhook's Jobs) to be ready, and the app's Ingress depends
on this component, so its admission webhook is answering before the Ingress is submitted.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from flask_k8s_components import TYPE_PREFIX

MANIFEST_URL = (
    "https://raw.githubusercontent.com/kubernetes/ingress-nginx/{version}/deploy/static/provider/kind/deploy.yaml"
)


@dataclass(frozen=True)
class IngressNginxArgs:
    """Inputs of IngressNginx."""

    version: str
    """Release tag, e.g. controller-v1.14.3."""


class IngressNginx(pulumi.ComponentResource):
    """ingress-nginx for Kind, installed and ready."""

    manifest_url: str
    """The manifest that was applied."""
    manifest: k8s.yaml.v2.ConfigFile
    """The applied manifest's objects."""

    def __init__(self, name: str, args: IngressNginxArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:IngressNginx", name, None, opts)
        self.manifest_url = MANIFEST_URL.format(version=args.version)
        self.manifest = k8s.yaml.v2.ConfigFile(
            f"{name}-manifest", file=self.manifest_url, opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({"manifest_url": self.manifest_url, "manifest": self.manifest})
