"""Third-party validators and processors found through their entry point groups: a tiny
distribution is written on the fly, put on sys.path, and a fresh registry discovers it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_dist import MODULE, PROCESSOR, SHOUT_TYPE, VALIDATOR, write_distribution
from validator_helpers import codes, content

from ingest.errors import ConfigurationError, ProcessingError
from ingest.models import Outcome
from ingest.pipeline import BatchConfig, BatchContext, run_batch
from ingest.processors import ChunkPolicy, Processor, processors
from ingest.registry import Registry
from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig
from ingest.store import open_store
from ingest.validators import (
    ValidationPolicy,
    Validator,
    check_policy,
    validate,
    validators,
    validators_for,
)


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The process-wide registries load their entry points now, before the plug-in is on
    # the path, so only the fresh registries of these tests ever see it.
    validators.names()
    processors.names()
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    site = write_distribution(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    return site


@pytest.fixture
def fresh_validators(plugin_site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    from ingest import validators as module

    fresh: Registry[Validator] = Registry(validators.group)
    for validator in validators:
        fresh.register(validator)
    monkeypatch.setattr(module, "validators", fresh)
    yield fresh
    module._check_names.cache_clear()  # it remembers names only the fresh registry knew


def test_entry_point_validator_is_found_and_rejects(fresh_validators: Registry) -> None:
    assert VALIDATOR in fresh_validators.names()
    assert [v.name for v in validators_for("text/markdown")] == ["text", "markdown", VALIDATOR]
    [issue] = validate(content("# Title\n\nLorem ipsum dolor.\n", "text/markdown", "a.md")).errors
    assert (issue.code, issue.location) == ("lorem-ipsum", "line 3")
    assert validate(content("real words\n")).ok


def test_entry_point_validator_is_selected_by_name(fresh_validators: Registry) -> None:
    doc = content("lorem ipsum\n")
    check_policy(ValidationPolicy(enabled=[VALIDATOR]))
    assert codes(validate(doc, ValidationPolicy(enabled=[VALIDATOR])).errors) == ["lorem-ipsum"]
    assert validate(doc, ValidationPolicy(disabled=[VALIDATOR])).ok


def test_entry_point_validator_rejects_in_a_batch(
    fresh_validators: Registry, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "real.md").write_text("# Real\n\nActual content.\n")
    (folder / "draft.txt").write_text("Intro.\nLorem ipsum dolor sit amet.\n")
    source = FilesystemSource(FilesystemSourceConfig(root=folder))
    with open_store(str(tmp_path / "store.db")) as store:
        ctx = BatchContext(
            source=source,
            store=store,
            config=BatchConfig(job_id=store.begin_job(source.source_id, "k"), run_id="r"),
        )
        result = run_batch([item for page in source.discover(10) for item in page], ctx)
        assert (result.counts.new, result.counts.rejected) == (1, 1)
        [rejection] = result.rejected
        assert rejection.uri.endswith("draft.txt")
        assert rejection.errors == ["lorem-ipsum at line 2: placeholder text left in"]
        stored = store.lookup(source.source_id, [rejection.uri])[rejection.uri]
        assert (stored.outcome, stored.errors) == (Outcome.REJECTED, rejection.errors)


def test_entry_point_processor_is_found_and_used(plugin_site: Path) -> None:
    fresh: Registry[Processor] = Registry(processors.group)
    assert PROCESSOR in fresh.names()
    shout = fresh.latest_for_type(SHOUT_TYPE)
    assert shout is not None
    assert shout.name == PROCESSOR
    doc = shout.process(content("HELLO THERE", SHOUT_TYPE, "a.shout"), ChunkPolicy())
    assert [chunk.text for chunk in doc.chunks] == ["HELLO THERE"]
    with pytest.raises(ProcessingError, match="upper case"):
        shout.process(content("quiet please", SHOUT_TYPE, "b.shout"), ChunkPolicy())


def test_broken_entry_point_is_a_configuration_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    validators.names()
    site = write_distribution(
        tmp_path / "broken", f"[aichemist_ingest.validators]\nghost = {MODULE}:NoSuchClass\n"
    )
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(ConfigurationError, match="'ghost'"):
        Registry[Validator](validators.group).names()
