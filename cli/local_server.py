"""The local Prefect server of `ingest server`: where its files live (under the data
folder), the record of the running one, and starting, probing and stopping it.

Plain Python with no Prefect import, so any command can ask whether the server is up
for the price of one request on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]

from ingest.errors import ConfigurationError
from ingest.settings import data_dir

HOST = "127.0.0.1"
DEFAULT_PORT = 4200  # Prefect's own default, so the UI is where Prefect users look
# A first start creates and migrates the database: 25-30 s on a busy 2-core machine.
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 30.0
# The probe every command makes: a dead server refuses at once, a wedged one must not
# hold the command up.
CONNECT_TIMEOUT_S = 1.0
READ_TIMEOUT_S = 5.0


class LocalServerError(ConfigurationError):
    """The local server cannot be started, reached or stopped."""


@dataclass(frozen=True)
class ServerRecord:
    """What `ingest server start` remembers about the server it started."""

    pid: int
    port: int
    started_at: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"


def server_home() -> Path:
    return data_dir() / "prefect-server"


def record_path() -> Path:
    return server_home() / "server.json"


def database_path() -> Path:
    return server_home() / "prefect.db"


def log_path() -> Path:
    return server_home() / "server.log"


def read_record() -> ServerRecord | None:
    """The remembered server, or None (never started, stopped, or an unreadable record)."""
    try:
        data = json.loads(record_path().read_text(encoding="utf-8"))
        return ServerRecord(
            pid=int(data["pid"]), port=int(data["port"]), started_at=str(data["started_at"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_record(record: ServerRecord) -> None:
    path = record_path()
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(record)), encoding="utf-8")
    temporary.replace(path)


def forget() -> None:
    record_path().unlink(missing_ok=True)


def is_up(record: ServerRecord) -> bool:
    """The recorded process is alive and its API answers its health check."""
    if not _is_our_server(record.pid):
        return False
    try:
        response = httpx.get(
            f"{record.api_url}/health",
            timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
        )
        return response.status_code == 200 and response.json() is True
    except (httpx.HTTPError, ValueError):
        return False


def _is_our_server(pid: int) -> bool:
    """The process exists and is a Prefect server (not another one that got its pid)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        command = " ".join(process.cmdline())
    except (psutil.Error, OSError):
        return False
    return "prefect" in command and "server" in command


def start(
    port: int | None = None,
    *,
    timeout: float = START_TIMEOUT_S,
    on_wait: Callable[[], None] | None = None,
) -> ServerRecord:
    """Start `prefect server start` in the background on 127.0.0.1 with its SQLite
    database under the data folder; return once its API answers. `on_wait` is called
    once if the server is not up within two seconds (the first start is slow).
    Without a `port`: 4200 if free, else any free port (and another one if a process
    took the port between the choice and the server's bind)."""
    if port is not None and not _port_is_free(port):
        raise LocalServerError(f"port {port} on {HOST} is in use: choose another with --port")
    server_home().mkdir(parents=True, exist_ok=True, mode=0o700)
    deadline = time.monotonic() + timeout
    chosen = port or (DEFAULT_PORT if _port_is_free(DEFAULT_PORT) else _free_port())
    for attempt in range(3):
        process = _spawn(chosen)
        record = ServerRecord(
            pid=process.pid,
            port=chosen,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        if _wait_up(process, record, deadline, on_wait):
            _write_record(record)
            return record
        if process.poll() is None:
            _terminate(process.pid)
            raise LocalServerError(
                f"the Prefect server did not answer within {timeout:.0f} s; its log: {log_path()}"
            )
        if port is not None or _port_is_free(chosen) or attempt == 2:
            raise LocalServerError(
                f"the Prefect server exited with code {process.returncode} while starting; "
                f"its log: {log_path()}"
            )
        chosen, on_wait = _free_port(), None
    raise AssertionError("unreachable")


def _spawn(port: int) -> subprocess.Popen[bytes]:
    with log_path().open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", HOST,
             "--port", str(port), "--analytics-off"],
            env=_server_env(),
            cwd=server_home(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def _wait_up(
    process: subprocess.Popen[bytes],
    record: ServerRecord,
    deadline: float,
    on_wait: Callable[[], None] | None,
) -> bool:
    """True once the server answers; False if it exits or the deadline passes."""
    warn_at = time.monotonic() + 2
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if is_up(record):
            return True
        if on_wait is not None and time.monotonic() > warn_at:
            on_wait()
            on_wait = None
        time.sleep(0.25)
    return False


def stop(record: ServerRecord, *, timeout: float = STOP_TIMEOUT_S) -> None:
    """End the server and everything it started (SIGTERM, SIGKILL if it lingers), and
    forget it."""
    if _is_our_server(record.pid):
        _terminate(record.pid, timeout=timeout)
    forget()


def flow_run_count(record: ServerRecord) -> int:
    response = httpx.post(
        f"{record.api_url}/flow_runs/count",
        json={},
        timeout=httpx.Timeout(30, connect=CONNECT_TIMEOUT_S),
    )
    response.raise_for_status()
    return int(response.json())


def _terminate(pid: int, *, timeout: float = STOP_TIMEOUT_S) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            psutil.Process(pid).wait(timeout=timeout)
            return
        except psutil.NoSuchProcess:
            return
        except psutil.TimeoutExpired:
            continue


def _server_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    env.update(
        PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{database_path()}",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    return env


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port
