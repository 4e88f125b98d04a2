"""The cache key of a batch: what it reads and what shapes its output, nothing else.

The key is built from the task name, the batch configuration's cache identity
(`BatchConfig.cache_identity`: pipeline version, result format, job) and each item's
uri, fingerprint and problem. It never contains credentials, run ids or anything the
user typed that does not change the output, so a retry or a re-run of an unfinished job
finds the results of the batches that completed. Parameters are found by their type,
not their names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prefect.cache_policies import CachePolicy
from prefect.context import TaskRunContext

from ingest.models import SourceItem
from ingest.pipeline import BatchConfig

if TYPE_CHECKING:  # a folder run need not import the crawler
    from ingest.sources.web import CrawledPage


@dataclass
class BatchCachePolicy(CachePolicy):
    def compute_key(
        self,
        task_ctx: TaskRunContext,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        configs = [value for value in inputs.values() if isinstance(value, BatchConfig)]
        batches = [_items(value) for value in inputs.values() if isinstance(value, list)]
        if len(configs) != 1 or len(batches) != 1:
            raise TypeError("a cached batch task takes one BatchConfig and one list of items")
        return batch_cache_key(task_ctx.task.name, configs[0].cache_identity(), batches[0])


def _items(values: Iterable[SourceItem | CrawledPage]) -> list[SourceItem]:
    return [value if isinstance(value, SourceItem) else value.item for value in values]


def batch_cache_key(task_name: str, identity: tuple[str, ...], items: list[SourceItem]) -> str:
    digest = hashlib.sha256()
    for part in (task_name, *identity):
        digest.update(part.encode())
        digest.update(b"\0")
    for item in items:
        digest.update(f"{item.uri}\0{item.fingerprint}\0{item.problem_code}\n".encode())
    return f"{task_name}-{digest.hexdigest()}"
