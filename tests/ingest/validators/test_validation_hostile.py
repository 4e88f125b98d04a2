"""Hostile input through `run_batch` on a real folder and SQLite store (no Prefect): each
hostile file ends in a clear rejection (a ragged CSV in warnings) within a small CPU and
memory budget, and the batch's other items are stored."""

from __future__ import annotations

import builtins
import io
import os
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ingest.models import BatchResult, Outcome
from ingest.pipeline import BatchConfig, BatchContext, run_batch
from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig
from ingest.store import open_store
from ingest.store.sql import SqlStore
from ingest.validators import ValidationPolicy

GOOD = {
    "good.md": "# Good\n\nA fine page.\n\n## More\n\nMore of it.\n",
    "good.json": '{"id": 1, "tags": ["a", "b"]}\n',
    "good.csv": "id,name\n1,alpha\n2,bravo\n",
}
# Fixed costs of a batch besides the hostile file: documents, SQL statements, reports.
SLACK = 16 * 1024 * 1024
CPU_BUDGET_S = 1.0

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""


@dataclass
class Measured:
    result: BatchResult
    cpu_s: float
    peak_bytes: int
    size: int


@pytest.fixture(scope="module", autouse=True)
def _warm(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Lazy imports, compiled patterns and the first SQLite connection belong to the
    # process, not to the hostile file: pay for them once before anything is measured.
    root = tmp_path_factory.mktemp("warm")
    folder = root / "docs"
    folder.mkdir()
    for name, text in GOOD.items():
        (folder / name).write_text(text)
    (folder / "w.xml").write_bytes(BILLION_LAUGHS)
    (folder / "w.txt").write_text("plain\n")
    with open_store(str(root / "store.db")) as store:
        _run(folder, store)


def _run(
    folder: Path, store: SqlStore, *, policy: ValidationPolicy | None = None, **config: Any
) -> BatchResult:
    source = FilesystemSource(FilesystemSourceConfig(root=folder, **config))
    ctx = BatchContext(
        source=source,
        store=store,
        config=BatchConfig(
            job_id=store.begin_job(source.source_id, "hostile"),
            run_id="r1",
            validation=policy or ValidationPolicy(),
        ),
    )
    return run_batch([item for page in source.discover(100) for item in page], ctx)


def _measured(folder: Path, store: SqlStore, hostile: Path, **kw: Any) -> Measured:
    tracemalloc.start()
    try:
        started = time.process_time()
        result = _run(folder, store, **kw)
        cpu = time.process_time() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return Measured(result, cpu, peak, hostile.stat().st_size)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    for name, text in GOOD.items():
        (root / name).write_text(text)
    return root


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    with open_store(str(tmp_path / "store.db")) as opened:
        yield opened  # type: ignore[misc]


def _assert_good_items_stored(folder: Path, store: SqlStore, result: BatchResult) -> None:
    assert result.counts.failed == 0, result.failures
    source_id = FilesystemSource(FilesystemSourceConfig(root=folder)).source_id
    for name in GOOD:
        document = store.get_document(source_id, (folder / name).as_uri())
        assert document is not None, f"{name} was not stored"
        assert document.chunks


def _rejection_of(store: SqlStore, folder: Path, path: Path, result: BatchResult) -> list[str]:
    [rejection] = result.rejected
    assert rejection.uri == path.as_uri()
    source_id = FilesystemSource(FilesystemSourceConfig(root=folder)).source_id
    stored = store.lookup(source_id, [rejection.uri])[rejection.uri]
    assert stored.outcome is Outcome.REJECTED
    assert stored.errors == rejection.errors, "every reason is kept in the store"
    return rejection.errors


def _deep_json(_: Path) -> bytes:
    return b"[" * 100_000 + b"]" * 100_000


def _csv_with_nul_and_ragged_rows(_: Path) -> bytes:
    # The NUL sits after the first 8 KB, so the bytes still decode as text.
    rows = [f"{i},name{i},{i * 10}" for i in range(1, 600)]
    rows[598] = "599,bad\x00name,1"
    rows[100] = "101,short"
    rows[300] = "301,long,1,2"
    return ("id,name,score\n" + "\n".join(rows) + "\n").encode()


def _billion_laughs(_: Path) -> bytes:
    return BILLION_LAUGHS


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("bomb.xml", _billion_laughs, "entities-forbidden: entity 'lol' is declared"),
        ("deep.json", _deep_json, "too-deep at line 1, column 201: nested deeper than"),
        ("table.csv", _csv_with_nul_and_ragged_rows, "nul-bytes at line 600, column 8: "),
    ],
    ids=["billion-laughs", "json-100k-deep", "csv-nul-ragged"],
)
def test_hostile_file_is_rejected_cheaply_and_the_batch_goes_on(
    folder: Path, store: SqlStore, name: str, make: Callable[[Path], bytes], reason: str
) -> None:
    hostile = folder / name
    hostile.write_bytes(make(folder))
    run = _measured(folder, store, hostile)
    assert (run.result.counts.new, run.result.counts.rejected) == (len(GOOD), 1)
    [error] = _rejection_of(store, folder, hostile, run.result)
    assert error.startswith(reason), error
    _assert_good_items_stored(folder, store, run.result)
    assert run.cpu_s < CPU_BUDGET_S, f"{run.cpu_s:.2f} s of CPU"
    assert run.peak_bytes < 3 * run.size + SLACK, f"peak {run.peak_bytes / 1e6:.1f} MB"


def test_external_entity_to_a_local_file_is_rejected_and_the_file_never_opened(
    tmp_path: Path, folder: Path, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_text = f"TOPSECRET-{uuid.uuid4()}"
    secret = tmp_path / "secret.txt"
    secret.write_text(secret_text)
    hostile = folder / "xxe.xml"
    hostile.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'
        "<r>&xxe;</r>\n"
    )
    opened: list[str] = []
    for owner, name in ((os, "open"), (builtins, "open"), (io, "open")):
        real = getattr(owner, name)

        def spy(path: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            if isinstance(path, str | bytes | os.PathLike):
                opened.append(os.fsdecode(path))
            return _real(path, *args, **kwargs)

        monkeypatch.setattr(owner, name, spy)

    run = _measured(folder, store, hostile)
    monkeypatch.undo()
    assert any(path.endswith("xxe.xml") for path in opened), "the spy sees the reads"
    assert not [path for path in opened if "secret" in path]
    assert (run.result.counts.new, run.result.counts.rejected) == (len(GOOD), 1)
    [error] = _rejection_of(store, folder, hostile, run.result)
    assert error.startswith("entities-forbidden: entity 'xxe' is declared"), error
    assert secret_text not in error
    assert all(secret_text not in record.text for record in store.iter_export())
    _assert_good_items_stored(folder, store, run.result)
    assert run.cpu_s < CPU_BUDGET_S
    assert run.peak_bytes < 3 * run.size + SLACK


def test_ragged_csv_is_stored_with_row_warnings_in_its_metadata(
    folder: Path, store: SqlStore
) -> None:
    rows = [f"{i},name{i},{i * 10}" for i in range(1, 2000)]
    rows[100] = "101,short"
    rows[300] = "301,long,1,2"
    hostile = folder / "ragged.csv"
    hostile.write_text("id,name,score\n" + "\n".join(rows) + "\n")
    run = _measured(folder, store, hostile)
    assert (run.result.counts.new, run.result.counts.rejected) == (len(GOOD) + 1, 0)
    source_id = FilesystemSource(FilesystemSourceConfig(root=folder)).source_id
    document = store.get_document(source_id, hostile.as_uri())
    assert document is not None
    assert [w.split(":")[0] for w in document.metadata["warnings"]] == [
        "ragged-row at row 102",
        "ragged-row at row 302",
    ]
    _assert_good_items_stored(folder, store, run.result)
    assert run.cpu_s < CPU_BUDGET_S


@pytest.fixture
def huge_single_line(folder: Path) -> Path:
    path = folder / "huge.txt"
    with path.open("wb") as handle:
        block = b"a" * (8 * 1024 * 1024)
        for _ in range(25):
            handle.write(block)
    return path


def test_200_mb_single_line_is_rejected_in_linear_time_and_bounded_memory(
    folder: Path, store: SqlStore, huge_single_line: Path
) -> None:
    # Read on purpose (the default size cap would refuse it unread), and refused by a
    # policy that makes the long-line warning an error.
    run = _measured(
        folder,
        store,
        huge_single_line,
        policy=ValidationPolicy(strict=True),
        max_file_size=300 * 1024 * 1024,
    )
    assert (run.result.counts.new, run.result.counts.rejected) == (len(GOOD), 1)
    [error] = _rejection_of(store, folder, huge_single_line, run.result)
    assert error.startswith(f"line-too-long at line 1: line of {run.size} characters"), error
    _assert_good_items_stored(folder, store, run.result)
    # The bytes and their text are both held once while the item is checked: 2x.
    assert run.peak_bytes < 3 * run.size, f"peak {run.peak_bytes / 1e6:.0f} MB"
    # Linear and in C: a multiple of C-speed passes over the same bytes timed in this
    # test (about 3.4x here), so the bound moves with the machine's speed of the moment
    # (this one's drifts by a fifth within minutes, more beside the suite's other
    # worker). A per-character Python loop that checks each character costs 30x or more.
    reference = _linear_passes_s(huge_single_line)
    assert run.cpu_s < 1.0 + 15 * reference, (
        f"{run.cpu_s:.2f} s of CPU; linear passes over the same bytes took {reference:.2f} s"
    )


def _linear_passes_s(path: Path) -> float:
    """CPU seconds of reading `path`, decoding it as UTF-8 and counting its lines: passes
    in C over the same bytes as the batch's, each once."""
    started = time.process_time()
    data = path.read_bytes()
    text = data.decode("utf-8")
    text.count("\n")
    del data, text
    return time.process_time() - started


def test_200_mb_file_over_the_default_cap_is_skipped_unread(
    folder: Path, store: SqlStore, huge_single_line: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_read(source: FilesystemSource, item: Any) -> bytes:
        if item.path == huge_single_line.name:
            raise AssertionError("a file over the size cap must not be read")
        return real_fetch(source, item)

    real_fetch = FilesystemSource.fetch
    monkeypatch.setattr(FilesystemSource, "fetch", no_read)
    run = _measured(folder, store, huge_single_line)
    [skip] = run.result.skipped
    assert (skip.uri, skip.code) == (huge_single_line.as_uri(), "too-large")
    source_id = FilesystemSource(FilesystemSourceConfig(root=folder)).source_id
    stored = store.lookup(source_id, [skip.uri])[skip.uri]
    assert stored.outcome is Outcome.SKIPPED
    assert stored.errors == [skip.entry()], "the code and reason are kept in the store"
    _assert_good_items_stored(folder, store, run.result)
    assert run.cpu_s < CPU_BUDGET_S
    assert run.peak_bytes < SLACK


@pytest.fixture
def schema_policy(tmp_path: Path) -> ValidationPolicy:
    xsd = tmp_path / "schemas" / "doc.xsd"
    xsd.parent.mkdir()
    xsd.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:element name="r" type="xs:string"/></xs:schema>'
    )
    table = tmp_path / "schemas" / "table.json"
    table.write_text(
        '{"columns": {"id": "integer", "name": "string", "score": "number"}, "required": ["id"]}'
    )
    return ValidationPolicy(schemas={"*.xml": str(xsd), "*.csv": str(table)})


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("bomb.xml", _billion_laughs, "entities-forbidden: entity 'lol' is declared"),
        ("table.csv", _csv_with_nul_and_ragged_rows, "nul-bytes at line 600, column 8: "),
    ],
    ids=["billion-laughs", "csv-nul-ragged"],
)
def test_hostile_file_is_rejected_cheaply_with_schemas_mapped(
    tmp_path: Path,
    folder: Path,
    store: SqlStore,
    schema_policy: ValidationPolicy,
    name: str,
    make: Callable[[Path], bytes],
    reason: str,
) -> None:
    # The XSD and the table schema (and pandas) load once per process: not measured.
    warm = tmp_path / "warm"
    warm.mkdir()
    (warm / "w.xml").write_text("<r>x</r>")
    (warm / "w.csv").write_text("id,score\n1,2.5\nx,y\n")
    with open_store(str(tmp_path / "warm.db")) as warm_store:
        assert _run(warm, warm_store, policy=schema_policy).counts.new == 2

    hostile = folder / name
    hostile.write_bytes(make(folder))
    run = _measured(folder, store, hostile, policy=schema_policy)
    assert (run.result.counts.new, run.result.counts.rejected) == (len(GOOD), 1)
    errors = _rejection_of(store, folder, hostile, run.result)
    assert errors[0].startswith(reason), errors
    _assert_good_items_stored(folder, store, run.result)
    assert run.cpu_s < CPU_BUDGET_S, f"{run.cpu_s:.2f} s of CPU"
    assert run.peak_bytes < 3 * run.size + SLACK, f"peak {run.peak_bytes / 1e6:.1f} MB"
