"""The deployments' custom-run forms and the credential blocks' forms, as the Prefect UI
renders them from their schemas: plain typed fields with defaults (no "None" picker, no
JSON editor), and runs given the form's untouched values behave as the defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deployments.specs import FOLDER, SITE, SPECS
from tests.deployments.form_schema import deploy_schema, fields, form_values, resolved

# Fields that were optional (`X | None`) or open mappings, with the empty value that now
# means "the default".
EMPTY_DEFAULTS = {
    "options.store": "",
    "options.result_storage": "",
    "options.dask_address": "",
    "options.max_rejected_share": 1.0,
    "options.chunking.tokenizer": "",
    "options.validation.enabled": [],
    "options.validation.disabled": [],
    "options.validation.custom": [],
    "options.validation.schemas": [],
}
SITE_EMPTY_DEFAULTS = {**EMPTY_DEFAULTS, "auth": "", "site.robots_agent": ""}


def _null_variants(node: Any, path: str = "") -> list[str]:
    """Where a schema offers `null` (the UI renders a type picker there)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key in ("anyOf", "oneOf"):
            if any(option.get("type") == "null" for option in node.get(key, [])):
                found.append(f"{path} ({key})")
        kind = node.get("type")
        if kind == "null" or (isinstance(kind, list) and "null" in kind):
            found.append(f"{path} (type)")
        for key, value in node.items():
            found += _null_variants(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _null_variants(value, f"{path}[{index}]")
    return found


@pytest.fixture(scope="module")
def schemas() -> dict[str, list[dict[str, Any]]]:
    """Each deployment's parameter schema, as `prefect deploy` (prefect.yaml) and as
    `ingest serve` build it."""
    from deployments.serve import served_deployments

    served = {
        d.name: d._parameter_openapi_schema.model_dump_for_openapi() for d in served_deployments()
    }
    return {name: [deploy_schema(spec.entrypoint), served[name]] for name, spec in SPECS.items()}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_form_field_is_a_plain_typed_input(
    schemas: dict[str, list[dict[str, Any]]], name: str
) -> None:
    for schema in schemas[name]:
        assert _null_variants(schema) == []
        shown = dict(fields(schema))
        untyped = [field for field, prop in shown.items() if "type" not in prop]
        assert untyped == [], f"rendered as JSON editors: {untyped}"
        expected = SITE_EMPTY_DEFAULTS if name == SITE else EMPTY_DEFAULTS
        for field, empty in expected.items():
            assert "default" in shown[field], field
            assert shown[field]["default"] == empty, field
        assert schema["properties"]["options"]["default"]["batch_size"] == (
            50 if name == SITE else 500
        )


def test_schemas_is_a_list_of_glob_and_schema_objects(
    schemas: dict[str, list[dict[str, Any]]],
) -> None:
    for schema in schemas[FOLDER] + schemas[SITE]:
        prop = dict(fields(schema))["options.validation.schemas"]
        assert prop["type"] == "array"
        item = resolved(prop["items"], schema)
        assert item["type"] == "object"
        assert item["required"] == ["glob", "schema"]
        assert {k: v["type"] for k, v in item["properties"].items()} == {
            "glob": "string",
            "schema": "string",
        }


def test_credential_blocks_take_origins_as_a_list_of_strings() -> None:
    from blocks import CREDENTIAL_BLOCKS

    for block in CREDENTIAL_BLOCKS:
        origins = block.model_json_schema()["properties"]["origins"]
        assert origins["type"] == "array", block
        assert origins["items"] == {"type": "string"}, block
        assert origins["default"] == [], block
        assert "anyOf" not in origins


def test_earlier_forms_of_the_parameters_still_read() -> None:
    from flows.filesystem import ingest_filesystem
    from flows.web import ingest_web
    from ingest.validators import ValidationPolicy

    old = ingest_filesystem.validate_parameters(
        {
            "source": {"path": "corpus"},
            "options": {
                "store": None,
                "result_storage": None,
                "dask_address": None,
                "max_rejected_share": None,
                "chunking": {"tokenizer": None},
                "validation": {"enabled": None, "schemas": {"b/*": "b.json", "a/*": "a.xsd"}},
            },
        }
    )
    options = old["options"]
    assert (options.store, options.result_storage, options.dask_address) == ("", "", "")
    assert options.max_rejected_share == 1.0
    assert options.chunking.tokenizer == ""
    assert options.validation.enabled == []
    assert options.validation == ValidationPolicy(
        schemas=[{"glob": "b/*", "schema": "b.json"}, {"glob": "a/*", "schema": "a.xsd"}]
    )
    assert options.validation.model_dump(mode="json")["schemas"][0] == {
        "glob": "b/*",
        "schema": "b.json",
    }
    assert (
        ingest_filesystem.validate_parameters({"source": {"path": "x"}, "options": None})[
            "options"
        ].batch_size
        == 500
    )
    web = ingest_web.validate_parameters(
        {
            "site": {"seeds": ["https://example.com/"], "robots_agent": None},
            "options": None,
            "auth": None,
        }
    )
    assert (web["options"].batch_size, web["auth"], web["site"].robots_agent) == (50, "", "")


def _deployed(prefect_api: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The folder deployment as the API holds it once `ingest serve` registered it: its
    parameter schema and default parameters."""
    from prefect import get_client

    from deployments.serve import served_deployments

    [folder] = [d for d in served_deployments() if d.name == FOLDER]
    deployment_id = folder.apply()
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment(deployment_id)
    return deployment.parameter_openapi_schema, deployment.parameters


def _run_form(values: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Run the flow as a worker runs a deployment's run: JSON parameters, validated."""
    from flows.filesystem import ingest_filesystem
    from ingest.errors import RunFailedError

    state = ingest_filesystem(**json.loads(json.dumps(values)), return_state=True)
    report = state.result(raise_on_failure=False)
    if isinstance(report, RunFailedError):
        report = report.report.model_dump(mode="json")
    return state, report


@pytest.mark.prefect
def test_a_run_from_the_untouched_form_behaves_as_the_defaults(
    prefect_api: str, isolated_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.params import FolderSource
    from ingest.sources.filesystem import FilesystemSource
    from ingest.store import open_store

    store = tmp_path / "default-store.db"
    monkeypatch.setenv("INGEST_STORE", str(store))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "guide.md").write_text("# Guide\n\n" + "Plain words here. " * 200)
    (corpus / "data.json").write_text('{"ok": true}')
    (corpus / "broken.json").write_text('{"ok": ')
    schema, parameters = _deployed(prefect_api)
    values = form_values(schema, {**parameters, "source": {"path": str(corpus)}})
    for field, empty in EMPTY_DEFAULTS.items():
        node: Any = values
        for part in field.split("."):
            node = node[part]
        assert node == empty, field

    state, report = _run_form(values)

    assert state.is_completed(), report
    assert report["counts"]["new"] == 2
    # `enabled: []` runs every validator: the JSON validator rejects the broken file.
    assert [r["uri"] for r in report["rejected"]] == [(corpus / "broken.json").as_uri()]
    # `store: ""` is $INGEST_STORE: the documents are there.
    source_id = FilesystemSource(FolderSource(path=str(corpus)).config()).source_id
    with open_store(str(store)) as opened:
        states = opened.lookup(source_id, [(corpus / "guide.md").as_uri()])
    assert list(states) == [(corpus / "guide.md").as_uri()]


@pytest.mark.prefect
def test_a_run_with_schemas_from_the_form_validates_by_glob(
    prefect_api: str, isolated_results: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "items").mkdir(parents=True)
    (corpus / "items" / "good.json").write_text('{"id": 1}')
    (corpus / "items" / "bad.json").write_text('{"id": "one"}')
    (corpus / "other.json").write_text('{"id": "free"}')
    schema_file = tmp_path / "item.schema.json"
    schema_file.write_text(
        json.dumps({"type": "object", "properties": {"id": {"type": "integer"}}})
    )
    schema, parameters = _deployed(prefect_api)
    values = form_values(schema, {**parameters, "source": {"path": str(corpus)}})
    values["options"]["store"] = str(tmp_path / "store.db")
    values["options"]["validation"]["schemas"] = [{"glob": "items/*", "schema": str(schema_file)}]

    state, report = _run_form(values)

    assert state.is_completed(), report
    assert report["counts"]["new"] == 2
    [rejected] = report["rejected"]
    assert rejected["uri"] == (corpus / "items" / "bad.json").as_uri()
    assert rejected["errors"][0].startswith("schema at /id: ")
