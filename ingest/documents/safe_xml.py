"""lxml parsers of python-docx and python-pptx made strict: no entity resolution, no DTD
loading, no network, no huge trees. The zip guard already refuses DTDs and entity
declarations; this is the second wall."""

from __future__ import annotations

from typing import Any

from lxml import etree


def harden(module: Any) -> None:
    """Replace `module.oxml_parser` with a strict parser keeping its element classes
    (`module.element_class_lookup`)."""
    parser = etree.XMLParser(
        remove_blank_text=True,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        dtd_validation=False,
    )
    parser.set_element_class_lookup(module.element_class_lookup)
    module.oxml_parser = parser
