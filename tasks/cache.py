"""The cache key of a batch: what it reads and what shapes its output, nothing else.

The key is built from the task name, the pipeline version (package and every
processor's version), the shape of a batch result, the job, and each item's uri and
fingerprint. It never
contains credentials, run ids or anything the user typed that does not change
the output, so a retry or a re-run of an unfinished job finds the results of
the batches that completed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from prefect.cache_policies import CachePolicy
from prefect.context import TaskRunContext

from ingest.models import SourceItem

# Bump when `BatchResult` changes shape or meaning, so that a retry never reuses a result
# persisted by an older version (2: the `skipped` outcome and its list).
RESULT_FORMAT = "2"


@dataclass
class BatchCachePolicy(CachePolicy):
    def compute_key(
        self,
        task_ctx: TaskRunContext,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        items: list[SourceItem] = (
            inputs["items"] if "items" in inputs else [page.item for page in inputs["pages"]]
        )
        settings = inputs["settings"]
        return batch_cache_key(
            task_ctx.task.name, settings.pipeline_version, settings.job_id, items
        )


def batch_cache_key(
    task_name: str, pipeline_version: str, job_id: str, items: list[SourceItem]
) -> str:
    digest = hashlib.sha256()
    for part in (task_name, pipeline_version, RESULT_FORMAT, job_id):
        digest.update(part.encode())
        digest.update(b"\0")
    for item in items:
        digest.update(f"{item.uri}\0{item.fingerprint}\0{item.problem_code}\n".encode())
    return f"{task_name}-{digest.hexdigest()}"
