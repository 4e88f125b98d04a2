"""A generated copy of a typical code repository: Markdown docs, Python with empty
`__init__.py` files, images (PNG, SVG, ICO), an archive, and a few bad files. Each
file's expected outcome and reason code is returned with it."""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
ICO = b"\x00\x00\x01\x00\x01\x00\x10\x10" + bytes(range(256)) * 2
SVG = (
    '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    '<path d="M0 0 L10 10"/></svg>\n'
)
# Over the test's --max-file-size of 64 KB, under the default cap.
OVERSIZE = 70 * 1024


def png_bytes(seed: int) -> bytes:
    return PNG + zlib.compress(seed.to_bytes(4, "big") * 64)


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inside.md", "# Inside\n\nNot read: the archive is skipped by type.\n")
    return buffer.getvalue()


def write(root: Path, rel: str, data: bytes | str) -> str:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)
    return rel


def typical_repository(root: Path) -> dict[str, tuple[str, str | None]]:
    """Write the repository; return rel path -> (outcome, reason code or None)."""
    expected: dict[str, tuple[str, str | None]] = {}

    def add(rel: str, data: bytes | str, outcome: str, code: str | None = None) -> None:
        expected[write(root, rel, data)] = (outcome, code)

    add("README.md", "# Tool\n\nWhat it does.\n\n## Install\n\npip install tool\n", "new")
    add("docs/guide.md", "# Guide\n\nStep one.\n\n## Next\n\nStep two.\n", "new")
    add("src/tool/__init__.py", "", "skipped", "empty")
    add("src/tool/sub/__init__.py", "", "skipped", "empty")
    add("src/tool/blank.py", "\n   \n\t\n", "skipped", "empty")
    add("src/tool/core.py", "def run(x: int) -> int:\n    return x + 1\n", "new")
    add("src/tool/config.json", '{"name": "tool", "level": 3}\n', "new")
    add("docs/img/logo.png", png_bytes(1), "skipped", "unsupported-type")
    add("docs/img/diagram.svg", SVG, "skipped", "unsupported-type")
    add("favicon.ico", ICO, "skipped", "unsupported-type")
    add("dist/tool-1.0.zip", zip_bytes(), "skipped", "unsupported-type")
    add("data/blob", b"\x00\x01\x02\x03" * 512, "skipped", "binary")
    add("data/huge.md", "# Huge\n\n" + "word " * (OVERSIZE // 5), "skipped", "too-large")
    add("data/broken.json", '{"name": "tool", "level": }\n', "rejected", "invalid-json")
    add("docs/screenshot.md", PNG, "rejected", "binary")
    add(
        "notes/bad-utf8.txt",
        b"caf\xc3\xa9 then \xff\xfe invalid \x80\x81 bytes\n" * 4,
        "rejected",
        "undecodable",
    )
    return expected
