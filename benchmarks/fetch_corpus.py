"""Fetch a real repository snapshot to benchmark on: `git clone --depth 1` of a public
repository (documentation Markdown plus code), into a folder that is not committed.

    python benchmarks/fetch_corpus.py [URL] [--dest DIR] [--ref BRANCH_OR_TAG]
    python benchmarks/bench_processors.py --corpus DIR
    python benchmarks/bench_filesystem.py --corpus DIR

The default is FastAPI's repository (about 3,100 files: Markdown documentation in
several languages and Python), into ~/.cache/aichemist-ingest/corpora/<name>. An
existing snapshot is kept; `--refresh` clones it again. The `.git` folder is left
in place: the benchmarks skip hidden folders.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

DEFAULT_URL = "https://github.com/fastapi/fastapi.git"
CORPORA = Path.home() / ".cache" / "aichemist-ingest" / "corpora"


def snapshot_name(url: str) -> str:
    return url.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1] or "corpus"


def fetch(url: str, dest: Path, ref: str | None = None, refresh: bool = False) -> Path:
    if dest.exists() and any(dest.iterdir()) and not refresh:
        print(f"{dest} exists; kept (use --refresh to clone again)", file=sys.stderr)
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    command = ["git", "clone", "--depth", "1", "--single-branch"]
    if ref:
        command += ["--branch", ref]
    subprocess.run([*command, url, str(dest)], check=True)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("url", nargs="?", default=DEFAULT_URL, help=f"default: {DEFAULT_URL}")
    parser.add_argument("--dest", type=Path, help="default: ~/.cache/aichemist-ingest/corpora/NAME")
    parser.add_argument("--ref", help="a branch or tag to clone instead of the default branch")
    parser.add_argument("--refresh", action="store_true", help="clone again over a kept snapshot")
    args = parser.parse_args()
    dest = args.dest or CORPORA / snapshot_name(args.url)
    try:
        print(fetch(args.url, dest, args.ref, args.refresh))
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"cannot clone {args.url}: {exc}") from exc


if __name__ == "__main__":
    main()
