"""The Pulumi state backends the tests and the benchmarks run stacks on: a folder (file://) and a PostgreSQL database
(postgres://, the diy backend a team can share; devtools/postgres.py makes the server).

Both are Pulumi's diy backend over a different store: the same objects under the same keys (a
stack's checkpoint at `.pulumi/stacks/<project>/<stack>.json`, its locks under `.pulumi/locks/`),
so a test or a benchmark reads them alike, whichever it runs on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from devtools.harness import PROJECT
from devtools.postgres import STATE_TABLE, PostgresServer

FILE = "file"
POSTGRES = "postgres"
BACKENDS = (FILE, POSTGRES)
LOCKS = ".pulumi/locks/"


def checkpoint_key(stack: str, project: str = PROJECT) -> str:
    return f".pulumi/stacks/{project}/{stack}.json"


class StateBackend(Protocol):
    kind: str

    @property
    def url(self) -> str:
        """PULUMI_BACKEND_URL: never holds a password."""
        ...

    @property
    def env(self) -> dict[str, str]:
        """What the CLI needs besides the URL (PGPASSWORD); secret."""
        ...

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        """The backend's objects whose key starts with `prefix`, key -> content."""
        ...

    def stored_texts(self) -> dict[str, str]:
        """Everything the backend stores, as text, by a name saying where it is (the secrets search)."""
        ...

    def redact(self, text: str) -> str: ...


@dataclass
class FileBackend:
    root: Path
    kind: str = FILE

    @property
    def url(self) -> str:
        return self.root.as_uri()

    @property
    def env(self) -> dict[str, str]:
        return {}

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        found = {}
        for path in sorted(self.root.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and key.startswith(prefix):
                try:
                    found[key] = path.read_bytes()
                except FileNotFoundError:  # an update replaced it meanwhile
                    continue
        return found

    def stored_texts(self) -> dict[str, str]:
        return {f"backend object {key}": data.decode(errors="replace") for key, data in self.objects().items()}

    def redact(self, text: str) -> str:
        return text


def file_backend(folder: Path) -> FileBackend:
    """A new, empty file backend in `folder` (created; it must not exist yet)."""
    folder.mkdir(parents=True)
    return FileBackend(folder)


@dataclass
class PostgresBackend:
    server: PostgresServer = field(repr=False)
    database: str
    kind: str = POSTGRES

    @property
    def url(self) -> str:
        return self.server.url(self.database)

    @property
    def env(self) -> dict[str, str]:
        return self.server.client_env()

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        # The CLI keys the objects under the URL's path (the database's name), then the paths the
        # file backend uses.
        stored = self.server.blobs(self.database, f"{self.database}/{prefix}")
        return {key.removeprefix(f"{self.database}/"): data for key, data in stored.items()}

    def stored_texts(self) -> dict[str, str]:
        """Each object decoded, and the database as it is stored and backed up: the table's rows as
        they are (base64 in JSON) and a `pg_dump` of the database."""
        texts = {f"backend object {key}": data.decode(errors="replace") for key, data in self.objects().items()}
        texts["the state table's rows"] = self.server.psql(self.database, f"SELECT key, data FROM {STATE_TABLE}")
        texts["pg_dump of the state database"] = self.server.pg_dump(self.database)
        return texts

    def redact(self, text: str) -> str:
        return self.server.redact(text)


def postgres_backend(server: PostgresServer, name: str) -> PostgresBackend:
    """A new database of its own on `server`: stacks of the same name never meet."""
    server.create_database(name)
    return PostgresBackend(server, name)
