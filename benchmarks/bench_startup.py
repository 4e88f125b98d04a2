"""What a CLI call costs in start-up: `ingest fs samples/corpus`, `ingest runs` and
`ingest status RUN_ID`, each as a user's shell runs it, in three settings:

- `temporary`: no PREFECT_API_URL and no local server (Prefect's temporary API);
- `local-server`: after `ingest server start` (the remembered server);
- `explicit-url`: PREFECT_API_URL set to that same server, no remembered one.

    python benchmarks/bench_startup.py [--rounds 10] [--corpus samples/corpus]

Rounds interleave the settings and the commands (round 1: every command in every
setting, then round 2, ...), with `python -c "import prefect"` in each round as the
reference. Each setting has its own PREFECT_HOME, INGEST_HOME and store, warmed by one
untimed `ingest fs` first. The table shows the median wall and CPU seconds (the CLI
and every process it waited for, the temporary API server included) and the exit
codes seen. Goals (issue #17): with the local server, `ingest fs` takes at most 25%
of the wall time it takes with the temporary API; `ingest runs` takes at most 2x the
time of `import prefect`. `ingest runs` and `status` exit 2 under the temporary API
(it forgets its runs when the process ends): their times there show how fast that is
said.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
INGEST = [sys.executable, "-c", "from cli import main; main()"]
IMPORT_PREFECT = [sys.executable, "-c", "import prefect"]
FS_GOAL_SHARE = 0.25
RUNS_GOAL_FACTOR = 2.0


@dataclass
class Sample:
    wall_s: float
    cpu_s: float
    exit_code: int


def timed(command: list[str], env: dict[str, str]) -> tuple[Sample, str]:
    """Run to the end; wall time, and the CPU time of the process and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if run.returncode not in (0, 2):
        sys.stderr.write(f"{' '.join(command[3:])} exited {run.returncode}:\n{run.stderr}\n")
    return Sample(wall, cpu, run.returncode), run.stdout


def base_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "INGEST_"))}
    # As on a user's machine, the first (untimed) call caches the bytecode of our
    # modules; a shell that sets PYTHONDONTWRITEBYTECODE would compile them every call.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    (root / "prefect").mkdir(parents=True)
    env.update(
        PREFECT_HOME=str(root / "prefect"),
        INGEST_HOME=str(root / "ingest"),
        INGEST_STORE=str(root / "ingest.db"),
        PYTHONPATH=str(REPO_ROOT),
    )
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--corpus", type=Path, default=REPO_ROOT / "samples" / "corpus")
    args = parser.parse_args()
    corpus = str(args.corpus.resolve())
    root = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    envs = {name: base_env(root / name) for name in ("temporary", "local-server", "explicit-url")}
    server_env = envs["local-server"]
    try:
        print("starting the local server (ingest server start)...", file=sys.stderr)
        start = subprocess.run(
            [*INGEST, "server", "start"], env=server_env, capture_output=True, text=True
        )
        if start.returncode != 0:
            sys.stderr.write(start.stderr)
            return 2
        record = json.loads(
            (root / "local-server" / "ingest" / "prefect-server" / "server.json").read_text()
        )
        envs["explicit-url"]["PREFECT_API_URL"] = f"http://127.0.0.1:{record['port']}/api"
        run_ids: dict[str, str] = {}
        for name, env in envs.items():
            print(f"warming up {name}...", file=sys.stderr)
            sample, out = timed([*INGEST, "fs", corpus, "--json"], env)
            run_ids[name] = json.loads(out)["run_id"] if sample.exit_code == 0 else "-"
        samples: dict[tuple[str, str], list[Sample]] = defaultdict(list)
        for round_ in range(args.rounds):
            print(f"round {round_ + 1}/{args.rounds}", file=sys.stderr)
            samples[("reference", "import prefect")].append(
                timed(IMPORT_PREFECT, envs["temporary"])[0]
            )
            for name, env in envs.items():
                for label, command in (
                    ("ingest fs", ["fs", corpus, "--json"]),
                    ("ingest runs", ["runs"]),
                    ("ingest status", ["status", run_ids[name]]),
                ):
                    samples[(name, label)].append(timed([*INGEST, *command], env)[0])
        report(samples, args.rounds)
        return 0
    finally:
        subprocess.run([*INGEST, "server", "stop"], env=server_env, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def report(samples: dict[tuple[str, str], list[Sample]], rounds: int) -> None:
    def median(key: tuple[str, str], field: str) -> float:
        return statistics.median(getattr(s, field) for s in samples[key])

    print(f"\nmedians of {rounds} rounds (seconds)")
    print(f"{'setting':<14} {'command':<16} {'wall':>7} {'cpu':>7}  exit codes")
    for (setting, command), values in samples.items():
        codes = ",".join(sorted({str(s.exit_code) for s in values}))
        print(
            f"{setting:<14} {command:<16} {median((setting, command), 'wall_s'):7.2f} "
            f"{median((setting, command), 'cpu_s'):7.2f}  {codes}"
        )
    fs_share = median(("local-server", "ingest fs"), "wall_s") / median(
        ("temporary", "ingest fs"), "wall_s"
    )
    runs_factor = median(("local-server", "ingest runs"), "wall_s") / median(
        ("reference", "import prefect"), "wall_s"
    )
    print(
        f"\nlocal server / temporary API, ingest fs wall: {fs_share:.0%} "
        f"(goal <= {FS_GOAL_SHARE:.0%}): {'met' if fs_share <= FS_GOAL_SHARE else 'NOT met'}"
    )
    print(
        f"ingest runs (local server) / import prefect, wall: {runs_factor:.2f}x "
        f"(goal <= {RUNS_GOAL_FACTOR:.0f}x): "
        f"{'met' if runs_factor <= RUNS_GOAL_FACTOR else 'NOT met'}"
    )


if __name__ == "__main__":
    sys.exit(main())
