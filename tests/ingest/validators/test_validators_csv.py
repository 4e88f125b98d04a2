"""CSV and TSV: sniffed dialect, header detection, ragged rows with their row numbers, and
hostile input (NUL bytes, huge fields) reported without a crash."""

from __future__ import annotations

import time

from validator_helpers import codes, content, only

from ingest.models import ValidationResult
from ingest.validators import ValidationPolicy, validate
from ingest.validators.csv_data import CsvValidator


def check(data: str | bytes, path: str = "data.csv") -> ValidationResult:
    return validate(content(data, "text/csv", path), ValidationPolicy())


def test_valid_csv_with_header_passes() -> None:
    result = check("name,age\nalice,30\nbob,41\n")
    assert result.ok
    assert result.warnings == []


def test_quoted_fields_with_newlines_count_as_one_row() -> None:
    result = check('name,note,age\nalice,"line one\nline two",30\nbob,x,41\ncarol,y\n')
    assert [(w.code, w.location) for w in result.warnings] == [("ragged-row", "row 4")]


def test_no_header_is_a_warning() -> None:
    [issue] = check("1,2,3\n4,5,6\n7,8,9\n").warnings
    assert (issue.code, issue.location) == ("no-header", "row 1")


def test_ragged_rows_in_a_sniffed_dialect() -> None:
    result = check("id;name;score\n1;a;10\n2;b\n3;c;30\n4;d;40;extra\n")
    assert result.ok
    assert [(w.code, w.location) for w in result.warnings] == [
        ("ragged-row", "row 3"),
        ("ragged-row", "row 5"),
    ]
    assert result.warnings[0].message == "2 fields, the header has 3"


def test_blank_lines_are_not_ragged_but_are_counted() -> None:
    result = check("id,v\n1,2\n\n3,4,5\n")
    assert [(w.code, w.location) for w in result.warnings] == [("ragged-row", "row 4")]


def test_tsv_by_name_uses_tabs() -> None:
    result = check("a\tb\n1\t2\n3\n", path="table.tsv")
    assert [(w.code, w.location) for w in only(result.warnings, "ragged-row")] == [
        ("ragged-row", "row 3")
    ]


def test_ragged_warnings_are_capped_with_a_summary() -> None:
    rows = "".join(f"{i},x\n" if i % 2 else f"{i},x,y\n" for i in range(2, 200))
    warnings = only(check("id,name,extra\n" + rows).warnings, "ragged-row")
    assert len(warnings) == 51
    assert warnings[0].location == "row 3"
    assert warnings[-1].location is None
    assert "49 more ragged rows (99 in all)" in warnings[-1].message


def test_field_over_the_csv_limit_is_malformed_with_its_row() -> None:
    result = check('a,b\n1,2\n3,"' + "x" * 200_000 + '"\n')
    [issue] = result.errors
    assert (issue.code, issue.location) == ("malformed-csv", "row 3")


def test_nul_byte_and_ragged_rows_are_reported_without_a_crash() -> None:
    # The NUL sits after the first 8 KB, so decoding still sees text.
    rows = [f"{i},name{i},{i * 10}" for i in range(1, 600)]
    rows[599 - 1] = "599,bad\x00name,1"
    rows[100] = "101,short"
    rows[300] = "301,long,1,2"
    text = "id,name,score\n" + "\n".join(rows) + "\n"
    result = check(text)
    assert codes(result.errors) == ["nul-bytes"]
    assert result.errors[0].location == "line 600, column 8"
    assert [w.location for w in only(result.warnings, "ragged-row")] == ["row 102", "row 302"]


def test_csv_validator_alone_survives_nul_in_the_first_row() -> None:
    doc = content("a,b\n1,2\n").model_copy(update={"text": "a\x00,b\n1,2\n3\n"})
    result = CsvValidator().validate(doc)
    assert result.ok
    assert [w.location for w in only(result.warnings, "ragged-row")] == ["row 3"]


def test_binary_csv_is_an_error() -> None:
    assert codes(check(b"\x00\x01\x02,\x03").errors) == ["binary"]


def test_quote_heavy_sample_is_sniffed_in_linear_time() -> None:
    # csv.Sniffer's own quote-guessing regexes take many seconds on this 64 KB.
    start = time.process_time()
    result = check('id,"a' * 22_000 + "\n")
    assert result.ok
    assert time.process_time() - start < 1.0
