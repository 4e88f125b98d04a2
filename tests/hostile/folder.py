"""The hostile folder: one generator per case, each writing its files under a root and
returning the paths (relative to the root, as bytes when the name is not UTF-8) of the
items it must produce, with the handling each one must get.

`build_folder(root)` writes every case, plus a few good files, into one folder, so that a
single filesystem flow run covers them all.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Callable
from pathlib import Path

from tests.hostile.cases import MB, Case, Expect, register

#: Planted in a file outside the root that symlinks point at: it must never be stored.
OUTSIDE_SECRET = "HOSTILE-OUTSIDE-SECRET-5f1d9c"

GOOD = {
    "good/readme.md": "# Good\n\nA fine page.\n\n## More\n\nMore of it.\n",
    "good/code.py": "def ok() -> int:\n    return 1\n",
    "good/data.json": '{"id": 1, "tags": ["a", "b"]}\n',
}

Builder = Callable[[Path], list[str | bytes]]
FS_CASES: list[Case] = []


def _case(
    name: str,
    summary: str,
    expect: Expect,
    *,
    seconds: float = 2.0,
    peak_mb: float = 48.0,
    known_failure: str | None = None,
) -> Callable[[Builder], Builder]:
    def wrap(build: Builder) -> Builder:
        case = Case(
            name=name,
            category="filesystem",
            runner="fs-flow",
            summary=summary,
            expect=expect,
            max_seconds=seconds,
            max_peak_mb=peak_mb,
            known_failure=known_failure,
            build=build,
        )
        FS_CASES.append(case)
        register(case)
        return build

    return wrap


def _write(root: Path, rel: str, data: bytes | str) -> list[str | bytes]:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return [rel]


# -- names and links --------------------------------------------------------------------


@_case("traversal-names", "names made of dots and backslashes", Expect("new"))
def traversal_names(root: Path) -> list[str | bytes]:
    made: list[str | bytes] = []
    for name in ("..\\..\\etc\\passwd.txt", "...txt", "%2e%2e%2fescape.txt"):
        made += _write(root, f"names/{name}", f"harmless text of {name}\n")
    return made


@_case(
    "invalid-encoding-name", "a file name that is not valid UTF-8", Expect("rejected", "bad-name")
)
def invalid_name(root: Path) -> list[str | bytes]:
    folder = root / "names"
    folder.mkdir(parents=True, exist_ok=True)
    raw = os.fsencode(folder) + b"/caf\xe9-\xff.txt"
    with open(raw, "wb") as handle:
        handle.write(b"latin-1 name\n")
    return [b"names/caf\xe9-\xff.txt"]


@_case(
    "symlink-escape-absolute",
    "a symlink to a file outside the root",
    Expect("skipped", "symlink-outside-root"),
)
def symlink_escape(root: Path) -> list[str | bytes]:
    (root / "links").mkdir(exist_ok=True)
    (root / "links" / "outside.txt").symlink_to(root.parent / "outside" / "secret.txt")
    return ["links/outside.txt"]


@_case(
    "symlink-escape-relative",
    "a relative ../../ symlink out of the root",
    Expect("skipped", "symlink-outside-root"),
)
def symlink_escape_relative(root: Path) -> list[str | bytes]:
    (root / "links").mkdir(exist_ok=True)
    (root / "links" / "up.md").symlink_to("../../outside/secret.txt")
    return ["links/up.md"]


@_case(
    "symlink-dir-escape",
    "a symlinked folder leading outside",
    Expect("skipped", "symlink-outside-root"),
)
def symlink_dir_escape(root: Path) -> list[str | bytes]:
    (root / "links").mkdir(exist_ok=True)
    (root / "links" / "outdir").symlink_to(root.parent / "outside", target_is_directory=True)
    return ["links/outdir"]


@_case("symlink-cycle", "two symlinks pointing at each other", Expect("rejected", "symlink-loop"))
def symlink_cycle(root: Path) -> list[str | bytes]:
    (root / "loops").mkdir(exist_ok=True)
    (root / "loops" / "a.txt").symlink_to("b.txt")
    (root / "loops" / "b.txt").symlink_to("a.txt")
    return ["loops/a.txt", "loops/b.txt"]


@_case("directory-loop", "a symlink to an ancestor folder", Expect("rejected", "symlink-loop"))
def directory_loop(root: Path) -> list[str | bytes]:
    (root / "loops" / "deep").mkdir(parents=True, exist_ok=True)
    (root / "loops" / "deep" / "again").symlink_to("..", target_is_directory=True)
    return ["loops/deep/again"]


@_case("broken-symlink", "a dangling symlink", Expect("rejected", "broken-symlink"))
def broken_symlink(root: Path) -> list[str | bytes]:
    (root / "links").mkdir(exist_ok=True)
    (root / "links" / "dangling.md").symlink_to("nowhere.md")
    return ["links/dangling.md"]


# -- special files ----------------------------------------------------------------------


@_case(
    "fifo",
    "a named pipe with a text name (opening it would block)",
    Expect("skipped", "special-file"),
)
def fifo(root: Path) -> list[str | bytes]:
    (root / "special").mkdir(exist_ok=True)
    os.mkfifo(root / "special" / "pipe.txt")
    return ["special/pipe.txt"]


@_case("unix-socket", "a unix socket named like a document", Expect("skipped", "special-file"))
def unix_socket(root: Path) -> list[str | bytes]:
    (root / "special").mkdir(exist_ok=True)
    path = root / "special" / "sock.md"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
    return ["special/sock.md"]


@_case(
    "device-file",
    "a character device (/dev/zero's numbers) named .txt",
    Expect("skipped", "special-file"),
)
def device_file(root: Path) -> list[str | bytes]:
    (root / "special").mkdir(exist_ok=True)
    path = root / "special" / "zero.txt"
    try:
        os.mknod(path, stat.S_IFCHR | 0o644, os.makedev(1, 5))
    except PermissionError:
        return []  # not root: the case is reported as not tried
    return ["special/zero.txt"]


# -- sizes ------------------------------------------------------------------------------


@_case("zero-byte", "an empty file", Expect("skipped", "empty"))
def zero_byte(root: Path) -> list[str | bytes]:
    return _write(root, "sizes/empty.md", b"")


@_case(
    "sparse-1gb",
    "a 1 GiB sparse file (over the 10 MiB cap)",
    Expect("skipped", "too-large"),
    peak_mb=16,
)
def sparse(root: Path) -> list[str | bytes]:
    (root / "sizes").mkdir(exist_ok=True)
    with (root / "sizes" / "sparse.txt").open("wb") as handle:
        handle.truncate(1 << 30)
    return ["sizes/sparse.txt"]


@_case(
    "10mb-single-line",
    "10 MB of words without a newline (stored, with a long-line warning)",
    Expect("new", message="line-too-long"),
    seconds=6.0,
    # The whole run's growth: the bytes, the decoded and the cleaned text, the chunks, the
    # document and its rows on their way to SQLite each hold about the 10 MB once.
    peak_mb=200,
)
def long_line(root: Path) -> list[str | bytes]:
    return _write(root, "sizes/oneline.txt", b"word " * (2 * 1000 * 1000))


# -- bytes and encodings ----------------------------------------------------------------


@_case("nul-bytes", "text with NUL bytes in its first block", Expect("rejected", "binary"))
def nul_bytes(root: Path) -> list[str | bytes]:
    return _write(root, "bytes/nul.txt", b"hello\x00world\x00" * 100)


@_case("late-nul-byte", "a NUL byte after the sniffed first 8 KB", Expect("rejected", "nul-bytes"))
def late_nul(root: Path) -> list[str | bytes]:
    return _write(root, "bytes/late-nul.md", b"# Title\n\n" + b"text line\n" * 1000 + b"x\x00y\n")


@_case("binary-as-markdown", "PNG bytes named .md", Expect("rejected", "binary"))
def png_as_md(root: Path) -> list[str | bytes]:
    return _write(
        root, "bytes/image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
    )


@_case("elf-as-python", "an ELF header named .py", Expect("rejected", "binary"))
def elf_as_py(root: Path) -> list[str | bytes]:
    return _write(
        root, "bytes/tool.py", b"\x7fELF\x02\x01\x01\x00" + bytes(8) + bytes(range(256)) * 8
    )


@_case("utf8-bom", "Markdown with a UTF-8 BOM", Expect("new"))
def utf8_bom(root: Path) -> list[str | bytes]:
    return _write(root, "enc/bom8.md", b"\xef\xbb\xbf# Caf\xc3\xa9\n\nBody.\n")


@_case("utf16-bom", "text in UTF-16 LE with its BOM", Expect("new"))
def utf16_bom(root: Path) -> list[str | bytes]:
    return _write(root, "enc/bom16.txt", "\ufeffNa\u00efve text in UTF-16.\n".encode("utf-16-le"))


@_case("utf32-bom", "JSON in UTF-32 BE with its BOM", Expect("new"))
def utf32_bom(root: Path) -> list[str | bytes]:
    return _write(root, "enc/bom32.json", '\ufeff{"k": "v\u00e9"}\n'.encode("utf-32-be"))


@_case(
    "bom-then-garbage",
    "a UTF-16 BOM followed by an odd number of bytes",
    Expect("rejected", "undecodable"),
)
def bom_garbage(root: Path) -> list[str | bytes]:
    return _write(root, "enc/bad-bom.txt", b"\xff\xfeA\x00B")


@_case(
    "utf16-without-bom",
    "UTF-16 text without a BOM (NUL every other byte)",
    Expect("rejected", "binary"),
)
def utf16_no_bom(root: Path) -> list[str | bytes]:
    return _write(root, "enc/nobom16.txt", "plain words here\n".encode("utf-16-le") * 20)


@_case("latin1-text", "Latin-1 text (not UTF-8)", Expect("new"))
def latin1(root: Path) -> list[str | bytes]:
    text = "Le caf\u00e9 est tr\u00e8s bon, na\u00efve fa\u00e7ade, d\u00e9j\u00e0 vu.\n" * 30
    return _write(root, "enc/latin1.txt", text.encode("latin-1"))


@_case("mixed-encodings", "UTF-8 and Latin-1 lines in one file", Expect("new"))
def mixed(root: Path) -> list[str | bytes]:
    data = ("caf\u00e9 utf8\n".encode() + "caf\u00e9 latin\n".encode("latin-1")) * 50
    return _write(root, "enc/mixed.txt", data)


# -- structured data --------------------------------------------------------------------


@_case("json-100k-deep", "JSON nested 100,000 levels", Expect("rejected", "too-deep"))
def deep_json(root: Path) -> list[str | bytes]:
    return _write(root, "data/deep.json", b"[" * 100_000 + b"]" * 100_000)


@_case("json-deep-objects", "JSON objects nested 50,000 levels", Expect("rejected", "too-deep"))
def deep_json_objects(root: Path) -> list[str | bytes]:
    return _write(root, "data/deep-objects.json", b'{"a":' * 50_000 + b"1" + b"}" * 50_000)


@_case("json-huge-number", "a JSON number of 100,000 digits", Expect("rejected"))
def json_huge_number(root: Path) -> list[str | bytes]:
    return _write(root, "data/number.json", b'{"n": ' + b"9" * 100_000 + b"}")


@_case("xml-100k-deep", "XML elements nested 100,000 levels", Expect("new"))
def deep_xml(root: Path) -> list[str | bytes]:
    return _write(root, "data/deep.xml", b"<a>" * 100_000 + b"</a>" * 100_000)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n<lolz>&lol9;</lolz>\n"
)


@_case("xml-billion-laughs", "XML entity expansion bomb", Expect("rejected", "entities-forbidden"))
def xml_bomb(root: Path) -> list[str | bytes]:
    return _write(root, "data/bomb.xml", BILLION_LAUGHS)


@_case(
    "xml-external-entity",
    "XXE naming a secret file outside the root",
    Expect("rejected", "entities-forbidden"),
)
def xxe(root: Path) -> list[str | bytes]:
    secret = (root.parent / "outside" / "secret.txt").as_uri()
    text = f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "{secret}">]>\n<r>&x;</r>\n'
    return _write(root, "data/xxe.xml", text)


@_case(
    "xml-parameter-entity",
    "an external parameter entity (DTD fetch)",
    Expect("rejected", "entities-forbidden"),
)
def xml_param_entity(root: Path) -> list[str | bytes]:
    dtd = '<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;'
    text = f'<?xml version="1.0"?>\n<!DOCTYPE r [{dtd}]>\n<r/>\n'
    return _write(root, "data/param.xml", text)


@_case(
    "csv-ragged-multiline",
    "CSV with ragged rows and quoted embedded newlines",
    Expect("new", message="ragged-row"),
)
def csv_ragged(root: Path) -> list[str | bytes]:
    rows = ["id,name,note"] + [f'{i},n{i},"line one\nline two of {i}"' for i in range(200)]
    rows[50] = "50,short"
    rows[120] = "120,a,b,c,d"
    return _write(root, "data/ragged.csv", "\n".join(rows) + "\n")


@_case("csv-unterminated-quote", "CSV whose quote never closes", Expect("new"))
def csv_unterminated(root: Path) -> list[str | bytes]:
    return _write(root, "data/unterminated.csv", 'a,b\n1,"never closed\n' + "x,y\n" * 500)


@_case(
    "markdown-10k-nested-lists",
    "Markdown with 10,000 nested list levels",
    Expect("new"),
    seconds=5.0,
)
def md_nested(root: Path) -> list[str | bytes]:
    # "- - - item" opens one list per marker: 10,000 levels in 20 KB.
    return _write(root, "text/nested.md", "- " * 10_000 + "item\n")


@_case("markdown-10k-blockquotes", "10,000 nested block quotes", Expect("new"), seconds=5.0)
def md_quotes(root: Path) -> list[str | bytes]:
    return _write(root, "text/quotes.md", ">" * 10_000 + " deep\n")


@_case("html-100k-nested-divs", "HTML with 100,000 nested divs", Expect("new"), seconds=5.0)
def html_nested(root: Path) -> list[str | bytes]:
    return _write(
        root, "text/nested.html", "<html><body>" + "<div>" * 100_000 + "deep" + "</div>" * 100_000
    )


@_case(
    "html-100k-attributes",
    "one element with 100,000 attributes (libxml2 checks them in quadratic time)",
    Expect("rejected", "processing", "attributes"),
)
def html_attributes(root: Path) -> list[str | bytes]:
    attributes = " ".join(f'a{i}=">"' for i in range(100_000))
    return _write(
        root, "text/attributes.html", f"<html><body><div {attributes}>x</div></body></html>"
    )


# -- code that crashes naive parsers ----------------------------------------------------


@_case(
    "python-100k-nested-parens",
    "Python with 100,000 nested parentheses (stored as text, syntax warning)",
    Expect("new", message="syntax"),
)
def py_parens(root: Path) -> list[str | bytes]:
    return _write(root, "code/parens.py", "x = " + "(" * 100_000 + "1" + ")" * 100_000 + "\n")


@_case(
    "python-100k-binop-chain",
    "Python with a 100,000-term expression (a deep AST)",
    Expect("new"),
    seconds=5.0,
)
def py_chain(root: Path) -> list[str | bytes]:
    return _write(root, "code/chain.py", "x = " + "+".join(["1"] * 100_000) + "\n")


@_case(
    "python-deep-indent",
    "Python with 1,000 nested blocks (over the parser's 100)",
    Expect("new", message="syntax"),
)
def py_indent(root: Path) -> list[str | bytes]:
    lines = [" " * i + "if x:" for i in range(1000)] + [" " * 1000 + "pass"]
    return _write(root, "code/indent.py", "\n".join(lines) + "\n")


@_case(
    "javascript-unbalanced", "JavaScript with 50,000 unclosed braces", Expect("new"), seconds=5.0
)
def js_unbalanced(root: Path) -> list[str | bytes]:
    return _write(root, "code/open.js", "function f() {\n" * 50_000)


@_case(
    "python-surrogates",
    "Python with lone surrogates encoded as bytes (invalid UTF-8)",
    Expect("new"),
)
def py_surrogates(root: Path) -> list[str | bytes]:
    return _write(root, "code/surrogate.py", b"s = '\xed\xa0\x80'\n" * 10)


# -- permissions (real only when the run is not root: the test runs it as `nobody`) -----


@_case(
    "permission-denied-file",
    "a file mode 000",
    Expect("failed", "SourceAccessError", "permission denied"),
)
def denied_file(root: Path) -> list[str | bytes]:
    made = _write(root, "perm/locked.md", "# Locked\n")
    (root / "perm" / "locked.md").chmod(0)
    return made


@_case(
    "permission-denied-folder",
    "a folder mode 000 (its files cannot be listed)",
    Expect("rejected", "unreadable-dir"),
)
def denied_folder(root: Path) -> list[str | bytes]:
    _write(root, "perm/closed/inside.md", "# Inside\n")
    (root / "perm" / "closed").chmod(0)
    return ["perm/closed"]


def build_folder(root: Path) -> dict[str, list[str | bytes]]:
    """Write the outside secret, the good files and every case; {case name: item paths}."""
    outside = root.parent / "outside"
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.txt").write_text(f"{OUTSIDE_SECRET}\n")
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in GOOD.items():
        _write(root, rel, text)
    return {case.name: case.build(root) for case in FS_CASES if case.build is not None}


#: Size of what the folder writes to disk (the sparse file aside): for the test's budget.
APPROX_BYTES = 12 * MB
