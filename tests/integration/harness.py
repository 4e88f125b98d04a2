"""A real Prefect server (SQLite, 127.0.0.1) and a real process worker on the `ingest`
pool, each in its own subprocess; both are always killed."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.paths import REPO_ROOT

SERVER_START_TIMEOUT_S = 120.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes], name: str) -> None:
    """SIGTERM to the whole process group (the worker's flow-run processes too), then
    SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)


@dataclass
class Stack:
    """The running server and what a test needs to talk to it."""

    api_url: str
    env: dict[str, str]
    root: Path
    logs: Path
    worker: subprocess.Popen[bytes] | None = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def run(
        self, *args: str, cwd: Path | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            env=self.env,
            cwd=cwd or self.root,
            timeout=timeout,
            check=False,
        )

    def ingest(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(sys.executable, "-c", "from cli import main; main()", *args)

    def prefect(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return self.run(sys.executable, "-m", "prefect", *args, cwd=cwd)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    @contextmanager
    def client(self) -> Iterator[Any]:
        """A synchronous Prefect client on this server (whatever else the session set)."""
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: self.api_url}):
            with get_client(sync_client=True) as client:
                yield client


@contextmanager
def running_stack() -> Iterator[Stack]:
    """Start the server, yield once it is healthy, and stop everything on the way out."""
    root = Path(tempfile.mkdtemp(prefix="ingest-integration-"))
    logs = root / "logs"
    logs.mkdir()
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = dict(os.environ)
    for key in [k for k in env if k.startswith("PREFECT_")]:
        del env[key]
    env.update(
        PREFECT_HOME=str(root / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_API_URL=api_url,
        # the server makes scheduled runs every second instead of every minute
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="1",
        PREFECT_SERVER_SERVICES_SCHEDULER_MIN_RUNS="3",
        PREFECT_SERVER_SERVICES_SCHEDULER_MAX_RUNS="5",
        # a run held by a deployment concurrency limit tries again after 2s, not 30s
        PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS="2",
        # the worker polls for runs, and for runs to cancel, every second
        PREFECT_WORKER_QUERY_SECONDS="1",
        PREFECT_WORKER_PREFETCH_SECONDS="1",
        PREFECT_LOGGING_LEVEL="INFO",
        INGEST_HOME=str(root / "ingest-home"),
        INGEST_RESULTS_DIR=str(root / "results"),
        INGEST_CHECKOUT=str(REPO_ROOT),
        PYTHONPATH=str(REPO_ROOT),
    )
    env.pop("INGEST_STORE", None)
    server_log = (logs / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port)],
        env=env,
        cwd=root,
        stdout=server_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    stack = Stack(api_url=api_url, env=env, root=root, logs=logs)
    try:
        _wait_healthy(server, api_url, stack)
        yield stack
    finally:
        if stack.worker is not None:
            _stop(stack.worker, "worker")
        for name, worker in stack.workers.items():
            _stop(worker, name)
        _stop(server, "server")
        server_log.close()
        if os.environ.get("INGEST_KEEP_INTEGRATION_LOGS"):
            print(f"integration logs kept in {logs}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def _wait_healthy(server: subprocess.Popen[bytes], api_url: str, stack: Stack) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"prefect server exited with {server.returncode}:\n{stack.log_tail('server')}"
            )
        try:
            if httpx.get(f"{api_url}/health", timeout=2).json() is True:
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    pytest.fail(
        f"prefect server not healthy after {SERVER_START_TIMEOUT_S:.0f}s:\n"
        f"{stack.log_tail('server')}"
    )


def start_worker(stack: Stack) -> None:
    """A long-lived process worker on the `ingest` pool (killed with the stack)."""
    log = (stack.logs / "worker.log").open("wb")
    stack.worker = subprocess.Popen(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", "ingest",
         "--type", "process", "--name", "integration-worker"],
        env=stack.env,
        cwd=stack.root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def start_named_worker(stack: Stack, name: str, *, limit: int | None = None) -> None:
    """One more process worker on the `ingest` pool, logging to `<name>.log` (killed
    with the stack); `limit` caps the flow runs it runs at once."""
    log = (stack.logs / f"{name}.log").open("wb")
    command = [sys.executable, "-m", "prefect", "worker", "start", "--pool", "ingest",
               "--type", "process", "--name", name]  # fmt: skip
    if limit is not None:
        command += ["--limit", str(limit)]
    stack.workers[name] = subprocess.Popen(
        command,
        env=stack.env,
        cwd=stack.root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
