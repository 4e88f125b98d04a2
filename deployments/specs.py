"""What the deployments are: names, flows, default parameters and tags, shared by
`prefect.yaml` (kept in step by a test) and `deployments/serve.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FOLDER = "folder"
SITE = "site"
FS_FLOW = "ingest-filesystem"
WEB_FLOW = "ingest-web"


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    flow_name: str
    entrypoint: str
    tags: list[str]
    parameters: dict[str, Any] = field(default_factory=dict)
    concurrency_limit: int = 1

    @property
    def full_name(self) -> str:
        """`flow/deployment`, as `run_deployment` and `prefect deployment run` take it."""
        return f"{self.flow_name}/{self.name}"


SPECS: dict[str, DeploymentSpec] = {
    FOLDER: DeploymentSpec(
        name=FOLDER,
        flow_name=FS_FLOW,
        entrypoint="flows/filesystem.py:ingest_filesystem",
        tags=["ingest", "filesystem"],
        parameters={
            "source": {"path": "samples/corpus"},
            "options": {"batch_size": 500, "concurrency": 2},
        },
        concurrency_limit=2,
    ),
    SITE: DeploymentSpec(
        name=SITE,
        flow_name=WEB_FLOW,
        entrypoint="flows/web.py:ingest_web",
        tags=["ingest", "web"],
        parameters={
            "site": {"seeds": ["https://example.com/"], "max_pages": 100, "max_depth": 2},
            "options": {"batch_size": 50, "concurrency": 2},
        },
        concurrency_limit=1,
    ),
}

BY_FLOW: dict[str, DeploymentSpec] = {spec.flow_name: spec for spec in SPECS.values()}
