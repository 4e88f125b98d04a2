"""Document throughput: ours against LlamaIndex, LangChain and MarkItDown, in one run.

    python benchmarks/bench_documents.py                      # 200 PDFs of 1-200 pages,
                                                              # 200 DOCX, 100 PPTX, 100 XLSX
    python benchmarks/bench_documents.py --scale 0.02 --max-pages 10   # a smoke run
    python benchmarks/bench_documents.py --budget 300   # at most 300 s per side and type

Generates the set (fpdf2, python-docx, python-pptx, openpyxl), then reads every file with
each side in its own process, one after the other:
- `ours`: sniff, validate and process with the code the pipeline runs (the parse in the
  sandbox child process; its memory is counted in the peak);
- `llamaindex`: `SimpleDirectoryReader`'s default readers (pypdf for PDF, docx2txt for DOCX,
  its PPTX reader, pandas for XLSX), then `SentenceSplitter`;
- `langchain`: `PyPDFLoader`, `Docx2txtLoader`, `UnstructuredPowerPointLoader`,
  `UnstructuredExcelLoader`, then `RecursiveCharacterTextSplitter` (2,000 characters);
- `markitdown`: `MarkItDown().convert` (it converts to Markdown and does not chunk).
The comparison sides run in their own virtualenv (`--venv`, created on first use from
benchmarks/requirements-documents.txt). A side that cannot read a type says why.

Each side reads the files of a type one by one in the same shuffled order; with
`--budget` a side stops after that many seconds on a type, having read a sample of every
size, and its pages/s are counted on what it read (the table says how many files).

Per side and type: files, pages (PDF pages, PPTX slides), seconds, pages/s, chunks, the
share of chunks that carry a page (or slide, sheet) location, and the peak RSS of the side's
process and its children. Wall seconds: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import resource
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-documents.txt"
DEFAULT_VENV = Path.home() / ".cache" / "aichemist-ingest" / "bench-documents-venv"
TYPES = (".pdf", ".docx", ".pptx", ".xlsx")
WORDS = (
    "sample centrifuge rotor seal calibration service report engineer warehouse order "
    "invoice customer laboratory sensor speed repair parts shipping quality review"
).split()

Stats = dict[str, Any]


# -- the generated set ------------------------------------------------------------------


def _sentence(rng: random.Random, n: int = 14) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def generate(root: Path, scale: float, max_pages: int, seed: int) -> dict[str, int]:
    """The benchmark set under `root`; {file name: pages (slides for PPTX) written}."""
    sys.path.insert(0, str(HERE.parent))
    from tests.support.documents import make_docx, make_pptx, make_xlsx

    rng = random.Random(seed)
    counts = {"pdf": max(1, round(200 * scale)), "docx": max(1, round(200 * scale)),
              "pptx": max(1, round(100 * scale)), "xlsx": max(1, round(100 * scale))}  # fmt: skip
    pages: dict[str, int] = {}
    for folder in counts:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for i in range(counts["pdf"]):
        n = 1 + (i * (max_pages - 1)) // max(1, counts["pdf"] - 1)
        (root / "pdf" / f"doc{i:04d}.pdf").write_bytes(_pdf(rng, n))
        pages[f"doc{i:04d}.pdf"] = n
    for i in range(counts["docx"]):
        body: list[tuple[str, str]] = []
        for section in range(rng.randint(3, 8)):
            body.append(("Heading 1", f"Section {section + 1}"))
            body += [("Normal", _sentence(rng, 30)) for _ in range(rng.randint(2, 6))]
        (root / "docx" / f"doc{i:04d}.docx").write_bytes(make_docx(body))
    for i in range(counts["pptx"]):
        slides = [(f"Slide {s + 1}", [_sentence(rng) for _ in range(3)], _sentence(rng))
                  for s in range(rng.randint(5, 15))]  # fmt: skip
        (root / "pptx" / f"deck{i:04d}.pptx").write_bytes(make_pptx(slides))
        pages[f"deck{i:04d}.pptx"] = len(slides)
    for i in range(counts["xlsx"]):
        rows: list[list[object]] = [["id", "part", "qty", "price", "note"]]
        rows += [[r, rng.choice(WORDS), rng.randint(1, 99), round(rng.random() * 500, 2),
                  _sentence(rng, 5)] for r in range(rng.randint(50, 500))]  # fmt: skip
        (root / "xlsx" / f"book{i:04d}.xlsx").write_bytes(make_xlsx({"Data": rows}, formula=False))
    return pages


def _pdf(rng: random.Random, pages: int) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_compression(True)
    pdf.set_font("helvetica", size=10)
    for page in range(pages):
        pdf.add_page()
        if page % 10 == 0:
            pdf.start_section(f"Chapter {page // 10 + 1}")
        text = " ".join(_sentence(rng) for _ in range(12))
        pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# -- the sides (each in its own process) ---------------------------------------------------


def _by_type(corpus: Path) -> dict[str, list[Path]]:
    files = sorted(path for path in corpus.rglob("*") if path.is_file())
    return {suffix: [p for p in files if p.suffix == suffix] for suffix in TYPES}


def _located(chunks: list[dict[str, Any]], keys: tuple[str, ...]) -> int:
    return sum(any(chunk.get(key) not in (None, "") for key in keys) for chunk in chunks)


Reader = Callable[[str, list[Path]], tuple[int, list[dict[str, Any]], int]]


def _drive(corpus: Path, read: Reader, keys: tuple[str, ...], budget: float) -> dict[str, Stats]:
    """Per type: one untimed file first (imports and warm-up stay out of the timing, for
    every side alike), then the files one by one, timed, in one shuffled order shared by
    every side (so a side that runs out of its `budget` seconds has read files of every
    size); `read` names the files read, whose pages the parent knows."""
    result: dict[str, Stats] = {}
    for suffix, paths in _by_type(corpus).items():
        order = random.Random(suffix).sample(paths, len(paths))
        done: list[str] = []
        chunks: list[dict[str, Any]] = []
        errors = 0
        try:
            read(suffix, paths[:1])
            started = time.perf_counter()
            for path in order:
                _, file_chunks, file_errors = read(suffix, [path])
                done.append(path.name)
                chunks += file_chunks
                errors += file_errors
                if time.perf_counter() - started >= budget:
                    break
        except Exception as exc:  # a reader that needs what is not installed says why
            result[suffix] = {"error": f"{type(exc).__name__}: {exc}"[:160]}
            continue
        result[suffix] = {"files": len(paths), "read": done,
                          "seconds": time.perf_counter() - started, "chunks": len(chunks),
                          "located": _located(chunks, keys), "errors": errors}  # fmt: skip
    return result


def run_ours(corpus: Path, budget: float) -> dict[str, Stats]:
    sys.path.insert(0, str(HERE.parent))
    from ingest.content_types import guess_content_type
    from ingest.documents.sandbox import sandbox
    from ingest.models import SourceItem, content_hash
    from ingest.pipeline import _decode
    from ingest.processors import ChunkPolicy, processor_for
    from ingest.validators import ValidationPolicy, validate

    policy, validation = ChunkPolicy(), ValidationPolicy()

    def read(suffix: str, paths: list[Path]) -> tuple[int, list[dict[str, Any]], int]:
        chunks: list[dict[str, Any]] = []
        pages = errors = 0
        for path in paths:
            data = path.read_bytes()
            item = SourceItem(source_id="bench", uri=path.as_uri(), path=path.name,
                              content_type=guess_content_type(path.name))  # fmt: skip
            content = _decode(item, data, content_hash(data))
            if not validate(content, validation).ok:
                errors += 1
                continue
            try:
                document = processor_for(content.content_type).process(content, policy)
            except Exception:  # counted, not fatal: the benchmark goes on
                errors += 1
                continue
            pages += int(document.metadata.get("page_count") or
                         document.metadata.get("slide_count") or 0)  # fmt: skip
            chunks += [chunk.metadata for chunk in document.chunks]
        return pages, chunks, errors

    result = _drive(corpus, read, ("page_start", "slide", "cell_range", "heading_path"), budget)
    sandbox().stop()  # its peak RSS is then in RUSAGE_CHILDREN
    return result


def run_llamaindex(corpus: Path, budget: float) -> dict[str, Stats]:
    from llama_index.core import SimpleDirectoryReader
    from llama_index.core.node_parser import SentenceSplitter

    splitter = SentenceSplitter()

    def read(suffix: str, paths: list[Path]) -> tuple[int, list[dict[str, Any]], int]:
        documents = SimpleDirectoryReader(input_files=[str(p) for p in paths]).load_data()
        nodes = splitter.get_nodes_from_documents(documents)
        pages = len(documents) if suffix in (".pdf", ".pptx") else 0
        return pages, [dict(node.metadata) for node in nodes], 0

    return _drive(corpus, read, ("page_label", "page"), budget)


def run_langchain(corpus: Path, budget: float) -> dict[str, Stats]:
    from langchain_community.document_loaders import (
        Docx2txtLoader,
        PyPDFLoader,
        UnstructuredExcelLoader,
        UnstructuredPowerPointLoader,
    )
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    loaders: dict[str, Callable[[str], Any]] = {
        ".pdf": PyPDFLoader,
        ".docx": Docx2txtLoader,
        ".pptx": UnstructuredPowerPointLoader,
        ".xlsx": UnstructuredExcelLoader,
    }
    splitter = RecursiveCharacterTextSplitter(chunk_size=2000, chunk_overlap=0)

    def read(suffix: str, paths: list[Path]) -> tuple[int, list[dict[str, Any]], int]:
        documents = [doc for path in paths for doc in loaders[suffix](str(path)).load()]
        chunks = [dict(c.metadata) for c in splitter.split_documents(documents)]
        return (len(documents) if suffix == ".pdf" else 0), chunks, 0

    return _drive(corpus, read, ("page", "page_number"), budget)


def run_markitdown(corpus: Path, budget: float) -> dict[str, Stats]:
    from markitdown import MarkItDown

    converter = MarkItDown()

    def read(suffix: str, paths: list[Path]) -> tuple[int, list[dict[str, Any]], int]:
        converted = [converter.convert(str(path)).text_content for path in paths]
        return 0, [{} for _ in converted], 0  # one Markdown text per file, no chunks

    return _drive(corpus, read, (), budget)


SIDES: dict[str, Callable[[Path, float], dict[str, Stats]]] = {
    "ours": run_ours,
    "llamaindex": run_llamaindex,
    "langchain": run_langchain,
    "markitdown": run_markitdown,
}


def _child(side: str, corpus: Path, budget: float) -> None:
    types = SIDES[side](corpus, budget)
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024  # fmt: skip
    print("RESULT " + json.dumps({"types": types, "peak_rss_mb": peak}))


def _measure(python: Path | str, side: str, corpus: Path, budget: float) -> Stats:
    command = [str(python), __file__, "--child", side, "--corpus", str(corpus),
               "--budget", str(budget)]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((x for x in completed.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        return {"error": completed.stderr.strip().splitlines()[-1:] or ["no result"]}
    return dict(json.loads(line[len("RESULT ") :]))


def ensure_venv(path: Path) -> Path:
    """The comparison sides' own virtualenv; rebuilt when the requirements change."""
    python = path / "bin" / "python"
    stamp = path / ".requirements-sha256"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    print(f"installing {REQUIREMENTS.name} into {path} ...", file=sys.stderr)
    if not python.exists():
        venv.create(path, with_pip=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
                   check=True)  # fmt: skip
    stamp.write_text(digest)
    return python


def _rate(row: Stats, pages: dict[str, int]) -> tuple[int, float]:
    """Pages (slides) of the files a side read, and how many it read per second."""
    shown = sum(pages.get(name, 0) for name in row["read"])
    return shown, shown / (row["seconds"] or 1e-9)


def render(rows: list[tuple[str, Stats]], pages: dict[str, int]) -> str:
    lines = [
        "| side | type | files read | pages | seconds | pages/s | files/s | chunks "
        "| chunks with a location | peak MB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for side, stats in rows:
        if "types" not in stats:
            lines.append(f"| {side} | all | | | | | | | | failed: {stats.get('error')} |")
            continue
        for suffix, row in stats["types"].items():
            if "error" in row:
                lines.append(f"| {side} | {suffix} | | | | | | | | not read: {row['error']} |")
                continue
            seconds = row["seconds"] or 1e-9
            shown, rate = _rate(row, pages)
            read = len(row["read"])
            files = f"{read}" if read == row["files"] else f"{read} of {row['files']}"
            located = f"{row['located'] / row['chunks']:.0%}" if row["chunks"] else ""
            lines.append(
                f"| {side} | {suffix} | {files} | {shown or ''} | {seconds:.2f} "
                f"| {f'{rate:.0f}' if shown else ''} | {read / seconds:.1f} | {row['chunks']} "
                f"| {located} | {stats['peak_rss_mb']:.0f} |"
            )
    ours = dict(rows).get("ours", {}).get("types", {}).get(".pdf")
    for side, stats in rows[1:]:
        theirs = stats.get("types", {}).get(".pdf")
        if ours and theirs and "error" not in theirs and theirs["read"]:
            ratio = _rate(ours, pages)[1] / _rate(theirs, pages)[1]
            lines.append(f"\nours / {side}, PDF pages per second: {ratio:.1f}x")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the full set")
    parser.add_argument("--max-pages", type=int, default=200, help="pages of the longest PDF")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--ours-only", action="store_true", help="skip the comparison sides")
    parser.add_argument("--child", choices=list(SIDES))
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--budget", type=float, default=math.inf, help=(
        "seconds a side may spend on one type; a side that runs out has read a sample "
        "of every size (the table says how many files)"))  # fmt: skip
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.corpus, args.budget)
        return
    anchor = None if args.ours_only else ensure_venv(args.venv)
    with tempfile.TemporaryDirectory(prefix="ingest-bench-documents-") as tmp:
        corpus = Path(tmp) / "set"
        began = time.perf_counter()
        pages = generate(corpus, args.scale, args.max_pages, args.seed)
        files = sum(len(v) for v in _by_type(corpus).values())
        total = {suffix: sum(n for name, n in pages.items() if name.endswith(suffix))
                 for suffix in TYPES}  # fmt: skip
        seconds = time.perf_counter() - began
        print(f"generated {files} files, {total} pages, in {seconds:.0f} s", file=sys.stderr)
        rows = [("ours", _measure(sys.executable, "ours", corpus, args.budget))]
        if anchor is not None:
            for side in ("llamaindex", "langchain", "markitdown"):
                rows.append((side, _measure(anchor, side, corpus, args.budget)))
    print(render(rows, pages))


if __name__ == "__main__":
    main()
