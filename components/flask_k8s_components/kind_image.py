"""KindImage: builds the app's image with Docker and loads it into a Kind cluster.

Kind nodes cannot pull from the host's Docker daemon, hence `kind load docker-image` (as in the
article). The command re-runs whenever a file under the source folder changes (a content hash is
its trigger) or the cluster is recreated, and `source_hash` goes on the pod template so the pods
roll onto the new image even though its tag did not change.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_command as command

from flask_k8s_components import TYPE_PREFIX

# Build by-products that do not change the image.
_IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"}


@dataclass(frozen=True)
class ImageSource:
    """An image built from local sources (the stack's `app.image` and `cluster.kind.appSourceDir`)."""

    image: str
    """Image reference to build and load (e.g. flask-app:1.0)."""
    source_dir: str
    """Folder with the Dockerfile and the app's sources."""


@dataclass(frozen=True)
class KindImageArgs:
    """Inputs of KindImage."""

    source: ImageSource
    """What to build."""
    cluster_name: str
    """Kind cluster to load the image into. Plain text: it goes into the command's triggers, where the
    engine refuses a secret it does not know yet. Make the component wait for the cluster with
    `ResourceOptions(depends_on=[cluster])`."""
    cluster_revision: str = ""
    """KindCluster.revision: a recreated cluster has none of the old one's images, so a new revision
    loads the image again. Empty: never reload for the cluster's sake."""


def source_hash(source_dir: str | Path) -> str:
    """SHA-256 over the relative paths and contents of every file under source_dir."""
    root = Path(source_dir)
    if not root.is_dir():
        raise ValueError(f"image source folder {str(source_dir)!r} does not exist")
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root)
        if _IGNORED_PARTS.intersection(rel.parts) or path.suffix == ".pyc":
            continue
        digest.update(rel.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class KindImage(pulumi.ComponentResource):
    """The app image, built locally and loaded into the Kind cluster's nodes."""

    image: str
    """The image reference that was built."""
    source_hash: pulumi.Output[str]
    """Hash of the sources the loaded image was built from; known once the image is loaded."""
    command: command.local.Command
    """The build-and-load command."""

    def __init__(self, name: str, args: KindImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:KindImage", name, None, opts)
        digest = source_hash(args.source.source_dir)
        image = shlex.quote(args.source.image)
        self.command = command.local.Command(
            f"{name}-build-load",
            create=(
                f"docker build -t {image} {shlex.quote(args.source.source_dir)} && "
                f"kind load docker-image {image} --name {shlex.quote(args.cluster_name)}"
            ),
            triggers=[digest, args.cluster_name, *([args.cluster_revision] if args.cluster_revision else [])],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.image = args.source.image
        # Derived from the command so that whatever uses it waits for the image to be loaded.
        self.source_hash = self.command.create.apply(lambda _: digest)
        self.register_outputs({"image": self.image, "source_hash": self.source_hash, "command": self.command})
