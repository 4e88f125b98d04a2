"""Documents built for tests, the sample corpus and the benchmark, with known content:
PDF (fpdf2), DOCX (python-docx), PPTX (python-pptx), XLSX (openpyxl), EPUB (zipfile)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

PDF_PAGES = [
    ("Introduction", 0, "Aardvarks are the first topic of this handbook."),
    ("Installation", 0, "Badgers dig the installation pits on the second page."),
    ("Requirements", 1, "Capybaras need warm water, as the third page says."),
    ("Usage", 0, "Dolphins swim through the usage chapter on page four."),
]
PDF_TABLE = [("Animal", "Legs"), ("Emu", "2"), ("Fox", "4")]


def make_pdf(
    pages: Sequence[tuple[str, int, str]] = PDF_PAGES,
    *,
    table: Sequence[tuple[str, ...]] | None = PDF_TABLE,
    title: str = "Field Handbook",
    author: str = "Ada Tester",
    user_password: str | None = None,
    outline: bool = True,
) -> bytes:
    """One page per (heading, outline level, body); the table goes on the last page."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_font("helvetica", size=12)
    for heading, level, body in pages:
        pdf.add_page()
        if outline:
            pdf.start_section(heading, level=level)
        pdf.multi_cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 10, body, new_x="LMARGIN", new_y="NEXT")
    if table:
        with pdf.table() as grid:
            for row in table:
                cells = grid.row()
                for value in row:
                    cells.cell(value)
    if user_password is not None:
        pdf.set_encryption(owner_password="owner-" + user_password, user_password=user_password)
    return bytes(pdf.output())


def make_blank_pdf(pages: int) -> bytes:
    """Pages with a drawing and no text at all: what a scan without OCR looks like."""
    from fpdf import FPDF

    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.rect(20, 20, 170, 250, style="F")
    return bytes(pdf.output())


DOCX_BODY: list[tuple[str, str]] = [
    ("Title", "Operations Manual"),
    ("Heading 1", "Getting started"),
    ("Normal", "Install the gizmo before the first run."),
    ("Heading 2", "Prerequisites"),
    ("Normal", "A screwdriver and patience."),
    ("TABLE", ""),
    ("Heading 1", "Maintenance"),
    ("Normal", "Oil the gears every spring."),
]
DOCX_TABLE = [("Part", "Count"), ("Gear", "12"), ("Spring", "3")]


def make_docx(
    body: Sequence[tuple[str, str]] = DOCX_BODY, *, author: str = "Grace Writer"
) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.author = author
    document.core_properties.title = "Operations Manual"
    document.sections[0].header.paragraphs[0].text = "HEADER-TEXT-NOT-IN-BODY"
    document.sections[0].footer.paragraphs[0].text = "FOOTER-TEXT-NOT-IN-BODY"
    for style, text in body:
        if style == "TABLE":
            table = document.add_table(rows=len(DOCX_TABLE), cols=2)
            for r, row in enumerate(DOCX_TABLE):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
        else:
            document.add_paragraph(text, style=style)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


PPTX_SLIDES = [
    ("Quarterly review", ["Revenue grew in every region."], "Mention the weather."),
    ("Next steps", ["Hire two engineers.", "Ship the beta."], ""),
]


def make_pptx(slides: Sequence[tuple[str, list[str], str]] = PPTX_SLIDES) -> bytes:
    import pptx
    from pptx.util import Inches

    presentation = pptx.Presentation()
    for title, texts, notes in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[5])  # title only
        slide.shapes.title.text = title
        for n, text in enumerate(texts):
            box = slide.shapes.add_textbox(Inches(1), Inches(2 + n), Inches(6), Inches(1))
            box.text_frame.text = text
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


XLSX_SHEETS: dict[str, list[list[object]]] = {
    "Inventory": [["Item", "Qty", "Price"], ["apple", 3, 1.5], ["pear", 5, 2.25]],
    "Notes": [["free text only"], ["second line"]],
}


def make_xlsx(
    sheets: dict[str, list[list[object]]] = XLSX_SHEETS, *, formula: bool = True
) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if formula and name == "Inventory":
            sheet.append(["total", "=SUM(B2:B3)", None])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


EPUB_CHAPTERS = [
    ("chap1.xhtml", "The Beginning", "Once upon a time a lighthouse keeper kept a log."),
    ("chap2.xhtml", "The Storm", "The storm came in from the west and lasted all night."),
]


def make_epub(chapters: Sequence[tuple[str, str, str]] = EPUB_CHAPTERS, *,
              title: str = "A Small Book", nav: bool = True) -> bytes:  # fmt: skip
    """An EPUB 3 with a nav document (or, `nav=False`, an EPUB 2 with an NCX whose labels
    are "Part N: <title>"); the chapters are written to the zip in reverse order so that
    spine order, not zip order, is what the reader must follow."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        book.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        book.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        items = "".join(
            f'<item id="c{n}" href="{href}" media-type="application/xhtml+xml"/>'
            for n, (href, _, _) in enumerate(chapters)
        )
        spine = "".join(f'<itemref idref="c{n}"/>' for n in range(len(chapters)))
        if nav:
            toc_item = (
                '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" '
                'properties="nav"/>'
            )
            toc_ref = ""
        else:
            toc_item = '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
            toc_ref = ' toc="ncx"'

        book.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:title>{title}</dc:title><dc:creator>Ann Author</dc:creator>"
            "<dc:language>en</dc:language></metadata>"
            f"<manifest>{toc_item}{items}</manifest><spine{toc_ref}>{spine}</spine></package>",
        )
        if nav:
            links = "".join(f'<li><a href="{h}">{name}</a></li>' for h, name, _ in chapters)
            book.writestr(
                "OEBPS/nav.xhtml",
                '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml" '
                'xmlns:epub="http://www.idpf.org/2007/ops"><head><title>Contents</title>'
                f'</head><body><nav epub:type="toc"><ol>{links}</ol></nav></body></html>',
            )
        else:
            points = "".join(
                f'<navPoint id="p{n}"><navLabel><text>Part {n + 1}: {name}</text></navLabel>'
                f'<content src="{href}"/></navPoint>'
                for n, (href, name, _) in enumerate(chapters)
            )
            book.writestr(
                "OEBPS/toc.ncx",
                '<?xml version="1.0"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" '
                f'version="2005-1"><navMap>{points}</navMap></ncx>',
            )
        for href, name, body in reversed(chapters):
            book.writestr(
                f"OEBPS/{href}",
                '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
                '<html xmlns="http://www.w3.org/1999/xhtml"><head>'
                f"<title>{name}</title></head><body><h1>{name}</h1><p>{body}</p>"
                f"<p>{body} Again, for length.</p></body></html>",
            )
    return out.getvalue()


def encrypt_ooxml(data: bytes, password: str = "secret") -> bytes:
    """A real password-protected Office file (an OLE container with an EncryptedPackage)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


def replace_member(package: bytes, name: str, data: bytes) -> bytes:
    """`package` with member `name` replaced (or added)."""
    source = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info))
        target.writestr(name, data)
    return out.getvalue()


def zip_bomb(package: bytes, size: int = 200 * 1024 * 1024) -> bytes:
    """`package` plus a member of `size` zeros, deflated to about a thousandth of that."""
    source = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        with target.open("customXml/item9.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(size >> 20):
                member.write(block)
    return out.getvalue()


def raw_pdf(objects: Sequence[bytes], root: int = 1) -> bytes:
    """A PDF file of `objects` (numbered from 1, bodies without `obj`/`endobj`) with a
    correct cross-reference table: hostile structures fpdf2 would never write."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        root,
        xref,
    )
    return bytes(out)


def empty_pages_pdf(pages: int) -> bytes:
    """`pages` pages sharing one empty content stream."""
    kids = b" ".join(b"%d 0 R" % (4 + n) for n in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Length 0 >>\nstream\n\nendstream",
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>"
    return raw_pdf([*objects, *([page] * pages)])


def huge_stream_pdf(megabytes: int = 50) -> bytes:
    """One page whose content stream inflates to `megabytes` MB of drawing operators."""
    import zlib

    unit = b"10 10 m 20 20 l S\n"
    stream = zlib.compress(unit * (megabytes * 1024 * 1024 // len(unit)), 9)
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream",
        ]
    )


def recursive_pdf() -> bytes:
    """A page tree whose node is its own kid, and an outline item that is its own next."""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /Outlines 3 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 4 0 R] /Count 2 /Parent 2 0 R >>",
            b"<< /Type /Outlines /First 5 0 R /Last 5 0 R /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources 4 0 R >>",
            b"<< /Title (Loop) /Parent 3 0 R /Next 5 0 R /First 5 0 R /Dest [4 0 R /Fit] >>",
        ]
    )
