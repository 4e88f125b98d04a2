"""Table schemas for CSV and TSV, chosen by glob through `--schema GLOB=TABLE.json`: header
problems are errors, values of the wrong type are row warnings (like ragged rows) with
row, column and value, capped; schema files that cannot load are refused before any work."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from validator_helpers import codes, content, only

from ingest.errors import ConfigurationError
from ingest.models import ValidationResult
from ingest.validators import ValidationPolicy, check_policy, validate
from ingest.validators.policy import schema_kind
from ingest.validators.table_schema import load_table_schema

TABLE = {
    "columns": {
        "id": "integer",
        "price": "number",
        "name": "string",
        "active": "boolean",
        "day": "date",
        "updated": "datetime",
    },
    "required": ["id", "price", "name"],
}
HEADER = "id,price,name,active,day,updated\n"


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    load_table_schema.cache_clear()
    schema_kind.cache_clear()


def write(tmp_path: Path, schema: Any, name: str = "table.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(schema))
    return str(path)


@pytest.fixture
def table(tmp_path: Path) -> str:
    return write(tmp_path, TABLE)


def check(
    data: str | bytes, schema: str, path: str = "data/t.csv", strict: bool = False
) -> ValidationResult:
    policy = ValidationPolicy(schemas={"data/*": schema}, strict=strict)
    return validate(content(data, "text/csv", path), policy)


def located(issues: list[Any]) -> list[tuple[str, str | None, str]]:
    return [(issue.code, issue.location, issue.message) for issue in issues]


def test_valid_table_passes(table: str) -> None:
    result = check(
        HEADER + "1,2.50,tea,true,2024-02-29,2024-02-29T10:00:00Z\n"
        "-2,1e3,cake,NO,2023-12-31,2024-01-01 08:30+02:00\n"
        '+3,.5,"a, b",1,2024-01-01,2024-01-01\n',
        table,
    )
    assert result.ok
    assert result.warnings == []


def test_empty_cells_are_missing_values_not_bad_ones(table: str) -> None:
    assert check(HEADER + "1,2,,,,\n2, 3 ,x, , ,\n", table).warnings == []


def test_bad_values_are_warnings_with_row_column_and_value(table: str) -> None:
    result = check(
        HEADER + "1,2,tea,true,2024-01-01,2024-01-01T00:00:00\n"
        "1.5,cheap,tea,maybe,2024-13-01,yesterday\n"
        "x,3,tea,yes,01/02/2024,2024-01-01T25:00\n",
        table,
    )
    assert result.ok, "a bad value is a row problem: a warning, like a ragged row"
    assert located(result.warnings) == [
        ("bad-value", "row 3, column 'id'", "'1.5' is not an integer"),
        ("bad-value", "row 3, column 'price'", "'cheap' is not a number"),
        (
            "bad-value",
            "row 3, column 'active'",
            "'maybe' is not a boolean (true/false, yes/no, 1/0)",
        ),
        ("bad-value", "row 3, column 'day'", "'2024-13-01' is not a date (YYYY-MM-DD)"),
        ("bad-value", "row 3, column 'updated'", "'yesterday' is not an ISO 8601 datetime"),
        ("bad-value", "row 4, column 'id'", "'x' is not an integer"),
        ("bad-value", "row 4, column 'day'", "'01/02/2024' is not a date (YYYY-MM-DD)"),
        (
            "bad-value",
            "row 4, column 'updated'",
            "'2024-01-01T25:00' is not an ISO 8601 datetime",
        ),
    ]


def test_strict_makes_bad_values_errors(table: str) -> None:
    result = check(HEADER + "x,1,tea,,,\n", table, strict=True)
    assert codes(result.errors) == ["bad-value"]


def test_row_numbers_agree_with_ragged_rows_blank_lines_and_quoted_newlines(table: str) -> None:
    result = check(
        'id,price,name\n1,2,"two\nlines"\n\n2,x\n3,y,z\nq,4,w\n',
        table,
    )
    assert [(i.code, i.location) for i in result.warnings if i.code != "no-header"] == [
        ("ragged-row", "row 4"),
        ("bad-value", "row 5, column 'price'"),
        ("bad-value", "row 6, column 'id'"),
    ]


def test_missing_and_unexpected_columns_are_errors(table: str) -> None:
    result = check("id,name,colour,size\n1,tea,red,3\n", table)
    assert located(result.errors) == [
        ("missing-column", "row 1", "required column 'price' is missing"),
        (
            "unexpected-column",
            "row 1",
            "column(s) 'colour', 'size' not in the table schema "
            "(allowed: 'id', 'price', 'name', 'active', 'day', 'updated')",
        ),
    ]


def test_header_names_are_trimmed_and_order_is_free(table: str) -> None:
    assert check("\ufeff name , price ,id\ntea,2,1\n", table).ok


def test_repeated_column_is_an_error(table: str) -> None:
    [issue] = check("id,price,name,id\n1,2,x,3\n", table).errors
    assert (issue.code, issue.location) == ("duplicate-column", "row 1")
    assert "'id'" in issue.message


def test_every_listed_column_is_required_by_default_and_extras_can_be_allowed(
    tmp_path: Path,
) -> None:
    strict = write(tmp_path, {"columns": {"a": "integer", "b": "string"}}, "strict.json")
    assert [i.message for i in check("a\n1\n", strict).errors] == ["required column 'b' is missing"]
    loose = write(tmp_path, {"columns": {"a": "integer"}, "allow_extra": True}, "loose.json")
    result = check("a,z\n1,2\nx,3\n", loose)
    assert result.ok
    assert [i.location for i in result.warnings] == ["row 3, column 'a'"]


def test_tsv_gets_the_table_schema(table: str) -> None:
    result = check("id\tprice\tname\n1\t2\ta\nx\t2\tb\n", table, path="data/t.tsv")
    assert [(i.code, i.location) for i in result.warnings] == [("bad-value", "row 3, column 'id'")]


def test_bad_values_are_capped_and_long_values_shortened(table: str) -> None:
    rows = "".join(f"n{i},{i},x\n" for i in range(300))
    warnings = only(check("id,price,name\n" + rows, table).warnings, "bad-value")
    assert len(warnings) == 51
    assert warnings[0].location == "row 2, column 'id'"
    assert warnings[-1].location is None
    assert warnings[-1].message == "250 more bad values (300 in all)"
    [issue] = check(f"id,price,name\n{'9' * 50}z,1,x\n", table).warnings
    assert issue.message == f"'{'9' * 40}...' is not an integer"


def test_table_schema_and_json_schema_side_by_side(tmp_path: Path, table: str) -> None:
    # Both globs match every item under data/: each item takes the schema of its kind.
    json_schema = write(tmp_path, {"type": "object", "required": ["id"]}, "item.schema.json")
    policy = ValidationPolicy(schemas={"data/*": json_schema, "*": table})
    check_policy(policy)
    assert codes(validate(content("{}", "application/json", "data/a.json"), policy).errors) == [
        "schema"
    ]
    csv_result = validate(content("id\n1\n", "text/csv", "data/a.csv"), policy)
    assert codes(csv_result.errors) == ["missing-column", "missing-column"]


def test_outside_the_glob_and_without_a_schema_nothing_changes(table: str) -> None:
    assert check("a,b\n1,2\n", table, path="other/t.csv").ok


def test_a_large_table_is_checked_in_well_under_a_second(table: str) -> None:
    rows = "".join(
        f"{i},{i}.25,item {i},{'yes' if i % 2 else 'no'},2024-01-{1 + i % 28:02},"
        f"2024-01-01T{i % 24:02}:00:00Z\n"
        for i in range(50_000)
    )
    rows += "oops,1,x,true,2024-01-01,2024-01-01\n"
    check(HEADER + "1,1,x,,,\n", table)  # pandas is imported on first use
    start = time.process_time()
    result = check(HEADER + rows, table)
    elapsed = time.process_time() - start
    assert [i.location for i in result.warnings] == ["row 50002, column 'id'"]
    assert elapsed < 1.0, f"{elapsed:.2f} s of CPU"


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ({"columns": {"a": "float"}}, "at /columns/a: 'float' is not one of"),
        ({"columns": {}}, "at /columns: {} should be non-empty"),
        ({"columns": {"a": "string"}, "required": ["b"]}, "'required' names 'b', not in"),
        ({"columns": {"a": "string"}, "allow_extras": True}, "'allow_extras' was unexpected"),
        ({"columns": ["a", "b"]}, "at /columns: ['a', 'b'] is not of type 'object'"),
    ],
    ids=["unknown-type", "no-columns", "required-unknown", "misspelt-key", "columns-list"],
)
def test_invalid_table_schema_is_a_configuration_error_naming_the_file(
    tmp_path: Path, schema: Any, reason: str
) -> None:
    path = write(tmp_path, schema)
    with pytest.raises(ConfigurationError, match="invalid table schema") as raised:
        check_policy(ValidationPolicy(schemas={"*.csv": path}))
    assert path in str(raised.value)
    assert reason in str(raised.value)


@pytest.mark.parametrize("text", [None, '{"columns": '], ids=["missing", "not-json"])
def test_unreadable_schema_file_is_a_configuration_error(tmp_path: Path, text: str | None) -> None:
    path = tmp_path / "table.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigurationError, match=f"cannot read schema '{path}'"):
        check_policy(ValidationPolicy(schemas={"*.csv": str(path)}))
