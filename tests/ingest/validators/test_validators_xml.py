"""XML: well-formedness with line and column, and the hostile inputs of the safety rules
(docs/architecture.md): entity expansion (billion laughs) and external entities are
refused, local files never read."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from validator_helpers import codes, content

from ingest.models import ValidationResult
from ingest.validators import ValidationPolicy, validate


def check(data: str | bytes) -> ValidationResult:
    return validate(content(data, "application/xml", "doc.xml"), ValidationPolicy())


@pytest.mark.parametrize(
    "document",
    [
        "<r/>",
        '<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>',
        "<!DOCTYPE r [<!ELEMENT r (#PCDATA)>]><r>x &amp; &#233;</r>",
    ],
)
def test_well_formed_xml_passes(document: str) -> None:
    result = check(document)
    assert result.ok
    assert result.warnings == []


def test_declared_encoding_is_honoured() -> None:
    latin1 = '<?xml version="1.0" encoding="ISO-8859-1"?><a>caf\xe9</a>'.encode("latin-1")
    assert validate(content(latin1, "application/xml"), ValidationPolicy(enabled=["xml"])).ok


@pytest.mark.parametrize(
    ("document", "reason", "location"),
    [
        ("<a>\n  <b></a>", "mismatched tag", "line 2, column 8"),
        ("<a>x</a><b/>", "junk after document element", "line 1, column 9"),
        ("<a>&undefined;</a>", "undefined entity", "line 1, column 4"),
        ("not xml", "syntax error", "line 1, column 1"),
    ],
)
def test_malformed_xml_has_line_and_column(document: str, reason: str, location: str) -> None:
    [issue] = check(document).errors
    assert (issue.code, issue.message, issue.location) == ("malformed-xml", reason, location)


BILLION_LAUGHS = """<?xml version="1.0"?>
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


def test_billion_laughs_is_refused_fast() -> None:
    start = time.process_time()
    result = check(BILLION_LAUGHS)
    assert codes(result.errors) == ["entities-forbidden"]
    assert time.process_time() - start < 0.5


@pytest.fixture
def secret_file(tmp_path: Path) -> tuple[Path, str]:
    secret = f"TOPSECRET-{uuid.uuid4()}"
    path = tmp_path / "secret.txt"
    path.write_text(secret)
    return path, secret


def _all_text(result: ValidationResult) -> str:
    return " ".join(str(issue) for issue in [*result.errors, *result.warnings])


@pytest.mark.parametrize(
    "template",
    [
        '<!DOCTYPE r [<!ENTITY xxe SYSTEM "{uri}">]><r>&xxe;</r>',
        '<?xml version="1.0" standalone="no"?><!DOCTYPE r [<!ENTITY % p SYSTEM "{uri}"> %p;]><r/>',
    ],
    ids=["general-entity", "parameter-entity"],
)
def test_external_entity_to_a_local_file_is_refused_unread(
    secret_file: tuple[Path, str], template: str
) -> None:
    path, secret = secret_file
    result = check(template.format(uri=path.as_uri()))
    assert codes(result.errors) == ["entities-forbidden"]
    assert secret not in _all_text(result)


def test_external_dtd_is_not_loaded(secret_file: tuple[Path, str], tmp_path: Path) -> None:
    _, secret = secret_file
    dtd = tmp_path / "leak.dtd"
    dtd.write_text(f'<!ENTITY leak "{secret}">')
    result = check(f'<!DOCTYPE r SYSTEM "{dtd.as_uri()}">\n<r>ab &leak;</r>')
    assert result.ok
    [issue] = result.warnings
    assert (issue.code, issue.location) == ("skipped-entity", "line 2, column 7")
    assert secret not in _all_text(result)


def test_svg_suffix_type_gets_the_xml_checks() -> None:
    doc = content("<svg><g></svg>", "image/svg+xml", "pic.svg")
    assert codes(validate(doc, ValidationPolicy()).errors) == ["malformed-xml"]
