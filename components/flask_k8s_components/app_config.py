"""AppConfig: the app's non-secret configuration as an immutable ConfigMap.

The ConfigMap is immutable and auto-named (Pulumi appends a random suffix). A change to any value
therefore creates a new ConfigMap under a new name, the Deployment's reference changes with it, and
Kubernetes rolls the pods; the old ConfigMap is deleted only after the new pods are up. Each
ReplicaSet keeps reading exactly the config it was started with, which in-place edits of one
long-lived ConfigMap (plus a checksum annotation) cannot promise for the mounted file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from flask_k8s_components import TYPE_PREFIX

APP_CONFIG_KEY = "APP_CONFIG"
"""The ConfigMap key holding the multi-line config file."""


@dataclass(frozen=True)
class ConfigSpec:
    """The app's non-secret configuration (the config group `app`'s env and configFile)."""

    env: dict[str, str]
    """Environment variables for the app (FLASK_ENV, LOG_LEVEL, ...), exposed through envFrom."""
    config_file: str
    """Contents of the app's config file, mounted read-only into the container."""


@dataclass(frozen=True)
class AppConfigArgs:
    """Inputs of AppConfig."""

    namespace: pulumi.Input[str]
    """Namespace the ConfigMap lives in."""
    spec: ConfigSpec
    """What the ConfigMap holds."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels for the ConfigMap."""


class AppConfig(pulumi.ComponentResource):
    """An immutable, auto-named ConfigMap with the app's environment and config file."""

    config_map_name: pulumi.Output[str]
    """The generated name of the ConfigMap; changes whenever the data changes."""
    config_file_key: str
    """The key under which the config file is stored (to mount it as a file)."""
    config_map: k8s.core.v1.ConfigMap
    """The ConfigMap object."""

    def __init__(self, name: str, args: AppConfigArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:AppConfig", name, None, opts)
        if APP_CONFIG_KEY in args.spec.env:
            raise ValueError(f"env key {APP_CONFIG_KEY!r} is reserved for the config file")
        self.config_file_key = APP_CONFIG_KEY
        self.config_map = k8s.core.v1.ConfigMap(
            name,
            # No metadata.name: Pulumi auto-names it, which is what lets a change roll the pods.
            metadata=k8s.meta.v1.ObjectMetaArgs(namespace=args.namespace, labels=args.labels),
            immutable=True,
            data={**args.spec.env, APP_CONFIG_KEY: args.spec.config_file},
            # The object this component exists for takes the component's name; until 4a17c1c it was
            # "<name>-configmap", and the alias keeps that live object (and its generated name).
            opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(name=f"{name}-configmap")]),
        )
        self.config_map_name = self.config_map.metadata.name
        self.register_outputs(
            {
                "config_map_name": self.config_map_name,
                "config_file_key": self.config_file_key,
                "config_map": self.config_map,
            }
        )
