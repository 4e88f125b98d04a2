"""XML Schema (XSD) validation, chosen by glob through `--schema GLOB=FILE.xsd`: schema errors
with their line, schemas that cannot load refused before any work, lxml optional, and
hostile XML still refused by defusedxml before lxml ever parses it."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import pytest
from validator_helpers import codes, content

from ingest.errors import ConfigurationError
from ingest.models import ValidationResult
from ingest.validators import ValidationPolicy, check_policy, validate
from ingest.validators.policy import schema_kind
from ingest.validators.xml_schema import load_xsd

XSD = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="items">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="item" minOccurs="0" maxOccurs="unbounded">
          <xs:complexType>
            <xs:sequence>
              <xs:element name="name" type="xs:string"/>
              <xs:element name="price" type="xs:decimal"/>
            </xs:sequence>
            <xs:attribute name="id" type="xs:integer" use="required"/>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""


def _billion_laughs() -> str:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    return f"<!DOCTYPE items [{''.join(entities)}]><items>&lol9;</items>"


BILLION_LAUGHS = _billion_laughs()
VALID = '<items>\n  <item id="1"><name>tea</name><price>2.50</price></item>\n</items>\n'


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    load_xsd.cache_clear()
    schema_kind.cache_clear()


@pytest.fixture
def xsd(tmp_path: Path) -> str:
    path = tmp_path / "items.xsd"
    path.write_text(XSD)
    return str(path)


def check(data: str | bytes, xsd: str, path: str = "data/items.xml") -> ValidationResult:
    policy = ValidationPolicy(schemas={"data/*.xml": xsd})
    return validate(content(data, "application/xml", path), policy)


def test_valid_document_passes(xsd: str) -> None:
    result = check(VALID, xsd)
    assert result.ok
    assert result.warnings == []


def test_every_schema_error_has_its_line(xsd: str) -> None:
    document = (
        "<items>\n"
        '  <item id="x"><name>tea</name><price>2.50</price></item>\n'
        '  <item id="2"><name>cake</name><price>cheap</price></item>\n'
        '  <item id="3"><price>1</price></item>\n'
        "</items>\n"
    )
    result = check(document, xsd)
    assert [(i.code, i.location) for i in result.errors] == [
        ("schema", "line 2"),
        ("schema", "line 3"),
        ("schema", "line 4"),
    ]
    messages = [issue.message for issue in result.errors]
    assert (
        "attribute 'id': 'x' is not a valid value of the atomic type 'xs:integer'" in (messages[0])
    )
    assert "'cheap' is not a valid value of the atomic type 'xs:decimal'" in messages[1]
    assert "Element 'price': This element is not expected. Expected is ( name )" in messages[2]


def test_wrong_root_element(xsd: str) -> None:
    [issue] = check("<catalog/>", xsd).errors
    assert (issue.code, issue.location) == ("schema", "line 1")
    assert "No matching global declaration available for the validation root" in issue.message


def test_schema_errors_are_capped(xsd: str) -> None:
    items = "".join(
        f'<item id="{i}"><name>n</name><price>x{i}</price></item>\n' for i in range(150)
    )
    errors = check(f"<items>\n{items}</items>", xsd).errors
    assert len(errors) == 101
    assert errors[99].location == "line 101"
    assert errors[100].message == "50 more schema errors (150 in all)"


def test_malformed_xml_is_reported_once_without_schema_errors(xsd: str) -> None:
    assert codes(check("<items><item></items>", xsd).errors) == ["malformed-xml"]


def test_documents_outside_the_glob_are_not_checked(xsd: str) -> None:
    assert check("<catalog/>", xsd, path="other/items.xml").ok


def test_schema_is_compiled_once_for_many_documents(xsd: str) -> None:
    for _ in range(5):
        assert check(VALID, xsd).ok
    assert load_xsd.cache_info().misses == 1


def test_include_is_resolved_next_to_the_schema(tmp_path: Path) -> None:
    (tmp_path / "types.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:simpleType name="code"><xs:restriction base="xs:string">'
        '<xs:pattern value="[A-Z]{3}"/></xs:restriction></xs:simpleType></xs:schema>'
    )
    main = tmp_path / "main.xsd"
    main.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:include schemaLocation="types.xsd"/>'
        '<xs:element name="currency" type="code"/></xs:schema>'
    )
    assert check("<currency>EUR</currency>", str(main)).ok
    [issue] = check("<currency>euro</currency>", str(main)).errors
    assert issue.code == "schema"


def test_xml_schema_applies_only_to_xml_items(xsd: str, tmp_path: Path) -> None:
    # One catch-all glob maps to an XSD: JSON and CSV items are not "validated" with it.
    policy = ValidationPolicy(schemas={"*": xsd})
    check_policy(policy)
    assert validate(content('{"a": 1}', "application/json", "a.json"), policy).ok
    assert validate(content("a,b\n1,2\n", "text/csv", "a.csv"), policy).ok
    assert not validate(content("<catalog/>", "application/xml", "a.xml"), policy).ok


def test_deeper_than_the_parser_limit_is_refused_not_validated(xsd: str) -> None:
    depth = 300
    result = check("<items>" + "<item>" * depth + "</item>" * depth + "</items>", xsd)
    [issue] = result.errors
    assert issue.code == "xml-limit"
    assert "Excessive depth in document" in issue.message


def test_hostile_xml_is_refused_by_defusedxml_before_the_schema(xsd: str, tmp_path: Path) -> None:
    start = time.process_time()
    assert codes(check(BILLION_LAUGHS, xsd).errors) == ["entities-forbidden"]
    assert time.process_time() - start < 0.5
    secret = tmp_path / "secret.txt"
    secret.write_text(f"TOPSECRET-{uuid.uuid4()}")
    xxe = f'<!DOCTYPE items [<!ENTITY x SYSTEM "{secret.as_uri()}">]><items>&x;</items>'
    result = check(xxe, xsd)
    assert codes(result.errors) == ["entities-forbidden"]
    assert secret.read_text() not in " ".join(map(str, result.errors))


def test_external_dtd_is_not_loaded_by_lxml_either(xsd: str, tmp_path: Path) -> None:
    secret = f"TOPSECRET-{uuid.uuid4()}"
    dtd = tmp_path / "leak.dtd"
    dtd.write_text(f'<!ENTITY leak "{secret}">')
    document = f'<!DOCTYPE items SYSTEM "{dtd.as_uri()}">\n<items>&leak;</items>'
    result = check(document, xsd)
    # Its text is missing, so the document cannot be held against the schema: refused.
    assert [(i.code, i.location) for i in result.errors] == [("schema", "line 2, column 8")]
    assert "references entities of an external DTD" in result.errors[0].message
    assert codes(result.warnings) == ["skipped-entity"]
    assert secret not in " ".join(map(str, [*result.errors, *result.warnings]))
    # The schema check alone, given such a document, reports it rather than crashing.
    [issue] = load_xsd(xsd).issues(document.encode())
    assert issue.code == "schema"
    assert issue.message.startswith("cannot be validated: ")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, "cannot read XML Schema"),
        ("<xs:schema", "is not well-formed XML"),
        (
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
            '<xs:element name="a" type="xs:nope"/></xs:schema>',
            "invalid XML Schema",
        ),
        ("<items/>", "invalid XML Schema"),
    ],
    ids=["missing", "not-xml", "unknown-type", "not-a-schema"],
)
def test_unusable_xml_schema_is_a_configuration_error(
    tmp_path: Path, text: str | None, reason: str
) -> None:
    path = tmp_path / "broken.xsd"
    if text is not None:
        path.write_text(text)
    policy = ValidationPolicy(schemas={"*.xml": str(path)})
    with pytest.raises(ConfigurationError, match=reason) as raised:
        check_policy(policy)
    assert str(path) in str(raised.value)


def test_xsd_without_lxml_is_a_configuration_error(
    xsd: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import lxml` raise ImportError, as when it is absent.
    monkeypatch.setitem(sys.modules, "lxml", None)
    monkeypatch.setitem(sys.modules, "lxml.etree", None)
    with pytest.raises(ConfigurationError, match=r"needs lxml, which is not installed"):
        check_policy(ValidationPolicy(schemas={"*.xml": xsd}))
