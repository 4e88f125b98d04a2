"""Hypothesis fuzzing of every processor and validator in the registries (plug-ins
included), fed the way the pipeline feeds them: bytes, decoded, validated, processed.

Budget: HOSTILE_FUZZ_EXAMPLES examples per component (default 50 in CI); for a long run,
`HOSTILE_FUZZ_EXAMPLES=2000 pytest tests/hostile/test_hostile_fuzz.py`.
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.content_types import DOCX, EPUB, PDF, PPTX, XLSX, is_document
from ingest.decoding import decode_bytes
from ingest.errors import IngestError, ItemSkippedError, ProcessingError
from ingest.models import FetchedContent, SourceItem, content_hash
from ingest.processors import ChunkPolicy, processors
from ingest.validators import ValidationPolicy, validate, validators
from tests.hostile.cases import Case, Expect, WorkClock, record, register
from tests.support.documents import PDF_PAGES, make_docx, make_epub, make_pdf, make_pptx, make_xlsx

EXAMPLES = int(os.environ.get("HOSTILE_FUZZ_EXAMPLES", "50"))
settings.register_profile(
    "hostile",
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("HOSTILE_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
FUZZ = settings.get_profile("hostile")
SMALL = ChunkPolicy(target_chars=80, max_chars=160)
#: Per example, for the slowest component on this machine, with room for a loaded box.
SECONDS_PER_EXAMPLE = 0.25

SEEDS: dict[str, bytes] = {
    "text/plain": b"Plain text.\n\nSecond paragraph. Another sentence!\n",
    "text/markdown": b"---\ntitle: T\n---\n# H\n\n- a\n  - b\n\n```py\nx=1\n```\n> q\n",
    "text/html": b"<html><head><title>T</title></head><body><h1>H</h1><p>p</p></body></html>",
    "application/json": b'{"a": [1, 2, {"b": null}], "c": "d"}',
    "text/csv": b'id,name\n1,"a, b"\n2,"multi\nline"\n',
    "application/xml": b'<?xml version="1.0"?><r a="1"><c>t</c><c/></r>',
    "text/x-python": b"class A:\n    def f(self, x):\n        return [y for y in x]\n",
}
#: Documents are fuzzed from a real small file of their type (mutated, the zip or PDF
#: structure mostly breaks: every break must end in a clear refusal).
SEEDS.update(
    {
        PDF: make_pdf(PDF_PAGES[:2], table=None),
        DOCX: make_docx(),
        PPTX: make_pptx(),
        XLSX: make_xlsx(),
        EPUB: make_epub(),
    }
)


def _content_types() -> list[tuple[str, str]]:
    """(component name, content type) for every registered processor and validator."""
    pairs: dict[tuple[str, str], None] = {}
    for processor in processors:
        for content_type in processor.content_types:
            if "*" not in content_type:
                pairs[(f"processor:{processor.name}", content_type)] = None
    for validator in validators:
        for content_type in validator.content_types:
            if "*" in content_type:
                content_type = content_type.replace("*/*", "text/plain").replace("/*", "/plain")
            pairs[(f"validator:{validator.name}", content_type)] = None
    return list(pairs)


TARGETS = _content_types()


@st.composite
def _mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """The seed with a random slice replaced by random bytes, then repeated 1-3 times."""
    start = draw(st.integers(0, len(seed)))
    end = draw(st.integers(start, len(seed)))
    middle = draw(
        st.binary(max_size=64)
        | st.sampled_from([b"\x00", b"\xff\xfe", b"<", b"{", b"[" * 300, b"\r", b"\n" * 50])
    )
    return (seed[:start] + middle + seed[end:]) * draw(st.integers(1, 3))


def _inputs(content_type: str) -> st.SearchStrategy[bytes]:
    seed = SEEDS.get(content_type, SEEDS["text/plain"])
    structured: list[st.SearchStrategy[bytes]] = []
    if content_type == "application/json":
        values = st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
            lambda children: (
                st.lists(children, max_size=4)
                | st.dictionaries(st.text(max_size=5), children, max_size=4)
            ),
            max_leaves=30,
        )
        structured.append(values.map(lambda value: json.dumps(value).encode()))
    return st.one_of(
        st.binary(max_size=400),
        st.text(max_size=400).map(str.encode),
        _mutated(seed),
        *structured,
    )


def _fetched(data: bytes, content_type: str) -> FetchedContent:
    decoded = decode_bytes(data)
    return FetchedContent(
        item=SourceItem(source_id="fuzz", uri="file:///fuzz/item", path="item"),
        data=data,
        content_type=content_type,
        content_hash=content_hash(data),
        text=decoded.text,
        encoding=decoded.encoding,
        is_binary=decoded.is_binary,
    )


for _name, _type in TARGETS:
    register(
        Case(
            f"fuzz-{_name.replace(':', '-')}-{_type}",
            "fuzz",
            _name.split(":", 1)[0],
            f"{EXAMPLES} hypothesis examples of bytes into {_name} as {_type}",
            Expect("new"),
            max_seconds=EXAMPLES * SECONDS_PER_EXAMPLE + 2,
            max_peak_mb=0.0,
        )
    )


@pytest.mark.parametrize(
    ("component", "content_type"), TARGETS, ids=[f"{n}-{t}" for n, t in TARGETS]
)
def test_fuzz_component(component: str, content_type: str) -> None:
    kind, name = component.split(":", 1)
    case = next(c for c in _registered() if c.name == f"fuzz-{kind}-{name}-{content_type}")
    crashes: list[str] = []

    @FUZZ
    @given(data=_inputs(content_type))
    def check(data: bytes) -> None:
        content = _fetched(data, content_type)
        try:
            if kind == "validator":
                policy = ValidationPolicy(enabled=[name])
                verdict = validate(content, policy)
                crashed = [i for i in verdict.errors if i.code == "validator-crashed"]
                assert not crashed, crashed[0].message
            elif content.text is not None or is_document(content_type):
                processor = processors.get(name)
                try:
                    document = processor.process(content, SMALL)
                except (ProcessingError, ItemSkippedError) as exc:
                    refused: IngestError | None = exc
                else:
                    refused = None
                if refused is not None:
                    assert refused.uri == content.item.uri, "a processing error names its item"
                    return
                assert [chunk.seq for chunk in document.chunks] == list(range(len(document.chunks)))
                assert all(chunk.text.strip() for chunk in document.chunks)
        except AssertionError:
            raise
        except Exception as exc:  # the finding: recorded with its input, then re-raised
            crashes.append(f"{type(exc).__name__}: {exc} on {data[:60]!r}")
            raise

    error: BaseException | None = None
    with WorkClock() as clock:
        try:
            check()
        except BaseException as exc:  # noqa: BLE001 - recorded, then re-raised below
            error = exc
    actual = f"{EXAMPLES} examples, no crash" if error is None else f"CRASH {str(error)[:200]}"
    result = record(
        case,
        actual,
        error is None,
        crashed=error is not None,
        seconds=round(clock.cpu, 2),
        wall_seconds=round(clock.wall, 2),
    )
    if error is not None:
        raise error
    assert result.ok, result


def _registered() -> list[Case]:
    from tests.hostile.cases import REGISTRY

    return list(REGISTRY.values())
