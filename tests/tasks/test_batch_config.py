"""The one batch configuration: it pickles and serialises as a task parameter, and the
cache key takes from it only what decides a batch's result, never a secret."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import cloudpickle  # type: ignore[import-untyped]
import pytest
from pydantic import ValidationError

from ingest.models import SourceItem
from ingest.pipeline import RESULT_FORMAT, BatchConfig
from ingest.sources.web import CrawledPage
from ingest.validators import ValidationPolicy
from tasks.cache import BatchCachePolicy, batch_cache_key


def _config(**changes: object) -> BatchConfig:
    base: dict[str, object] = {
        "job_id": "job-1",
        "run_id": "run-1",
        "store_url": "postgresql://ingest@db.example/ingest",
        "pipeline_version": "1.2.3+md-4",
        "validation": ValidationPolicy(strict=True),
    }
    return BatchConfig.model_validate({**base, **changes})


def _items() -> list[SourceItem]:
    return [
        SourceItem(source_id="fs:/x", uri=f"file:///x/{n}.md", fingerprint=f"f{n}")
        for n in range(3)
    ]


def test_the_config_pickles_and_serialises_as_a_task_parameter() -> None:
    config = _config()
    assert pickle.loads(pickle.dumps(config)) == config
    assert cloudpickle.loads(cloudpickle.dumps(config)) == config
    assert BatchConfig.model_validate_json(config.model_dump_json()) == config
    with pytest.raises(ValidationError, match="frozen"):
        config.job_id = "other"  # type: ignore[misc]


def test_the_cache_key_is_the_one_of_earlier_releases() -> None:
    """Results persisted before the configurations were merged are still found."""
    digest = hashlib.sha256()
    for part in ("ingest-batch", "1.2.3+md-4", RESULT_FORMAT, "job-1"):
        digest.update(part.encode() + b"\0")
    for item in _items():
        digest.update(f"{item.uri}\0{item.fingerprint}\0{item.problem_code}\n".encode())
    key = batch_cache_key("ingest-batch", _config().cache_identity(), _items())
    assert key == f"ingest-batch-{digest.hexdigest()}"


def test_the_key_ignores_run_store_and_workers_and_follows_job_and_version() -> None:
    key = batch_cache_key("t", _config().cache_identity(), _items())
    same = _config(run_id="run-2", store_url="sqlite:///elsewhere.db", workers=4)
    assert batch_cache_key("t", same.cache_identity(), _items()) == key
    for changed in (_config(job_id="job-2"), _config(pipeline_version="1.2.4")):
        assert batch_cache_key("t", changed.cache_identity(), _items()) != key


def test_no_secret_reaches_the_identity() -> None:
    secret = "s3cr3t-passw0rd"
    config = _config(store_url=f"postgresql://ingest:{secret}@db/ingest")
    assert all(secret not in part for part in config.cache_identity())
    assert secret not in batch_cache_key("t", config.cache_identity(), _items())


class _Task:
    name = "ingest-pages"


class _Context:
    task = _Task()


def test_the_policy_finds_its_inputs_by_type_not_by_name(tmp_path: Path) -> None:
    items = _items()
    pages = [CrawledPage(item=item) for item in items]
    policy = BatchCachePolicy()
    expected = batch_cache_key("ingest-pages", _config().cache_identity(), items)
    for inputs in (
        {"pages": pages, "config": _config()},
        {"whatever": _config(), "batch": items},
    ):
        assert policy.compute_key(_Context(), inputs, {}) == expected  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        policy.compute_key(_Context(), {"items": items}, {})  # type: ignore[arg-type]
