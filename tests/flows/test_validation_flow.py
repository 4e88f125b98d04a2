"""Validation in real runs of the `ingest-filesystem` flow: a JSON Schema over 1,000 files,
a custom validator by dotted path, and the maximum rejected share that fails a run."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from ingest.errors import TooManyRejectedError
from ingest.validators import ValidationPolicy

pytestmark = pytest.mark.prefect

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "name", "tags", "meta"],
    "properties": {
        "id": {"type": "integer", "minimum": 0},
        "name": {"type": "string", "minLength": 1},
        "tags": {"type": "array", "items": {"type": "string"}},
        "meta": {
            "type": "object",
            "properties": {"score": {"type": "number", "maximum": 1}},
        },
    },
}
# Each kind of invalid file breaks the schema at one known place.
BREAKS: list[tuple[str, Any, str]] = [
    ("/id", "seven", "'seven' is not of type 'integer'"),
    ("/name", "", "should be non-empty"),
    ("/tags/2", 42, "42 is not of type 'string'"),
    ("/meta/score", 7.5, "7.5 is greater than the maximum of 1"),
]


def run_flow(folder: Path, store: Path, **options: Any) -> tuple[Any, dict[str, Any]]:
    from flows.filesystem import ingest_filesystem
    from flows.params import FolderSource, RunOptions
    from ingest.errors import RunFailedError

    state = ingest_filesystem(
        source=FolderSource(path=str(folder)),
        options=RunOptions(store=str(store), **options),
        return_state=True,
    )
    report = state.result(raise_on_failure=False)
    if isinstance(report, RunFailedError):
        report = report.report.model_dump(mode="json")
    assert isinstance(report, dict), f"no report: {report!r}"
    return state, report


def _item(index: int) -> dict[str, Any]:
    return {
        "id": index,
        "name": f"item {index}",
        "tags": ["a", "b", "c"],
        "meta": {"score": 0.5},
    }


def _broken(index: int) -> tuple[dict[str, Any], str, str]:
    pointer, value, message = BREAKS[index % len(BREAKS)]
    item = _item(index)
    target: Any = item
    *parents, last = pointer.strip("/").split("/")
    for part in parents:
        target = target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return item, pointer, message


def test_thousand_json_files_against_a_schema_reject_exactly_the_invalid_ones(
    prefect_api: str, isolated_results: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "corpus"
    items = folder / "items"
    items.mkdir(parents=True)
    schema = tmp_path / "schemas" / "item.json"
    schema.parent.mkdir()
    schema.write_text(json.dumps(SCHEMA))
    expected: dict[str, tuple[str, str]] = {}
    for index in range(1000):
        path = items / f"item{index:04}.json"
        if index % 10 == 7:
            document, pointer, message = _broken(index)
            expected[path.as_uri()] = (pointer, message)
        else:
            document = _item(index)
        path.write_text(json.dumps(document))

    started = time.perf_counter()
    state, report = run_flow(
        folder, tmp_path / "store.db", validation=ValidationPolicy(schemas={"items/*": str(schema)})
    )
    elapsed = time.perf_counter() - started

    assert state.is_completed(), report
    assert report["counts"] == {
        "discovered": 1000,
        "new": 900,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "rejected": 100,
        "failed": 0,
        "deleted": 0,
    }
    rejected = {r["uri"]: r["errors"] for r in report["rejected"]}
    assert rejected.keys() == expected.keys()
    for uri, (pointer, message) in expected.items():
        [reason] = rejected[uri]
        assert reason.startswith(f"schema at {pointer}: "), (uri, reason)
        assert message in reason, (uri, reason)
    assert elapsed < 10, f"{elapsed:.1f} s for 1,000 files"


def test_custom_validator_by_dotted_path_rejects_in_a_flow_run(
    prefect_api: str, isolated_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "done.md").write_text("# Done\n\nAll finished.\n")
    (folder / "todo.md").write_text("# Later\n\nTODO: write this.\n")
    (folder / "data.json").write_text('{"note": "TODO"}')
    policy = ValidationPolicy(custom=["tests.ingest.validators.custom_rules:reject_todo"])

    state, report = run_flow(folder, tmp_path / "store.db", validation=policy)

    assert state.is_completed(), report
    assert (report["counts"]["new"], report["counts"]["rejected"]) == (1, 2)
    assert {r["uri"].rsplit("/", 1)[-1]: r["errors"] for r in report["rejected"]} == {
        "todo.md": ["custom: contains TODO"],
        "data.json": ["custom: contains TODO"],
    }


def _half_rejected_folder(root: Path) -> Path:
    root.mkdir()
    for index in range(8):
        (root / f"good{index}.md").write_text(f"# Good {index}\n\nFine.\n")
    (root / "broken.json").write_text('{"a": ')
    (root / "broken.xml").write_text("<a><b></a>")
    return root


def test_rejected_share_above_the_maximum_fails_the_run_and_closes_the_job(
    prefect_api: str, isolated_results: Path, tmp_path: Path
) -> None:

    folder = _half_rejected_folder(tmp_path / "docs")
    store = tmp_path / "store.db"

    state, report = run_flow(folder, store, max_rejected_share=0.1)

    assert state.is_failed()
    assert report["state"] == "Failed"
    assert report["counts"]["rejected"] == 2
    assert report["counts"]["failed"] == 0
    assert report["counts"]["new"] == 8
    assert "2 of 10 item(s) rejected (20.0%), more than the maximum rejected share of 10.0%" in (
        state.message
    )
    error = state.result(raise_on_failure=False)
    assert isinstance(error, TooManyRejectedError)
    assert error.retryable is False

    # Rejections are no resumable work: the job is closed, the next run has nothing to do.
    state, again = run_flow(folder, store, max_rejected_share=0.1)
    assert state.is_completed(), again
    assert again["counts"]["unchanged"] == 10


def test_rejected_share_at_or_under_the_maximum_completes(
    prefect_api: str, isolated_results: Path, tmp_path: Path
) -> None:
    folder = _half_rejected_folder(tmp_path / "docs")
    state, report = run_flow(folder, tmp_path / "store.db", max_rejected_share=0.2)
    assert state.is_completed(), report
    assert report["state"] == "Completed"
    assert report["counts"]["rejected"] == 2


ITEMS_XSD = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="item">
    <xs:complexType>
      <xs:sequence><xs:element name="price" type="xs:decimal"/></xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""


def test_xml_and_csv_schemas_by_glob_in_a_flow_run(
    prefect_api: str, isolated_results: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "corpus"
    (folder / "feeds").mkdir(parents=True)
    (folder / "tables").mkdir()
    (folder / "feeds" / "good.xml").write_text("<item><price>2.50</price></item>\n")
    (folder / "feeds" / "bad.xml").write_text("<item>\n  <price>cheap</price>\n</item>\n")
    (folder / "tables" / "good.csv").write_text("id,price\n1,2.5\n2,3\n")
    (folder / "tables" / "typos.csv").write_text("id,price\n1,2.5\ntwo,3\n3,x\n")
    (folder / "tables" / "columns.csv").write_text("id,cost\n1,2.5\n")
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "item.xsd").write_text(ITEMS_XSD)
    (schemas / "prices.json").write_text(
        json.dumps({"columns": {"id": "integer", "price": "number"}})
    )
    policy = ValidationPolicy(
        schemas={
            "feeds/*.xml": str(schemas / "item.xsd"),
            "tables/*": str(schemas / "prices.json"),
        }
    )

    state, report = run_flow(folder, tmp_path / "store.db", validation=policy)

    assert state.is_completed(), report
    assert (report["counts"]["new"], report["counts"]["rejected"]) == (3, 2)
    rejected = {r["uri"].rsplit("/", 1)[-1]: r["errors"] for r in report["rejected"]}
    assert rejected == {
        "bad.xml": [
            "schema at line 2: Element 'price': 'cheap' is not a valid value of the atomic "
            "type 'xs:decimal'."
        ],
        "columns.csv": [
            "missing-column at row 1: required column 'price' is missing",
            "unexpected-column at row 1: column(s) 'cost' not in the table schema "
            "(allowed: 'id', 'price')",
        ],
    }
    from ingest.store import open_store

    with open_store(str(tmp_path / "store.db")) as store:
        [typos] = [r for r in store.iter_export() if r.uri.endswith("typos.csv")]
    assert [w for w in typos.metadata["warnings"] if w.startswith("bad-value")] == [
        "bad-value at row 3, column 'id': 'two' is not an integer",
        "bad-value at row 4, column 'price': 'x' is not a number",
    ]
