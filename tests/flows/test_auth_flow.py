"""Credentials through the `ingest-web` flow and the `ingest` CLI, in the Prefect test harness
against real local servers: each block type crawls its protected site; a missing block is
exit 2 before any request; a wrong secret is exit 1 naming the origin; and no secret is found
in any file written during the run (logs, reports, Prefect results and database, store,
exports) nor in any output."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support.auth_server import CLIENT_ID, USERNAME, Sites, auth_sites
from tests.support.web_helpers import FAST

pytestmark = pytest.mark.prefect


def variants(secret: str) -> list[bytes]:
    """The secret as it could be written: plain, in a Basic header, URL-quoted."""
    basic = base64.b64encode(f"{USERNAME}:{secret}".encode())
    client = base64.b64encode(f"{CLIENT_ID}:{secret}".encode())
    return [secret.encode(), basic, client]


def harness_database_dir() -> Path:
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    url = str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value())
    return Path(url.split(":///", 1)[1]).parent


def assert_written_nowhere(secrets_: list[str], roots: list[Path], *texts: str) -> int:
    """No file under `roots` (and no given text) holds a secret; returns the files read."""
    needles = [needle for secret in secrets_ for needle in variants(secret)]
    read = 0
    for root in roots:
        for path in [root, *root.rglob("*")] if root.exists() else []:
            if not path.is_file():
                continue
            data = path.read_bytes()
            read += 1
            for needle in needles:
                assert needle not in data, f"a secret was written to {path}"
    for text in texts:
        for needle in needles:
            assert needle.decode() not in text
    return read


def make_block(scheme: str, sites: Sites, secret: str) -> Any:
    from blocks import (
        ApiKeyCredentials,
        BasicAuthCredentials,
        BearerTokenCredentials,
        OAuth2ClientCredentials,
    )

    if scheme == "basic":
        return BasicAuthCredentials(username=USERNAME, password=secret)
    if scheme == "bearer":
        return BearerTokenCredentials(token=secret)
    if scheme == "api-key-header":
        return ApiKeyCredentials(key=secret)
    if scheme == "api-key-query":
        return ApiKeyCredentials(key=secret, name="api_key", location="query")
    return OAuth2ClientCredentials(
        token_url=sites.token_url, client_id=CLIENT_ID, client_secret=secret, client_auth="body"
    )


def run_flow(sites: Sites, store: Path, auth: str | None) -> Any:
    from flows.params import RunOptions
    from flows.web import ingest_web
    from ingest.sources.web import WebSourceConfig

    site = WebSourceConfig(seeds=[sites.seed], max_depth=30, **FAST)

    async def main() -> Any:
        options = RunOptions(store=str(store), batch_size=10)
        return await ingest_web(site=site, options=options, auth=auth, return_state=True)

    return asyncio.run(main())


@pytest.mark.parametrize("scheme", ["basic", "bearer", "api-key-header", "api-key-query", "oauth2"])
def test_the_flow_crawls_with_each_block_type(
    prefect_api: str, isolated_results: Path, tmp_path: Path, scheme: str
) -> None:
    secret = f"flow-{uuid.uuid4().hex}"
    name = f"site-{scheme}-{uuid.uuid4().hex[:8]}"
    with auth_sites(scheme, secret) as sites:
        make_block(scheme, sites, secret).save(name)
        state = run_flow(sites, tmp_path / "web.db", name)
        report = state.result(raise_on_failure=False)
        assert state.is_completed(), report
        assert report["counts"]["failed"] == 0
        assert report["counts"]["new"] >= sites.protected.pages
        assert sites.protected.refusals == 0
        assert not [hit for hit in sites.outside_hits() if hit.carries(secret)]
        assert sites.outside_hits(), "the other origin was crawled, without credentials"
    from ingest.store import open_store

    with open_store(str(tmp_path / "web.db")) as store:
        texts = {record.uri: record.text for record in store.iter_export()}
    assert any("Members only text" in text for text in texts.values())
    files = assert_written_nowhere(
        [secret],
        [tmp_path, harness_database_dir()],
        json.dumps(report),
    )
    assert files >= 2
    # The scan reads the right database: the run's parameters (the block name) are there.
    database = harness_database_dir()
    assert any(name.encode() in path.read_bytes() for path in database.iterdir())


def test_a_missing_block_fails_the_flow_before_any_request(
    prefect_api: str, isolated_results: Path, tmp_path: Path
) -> None:
    from ingest.errors import ConfigurationError

    with auth_sites("basic", "unused") as sites:
        state = run_flow(sites, tmp_path / "web.db", "no-such-block")
        assert state.is_failed()
        error = state.result(raise_on_failure=False)
        assert isinstance(error, ConfigurationError)
        assert "no credentials block named 'no-such-block'" in str(error)
        assert sites.protected.requests() == []
    assert not (tmp_path / "web.db").exists()


def ingest_cli(*args: str, env: dict[str, str], stdin: str | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_cli_auth_add_list_crawl_and_refusals_leave_no_secret_anywhere(
    prefect_api: str, tmp_path: Path
) -> None:
    good, wrong, token = (f"{kind}-{uuid.uuid4().hex}" for kind in ("good", "wrong", "token"))
    suffix = uuid.uuid4().hex[:8]
    env = dict(
        os.environ,
        PREFECT_API_URL=prefect_api,
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        INGEST_HOME=str(tmp_path / "ingest-home"),
        INGEST_RESULTS_DIR=str(tmp_path / "results"),
        INGEST_STORE=str(tmp_path / "web.db"),
        DOCS_TOKEN=token,
    )
    outputs: list[str] = []

    def cli(*args: str, stdin: str | None = None) -> Any:
        run = ingest_cli(*args, env=env, stdin=stdin)
        outputs.extend([run.stdout, run.stderr])
        return run

    with auth_sites("basic", good, pages=60) as sites:
        added = cli("auth", "add", "basic", f"good-{suffix}", "--username", USERNAME, stdin=good)
        assert added.returncode == 0, added.stderr
        assert "sent only to the seeds' origins" in added.stderr
        cli("auth", "add", "basic", f"wrong-{suffix}", "--username", USERNAME, stdin=wrong + "\n")
        by_env = cli(
            "auth", "add", "token", f"token-{suffix}", "--secret-env", "DOCS_TOKEN",
            "--origin", "https://docs.example.org",
        )  # fmt: skip
        assert by_env.returncode == 0, by_env.stderr
        again = cli("auth", "add", "token", f"good-{suffix}", "--secret-env", "DOCS_TOKEN")
        assert again.returncode == 2
        assert "already a basic-auth-credentials" in again.stderr
        empty = cli("auth", "add", "token", f"empty-{suffix}", stdin="")
        assert empty.returncode == 2
        assert "no token on standard input" in empty.stderr

        listed = cli("auth", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        rows = {row["name"]: row for row in json.loads(listed.stdout)}
        assert rows[f"good-{suffix}"]["type"] == "basic-auth-credentials"
        assert rows[f"good-{suffix}"]["settings"]["username"] == USERNAME
        assert rows[f"token-{suffix}"]["settings"]["origins"] == ["https://docs.example.org"]
        assert cli("auth", "list").returncode == 0

        seed = sites.seed
        web = ("web", seed, "--allow-private-network", "--max-depth", "30")
        missing = cli(*web, "--auth", f"absent-{suffix}")
        assert missing.returncode == 2
        assert f"no credentials block named 'absent-{suffix}'" in missing.stderr
        assert sites.protected.requests() == []
        assert not (tmp_path / "web.db").exists()

        refused = cli(*web, "--auth", f"wrong-{suffix}")
        assert refused.returncode == 1, refused.stderr
        assert f"{sites.protected.base} refused the credentials 'wrong-{suffix}'" in (
            refused.stderr
        )
        assert len(sites.protected.requests()) < 40, "the crawl stops early"

        crawled = cli(*web, "--auth", f"good-{suffix}", "--json")
        assert crawled.returncode == 0, crawled.stderr
        report = json.loads(crawled.stdout)
        assert report["counts"]["new"] >= 60
        assert report["counts"]["failed"] == 0
        assert not [hit for hit in sites.outside_hits() if hit.carries(good)]

        exported = cli("export", "--format", "jsonl", "--out", str(tmp_path / "docs.jsonl"))
        assert exported.returncode == 0, exported.stderr
        assert "Members only text" in (tmp_path / "docs.jsonl").read_text()

    session_home = Path(os.environ["PREFECT_HOME"])
    assert_written_nowhere(
        [good, wrong, token],
        [tmp_path, session_home, harness_database_dir()],
        *outputs,
    )
