"""Job management end to end: a real `prefect server` (SQLite on 127.0.0.1), the
deployments of `prefect.yaml` deployed with `prefect deploy`, the work pool made by
`deployments.pool`, a real process worker, and the `ingest` command line.

The tests share one server and worker and run in file order (about two minutes).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest

from tests.integration.harness import Stack, start_worker
from tests.support.paths import REPO_ROOT, SAMPLES

pytestmark = pytest.mark.integration

T = TypeVar("T")
RUN_TIMEOUT_S = 120.0


def wait_for(
    what: str, probe: Callable[[], T | None], stack: Stack, timeout: float = RUN_TIMEOUT_S
) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(
        f"timed out after {timeout:.0f}s waiting for {what}\n--- worker log ---\n"
        f"{stack.log_tail('worker')}"
    )


def flow_run(stack: Stack, run_id: str) -> Any:
    with stack.client() as client:
        return client.read_flow_run(UUID(run_id))


def wait_state(stack: Stack, run_id: str, *types: str, timeout: float = RUN_TIMEOUT_S) -> Any:
    def probe() -> Any:
        run = flow_run(stack, run_id)
        if run.state and run.state.type.value in types:
            return run
        if run.state and run.state.is_final():
            pytest.fail(
                f"run {run_id} ended {run.state.name} ({run.state.message}) while waiting "
                f"for {types}\n--- worker log ---\n{stack.log_tail('worker')}"
            )
        return None

    return wait_for(f"run {run_id} to reach {'/'.join(types)}", probe, stack, timeout)


def submit(stack: Stack, *args: str) -> str:
    done = stack.ingest("submit", "fs", *args)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    UUID(run_id)
    return run_id


def folder(root: Path, name: str, files: int) -> Path:
    path = root / name
    path.mkdir()
    for i in range(files):
        (path / f"note-{i:05}.md").write_text(
            f"# Note {i}\n\n" + f"Paragraph {i} of the {name} folder. " * 20 + "\n"
        )
    return path


def set_pool(stack: Stack, **changes: Any) -> None:
    from prefect.client.schemas.actions import WorkPoolUpdate

    with stack.client() as client:
        client.update_work_pool("ingest", WorkPoolUpdate(**changes))


def test_pool_and_deployments_from_prefect_yaml(stack: Stack) -> None:
    made = stack.run(sys.executable, "-m", "deployments.pool", cwd=REPO_ROOT)
    assert made.returncode == 0, made.stderr
    again = stack.run(sys.executable, "-m", "deployments.pool", cwd=REPO_ROOT)
    assert again.returncode == 0, again.stderr  # idempotent
    deployed = stack.prefect("--no-prompt", "deploy", "--all", cwd=REPO_ROOT)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr

    with stack.client() as client:
        queues = {q.name: q.priority for q in client.read_work_queues(work_pool_name="ingest")}
        assert queues == {"high": 1, "default": 2, "low": 3}
        assert client.read_work_pool("ingest").type == "process"
        folder_deployment = client.read_deployment_by_name("ingest-filesystem/folder")
        site_deployment = client.read_deployment_by_name("ingest-web/site")
    for deployment in (folder_deployment, site_deployment):
        assert deployment.work_pool_name == "ingest"
        assert deployment.work_queue_name == "default"
        assert deployment.concurrency_options.collision_strategy.value == "ENQUEUE"
        [schedule] = deployment.schedules
        assert schedule.active is False, "example schedules are deployed switched off"
        assert schedule.schedule.timezone in {"Europe/Berlin", "America/New_York"}
    assert folder_deployment.global_concurrency_limit.limit == 2
    assert "filesystem" in folder_deployment.tags
    assert folder_deployment.parameters["source"]["path"] == "samples/corpus"
    start_worker(stack)


# Fields that the form showed as a "str | None" picker: each must be a plain input now.
PLAIN_INPUTS = {
    "Store": "textarea",
    "Result Storage": "textarea",
    "Dask Address": "textarea",
    "Tokenizer": "textarea",
    "Max Rejected Share": "input",
}


def test_the_custom_run_form_shows_plain_inputs(stack: Stack, tmp_path: Path) -> None:
    """The deployment's custom-run page in the Prefect UI, in a real headless browser."""
    import lxml.html
    from PIL import Image, ImageStat

    from tests.integration.browser import dom, screenshot

    with stack.client() as client:
        deployment = client.read_deployment_by_name("ingest-filesystem/folder")
    ui = stack.api_url.removesuffix("/api")
    url = f"{ui}/v2/deployments/deployment/{deployment.id}/run"

    page = lxml.html.fromstring(dom(url, tmp_path / "chromium"))
    labels = {
        " ".join(label.text_content().split()).removesuffix(" (Optional)"): label.get("for")
        for label in page.iter("label")
    }
    for name, tag in PLAIN_INPUTS.items():
        assert name in labels, f"no {name!r} field on the form: {sorted(labels)}"
        [element] = page.xpath("//*[@id=$id]", id=labels[name])
        assert element.tag == tag, (name, element.tag)
    for name in ("Enabled", "Schemas", "Custom"):
        assert name in labels, f"no {name!r} list on the form"
    text = page.text_content()
    assert 'Property is type "None"' not in text
    assert not page.xpath("//*[contains(@class, 'cm-editor')]"), "a JSON editor on the form"

    shot = screenshot(url, tmp_path / "custom-run-form.png")
    with Image.open(shot) as image:
        assert image.size == (1280, 2400)
        low, high = ImageStat.Stat(image.convert("L")).extrema[0]
    assert high - low > 100, "the screenshot is blank"


def test_submitted_run_completes_and_its_documents_are_in_the_store(
    stack: Stack, tmp_path: Path
) -> None:
    from ingest.store import open_store

    store = tmp_path / "store.db"
    run_id = submit(stack, str(SAMPLES), "--priority", "default", "--store", str(store))
    run = wait_state(stack, run_id, "COMPLETED")
    assert run.work_queue_name == "default"
    assert run.deployment_id is not None, "a submitted run belongs to its deployment"

    with open_store(str(store)) as opened:
        documents = list(opened.iter_export())
    assert len(documents) >= 35
    assert all(d.run_id == run_id for d in documents)

    status = stack.ingest("status", run_id, "--json")
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert shown["state"] == "Completed"
    assert shown["deployment"] == "folder"
    assert shown["counts"]["new"] == len(documents)
    assert shown["counts"]["failed"] == 0
    assert shown["counts"]["skipped"] == 2
    assert shown["skipped_by_reason"] == {"empty": 1, "no-text-layer": 1}
    human = stack.ingest("status", run_id)
    assert "Completed" in human.stdout
    assert f"new {len(documents)}" in human.stdout
    assert "skipped by reason: " in human.stdout
    assert "empty 1" in human.stdout
    assert "no-text-layer 1" in human.stdout

    listed = stack.ingest("runs", "--state", "completed", "--json")
    assert listed.returncode == 0, listed.stderr
    assert run_id in {row["id"] for row in json.loads(listed.stdout)}

    unknown = str(uuid4())
    for command in ("status", "cancel", "retry"):
        missing = stack.ingest(command, unknown)
        assert missing.returncode == 2, (command, missing.stdout, missing.stderr)
        assert f"no flow run {unknown}" in missing.stderr


def test_high_priority_starts_before_earlier_low_with_one_run_at_a_time(
    stack: Stack, tmp_path: Path
) -> None:
    set_pool(stack, concurrency_limit=1, is_paused=True)
    try:
        low = submit(
            stack, str(folder(tmp_path, "low", 30)), "--priority", "low",
            "--store", str(tmp_path / "low.db"),
        )  # fmt: skip
        high = submit(
            stack, str(folder(tmp_path, "high", 30)), "--priority", "high",
            "--store", str(tmp_path / "high.db"),
        )  # fmt: skip
        assert flow_run(stack, low).expected_start_time < flow_run(stack, high).expected_start_time
    finally:
        set_pool(stack, is_paused=False)
    high_run = wait_state(stack, high, "COMPLETED")
    low_run = wait_state(stack, low, "COMPLETED")
    assert high_run.work_queue_name == "high"
    assert low_run.work_queue_name == "low"
    assert high_run.start_time < low_run.start_time, "high must start before the earlier low"
    assert low_run.start_time >= high_run.end_time, "the pool allows one run at a time"
    set_pool(stack, concurrency_limit=None)


def test_the_deployment_concurrency_limit_holds(stack: Stack, tmp_path: Path) -> None:
    """`folder` allows 2 runs at once (ENQUEUE): of three runs released together,
    the third waits for a slot."""
    set_pool(stack, is_paused=True)
    try:
        runs = [
            submit(
                stack,
                str(folder(tmp_path, f"limit-{i}", 300)),
                "--batch-size",
                "10",
                "--store",
                str(tmp_path / f"limit-{i}.db"),
            )  # fmt: skip
            for i in range(3)
        ]
    finally:
        set_pool(stack, is_paused=False)
    finished = [wait_state(stack, run_id, "COMPLETED") for run_id in runs]
    events = sorted(
        [(run.start_time, 1) for run in finished] + [(run.end_time, -1) for run in finished]
    )
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    assert most <= 2, f"{most} runs of the folder deployment ran at once (limit 2)"
    with stack.client() as client:
        names = {s.name for run_id in runs for s in client.read_flow_run_states(UUID(run_id))}
    assert "AwaitingConcurrencySlot" in names, f"no run waited for a slot: {sorted(names)}"


def test_cancel_stops_a_running_run_and_retry_finishes_it_reusing_done_batches(
    stack: Stack, tmp_path: Path
) -> None:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.objects import TaskRun
    from prefect.client.schemas.sorting import TaskRunSort

    from ingest.store import open_store

    files = 4000  # long enough (about 800 batches) to be cancelled while it runs
    big = folder(tmp_path, "big", files)
    store = tmp_path / "big.db"
    run_id = submit(
        stack, str(big), "--batch-size", "5", "--batch-concurrency", "1", "--store", str(store)
    )
    wait_state(stack, run_id, "RUNNING")

    def task_runs() -> list[TaskRun]:
        runs: list[TaskRun] = []
        with stack.client() as client:
            while True:  # the API returns at most 200 per request
                page = client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(run_id)])),
                    sort=TaskRunSort.ID_DESC,  # stable pages
                    limit=200,
                    offset=len(runs),
                )
                runs += page
                if len(page) < 200:
                    return runs

    def task_states() -> list[str]:
        return [run.state.name if run.state else "?" for run in task_runs()]

    wait_for(
        "a few finished batches",
        lambda: sum(state == "Completed" for state in task_states()) >= 3,
        stack,
    )
    status = stack.ingest("status", run_id, "--json")
    assert status.returncode == 0, status.stderr
    running = json.loads(status.stdout)
    assert running["state"] == "Running"
    # the flow keeps a progress artifact from its start
    assert running["progress"] is not None, running
    assert 0 <= running["progress"]["percent"] < 100

    cancelled_at = time.monotonic()
    cancel = stack.ingest("cancel", run_id)
    assert cancel.returncode == 0, f"{cancel.stderr} (a larger folder keeps the run going)"
    run = wait_state(stack, run_id, "CANCELLED", timeout=60)
    took = time.monotonic() - cancelled_at
    assert took < 45, f"cancelling took {took:.0f}s"
    done_before = sum(state == "Completed" for state in task_states())
    assert run.state.name == "Cancelled"
    again = stack.ingest("cancel", run_id)
    assert again.returncode == 0, again.stderr  # already cancelled: nothing to do

    retried_at = datetime.now(UTC)
    retry = stack.ingest("retry", run_id)
    assert retry.returncode == 0, retry.stderr
    assert "AwaitingRetry" in retry.stderr
    wait_state(stack, run_id, "COMPLETED", timeout=180)
    with open_store(str(store)) as opened:
        assert sum(1 for _ in opened.iter_export()) == files
    # A batch done before the cancel is either found in the cache (a new task run,
    # "Cached") or kept as it was (Prefect refuses to leave a Completed state whose
    # result is persisted); either way it did not run again after the retry.
    cached = sum(
        run.state is not None
        and (
            run.state.name == "Cached"
            or (
                run.state.name == "Completed"
                and run.end_time is not None
                and run.end_time < retried_at
            )
        )
        for run in task_runs()
    )
    assert cached >= max(done_before - 1, 1), (
        f"the retry redid the batches finished before the cancel ({done_before} done, "
        f"{cached} reused)"
    )
    finished = stack.ingest("status", run_id, "--json")
    counts = json.loads(finished.stdout)["counts"]
    assert counts["discovered"] == files
    assert counts["failed"] == 0


def test_a_scheduled_site_crawl_run_twice_keeps_the_same_export(
    stack: Stack, tmp_path: Path
) -> None:
    """The nightly re-crawl of an unchanged static site (every page and sitemap answers
    304 to a conditional request): the second scheduled run loses nothing (#16)."""
    sys.path.insert(0, str(REPO_ROOT / "tests" / "web"))
    from prefect.client.schemas.actions import DeploymentUpdate
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.schedules import IntervalSchedule

    from ingest.sources.web import WebSourceConfig
    from ingest.store import open_store
    from tests.support.conditional_site import serving

    def export() -> list[dict[str, Any]]:
        with open_store(str(store)) as opened:
            return [record.model_dump(mode="json") for record in opened.iter_export()]

    store = tmp_path / "site.db"
    set_pool(stack, is_paused=False, concurrency_limit=None)
    with serving() as site:
        seeds = [f"{site.base}/", f"{site.base}/sitemap_index.xml"]
        config = WebSourceConfig(seeds=seeds, max_depth=50, allow_private_network=True)
        parameters = {
            "site": config.model_dump(mode="json"),
            "options": {"store": str(store), "batch_size": 50},
        }
        with stack.client() as client:
            deployment = client.read_deployment_by_name("ingest-web/site")
            original = deployment.parameters
            client.update_deployment(deployment.id, DeploymentUpdate(parameters=parameters))
            [schedule] = client.create_deployment_schedules(
                deployment.id, [(IntervalSchedule(interval=timedelta(seconds=20)), True)]
            )
        deployment_filter = DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))

        def finished(count: int) -> list[Any] | None:
            with stack.client() as client:
                runs = client.read_flow_runs(deployment_filter=deployment_filter, limit=50)
            done = [r for r in runs if r.auto_scheduled and r.state and r.state.is_final()]
            return sorted(done, key=lambda r: r.expected_start_time) if len(done) >= count else None

        try:
            first = wait_for("the first scheduled crawl", lambda: finished(1), stack, 180)[0]
            assert first.state.type.value == "COMPLETED", first.state.message
            after_first = export()
            assert {r["uri"] for r in after_first} == site.page_uris
            site.clear()
            second = wait_for("the second scheduled crawl", lambda: finished(2), stack, 180)[1]
        finally:
            with stack.client() as client:
                client.delete_deployment_schedule(deployment.id, schedule.id)
                client.update_deployment(deployment.id, DeploymentUpdate(parameters=original))
        assert second.state.type.value == "COMPLETED", second.state.message
        assert export() == after_first
        status = stack.ingest("status", str(second.id), "--json")
        assert status.returncode == 0, status.stderr
        counts = json.loads(status.stdout)["counts"]
        assert counts["unchanged"] == 200, counts
        assert counts["deleted"] == 0, counts
        hits = [hit for hit in site.requests() if hit.path != "/robots.txt"]
        assert hits
        assert all(hit.conditional and hit.status == 304 for hit in hits)


def test_a_scheduled_deployment_creates_its_runs(stack: Stack) -> None:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.schedules import IntervalSchedule

    set_pool(stack, is_paused=True)  # the runs are made, not run: the test ends here
    with stack.client() as client:
        deployment = client.read_deployment_by_name("ingest-filesystem/folder")
        client.create_deployment_schedules(
            deployment.id, [(IntervalSchedule(interval=timedelta(seconds=5)), True)]
        )
    deployment_filter = DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))

    def scheduled_runs() -> list[Any] | None:
        with stack.client() as client:
            runs = client.read_flow_runs(deployment_filter=deployment_filter, limit=200)
        made = [r for r in runs if r.auto_scheduled]
        return made if len(made) >= 2 else None

    made = wait_for("the scheduler to create runs", scheduled_runs, stack, timeout=60)
    times = sorted(r.expected_start_time for r in made)
    assert all(r.state.type.value == "SCHEDULED" for r in made)
    assert times[1] - times[0] == timedelta(seconds=5)
    listed = stack.ingest("runs", "--state", "scheduled", "--json")
    assert {r["id"] for r in json.loads(listed.stdout)} >= {str(r.id) for r in made}
