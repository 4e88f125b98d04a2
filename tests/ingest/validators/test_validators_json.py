"""JSON: syntax with line and column, size and depth limits checked before parsing, and
JSON Schemas chosen by glob with a JSON pointer for every failing value."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from validator_helpers import codes, content

from ingest.errors import ConfigurationError
from ingest.models import FetchedContent, ValidationResult
from ingest.validators import ValidationPolicy, check_policy, validate
from ingest.validators.json_data import json_pointer, load_schema, too_deep_at


def check(
    data: str | bytes, policy: ValidationPolicy | None = None, path: str = "doc.json"
) -> ValidationResult:
    return validate(content(data, "application/json", path), policy or ValidationPolicy())


def test_valid_json_passes() -> None:
    result = check('{"a": [1, 2, {"b": "c"}], "d": null}')
    assert result.ok
    assert result.warnings == []


def test_invalid_json_has_line_and_column() -> None:
    [issue] = check('{"a": 1,\n "b": }').errors
    assert issue.code == "invalid-json"
    assert issue.location == "line 2, column 7"


def test_empty_json_is_empty_and_invalid() -> None:
    assert codes(check(b"").errors) == ["empty", "invalid-json"]


def test_too_large() -> None:
    [issue] = check('{"a": "0123456789"}', ValidationPolicy(max_json_bytes=10)).errors
    assert issue.code == "too-large"


def test_depth_at_the_limit_passes_and_one_more_fails() -> None:
    policy = ValidationPolicy(max_json_depth=3)
    assert check("[[[1]]]", policy).ok
    [issue] = check('[\n [[{"a": 1}]]]', policy).errors
    assert (issue.code, issue.location) == ("too-deep", "line 2, column 4")


def test_brackets_inside_strings_do_not_count() -> None:
    policy = ValidationPolicy(max_json_depth=2)
    assert check('["[[[[[[", "\\"[[[[[", {"k": "{{{{"}]', policy).ok


def test_huge_integer_is_invalid_not_a_crash() -> None:
    assert codes(check("1" * 5000).errors) == ["invalid-json"]


def test_nested_100_000_deep_is_refused_quickly() -> None:
    start = time.process_time()
    result = check("[" * 100_000 + "]" * 100_000)
    assert codes(result.errors) == ["too-deep"]
    assert time.process_time() - start < 2.0


def test_deep_objects_are_refused_quickly() -> None:
    start = time.process_time()
    assert codes(check('{"a":' * 100_000 + "1" + "}" * 100_000).errors) == ["too-deep"]
    assert time.process_time() - start < 2.0


def test_unterminated_string_full_of_escaped_quotes_is_linear() -> None:
    start = time.process_time()
    result = check("[" * 100 + '"' + '\\"[' * 100_000)
    assert codes(result.errors) == ["invalid-json"]
    assert time.process_time() - start < 2.0


def test_json_pointer_escapes() -> None:
    assert json_pointer(["a/b", 0, "m~n"]) == "/a~1b/0/m~0n"
    assert json_pointer([]) == ""


SCHEMA = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


@pytest.fixture
def schema_file(tmp_path: Path) -> str:
    path = tmp_path / "record.schema.json"
    path.write_text(json.dumps(SCHEMA))
    return str(path)


def test_schema_by_glob_reports_exactly_the_invalid_documents(schema_file: str) -> None:
    docs: dict[str, object] = {
        f"data/doc{i:02}.json": {"id": i, "name": f"n{i}", "tags": ["a"]} for i in range(20)
    }
    docs["data/doc03.json"] = {"id": "three", "name": "n3"}
    docs["data/doc07.json"] = {"id": 7, "name": "n7", "tags": ["a", 5]}
    docs["data/doc12.json"] = {"id": 12}
    docs["data/doc18.json"] = {"id": 18, "name": 18, "tags": [1]}
    expected = {
        "data/doc03.json": ["/id"],
        "data/doc07.json": ["/tags/1"],
        "data/doc12.json": [""],
        "data/doc18.json": ["/name", "/tags/0"],
    }
    policy = ValidationPolicy(schemas={"data/*.json": schema_file})
    load_schema.cache_clear()

    found = {}
    for path, doc in docs.items():
        result = check(json.dumps(doc), policy, path)
        if result.errors:
            assert set(codes(result.errors)) == {"schema"}
            found[path] = sorted(issue.location or "" for issue in result.errors)

    assert found == expected
    assert load_schema.cache_info().misses == 1  # read once, not per document


def test_schema_error_message_names_the_problem(schema_file: str) -> None:
    policy = ValidationPolicy(schemas={"*.json": schema_file})
    [issue] = check('{"id": 1}', policy).errors
    assert "'name' is a required property" in issue.message


def test_documents_outside_the_glob_are_not_checked(schema_file: str) -> None:
    policy = ValidationPolicy(schemas={"data/*.json": schema_file})
    assert check('{"id": "x"}', policy, "other/doc.json").ok


def test_first_matching_glob_wins(schema_file: str, tmp_path: Path) -> None:
    anything = tmp_path / "anything.json"
    anything.write_text("{}")
    policy = ValidationPolicy(schemas={"data/loose/*": str(anything), "*.json": schema_file})
    assert check('{"id": "x"}', policy, "data/loose/a.json").ok
    assert not check('{"id": "x"}', policy, "data/strict/a.json").ok


def test_glob_matches_the_uri_when_there_is_no_path(schema_file: str) -> None:
    doc = content('{"id": 1}', "application/json", "x.json")
    doc = doc.model_copy(update={"item": doc.item.model_copy(update={"path": None})})
    policy = ValidationPolicy(schemas={"file:///corpus/*.json": schema_file})
    assert codes(validate(doc, policy).errors) == ["schema"]


def test_schema_errors_are_capped(tmp_path: Path) -> None:
    schema = tmp_path / "strings.json"
    schema.write_text('{"type": "array", "items": {"type": "string"}}')
    errors = check(
        json.dumps(list(range(150))), ValidationPolicy(schemas={"*": str(schema)})
    ).errors
    assert len(errors) == 101
    assert errors[99].location == "/99"
    assert "more than 100" in errors[100].message


@pytest.mark.parametrize(
    ("text", "reason"),
    [(None, "cannot read"), ("{not json", "cannot read"), ('{"type": 5}', "invalid JSON Schema")],
)
def test_unusable_schema_is_a_configuration_error(
    tmp_path: Path, text: str | None, reason: str
) -> None:
    path = tmp_path / "schema.json"
    if text is not None:
        path.write_text(text)
    policy = ValidationPolicy(schemas={"*.json": str(path)})
    with pytest.raises(ConfigurationError, match=reason):
        check_policy(policy)
    with pytest.raises(ConfigurationError, match=reason):
        check("{}", policy)


def test_binary_json_is_reported_once() -> None:
    doc: FetchedContent = content(b"\x00\x01\x02\x03", "application/json")
    assert codes(validate(doc, ValidationPolicy()).errors) == ["binary"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab', max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\ab', max_size=3), children, max_size=3)
    ),
    max_leaves=30,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@settings(database=None)
@given(JSON_VALUES, st.integers(min_value=0, max_value=6))
def test_depth_scan_agrees_with_the_parsed_depth(value: object, limit: int) -> None:
    assert (too_deep_at(json.dumps(value), limit) is None) == (_depth(value) <= limit)
