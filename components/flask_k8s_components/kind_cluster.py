"""KindCluster: the article's local Kind cluster, created and deleted by Pulumi through pulumi-command.

The cluster is the article's kind-config.yaml: one control-plane node labelled `ingress-ready=true`
with host ports 80/443 (where ingress-nginx for Kind listens) and N workers. `pulumi destroy` runs
`kind delete cluster`, so nothing is left behind. The kubeconfig comes out as a secret: it holds the
cluster's admin client key. The nodes run kind's default node image (so its Kubernetes version)
unless `node_image` pins one.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_command as command
import yaml

from flask_k8s_components import TYPE_PREFIX


@dataclass(frozen=True)
class KindClusterArgs:
    """Inputs of KindCluster."""

    cluster_name: str
    """Kind cluster name (kubectl context kind-<name>)."""
    workers: int = 2
    """Worker nodes beside the control plane."""
    create: bool = True
    """Create the cluster and delete it on destroy; False only reads an existing cluster's kubeconfig."""
    node_image: str | None = None
    """Node image for `kind create cluster --image`, which sets the Kubernetes version; None: kind's default."""


def kind_config(workers: int) -> dict[str, Any]:
    """The article's kind-config.yaml as data."""
    init_patch = (
        'kind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    node-labels: "ingress-ready=true"\n'
    )
    control_plane = {
        "role": "control-plane",
        "kubeadmConfigPatches": [init_patch],
        "extraPortMappings": [
            {"containerPort": 80, "hostPort": 80, "protocol": "TCP"},
            {"containerPort": 443, "hostPort": 443, "protocol": "TCP"},
        ],
    }
    return {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "nodes": [control_plane, *({"role": "worker"} for _ in range(workers))],
    }


class KindCluster(pulumi.ComponentResource):
    """A Kind cluster (or an existing one) and its kubeconfig."""

    cluster_name: str
    """The Kind cluster's name."""
    kubeconfig: pulumi.Output[str]
    """Kubeconfig for the cluster (secret)."""
    revision: str
    """Changes exactly when the cluster is recreated (a hash of its create command's triggers); empty
    for an existing cluster, which this program never recreates. Plain text, for others' triggers."""
    command: command.local.Command
    """The command that creates (and on destroy deletes) the cluster, or reads its kubeconfig."""

    def __init__(self, name: str, args: KindClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:KindCluster", name, None, opts)
        cluster = shlex.quote(args.cluster_name)
        get_kubeconfig = f"kind get kubeconfig --name {cluster}"
        # stdout carries the kubeconfig: keep it secret in state and out of the logs.
        secret_stdout = pulumi.ResourceOptions(parent=self, additional_secret_outputs=["stdout"])
        self.revision = ""
        if args.create:
            config_yaml = yaml.safe_dump(kind_config(args.workers), sort_keys=False)
            image = f" --image {shlex.quote(args.node_image)}" if args.node_image else ""
            triggers = [config_yaml, *([args.node_image] if args.node_image else [])]
            self.revision = hashlib.sha256("\0".join(triggers).encode()).hexdigest()
            self.command = command.local.Command(
                f"{name}-create",
                # Progress goes to stderr so that stdout is exactly the kubeconfig.
                create=f"kind create cluster --name {cluster}{image} --config - 1>&2 && {get_kubeconfig}",
                delete=f"kind delete cluster --name {cluster}",
                stdin=config_yaml,
                # A new node layout or node image needs a new cluster; the old one must go first (same
                # name). Without a node image the triggers stay as they were, so upgrading this program
                # does not recreate existing clusters.
                triggers=triggers,
                logging=command.local.Logging.STDERR,
                opts=pulumi.ResourceOptions.merge(secret_stdout, pulumi.ResourceOptions(delete_before_replace=True)),
            )
        else:
            self.command = command.local.Command(
                f"{name}-kubeconfig",
                create=get_kubeconfig,
                logging=command.local.Logging.STDERR,
                opts=secret_stdout,
            )
        self.cluster_name = args.cluster_name
        self.kubeconfig = pulumi.Output.secret(self.command.stdout)
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "kubeconfig": self.kubeconfig,
                "revision": self.revision,
                "command": self.command,
            }
        )
