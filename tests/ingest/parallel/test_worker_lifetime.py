"""Pool workers do not outlive the process that started them: a flow process killed with
SIGKILL (the crash the resume tests make) must not leave workers behind, holding memory
and the killed process's stdout and stderr open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from tests.support.paths import REPO_ROOT

_PARENT = """
import multiprocessing, time
from ingest import parallel
parallel.start_workers(2)
parallel.cpu_pool(2).submit(int).result()
while len(multiprocessing.active_children()) < 2:
    time.sleep(0.1)
print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
time.sleep(600)
"""


def test_workers_exit_when_their_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT],
        cwd=REPO_ROOT,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(workers) == 2
    assert all(psutil.pid_exists(pid) for pid in workers)
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not [pid for pid in workers if _alive(pid)], "workers outlived their parent"
    # Nothing holds the killed process's stdout any more.
    assert parent.stdout.read() == ""


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
