"""Our flows send their parameters to the API as Prefect's own `serialize_parameters`
would, without importing FastAPI on the way (flows/adapters/flow_class.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from prefect import Flow

from flows.filesystem import ingest_filesystem
from flows.params import FOLDER_RUN_OPTIONS, SITE_RUN_OPTIONS, FolderSource
from flows.web import ingest_web
from ingest.sources.web import WebSourceConfig
from tests.support.paths import REPO_ROOT


def _folder_parameters(tmp_path: Path) -> dict[str, Any]:
    options = FOLDER_RUN_OPTIONS.model_copy(
        update={"batch_size": 123, "workers": 2, "store": "sqlite:///x.db"}
    )
    source = FolderSource.model_validate(
        {"path": str(tmp_path), "include": ["**/*.md"], "exclude": ["build/**"]}
    )
    return {"source": source, "options": options}


def _site_parameters() -> dict[str, Any]:
    site = WebSourceConfig(seeds=["http://127.0.0.1:9/docs/"], allowed_domains=["127.0.0.1"])
    return {"site": site, "options": SITE_RUN_OPTIONS, "auth": "docs-login"}


def test_folder_parameters_serialise_as_prefect_would(tmp_path: Path) -> None:
    parameters = _folder_parameters(tmp_path)
    ours = ingest_filesystem.serialize_parameters(parameters)
    assert ours == Flow.serialize_parameters(ingest_filesystem, parameters)
    assert ours["source"]["path"] == str(tmp_path)  # by alias, as the form shows it
    assert ours["options"]["batch_size"] == 123


def test_site_parameters_serialise_as_prefect_would() -> None:
    parameters = _site_parameters()
    ours = ingest_web.serialize_parameters(parameters)
    assert ours == Flow.serialize_parameters(ingest_web, parameters)
    assert ours["site"]["seeds"] == ["http://127.0.0.1:9/docs/"]


def test_a_parameter_pydantic_cannot_dump_falls_back_to_prefects_way() -> None:
    parameters = {"options": FOLDER_RUN_OPTIONS, "odd": object()}
    assert ingest_filesystem.serialize_parameters(parameters) == Flow.serialize_parameters(
        ingest_filesystem, parameters
    )


def test_serialising_the_parameters_does_not_import_fastapi(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from flows.filesystem import ingest_filesystem\n"
        "from flows.params import FOLDER_RUN_OPTIONS, FolderSource\n"
        f"source = FolderSource.model_validate({{'path': {str(tmp_path)!r}}})\n"
        "ingest_filesystem.serialize_parameters({'source': source, "
        "'options': FOLDER_RUN_OPTIONS})\n"
        "print('fastapi' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
