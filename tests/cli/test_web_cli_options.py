"""The `ingest web` / `ingest submit web` command line as the issue spells it (--scope,
--include/--exclude, --rate, --host-concurrency, --max-requests, --batch-concurrency, --sitemap,
--max-response-size) and the old spellings kept as aliases, mapped to WebSourceConfig.

Most tests stop before any request: the flow, the submit call and (where the seeds
are host names) the private-address check are replaced by recorders. The last test
runs the real command in a subprocess against the local test site on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tests.support.cli import start_ingest
from tests.support.web_helpers import crawl
from tests.support.web_testsite import SiteState

RUN_ID = "0b0e2a46-6f39-4d7c-9a55-3c1a1c3b7d11"
SEED = "https://docs.example.org/guide/index.html"


@pytest.fixture(scope="module")
def cli() -> Any:
    from cli import app, commands  # noqa: F401  (registers the commands)

    return app


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What `ingest web` would run: the flow's site and options (no crawl, no Prefect
    run), and the seeds it checked for private addresses (no name resolution)."""
    seen: dict[str, Any] = {}

    async def fake_ingest_web(**kwargs: Any) -> str:
        seen.update(kwargs)
        return "state"

    def fake_run_and_exit(run: Any, as_json: bool) -> None:
        seen.update(state=run(), as_json=as_json)
        raise typer.Exit(0)

    def fake_refuse(seeds: list[str], allowed: bool) -> None:
        seen["checked"] = (list(seeds), allowed)

    monkeypatch.setattr("flows.web.ingest_web", fake_ingest_web)
    monkeypatch.setattr("cli.web.run_and_exit", fake_run_and_exit)
    monkeypatch.setattr("cli.web._refuse_private_seeds", fake_refuse)
    return seen


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What `ingest submit web` would queue (nothing reaches an API)."""
    sent: dict[str, Any] = {}

    async def fake_submit(deployment: str, parameters: dict[str, Any], **kwargs: Any) -> Any:
        from deployments.runs import Submitted

        sent.update(deployment=deployment, parameters=parameters, **kwargs)
        return Submitted(RUN_ID, "a-run", deployment, kwargs["queue"], None)

    monkeypatch.setattr("deployments.runs.submit", fake_submit)
    return sent


def web(cli: Any, ran: dict[str, Any], *args: str) -> Any:
    """`ingest web ARGS...`: the WebSourceConfig the flow would get."""
    result = CliRunner().invoke(cli, ["web", *args])
    assert result.exit_code == 0, result.output
    return ran["site"]


def one_line(text: str) -> str:
    """Usage errors as one line, without rich's box and wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def in_scope(site: Any, url: str) -> bool:
    from ingest.sources.web.urls import Scope, normalize_url

    normalized = normalize_url(url)
    assert normalized is not None
    return normalized in Scope(site)


# --- include / exclude, response size ---------------------------------------------------


@pytest.mark.parametrize(
    ("include", "exclude"), [("--include", "--exclude"), ("--allow", "--deny")]
)
def test_include_and_exclude_regexes_and_their_aliases(
    cli: Any, ran: dict[str, Any], include: str, exclude: str
) -> None:
    site = web(
        cli, ran, SEED,
        include, r"/guide/", include, r"/api/",
        exclude, r"\.pdf$", exclude, r"/draft/",
    )  # fmt: skip
    assert site.allow_patterns == [r"/guide/", r"/api/"]
    assert site.deny_patterns == [r"\.pdf$", r"/draft/"]
    assert in_scope(site, "https://docs.example.org/api/v1.html")
    assert not in_scope(site, "https://docs.example.org/blog/post.html")
    assert not in_scope(site, "https://docs.example.org/guide/draft/x.html")


@pytest.mark.parametrize("option", ["--max-response-size", "--max-size"])
def test_max_response_size_and_its_alias(cli: Any, ran: dict[str, Any], option: str) -> None:
    assert web(cli, ran, SEED, option, "1MB").max_bytes == 1_000_000
    assert web(cli, ran, SEED, option, "512KiB").max_bytes == 512 * 1024


def test_defaults(cli: Any, ran: dict[str, Any]) -> None:
    site = web(cli, ran, SEED)
    assert site.seeds == [SEED]
    assert (site.allowed_domains, site.include_subdomains, site.url_prefixes) == ([], False, [])
    assert (site.allow_patterns, site.deny_patterns) == ([], [])
    assert site.max_bytes == 20_000_000
    assert site.per_host_delay == 0.0
    assert (site.per_host_concurrency, site.concurrency) == (8, 16)
    assert ran["options"].concurrency == 2  # batches in flight
    assert ran["checked"] == ([SEED], False)
    assert (site.request_deadline, site.read_timeout) == (120.0, 30.0)
    assert ran["options"].max_delete_share == 0.5


def test_timeouts_and_delete_share_reach_the_flow(
    cli: Any, ran: dict[str, Any], queued: dict[str, Any]
) -> None:
    args = [SEED, "--timeout", "7.5", "--read-timeout", "2", "--max-delete-share", "1"]
    site = web(cli, ran, *args)
    assert (site.request_deadline, site.read_timeout) == (7.5, 2.0)
    assert ran["options"].max_delete_share == 1.0
    result = CliRunner().invoke(cli, ["submit", "web", *args])
    assert result.exit_code == 0, result.output
    parameters = queued["parameters"]
    assert (parameters["site"]["request_deadline"], parameters["site"]["read_timeout"]) == (
        7.5,
        2.0,
    )
    assert parameters["options"]["max_delete_share"] == 1.0


@pytest.mark.parametrize("command", [["fs"], ["submit", "fs"]])
@pytest.mark.parametrize("value", ["2", "-1", "half"])
def test_bad_max_delete_share_on_folders_is_exit_2(
    cli: Any, queued: dict[str, Any], tmp_path: Path, command: list[str], value: str
) -> None:
    result = CliRunner().invoke(cli, [*command, str(tmp_path), "--max-delete-share", value])
    assert result.exit_code == 2, result.output
    assert "--max-delete-share" in one_line(result.stderr)
    assert queued == {}


# --- --scope, --domain, --prefix --------------------------------------------------------


def test_scope_host_keeps_to_the_seeds_hosts(cli: Any, ran: dict[str, Any]) -> None:
    site = web(cli, ran, SEED, "--scope", "host")
    assert site.include_subdomains is False
    assert site.url_prefixes == []
    assert in_scope(site, "https://docs.example.org/anything.html")
    assert not in_scope(site, "https://api.docs.example.org/")
    assert not in_scope(site, "https://example.org/")


def test_scope_domain_takes_subdomains_too(cli: Any, ran: dict[str, Any]) -> None:
    site = web(cli, ran, "https://example.org/", "--scope", "domain")
    assert site.include_subdomains is True
    assert site.url_prefixes == []
    assert in_scope(site, "https://example.org/a.html")
    assert in_scope(site, "https://docs.example.org/a.html")
    assert in_scope(site, "https://a.b.example.org/")
    assert not in_scope(site, "https://example.com/")
    assert not in_scope(site, "https://notexample.org/")


@pytest.mark.parametrize(
    ("seed", "prefix"),
    [
        ("https://x.org/docs/guide/index.html", "https://x.org/docs/guide/"),
        ("https://x.org/docs/", "https://x.org/docs/"),
        ("https://x.org/docs", "https://x.org/"),
        ("https://x.org", "https://x.org/"),
        ("https://X.ORG:443/docs/a/../guide/page?from=/elsewhere/", "https://x.org/docs/guide/"),
    ],
)
def test_scope_prefix_is_each_seeds_directory(
    cli: Any, ran: dict[str, Any], seed: str, prefix: str
) -> None:
    assert web(cli, ran, seed, "--scope", "prefix").url_prefixes == [prefix]


def test_scope_prefix_with_several_seeds_and_case_insensitive(
    cli: Any, ran: dict[str, Any]
) -> None:
    site = web(
        cli,
        ran,
        "https://x.org/docs/guide/index.html",
        "https://x.org/api/v2/",
        "--scope",
        "PREFIX",
    )
    assert site.url_prefixes == ["https://x.org/docs/guide/", "https://x.org/api/v2/"]
    assert in_scope(site, "https://x.org/docs/guide/install.html")
    assert in_scope(site, "https://x.org/api/v2/users")
    assert not in_scope(site, "https://x.org/docs/other.html")
    assert not in_scope(site, "https://x.org/")


def test_explicit_prefix_replaces_the_derived_ones(cli: Any, ran: dict[str, Any]) -> None:
    site = web(
        cli, ran, SEED, "--scope", "prefix",
        "--prefix", "https://docs.example.org/", "--prefix", "https://docs.example.org/x/",
    )  # fmt: skip
    assert site.url_prefixes == ["https://docs.example.org/", "https://docs.example.org/x/"]
    # without --scope prefix, --prefix still narrows the crawl as before
    site = web(cli, ran, SEED, "--prefix", "https://docs.example.org/guide/v2/")
    assert site.url_prefixes == ["https://docs.example.org/guide/v2/"]
    assert site.include_subdomains is False


def test_domain_adds_hosts_to_the_seeds_hosts(cli: Any, ran: dict[str, Any]) -> None:
    site = web(cli, ran, SEED, "--domain", "cdn.example.net", "--domain", "static.example.com")
    assert site.allowed_domains == ["docs.example.org", "cdn.example.net", "static.example.com"]
    assert in_scope(site, "https://docs.example.org/x.html")
    assert in_scope(site, "https://cdn.example.net/x.html")
    assert not in_scope(site, "https://img.cdn.example.net/x.png")
    site = web(cli, ran, SEED, "--domain", "example.net", "--scope", "domain")
    assert in_scope(site, "https://img.example.net/x.png")
    assert in_scope(site, "https://a.docs.example.org/")


# --- --rate, --delay, --host-concurrency, --batch-concurrency, --max-requests ------------


@pytest.mark.parametrize(
    ("args", "delay"),
    [
        ([], 0.0),
        (["--rate", "4"], 0.25),
        (["--rate", "0.5"], 2.0),
        (["--delay", "0.3"], 0.3),
        (["--rate", "2", "--delay", "0.1"], 0.5),  # the rate is slower
        (["--rate", "4", "--delay", "1.5"], 1.5),  # the delay is slower
    ],
)
def test_rate_and_delay_the_slower_wins(
    cli: Any, ran: dict[str, Any], args: list[str], delay: float
) -> None:
    assert web(cli, ran, SEED, *args).per_host_delay == pytest.approx(delay)


def test_each_concurrency_knob_says_what_it_limits(cli: Any, ran: dict[str, Any]) -> None:
    site = web(
        cli, ran, SEED, "--host-concurrency", "3", "--batch-concurrency", "5", "--max-requests", "7"
    )
    assert site.per_host_concurrency == 3
    assert site.concurrency == 7
    assert ran["options"].concurrency == 5


def test_the_old_web_spellings_still_work_hidden(cli: Any, ran: dict[str, Any]) -> None:
    result = CliRunner().invoke(cli, ["web", SEED, "--concurrency", "3", "--requests", "7"])
    assert result.exit_code == 0, result.output
    assert (ran["site"].per_host_concurrency, ran["site"].concurrency) == (3, 7)
    assert ran["options"].concurrency == 2  # --concurrency on web never meant batches
    assert "--concurrency is now --host-concurrency" in result.stderr
    assert "--requests is now --max-requests" in result.stderr
    shown = CliRunner().invoke(cli, ["web", "--help"], env={"COLUMNS": "200"}).output
    assert "--host-concurrency" in shown
    assert "--max-requests" in shown
    assert "--concurrency " not in shown
    assert "--requests " not in shown


def test_an_old_and_a_new_spelling_that_disagree_are_bad_usage(
    cli: Any, ran: dict[str, Any]
) -> None:
    result = CliRunner().invoke(cli, ["web", SEED, "--concurrency", "3", "--host-concurrency", "4"])
    assert result.exit_code == 2
    assert "--concurrency is the old name of --host-concurrency" in one_line(result.stderr)
    assert "site" not in ran
    agreeing = CliRunner().invoke(cli, ["web", SEED, "--requests", "5", "--max-requests", "5"])
    assert agreeing.exit_code == 0, agreeing.output


def test_fs_batch_concurrency_and_its_old_spelling(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake_flow(**kwargs: Any) -> str:
        seen.update(kwargs)
        return "state"

    def fake_run_and_exit(run: Any, as_json: bool) -> None:
        run()
        raise typer.Exit(0)

    monkeypatch.setattr("flows.filesystem.ingest_filesystem", fake_flow)
    monkeypatch.setattr("cli.fs.run_and_exit", fake_run_and_exit)
    result = CliRunner().invoke(cli, ["fs", str(tmp_path), "--batch-concurrency", "3"])
    assert result.exit_code == 0, result.output
    assert seen["options"].concurrency == 3
    old = CliRunner().invoke(cli, ["fs", str(tmp_path), "--concurrency", "4"])
    assert old.exit_code == 0, old.output
    assert seen["options"].concurrency == 4
    assert "--concurrency is now --batch-concurrency" in old.stderr
    shown = CliRunner().invoke(cli, ["fs", "--help"], env={"COLUMNS": "200"}).output
    assert "--batch-concurrency" in shown
    assert "--concurrency " not in shown
    refused = CliRunner().invoke(cli, ["fs", str(tmp_path), "--batch-concurrency", "0"])
    assert refused.exit_code == 2
    assert "--batch-concurrency" in one_line(refused.stderr)


# --- --sitemap ---------------------------------------------------------------------------


def test_sitemaps_are_read_whatever_the_scope(cli: Any, ran: dict[str, Any]) -> None:
    from ingest.sources.web import Scope

    sitemap = "https://docs.example.org/sitemap.xml"
    site = web(
        cli, ran, SEED, "--sitemap", sitemap, "--sitemap", sitemap,
        "--scope", "prefix", "--include", "/guide/",
    )  # fmt: skip
    assert (site.seeds, site.sitemaps) == ([SEED], [sitemap])  # once each
    assert ran["checked"] == ([SEED, sitemap], False)  # checked for private addresses too
    assert site.url_prefixes == ["https://docs.example.org/guide/"]  # not widened
    assert Scope(site).sitemap_refusal(sitemap) is None  # fetched as a sitemap
    assert not in_scope(site, sitemap)  # though no page of its own
    assert not in_scope(site, "https://docs.example.org/blog/guide/")
    assert in_scope(site, "https://docs.example.org/guide/a.html")


def test_a_private_sitemap_is_refused_like_a_private_seed(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real address check (IP literals: nothing is resolved, nothing is sent)."""
    started: list[Any] = []
    monkeypatch.setattr("cli.web.run_and_exit", lambda *args: started.append(args))
    public, private = "http://93.184.215.14/", "http://127.0.0.1:9/sitemap.xml"
    refused = CliRunner().invoke(cli, ["web", public, "--sitemap", private])
    assert refused.exit_code == 2, refused.output
    assert private in refused.stderr
    assert "--allow-private-network" in refused.stderr
    assert started == []


def test_a_sitemap_index_outside_the_prefix_is_read(site: SiteState) -> None:
    """In process, no Prefect: the sitemap index and the sitemaps it lists (not under
    /page/) are fetched, and of the pages they list only those under /page/ are crawled:
    not /private/ nor the orphans."""
    from cli.options import CrawlScope, SiteArgs
    from cli.parameters import web_site

    cfg = web_site(
        [f"{site.base}/page/0.html"],
        SiteArgs(
            scope=CrawlScope.prefix,
            sitemap=[f"{site.base}/sitemap_index.xml"],
            max_depth=0,
            allow_private_network=True,
        ),
    )
    source, pages = crawl(cfg)
    assert {page.item.uri for page in pages} == {f"{site.base}/page/{i}.html" for i in range(10)}
    fetched = set(site.paths())
    assert {"/sitemap_index.xml", "/sitemap-pages.xml", "/sitemap-orphans.xml.gz"} <= fetched
    assert not any(path.startswith(("/private/", "/orphan/")) for path in fetched)
    assert source.sitemap_failures == []


# --- bad usage ---------------------------------------------------------------------------

BAD_USAGE = [
    (["--scope", "subtree"], ["--scope", "'subtree' is not one of", "host", "domain", "prefix"]),
    (["--rate", "0"], ["--rate", "greater than 0"]),
    (["--rate", "-2"], ["--rate", "greater than 0"]),
    (["--delay", "-1"], ["--delay"]),
    (["--sitemap", "ftp://docs.example.org/sitemap.xml"], ["--sitemap", "not an http"]),
    (["--sitemap", "sitemap.xml"], ["--sitemap", "not an http"]),
    (["--concurrency", "0"], ["--concurrency"]),
    (["--host-concurrency", "0"], ["--host-concurrency"]),
    (["--max-requests", "0"], ["--max-requests"]),
    (["--batch-concurrency", "0"], ["--batch-concurrency"]),
    (["--max-response-size", "12XB"], ["invalid size", "12XB"]),
    (["--include", "(unclosed"], ["--include", "invalid regular expression"]),
    (["--deny", "[a-"], ["--exclude", "invalid regular expression"]),
    (["--timeout", "0"], ["--timeout", "more than 0 seconds"]),
    (["--timeout", "-3"], ["--timeout", "more than 0 seconds"]),
    (["--timeout", "soon"], ["--timeout", "number"]),
    (["--read-timeout", "0"], ["--read-timeout", "more than 0 seconds"]),
    (["--read-timeout", "inf"], ["--read-timeout", "more than 0 seconds"]),
    (["--max-delete-share", "1.5"], ["--max-delete-share", "less than or equal to 1"]),
    (["--max-delete-share", "-0.1"], ["--max-delete-share", "greater than or equal to 0"]),
]


@pytest.mark.parametrize(("args", "words"), BAD_USAGE)
def test_bad_web_options_are_exit_2_naming_the_problem(
    cli: Any, ran: dict[str, Any], args: list[str], words: list[str]
) -> None:
    result = CliRunner().invoke(cli, ["web", SEED, *args])
    assert result.exit_code == 2, result.output
    message = one_line(result.stderr)
    for word in words:
        assert word in message
    assert "site" not in ran, "nothing may run"
    assert result.stdout == ""


@pytest.mark.parametrize(("args", "words"), BAD_USAGE)
def test_bad_submit_web_options_are_exit_2_before_queueing(
    cli: Any, queued: dict[str, Any], args: list[str], words: list[str]
) -> None:
    result = CliRunner().invoke(cli, ["submit", "web", SEED, *args])
    assert result.exit_code == 2, result.output
    message = one_line(result.stderr)
    for word in words:
        assert word in message
    assert queued == {}


# --- the same options for `ingest submit web` ---------------------------------------------


def test_submit_web_takes_the_new_spellings(cli: Any, queued: dict[str, Any]) -> None:
    sitemap = "https://docs.example.org/sitemap.xml"
    result = CliRunner().invoke(
        cli,
        [
            "submit", "web", SEED, "--priority", "low",
            "--scope", "prefix", "--include", "/guide/", "--exclude", r"\.pdf$",
            "--rate", "4", "--delay", "0.1", "--concurrency", "3", "--batch-concurrency", "5",
            "--requests", "12", "--max-response-size", "2MB", "--sitemap", sitemap,
            "--max-depth", "2", "--max-pages", "30", "--ignore-robots", "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"run_id": "' + RUN_ID in result.stdout
    assert queued["deployment"] == "ingest-web/site"
    site, options = queued["parameters"]["site"], queued["parameters"]["options"]
    assert (site["seeds"], site["sitemaps"]) == ([SEED], [sitemap])
    assert site["url_prefixes"] == ["https://docs.example.org/guide/"]
    assert site["allow_patterns"][0] == "/guide/"
    assert site["deny_patterns"] == [r"\.pdf$"]
    assert site["per_host_delay"] == pytest.approx(0.25)
    assert (site["per_host_concurrency"], site["concurrency"]) == (3, 12)
    assert site["max_bytes"] == 2_000_000
    assert (site["max_depth"], site["max_pages"], site["ignore_robots"]) == (2, 30, True)
    assert options["concurrency"] == 5

    from flows.web import ingest_web

    validated = ingest_web.validate_parameters(queued["parameters"])  # the worker accepts it
    assert validated["site"].url_prefixes == site["url_prefixes"]


def test_submit_web_keeps_the_old_spellings(
    cli: Any, queued: dict[str, Any], ran: dict[str, Any]
) -> None:
    """Old spellings still work, and `submit web` builds what `ingest web` runs."""
    args = [
        SEED, "--domain", "cdn.example.net", "--prefix", "https://docs.example.org/guide/",
        "--allow", "/guide/", "--deny", "/draft/", "--max-size", "1MB",
        "--delay", "0.2", "--requests", "4", "--scope", "domain",
    ]  # fmt: skip
    result = CliRunner().invoke(cli, ["submit", "web", *args])
    assert result.exit_code == 0, result.output
    site = queued["parameters"]["site"]
    assert site["allowed_domains"] == ["docs.example.org", "cdn.example.net"]
    assert site["url_prefixes"] == ["https://docs.example.org/guide/"]
    assert (site["allow_patterns"], site["deny_patterns"]) == (["/guide/"], ["/draft/"])
    assert (site["max_bytes"], site["per_host_delay"], site["concurrency"]) == (1_000_000, 0.2, 4)
    assert site["include_subdomains"] is True
    assert web(cli, ran, *args).model_dump(mode="json") == site


# --- web_site called directly -------------------------------------------------------------


def test_web_site_takes_the_site_options() -> None:
    from cli.options import CrawlScope, SiteArgs
    from cli.parameters import web_site

    site = web_site(
        ["https://x.org/docs/a.html"],
        SiteArgs(
            scope=CrawlScope.prefix,
            include=["/docs/"],
            exclude=["/old/"],
            max_response_size="1MiB",
            rate=10,
            host_concurrency=2,
            sitemap=["https://x.org/sitemap.xml"],
        ),
    )
    assert (site.seeds, site.sitemaps) == (
        ["https://x.org/docs/a.html"],
        ["https://x.org/sitemap.xml"],
    )
    assert site.url_prefixes == ["https://x.org/docs/"]
    assert site.max_bytes == 1 << 20
    assert site.per_host_delay == pytest.approx(0.1)
    assert site.per_host_concurrency == 2


# --- end to end --------------------------------------------------------------------------


@pytest.mark.prefect
def test_cli_web_new_spellings_store_only_in_scope_pages(
    prefect_api: str, site: SiteState, tmp_path: Path
) -> None:
    """`ingest web` in a subprocess against the local site. From page 0 the prefix
    /page/ leaves out /private/open.html (it matches an --include), the --include
    regexes keep the one-digit pages, the --exclude drops page 7."""
    env = dict(
        os.environ,
        PREFECT_API_URL=prefect_api,
        INGEST_HOME=str(tmp_path / "home"),
        INGEST_RESULTS_DIR=str(tmp_path / "results"),
    )
    store = tmp_path / "web.db"
    base = site.base
    run = start_ingest(
        "web", f"{base}/page/0.html",
        "--scope", "prefix",
        "--include", r"/[0-9]\.html$", "--include", r"/open\.html$",
        "--exclude", r"/7\.html$",
        "--rate", "50", "--concurrency", "2", "--max-response-size", "1MB",
        "--max-depth", "50", "--batch-size", "4",
        "--store", str(store), "--json", "--allow-private-network",
        env=env,
    )  # fmt: skip
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    report = json.loads(out)
    expected = {f"{base}/page/{i}.html" for i in range(10) if i != 7}
    counts = report["counts"]
    assert counts["new"] == counts["discovered"] == len(expected), counts
    assert counts["failed"] == counts["rejected"] == 0, report

    from ingest.store import open_store

    with open_store(str(store)) as opened:
        assert {record.uri for record in opened.iter_export()} == expected
    paths = site.paths()
    assert "/private/open.html" not in paths
    assert "/page/7.html" not in paths
    assert not any(re.fullmatch(r"/page/\d\d+\.html", path) for path in paths)
    starts = sorted(site.times("/page/"))
    assert starts[-1] - starts[0] >= 0.8 * 0.02 * (len(starts) - 1)  # --rate 50
