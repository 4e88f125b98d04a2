"""Writes the binary documents of the sample corpus to samples/corpus/documents/: one small
PDF, DOCX, PPTX, XLSX and EPUB of Brightwater Labs, plus an encrypted PDF (rejected as
`encrypted`) and a scanned-style PDF without a text layer (skipped as `no-text-layer`).

    python samples/make_documents.py

The builders are those of the tests (tests/support/documents.py), so what the corpus holds
is what the golden tests check.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.documents import (  # noqa: E402 - after the path set-up
    make_blank_pdf,
    make_docx,
    make_epub,
    make_pdf,
    make_pptx,
    make_xlsx,
)

OUT = ROOT / "samples" / "corpus" / "documents"

HANDBOOK = [
    ("Welcome to Brightwater Labs", 0, "We sell, install and service laboratory equipment."),
    ("Service levels", 0, "Centrifuges are repaired within two working days."),
    ("Spare parts", 1, "Rotors and seals are kept in the Leeds warehouse."),
    ("Contacts", 0, "Write to service@brightwater.example for any repair."),
]
MANUAL = [
    ("Title", "Centrifuge C-200 Service Manual"),
    ("Heading 1", "Safety"),
    ("Normal", "Unplug the centrifuge and wait for the rotor to stop."),
    ("Heading 1", "Calibration"),
    ("Heading 2", "Speed sensor"),
    ("Normal", "Check the speed sensor against the reference tachometer."),
    ("TABLE", ""),
]
DECK = [
    ("Brightwater Q3 review", ["Service revenue up 12%.", "Two new field engineers."],
     "Thank the Leeds team."),
    ("Priorities for Q4", ["Shorter repair times.", "A spare-parts web shop."], ""),
]  # fmt: skip
PRICES: dict[str, list[list[object]]] = {
    "Price list": [
        ["Part", "SKU", "Price (EUR)"],
        ["Rotor R-12", "BW-1012", 420],
        ["Seal kit", "BW-2040", 35.5],
        ["Speed sensor", "BW-3300", 118],
    ],
    "Notes": [["Prices exclude VAT and shipping."]],
}
GUIDE = [
    ("arrival.xhtml", "Arriving on site", "Report to reception and sign the visitor book."),
    ("repair.xhtml", "Doing the repair", "Log every part you replace in the service app."),
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    files = {
        "service-handbook.pdf": make_pdf(HANDBOOK, title="Service Handbook",
                                         author="Brightwater Labs"),
        "centrifuge-manual.docx": make_docx(MANUAL, author="Brightwater Labs"),
        "q3-review.pptx": make_pptx(DECK),
        "price-list.xlsx": make_xlsx(PRICES, formula=False),
        "field-guide.epub": make_epub(GUIDE, title="Field Engineer's Guide"),
        "salaries-encrypted.pdf": make_pdf(HANDBOOK[:1], table=None, title="Salaries",
                                           user_password="brightwater"),  # noqa: S106 - a sample
        "scanned-invoice.pdf": make_blank_pdf(2),
    }  # fmt: skip
    for name, data in files.items():
        (OUT / name).write_bytes(data)
        print(f"{OUT.relative_to(ROOT) / name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
