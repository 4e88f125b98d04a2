"""Serve both deployments from this process, without a work pool:
`python -m deployments.serve` or `ingest serve`.

Served deployments keep the names of the `prefect.yaml` ones (`ingest-filesystem/folder`,
`ingest-web/site`), so `ingest submit` and the UI find them either way; serving
replaces the work-pool registration of the same name (use one mode per server).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .specs import FOLDER, SITE, SPECS

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment


def served_deployments(*, schedules: bool = False) -> list[RunnerDeployment]:
    """Both flows as runner deployments with their names, tags and default parameters.

    With `schedules`, the example cron schedules of `prefect.yaml` are attached
    (active); without, runs start only when submitted or triggered from the UI.
    """
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.types.entrypoint import EntrypointType

    from flows.filesystem import ingest_filesystem
    from flows.web import ingest_web

    crons = {FOLDER: "0 2 * * *", SITE: "30 3 * * 1"}
    flows: dict[str, Any] = {FOLDER: ingest_filesystem, SITE: ingest_web}
    deployments = []
    for name, spec in SPECS.items():
        deployments.append(
            flows[name].to_deployment(
                name=spec.name,
                tags=spec.tags,
                parameters=spec.parameters,
                description=f"{spec.flow_name} served from this machine (ingest serve).",
                concurrency_limit=ConcurrencyLimitConfig(
                    limit=spec.concurrency_limit,
                    collision_strategy=ConcurrencyLimitStrategy.ENQUEUE,
                ),
                schedules=[CronSchedule(cron=crons[name], timezone="UTC")] if schedules else None,
                # runs import `flows.filesystem` / `flows.web` from the installed
                # package, whatever the directory `ingest serve` was started in
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return deployments


def serve(
    *, limit: int | None = None, schedules: bool = False, pause_on_shutdown: bool = True
) -> None:
    """Block, running the deployments' flow runs in subprocesses of this one.

    `limit`: flow runs at once on this machine. Stopping pauses the deployments'
    schedules unless `pause_on_shutdown` is False.
    """
    from prefect import serve as prefect_serve

    prefect_serve(
        *served_deployments(schedules=schedules), limit=limit, pause_on_shutdown=pause_on_shutdown
    )


if __name__ == "__main__":
    serve()
