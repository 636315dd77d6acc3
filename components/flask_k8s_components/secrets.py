"""AppSecrets: the app's secret values and the immutable Secret that carries them.

Every value is either generated here with pulumi-random (stored encrypted in the stack state) or
comes in as a Pulumi secret from encrypted stack config. None is ever written in plain text, and
every output of this component is a secret, so `pulumi stack output` and the CLI's diff mask them.
Like AppConfig, the Secret is immutable and auto-named so that rotating a value rolls the pods.

Without a database server (`database` None) DATABASE_URL is an SQLite file in the pod's writable
/tmp, as in the article's local setup, and no database password exists: the URL never names a
host that nothing runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from flask_k8s_components import TYPE_PREFIX

# The article's SQLite URL, in /tmp: the only writable folder of the read-only container image.
SQLITE_URL = "sqlite:////tmp/app.db"


@dataclass(frozen=True)
class DatabaseSpec:
    """A PostgreSQL server DATABASE_URL points at (the password is handled as a secret)."""

    user: str
    """Database user name."""
    host: str
    """Database host name."""
    port: int
    """Database TCP port."""
    name: str
    """Database name."""


@dataclass(frozen=True)
class SecretsSpec:
    """The app's secret values: each from encrypted stack config, or generated when None."""

    database: DatabaseSpec | None = None
    """PostgreSQL coordinates for DATABASE_URL; None: SQLITE_URL, and no database password."""
    secret_key: pulumi.Output[str] | None = None
    """Flask SECRET_KEY from encrypted config; None generates one."""
    jwt_secret_key: pulumi.Output[str] | None = None
    """JWT signing key from encrypted config; None generates one."""
    database_password: pulumi.Output[str] | None = None
    """Database password from encrypted config; None generates one (only with a database)."""


@dataclass(frozen=True)
class AppSecretsArgs:
    """Inputs of AppSecrets."""

    namespace: pulumi.Input[str]
    """Namespace the Secret lives in."""
    spec: SecretsSpec = field(default_factory=SecretsSpec)
    """The values, given or generated."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels for the Secret."""


class AppSecrets(pulumi.ComponentResource):
    """Generated (or configured) secrets and the Secret the Deployment reads them from."""

    secret_name: pulumi.Output[str]
    """The generated name of the Secret; changes whenever a value changes."""
    secret_key: pulumi.Output[str]
    """Flask SECRET_KEY (secret)."""
    jwt_secret_key: pulumi.Output[str]
    """JWT signing key (secret)."""
    database_password: pulumi.Output[str] | None
    """Database password (secret); None without a database."""
    database_url: pulumi.Output[str]
    """DATABASE_URL built from the database coordinates and the password (secret)."""
    secret: k8s.core.v1.Secret
    """The Secret object."""

    def __init__(self, name: str, args: AppSecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}:AppSecrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec = args.spec

        def generated(role: str, length: int, special: bool) -> pulumi.Output[str]:
            return random.RandomPassword(f"{name}-{role}", length=length, special=special, opts=child).result

        def given_or_generated(
            given: pulumi.Output[str] | None, role: str, length: int, special: bool
        ) -> pulumi.Output[str]:
            return pulumi.Output.secret(given if given is not None else generated(role, length, special))

        # 64 characters: Flask and JWT signing keys should carry well over 256 bits of entropy.
        self.secret_key = given_or_generated(spec.secret_key, "secret-key", 64, True)
        self.jwt_secret_key = given_or_generated(spec.jwt_secret_key, "jwt-key", 64, True)
        self.database_password = None
        self.database_url = pulumi.Output.secret(SQLITE_URL)
        if spec.database is not None:
            # Letters and digits only for the database password: some drivers mishandle escaped URLs.
            self.database_password = given_or_generated(spec.database_password, "db-password", 32, False)
            self.database_url = _postgres_url(spec.database, self.database_password)
        values: dict[str, pulumi.Input[str]] = {
            "SECRET_KEY": self.secret_key,
            "JWT_SECRET_KEY": self.jwt_secret_key,
            "DATABASE_URL": self.database_url,
        }
        if self.database_password is not None:
            values["DATABASE_PASSWORD"] = self.database_password

        self.secret = k8s.core.v1.Secret(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(namespace=args.namespace, labels=args.labels),
            type="Opaque",
            immutable=True,
            string_data=values,
            # The object this component exists for takes the component's name; until 4a17c1c it was
            # "<name>-secret", and the alias keeps that live object (and its generated name).
            opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(name=f"{name}-secret")]),
        )
        self.secret_name = self.secret.metadata.name
        self.register_outputs(
            {
                "secret_name": self.secret_name,
                "secret_key": self.secret_key,
                "jwt_secret_key": self.jwt_secret_key,
                "database_password": self.database_password,
                "database_url": self.database_url,
                "secret": self.secret,
            }
        )


def _postgres_url(db: DatabaseSpec, password: pulumi.Output[str]) -> pulumi.Output[str]:
    return pulumi.Output.secret(
        password.apply(
            lambda pw: (
                f"postgresql://{quote(db.user, safe='')}:{quote(pw, safe='')}"
                f"@{db.host}:{db.port}/{quote(db.name, safe='')}"
            )
        )
    )
