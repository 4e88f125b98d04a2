"""The processor registry and the pipeline version."""

from __future__ import annotations

import pytest

import ingest
from ingest.content_types import CODE_LANGUAGES, CSV, HTML, JSON, MARKDOWN, TEXT, XML
from ingest.errors import ProcessingError
from ingest.processors import pipeline_version, processor_for, processors


@pytest.mark.parametrize(
    ("content_type", "name"),
    [
        (TEXT, "text"), (MARKDOWN, "markdown"), (HTML, "html"), (JSON, "json"), (CSV, "csv"),
        (XML, "xml"), ("text/x-python", "python"), ("text/x-go", "code"),
        ("application/yaml", "code"), ("text/x-unknown", "text"),
        ("text/markdown; charset=utf-8", "markdown"), ("TEXT/HTML", "html"),
    ],
)  # fmt: skip
def test_processor_for_finds_the_processor(content_type, name):
    assert processor_for(content_type).name == name


def test_every_code_type_is_covered_by_a_code_processor():
    assert {processor_for(t).name for t in CODE_LANGUAGES} == {"python", "code"}


def test_unknown_non_text_type_is_a_processing_error():
    with pytest.raises(ProcessingError, match="no processor"):
        processor_for("application/x-unknown")


def test_processors_declare_name_version_and_types():
    # Other tests may have registered plug-ins of their own (tests/support/skipping.py).
    built_in = [
        n for n in processors.names() if type(processors.get(n)).__module__.startswith("ingest.")
    ]
    assert built_in == [
        "code", "csv", "docx", "epub", "html", "json", "markdown", "pdf", "pptx", "python",
        "text", "xlsx", "xml",
    ]  # fmt: skip
    for name in processors.names():
        processor = processors.get(name)
        assert processor.version
        assert processor.content_types


def test_pipeline_version_is_stable_and_names_every_processor(monkeypatch):
    version = pipeline_version()
    assert version == pipeline_version()
    assert version.startswith(ingest.__version__ + ";")
    markdown = processors.get("markdown").version
    assert f"markdown:{markdown}" in version
    assert f"python:{processors.get('python').version}" in version
    monkeypatch.setattr(type(processors.get("markdown")), "version", markdown + ".1")
    assert pipeline_version() != version
