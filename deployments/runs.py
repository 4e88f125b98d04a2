"""What the job commands ask the Prefect API: queue a deployment run, list runs, read a
run's state and progress, cancel and retry. Each function opens its own client;
`ApiUnavailableError` and `RunNotFoundError` are the only errors callers handle."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ingest.errors import ConfigurationError

from .specs import FS_FLOW, WEB_FLOW

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient
    from prefect.client.schemas.objects import FlowRun

    from .run_query import RunQuery

INGEST_FLOWS = (FS_FLOW, WEB_FLOW)
FLOW_FUNCTIONS = {
    FS_FLOW: ("flows.filesystem", "ingest_filesystem"),
    WEB_FLOW: ("flows.web", "ingest_web"),
}
PROGRESS_KEYS = {name: f"{name}-progress" for name in INGEST_FLOWS}


class ApiUnavailableError(ConfigurationError):
    """No Prefect server is configured or it does not answer."""


class RunNotFoundError(ConfigurationError):
    """The API has no flow run (or deployment) by that id or name."""


class NotPossibleError(ConfigurationError):
    """The run is in a state that does not allow what was asked."""


def api_url() -> str:
    """The configured PREFECT_API_URL; job management needs a real server (the
    temporary one a lone process would start forgets its runs when it exits)."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise ApiUnavailableError(
            "no Prefect server configured: start a local one with `ingest server start`, "
            "or set PREFECT_API_URL to yours (see deployments/README.md)"
        )
    return str(url)


class _Api:
    """`async with _Api() as client`: a client whose connection errors become
    ApiUnavailableError."""

    def __init__(self) -> None:
        self.url = api_url()
        self._client: PrefectClient | None = None

    async def __aenter__(self) -> PrefectClient:
        from prefect.client.orchestration import get_client

        self._client = get_client()
        try:
            return await self._client.__aenter__()
        except Exception as exc:
            raise self._unavailable(exc) from exc

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        assert self._client is not None
        await self._client.__aexit__(exc_type, exc, tb)
        if exc is not None and _is_connection_error(exc):
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: BaseException) -> ApiUnavailableError:
        return ApiUnavailableError(
            f"cannot reach the Prefect API at {self.url} ({type(exc).__name__}): is the "
            "server running?"
        )


def _is_connection_error(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, httpx.TransportError)


# --- submit -------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    run_id: str
    name: str
    deployment: str
    queue: str | None
    scheduled_time: datetime | None


async def submit(
    deployment_name: str,
    parameters: dict[str, Any],
    *,
    queue: str,
    scheduled_time: datetime | None = None,
    run_name: str | None = None,
    tags: list[str] | None = None,
) -> Submitted:
    """Create a flow run of `flow/deployment` in `queue` of its work pool (a served
    deployment has no pool, hence no queues: the run goes to the process serving it)."""
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Scheduled

    async with _Api() as client:
        try:
            deployment = await client.read_deployment_by_name(deployment_name)
        except ObjectNotFound as exc:
            raise RunNotFoundError(
                f"no deployment {deployment_name!r}: deploy first (prefect deploy --all, or "
                "ingest serve; see deployments/README.md)"
            ) from exc
        work_queue = queue if deployment.work_pool_name else None
        run = await client.create_flow_run_from_deployment(
            deployment.id,
            parameters=parameters,
            state=Scheduled(scheduled_time=scheduled_time) if scheduled_time else None,
            name=run_name,
            tags=tags or [],
            work_queue_name=work_queue,
        )
    state = run.state
    return Submitted(
        run_id=str(run.id),
        name=run.name,
        deployment=deployment_name,
        queue=run.work_queue_name,
        scheduled_time=state.state_details.scheduled_time if state else None,
    )


# --- runs and status ----------------------------------------------------------------


@dataclass
class RunRow:
    id: str
    name: str
    flow: str
    deployment: str | None
    state: str
    state_type: str
    queue: str | None
    start: datetime | None
    expected_start: datetime | None
    end: datetime | None
    duration_s: float | None
    parameters: dict[str, Any] = field(default_factory=dict)
    deployment_id: str | None = None
    message: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "flow": self.flow,
            "deployment": self.deployment,
            "state": self.state,
            "state_type": self.state_type,
            "queue": self.queue,
            "start": _iso(self.start),
            "expected_start": _iso(self.expected_start),
            "end": _iso(self.end),
            "duration_s": self.duration_s,
            "message": self.message,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _duration(run: FlowRun) -> float | None:
    if run.start_time is None:
        return None
    if run.state is not None and run.state.is_running():
        elapsed: timedelta = run.estimated_run_time
    else:
        elapsed = run.total_run_time
    return round(elapsed.total_seconds(), 1)


def parse_state_filter(text: str) -> tuple[str | None, str | None]:
    """`running`, `FAILED`... -> (state type, None); `Late`, `AwaitingRetry`... ->
    (None, state name). Raises ConfigurationError for anything else."""
    from prefect.client.schemas.objects import StateType

    key = text.strip().upper().replace("-", "_")
    if key in StateType.__members__:
        return StateType[key].value, None
    names = {
        "LATE": "Late",
        "AWAITINGRETRY": "AwaitingRetry",
        "AWAITING_RETRY": "AwaitingRetry",
        "RETRYING": "Retrying",
        "AWAITINGCONCURRENCYSLOT": "AwaitingConcurrencySlot",
        "AWAITING_CONCURRENCY_SLOT": "AwaitingConcurrencySlot",
    }
    if key in names:
        return None, names[key]
    known = ", ".join(t.lower() for t in StateType.__members__)
    raise ConfigurationError(
        f"unknown state {text!r}: use one of {known}, late, awaiting-retry, "
        "awaiting-concurrency-slot"
    )


async def list_runs(query: RunQuery) -> list[RunRow]:
    """The runs of the ingest flows that `query` asks for (see run_query)."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterStartTime,
        FlowRunFilterState,
        FlowRunFilterStateName,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    from .run_query import flow_name

    state_type, state_name = parse_state_filter(query.state) if query.state else (None, None)
    if query.upcoming:
        state_type = StateType.SCHEDULED.value
    state = None
    if state_type:
        state = FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType(state_type)]))
    elif state_name:
        state = FlowRunFilterState(name=FlowRunFilterStateName(any_=[state_name]))
    history = not query.upcoming and not query.state
    start_time = None
    if history or query.since:
        start_time = FlowRunFilterStartTime(is_null_=False, after_=query.since)
    deployment_flow, deployment_name = query.deployment_parts
    flows = [flow_name(name) for name in (query.flow, deployment_flow) if name]
    if len(set(flows)) > 1:
        return []
    if query.upcoming:
        sort = FlowRunSort.EXPECTED_START_TIME_ASC
    elif history:
        sort = FlowRunSort.START_TIME_DESC
    else:
        sort = FlowRunSort.EXPECTED_START_TIME_DESC
    async with _Api() as client:
        runs = await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=flows or list(INGEST_FLOWS))),
            flow_run_filter=FlowRunFilter(state=state, start_time=start_time),
            deployment_filter=(
                DeploymentFilter(name=DeploymentFilterName(any_=[deployment_name]))
                if deployment_name
                else None
            ),
            sort=sort,
            limit=query.limit,
        )
        return await _rows(client, runs)


async def _rows(client: PrefectClient, runs: list[FlowRun]) -> list[RunRow]:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    flow_names: dict[UUID, str] = {}
    for flow_id in {run.flow_id for run in runs}:
        flow_names[flow_id] = (await client.read_flow(flow_id)).name
    deployment_ids = list({run.deployment_id for run in runs if run.deployment_id})
    deployments: dict[UUID, str] = {}
    if deployment_ids:
        found = await client.read_deployments(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=deployment_ids))
        )
        deployments = {d.id: d.name for d in found}
    return [
        RunRow(
            id=str(run.id),
            name=run.name,
            flow=flow_names.get(run.flow_id, "?"),
            deployment=deployments.get(run.deployment_id) if run.deployment_id else None,
            deployment_id=str(run.deployment_id) if run.deployment_id else None,
            state=(run.state.name or run.state.type.value) if run.state else "?",
            state_type=run.state.type.value if run.state else "?",
            message=run.state.message if run.state else None,
            queue=run.work_queue_name,
            start=run.start_time,
            expected_start=run.expected_start_time,
            end=run.end_time,
            duration_s=_duration(run),
            parameters=dict(run.parameters),
        )
        for run in runs
    ]


@dataclass
class Progress:
    percent: float
    description: str | None


async def read_run(run_id: UUID) -> tuple[RunRow, Progress | None]:
    """The run as a row, and its latest progress artifact if it published one."""
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterType,
    )
    from prefect.client.schemas.sorting import ArtifactSort
    from prefect.exceptions import ObjectNotFound

    async with _Api() as client:
        try:
            run = await client.read_flow_run(run_id)
        except ObjectNotFound as exc:
            raise RunNotFoundError(f"no flow run {run_id}") from exc
        [row] = await _rows(client, [run])
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]),
                type=ArtifactFilterType(any_=["progress"]),
            ),
            sort=ArtifactSort.UPDATED_DESC,
        )
    wanted = PROGRESS_KEYS.get(row.flow)
    keyed = [a for a in artifacts if a.key == wanted] or artifacts
    progress = None
    if keyed:
        latest = keyed[0]
        try:
            percent = float(latest.data)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            percent = 0.0
        progress = Progress(percent=percent, description=latest.description)
    return row, progress


# --- cancel and retry ---------------------------------------------------------------


async def cancel(run_id: UUID) -> str:
    """Ask for cancellation as the UI's Cancel does (state Cancelling): the worker or
    `ingest serve` that runs it stops its process and marks it Cancelled. A run with no
    process yet (Scheduled, Pending) is simply marked Cancelled.
    Returns the state name the run is in afterwards."""
    from prefect.client.schemas.objects import State, StateType
    from prefect.client.schemas.responses import SetStateStatus
    from prefect.exceptions import ObjectNotFound

    async with _Api() as client:
        try:
            run = await client.read_flow_run(run_id)
        except ObjectNotFound as exc:
            raise RunNotFoundError(f"no flow run {run_id}") from exc
        state = run.state
        if state is not None and state.type in (StateType.CANCELLED, StateType.CANCELLING):
            return state.name or state.type.value
        if state is not None and state.is_final():
            raise NotPossibleError(f"run {run_id} already ended {state.name}: nothing to cancel")
        not_started = (
            state is not None
            and state.type in (StateType.SCHEDULED, StateType.PENDING)
            and not run.infrastructure_pid
        )
        target = StateType.CANCELLED if not_started else StateType.CANCELLING
        result: Any = await client.set_flow_run_state(
            run_id,
            State(type=target, name=target.value.title(), message="Cancelled with ingest"),
        )
        after = result.state
        # A run that has not started has nothing to stop: the server turns the request
        # into Cancelled itself (and words it as a refusal).
        if after is not None and after.type in (StateType.CANCELLED, StateType.CANCELLING):
            return str(after.name or after.type.value)
        if result.status != SetStateStatus.ACCEPT:
            reason = getattr(result.details, "reason", None) or result.status.value
            raise NotPossibleError(f"the API refused to cancel run {run_id}: {reason}")
        return "Cancelling"


async def schedule_retry(run_id: UUID) -> RunRow:
    """Put a finished run back in line as the UI's Retry does (AwaitingRetry, forced),
    for the worker or the serving process to pick up; returns the run as it was."""
    from prefect.client.schemas.responses import SetStateStatus
    from prefect.exceptions import ObjectNotFound
    from prefect.states import AwaitingRetry

    async with _Api() as client:
        try:
            run = await client.read_flow_run(run_id)
        except ObjectNotFound as exc:
            raise RunNotFoundError(f"no flow run {run_id}") from exc
        [row] = await _rows(client, [run])
        _check_retryable(run)
        if run.deployment_id is not None:
            result: Any = await client.set_flow_run_state(
                run_id, AwaitingRetry(message="Retried with ingest retry"), force=True
            )
            if result.status != SetStateStatus.ACCEPT:
                reason = getattr(result.details, "reason", None) or result.status.value
                raise NotPossibleError(f"the API refused to retry run {run_id}: {reason}")
    return row


def _check_retryable(run: FlowRun) -> None:
    state = run.state
    if state is None or not state.is_final():
        name = state.name if state else "without a state"
        raise NotPossibleError(
            f"run {run.id} is {name}: only a finished run (Failed, Crashed, Cancelled, "
            "Completed) can be retried"
        )


def rerun_here(run_id: UUID) -> Any:
    """Run a flow run that belongs to no deployment again, in this process, as the
    same flow run (same id, same parameters): batches whose results the first attempt
    persisted are reused. Returns the final state."""
    import asyncio
    import importlib

    from prefect.flow_engine import run_flow
    from prefect.states import Scheduled

    async def prepare() -> tuple[FlowRun, str]:
        async with _Api() as client:
            run = await client.read_flow_run(run_id)
            flow_name = (await client.read_flow(run.flow_id)).name
            _check_retryable(run)
            if flow_name not in FLOW_FUNCTIONS:
                raise NotPossibleError(
                    f"run {run_id} is a run of {flow_name!r}, not of an ingest flow"
                )
            await client.set_flow_run_state(
                run_id, Scheduled(message="Retried with ingest retry (in-process)"), force=True
            )
            return await client.read_flow_run(run_id), flow_name

    run, flow_name = asyncio.run(prepare())
    module, function = FLOW_FUNCTIONS[flow_name]
    flow = getattr(importlib.import_module(module), function)
    outcome = run_flow(flow, flow_run=run, parameters=dict(run.parameters), return_type="state")
    if asyncio.iscoroutine(outcome):
        outcome = asyncio.run(outcome)
    return outcome
