"""Content types: guessed from a name, confirmed by sniffing the first bytes."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

TEXT = "text/plain"
MARKDOWN = "text/markdown"
HTML = "text/html"
JSON = "application/json"
CSV = "text/csv"
XML = "application/xml"
BINARY = "application/octet-stream"
#: Content-Types servers send when they do not know the type: they say nothing, the
#: bytes decide (a PDF sent as octet-stream is a PDF).
GENERIC_TYPES = frozenset(
    {BINARY, "binary/octet-stream", "application/x-download", "application/force-download"}
)
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EPUB = "application/epub+zip"
#: Binary document formats: they reach their processors as bytes, never decoded.
DOCUMENT_TYPES: tuple[str, ...] = (PDF, DOCX, PPTX, XLSX, EPUB)
OOXML_TYPES: tuple[str, ...] = (DOCX, PPTX, XLSX)
#: An OLE compound file: legacy Office, or an encrypted OOXML package ("EncryptedPackage").
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

#: content type -> language name, for every source-code type we know.
CODE_LANGUAGES: dict[str, str] = {
    "text/x-python": "python",
    "text/x-javascript": "javascript",
    "text/x-typescript": "typescript",
    "text/x-go": "go",
    "text/x-rust": "rust",
    "text/x-java": "java",
    "text/x-c": "c",
    "text/x-c++": "cpp",
    "text/x-csharp": "csharp",
    "text/x-ruby": "ruby",
    "text/x-php": "php",
    "text/x-shellscript": "bash",
    "text/x-sql": "sql",
    "application/yaml": "yaml",
    "application/toml": "toml",
}

_BY_SUFFIX: dict[str, str] = {
    ".txt": TEXT,
    ".text": TEXT,
    ".log": TEXT,
    ".rst": TEXT,
    ".adoc": TEXT,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".mdown": MARKDOWN,
    ".mkd": MARKDOWN,
    ".html": HTML,
    ".htm": HTML,
    ".xhtml": HTML,
    ".json": JSON,
    ".jsonld": JSON,
    ".geojson": JSON,
    ".csv": CSV,
    ".tsv": CSV,
    ".xml": XML,
    ".xsd": XML,
    ".rss": XML,
    ".atom": XML,
    ".py": "text/x-python",
    ".pyi": "text/x-python",
    ".js": "text/x-javascript",
    ".mjs": "text/x-javascript",
    ".cjs": "text/x-javascript",
    ".jsx": "text/x-javascript",
    ".ts": "text/x-typescript",
    ".tsx": "text/x-typescript",
    ".mts": "text/x-typescript",
    ".go": "text/x-go",
    ".rs": "text/x-rust",
    ".java": "text/x-java",
    ".c": "text/x-c",
    ".h": "text/x-c",
    ".cc": "text/x-c++",
    ".cpp": "text/x-c++",
    ".cxx": "text/x-c++",
    ".hpp": "text/x-c++",
    ".hh": "text/x-c++",
    ".cs": "text/x-csharp",
    ".rb": "text/x-ruby",
    ".php": "text/x-php",
    ".sh": "text/x-shellscript",
    ".bash": "text/x-shellscript",
    ".zsh": "text/x-shellscript",
    ".sql": "text/x-sql",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    ".pdf": PDF,
    ".docx": DOCX,
    ".docm": DOCX,
    ".pptx": PPTX,
    ".pptm": PPTX,
    ".xlsx": XLSX,
    ".xlsm": XLSX,
    ".epub": EPUB,
}

_OOXML_PARTS = (("word/", DOCX), ("ppt/", PPTX), ("xl/", XLSX))

# Files whose name says they are not text: images (SVG too: XML, but a picture, not
# prose), audio, video, fonts, archives, executables and the office formats this tool
# does not read. They are skipped by type, unread, unless a processor takes their type.
_NOT_TEXT_BY_SUFFIX: dict[str, str] = {
    **dict.fromkeys((".png", ".apng"), "image/png"),
    **dict.fromkeys((".jpg", ".jpeg", ".jpe"), "image/jpeg"),
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    **dict.fromkeys((".tif", ".tiff"), "image/tiff"),
    ".ico": "image/vnd.microsoft.icon",
    ".icns": "image/icns",
    ".svg": "image/svg+xml",
    ".svgz": "image/svg+xml",
    ".avif": "image/avif",
    ".heic": "image/heic",
    ".psd": "image/vnd.adobe.photoshop",
    **dict.fromkeys((".mp3", ".wav", ".ogg", ".flac", ".m4a", ".aac", ".opus"), "audio/*"),
    **dict.fromkeys((".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"), "video/*"),
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
    ".zip": "application/zip",
    **dict.fromkeys((".jar", ".war", ".whl", ".egg", ".apk", ".nupkg"), "application/zip"),
    **dict.fromkeys((".gz", ".tgz"), "application/gzip"),
    **dict.fromkeys((".bz2", ".tbz2"), "application/x-bzip2"),
    **dict.fromkeys((".xz", ".txz", ".lzma"), "application/x-xz"),
    ".zst": "application/zstd",
    ".tar": "application/x-tar",
    ".7z": "application/x-7z-compressed",
    ".rar": "application/vnd.rar",
    **dict.fromkeys((".deb", ".rpm", ".dmg", ".iso", ".msi"), "application/octet-stream"),
    **dict.fromkeys(
        (".exe", ".dll", ".so", ".dylib", ".o", ".obj", ".a", ".lib", ".bin", ".wasm"),
        "application/octet-stream",
    ),
    **dict.fromkeys((".pyc", ".pyo", ".class"), "application/octet-stream"),
    **dict.fromkeys((".doc", ".xls", ".ppt", ".odt", ".ods", ".odp"), "application/octet-stream"),
    **dict.fromkeys((".sqlite", ".sqlite3", ".db", ".parquet"), "application/octet-stream"),
}

_BY_NAME: dict[str, str] = {
    "readme": TEXT,
    "license": TEXT,
    "changelog": TEXT,
    "authors": TEXT,
    "makefile": TEXT,
    "dockerfile": TEXT,
}

_SHEBANGS: dict[str, str] = {
    "python": "text/x-python",
    "node": "text/x-javascript",
    "bash": "text/x-shellscript",
    "sh": "text/x-shellscript",
    "zsh": "text/x-shellscript",
    "ruby": "text/x-ruby",
    "php": "text/x-php",
}


def guess_content_type(name: str) -> str | None:
    """Content type from a file name or URL path, or None when the name says nothing."""
    path = PurePosixPath(name)
    suffix = path.suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    return _BY_NAME.get(path.stem.lower()) if not suffix else None


def sniff_document_type(data: bytes, guessed: str | None) -> str | None:
    """The document type the bytes are, whatever the name says: `%PDF-` at the start, a
    zip holding `[Content_Types].xml` (DOCX, PPTX, XLSX by their main part) or an EPUB
    `mimetype`; an OLE container named as OOXML keeps its name (an encrypted package, which
    its validator reports). None when the bytes are no document format."""
    if data.startswith(b"%PDF-") or (guessed == PDF and b"%PDF-" in data[:1024]):
        # Readers accept junk before the header; a text that only mentions it stays text.
        return PDF
    if data.startswith(OLE_MAGIC):
        return guessed if guessed in OOXML_TYPES else None
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        names = package.namelist()
        if "mimetype" in names and package.getinfo("mimetype").file_size < 64:
            if package.read("mimetype").strip() == EPUB.encode():
                return EPUB
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, RuntimeError):
        # A damaged package still goes to the processor its name promises, to be rejected
        # with the reason.
        return guessed if guessed in DOCUMENT_TYPES and guessed != PDF else None
    if "[Content_Types].xml" in names:
        for prefix, content_type in _OOXML_PARTS:
            if any(name.startswith(prefix) for name in names):
                return content_type
    return guessed if guessed in (EPUB, *OOXML_TYPES) else None


def is_document(content_type: str) -> bool:
    return content_type in DOCUMENT_TYPES


def not_text_type(name: str) -> str | None:
    """The type of a file whose name says it is not text (an image, an archive, a font,
    an executable, ...), or None."""
    return _NOT_TEXT_BY_SUFFIX.get(PurePosixPath(name).suffix.lower())


def sniff_content_type(head: str, guessed: str | None) -> str:
    """Refine a guess with the start of the decoded text (shebangs, markup, JSON)."""
    stripped = head.lstrip("\ufeff \t\r\n")
    if stripped.startswith("#!"):
        first = stripped.split("\n", 1)[0]
        words = first[2:].replace("/usr/bin/env", " ").split()
        if words:
            interpreter = PurePosixPath(words[0]).name.rstrip("0123456789.")
            if interpreter in _SHEBANGS:
                return _SHEBANGS[interpreter]
    if guessed is not None:
        return guessed
    lowered = stripped[:512].lower()
    if lowered.startswith(("<!doctype html", "<html")):
        return HTML
    if lowered.startswith("<?xml"):
        return XML
    if stripped[:1] in "{[" and stripped.rstrip()[-1:] in "}]":
        return JSON
    return TEXT
