"""XML: well-formedness, checked by defusedxml with entity declarations and external
references refused (README, "Validation"), without building a tree; then, for a document
that passed and that the policy maps to an `.xsd` file, its XML Schema (`xml_schema`).

Codes: errors ``malformed-xml``, ``entities-forbidden``, ``external-reference-forbidden``,
``xml-forbidden``, and with a schema ``schema`` and ``xml-limit``; warning
``skipped-entity`` (a reference to an entity declared only in an external DTD, which is
never loaded, so its text is missing).
"""

from __future__ import annotations

from typing import ClassVar

from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from ..content_types import XML
from ..models import FetchedContent, ValidationIssue, ValidationResult
from .policy import PolicyValidator
from .text import error
from .xml_schema import load_xsd


class _Discard:
    """Parser target without callbacks: expat still checks everything, nothing is kept."""


class XmlValidator(PolicyValidator):
    name: ClassVar[str] = "xml"
    content_types: ClassVar[tuple[str, ...]] = (XML, "text/xml")

    def validate(self, content: FetchedContent) -> ValidationResult:
        # The bytes, not the text: the XML declaration names the encoding.
        parser = DefusedXMLParser(
            target=_Discard(), forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
        expat = parser.parser
        skipped: list[tuple[str, int, int]] = []

        def on_skipped(name: str, is_parameter_entity: bool) -> None:
            skipped.append((name, expat.CurrentLineNumber, expat.CurrentColumnNumber + 1))

        expat.SkippedEntityHandler = on_skipped
        try:
            parser.feed(content.data)
            parser.close()
        except EntitiesForbidden as exc:
            return error(
                "entities-forbidden",
                f"entity {exc.name!r} is declared; entity declarations are refused "
                "(entity expansion and external entities are unsafe)",
            )
        except ExternalReferenceForbidden as exc:
            return error(
                "external-reference-forbidden",
                f"external reference to {exc.sysid!r} is refused",
            )
        except DefusedXmlException as exc:
            return error("xml-forbidden", f"refused unsafe XML construct: {exc}")
        except ParseError as exc:
            line, column = exc.position
            reason = str(exc).rsplit(": line ", 1)[0]
            return error("malformed-xml", reason, f"line {line}, column {column + 1}")
        warnings: list[ValidationIssue] = []
        if skipped:
            name, line, column = skipped[0]
            warnings.append(
                ValidationIssue(
                    code="skipped-entity",
                    message=f"entity {name!r} is declared outside the document and left out "
                    f"(external DTDs are not loaded); {len(skipped)} such reference(s)",
                    location=f"line {line}, column {column}",
                )
            )
        xsd = self.policy.schema_path_for(content.item, "xml-schema")
        if xsd is None:
            return ValidationResult(warnings=warnings)
        if skipped:
            # lxml keeps such references as entity nodes, which XSD validation cannot take.
            return ValidationResult(
                errors=[
                    ValidationIssue(
                        code="schema",
                        message="cannot be validated against the XML Schema: it references "
                        "entities of an external DTD, which is never loaded",
                        location=warnings[0].location,
                    )
                ],
                warnings=warnings,
            )
        return ValidationResult(errors=load_xsd(xsd).issues(content.data), warnings=warnings)
