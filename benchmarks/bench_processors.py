"""Processing cost per file: ours against LlamaIndex and LangChain, side by side, in CPU
time and wall time, against the read+hash floor of the same corpus.

    python benchmarks/bench_processors.py --corpus PATH [--rounds 3]
    python benchmarks/bench_processors.py --files 2000

`--corpus PATH` takes a real repository snapshot (benchmarks/fetch_corpus.py clones
one); without it a mixed corpus is generated (benchmarks/corpus.py). Hidden folders
(.git) and binary files (a NUL byte, or not UTF-8) are left out, for every side alike:
each side gets the same list of files. Every side runs in its own process, `--rounds`
times, interleaved (the order rotates each round); the tables show medians.
- `floor`: read and hash every file (what no ingest can avoid);
- `ours`: read, decode, validate and process every file with the code the pipeline
  runs (`ingest.pipeline` decoding, `ingest.validators.validate`, `processor_for`);
- `parsers`: read and decode as `ours` does, then only the parsers ours keeps:
  pulldown-cmark's events for Markdown, `ast.parse` for Python; the bound of what any
  processing built on them can reach;
- `llamaindex`: what a user would ship for RAG: `SimpleDirectoryReader`, then an
  `IngestionPipeline` of `MarkdownNodeParser` and `SentenceSplitter(chunk_size=512)`
  for Markdown, `CodeSplitter` (tree-sitter) for Python, JavaScript and Go,
  `SentenceSplitter` for the rest. LlamaIndex is not a project dependency: it runs in
  its own virtualenv (`--venv`, created on first use from
  benchmarks/requirements-anchors.txt);
- `langchain`: `TextLoader` per file (what `DirectoryLoader` runs), then
  `MarkdownHeaderTextSplitter` (and the recursive splitter inside long sections) for
  Markdown, `RecursiveCharacterTextSplitter.from_language` for Python, JavaScript and
  Go, the recursive splitter for the rest; same virtualenv.
Imports are excluded from the timings. Each row: files, wall seconds, CPU seconds, CPU
ms per file, files/s, chunks, the largest chunk in characters, peak RSS; then ratios
of CPU per file, the same on Markdown and Python files only (issue #19's first goal;
the anchors' loading shared out by file count) and a table per content type.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-anchors.txt"
DEFAULT_VENV = Path.home() / ".cache" / "aichemist-ingest" / "bench-venv"
CODE_LANGUAGES = {".py": "python", ".js": "javascript", ".go": "go"}
# The types of issue #19's first goal, as our side and the anchors' sides name them.
MARKDOWN_AND_PYTHON = frozenset({"text/markdown", "text/x-python", ".md", ".py"})

Stats = dict[str, Any]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def corpus_files(corpus: Path) -> list[Path]:
    """The files every side gets: not in hidden folders, not hidden, not binary."""
    found = []
    for folder, dirs, names in os.walk(corpus):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if not name.startswith(".") and path.is_file() and not _is_binary(path):
                found.append(path)
    return found


def _is_binary(path: Path) -> bool:
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _listed(list_file: Path) -> list[Path]:
    return [Path(line) for line in list_file.read_text(encoding="utf-8").splitlines() if line]


def run_floor(corpus: Path, files: list[Path]) -> Stats:
    from ingest.models import content_hash

    size = 0
    for path in files:
        data = path.read_bytes()
        content_hash(data)
        size += len(data)
    return {"files": len(files), "chunks": 0, "largest_chunk": 0, "bytes": size, "types": {}}


def _decoder(corpus: Path) -> Callable[[Path], Any]:
    """Read a file of `corpus` and decode it as the pipeline does (`ingest.pipeline`),
    its content type guessed from its name."""
    sys.path.insert(0, str(HERE.parent))
    from ingest.content_types import guess_content_type
    from ingest.models import SourceItem, content_hash
    from ingest.pipeline import _decode

    def decoded(path: Path) -> Any:
        relative = path.relative_to(corpus).as_posix()
        data = path.read_bytes()
        item = SourceItem(
            source_id="bench",
            uri=path.as_uri(),
            size=len(data),
            path=relative,
            content_type=guess_content_type(relative),
        )
        return _decode(item, data, content_hash(data))

    return decoded


def run_ours(corpus: Path, files: list[Path]) -> Stats:
    decoded = _decoder(corpus)
    from ingest.errors import ProcessingError
    from ingest.processors import ChunkPolicy, processor_for
    from ingest.validators import ValidationPolicy, validate

    chunk_policy, validation = ChunkPolicy(), ValidationPolicy()
    types: dict[str, Stats] = defaultdict(lambda: {"files": 0, "seconds": 0.0, "chunks": 0})
    chunks = largest = 0
    for path in files:
        began = time.process_time()
        content = decoded(path)
        kind, made = content.content_type, 0
        if content.text is None:
            kind = "binary (rejected)"
        elif validate(content, validation).ok:
            try:
                document = processor_for(content.content_type).process(content, chunk_policy)
                made = len(document.chunks)
                largest = max([largest, *(len(c.text) for c in document.chunks)])
            except ProcessingError:
                kind += " (rejected)"
        row = types[kind]
        row["files"] += 1
        row["chunks"] += made
        row["seconds"] += time.process_time() - began
        chunks += made
    return {"files": len(files), "chunks": chunks, "largest_chunk": largest, "types": dict(types)}


def run_parsers(corpus: Path, files: list[Path]) -> Stats:
    """The part of `ours` no processing on our parsers can avoid: read and decode as
    `ours` does, then parse: pulldown-cmark's events with source ranges for Markdown
    (the call the Markdown processor walks, drained), `ast.parse` for Python (the
    validator). Other files are read and decoded only."""
    import ast

    import pyromark

    decoded = _decoder(corpus)
    from ingest.processors.markdown import _OPTIONS

    types: dict[str, Stats] = defaultdict(lambda: {"files": 0, "seconds": 0.0, "chunks": 0})
    for path in files:
        began = time.process_time()
        content = decoded(path)
        kind, text = content.content_type, content.text
        if text is not None and kind == "text/markdown":
            for _ in pyromark.events_with_range(text, options=_OPTIONS, merge_text=True):
                pass
        elif text is not None and kind == "text/x-python":
            try:
                ast.parse(text)
            except (SyntaxError, ValueError):
                pass
        row = types[kind]
        row["files"] += 1
        row["seconds"] += time.process_time() - began
    return {"files": len(files), "chunks": 0, "largest_chunk": 0, "types": dict(types)}


def _largest(texts: Any) -> int:
    return max((len(text) for text in texts), default=0)


def run_llamaindex(corpus: Path, files: list[Path]) -> Stats:
    import tree_sitter_go
    import tree_sitter_javascript
    import tree_sitter_python
    from llama_index.core import SimpleDirectoryReader
    from llama_index.core.ingestion import IngestionPipeline
    from llama_index.core.node_parser import CodeSplitter, MarkdownNodeParser, SentenceSplitter
    from tree_sitter import Language, Parser

    grammars = {
        "python": tree_sitter_python.language(),
        "javascript": tree_sitter_javascript.language(),
        "go": tree_sitter_go.language(),
    }
    began = time.process_time()
    documents = SimpleDirectoryReader(input_files=[str(path) for path in files]).load_data()
    load_seconds = time.process_time() - began
    by_suffix: dict[str, list[Any]] = defaultdict(list)
    for document in documents:
        by_suffix[Path(document.metadata.get("file_path", "")).suffix].append(document)
    types: dict[str, Stats] = {}
    chunks = largest = 0
    for suffix, group in sorted(by_suffix.items()):
        began = time.process_time()
        transformations: list[Any]
        if suffix == ".md":
            transformations = [MarkdownNodeParser(), SentenceSplitter(chunk_size=512)]
        elif suffix in CODE_LANGUAGES:
            language = CODE_LANGUAGES[suffix]
            parser = Parser(Language(grammars[language]))
            transformations = [CodeSplitter(language=language, parser=parser)]
        else:
            transformations = [SentenceSplitter(chunk_size=512)]
        nodes = IngestionPipeline(transformations=transformations).run(documents=group)
        types[suffix] = {"files": len(group), "seconds": time.process_time() - began,
                         "chunks": len(nodes)}  # fmt: skip
        chunks += len(nodes)
        largest = max(largest, _largest(node.get_content() for node in nodes))
    return {"files": len(documents), "chunks": chunks, "largest_chunk": largest,
            "load_seconds": load_seconds, "types": types}  # fmt: skip


def run_langchain(corpus: Path, files: list[Path]) -> Stats:
    from langchain_community.document_loaders import TextLoader
    from langchain_text_splitters import (
        Language,
        MarkdownHeaderTextSplitter,
        RecursiveCharacterTextSplitter,
    )

    languages = {".py": Language.PYTHON, ".js": Language.JS, ".go": Language.GO}
    size = {"chunk_size": 2000, "chunk_overlap": 0}  # our default maximum chunk
    began = time.process_time()
    documents = [document for path in files for document in TextLoader(str(path)).load()]
    load_seconds = time.process_time() - began
    by_suffix: dict[str, list[Any]] = defaultdict(list)
    for document in documents:
        by_suffix[Path(document.metadata.get("source", "")).suffix].append(document)
    types: dict[str, Stats] = {}
    chunks = largest = 0
    headers = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]
    for suffix, group in sorted(by_suffix.items()):
        began = time.process_time()
        if suffix == ".md":
            sections = MarkdownHeaderTextSplitter(headers)
            inner = RecursiveCharacterTextSplitter(**size)
            made = [
                piece
                for doc in group
                for piece in inner.split_documents(sections.split_text(doc.page_content))
            ]
        elif suffix in languages:
            splitter = RecursiveCharacterTextSplitter.from_language(languages[suffix], **size)
            made = splitter.split_documents(group)
        else:
            made = RecursiveCharacterTextSplitter(**size).split_documents(group)
        types[suffix] = {"files": len(group), "seconds": time.process_time() - began,
                         "chunks": len(made)}  # fmt: skip
        chunks += len(made)
        largest = max(largest, _largest(piece.page_content for piece in made))
    return {"files": len(documents), "chunks": chunks, "largest_chunk": largest,
            "load_seconds": load_seconds, "types": types}  # fmt: skip


SIDES = {
    "floor": run_floor,
    "ours": run_ours,
    "parsers": run_parsers,
    "llamaindex": run_llamaindex,
    "langchain": run_langchain,
}
ANCHORS = ("llamaindex", "langchain")


def _child(mode: str, corpus: Path, list_file: Path) -> None:
    files = _listed(list_file)
    wall, cpu = time.perf_counter(), time.process_time()
    result = SIDES[mode](corpus, files)
    result["seconds"] = time.perf_counter() - wall
    result["cpu_s"] = time.process_time() - cpu
    result["peak_rss_mb"] = _peak_rss_mb()
    print("RESULT " + json.dumps(result))


def _measure(python: Path | str, mode: str, corpus: Path, list_file: Path) -> Stats:
    command = [str(python), __file__, "--child", mode, "--corpus", str(corpus)]
    command += ["--file-list", str(list_file)]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{completed.stderr[-4000:]}")
    line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT "))
    return dict(json.loads(line[len("RESULT ") :]))


def ensure_venv(path: Path) -> Path:
    """The benchmark's own virtualenv with the anchors installed; rebuilt when the
    requirements file changes."""
    python = path / "bin" / "python"
    stamp = path / ".requirements-sha256"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    print(f"installing {REQUIREMENTS.name} into {path} ...", file=sys.stderr)
    if not python.exists():
        venv.create(path, with_pip=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(digest)
    return python


def _ms_per_file(row: Stats) -> float:
    return 1000 * row["cpu_s"] / row["files"] if row["files"] else 0.0


def _markdown_and_python_ms(row: Stats) -> float:
    """CPU ms per Markdown or Python file; an anchor's loading (reading the files) is
    shared out by file count, as `ours` reads inside its per-type times."""
    picked = [stats for kind, stats in row["types"].items() if kind in MARKDOWN_AND_PYTHON]
    files = sum(stats["files"] for stats in picked)
    seconds = sum(stats["seconds"] for stats in picked)
    seconds += row.get("load_seconds", 0.0) * files / row["files"] if row["files"] else 0.0
    return 1000 * seconds / files if files else 0.0


def _print_markdown_and_python(runs: dict[str, list[Stats]]) -> None:
    per_round = {name: [_markdown_and_python_ms(run) for run in values]
                 for name, values in runs.items() if name != "floor"}  # fmt: skip
    print("\nMarkdown and Python files only: CPU ms per file (median of rounds)")
    for name, values in per_round.items():
        print(f"{name:<12}{statistics.median(values):>8.3f}")
    if "langchain" not in per_round:
        return
    theirs = per_round["langchain"]
    for name in ("ours", "parsers"):
        ratio = statistics.median(t / m for m, t in zip(per_round[name], theirs, strict=True))
        print(f"langchain / {name}, CPU per Markdown or Python file: {ratio:.2f}x (median)")
    print("(parsers: read, decode and parse alone; no processing on them can beat its ratio)")


def _median_row(runs: list[Stats]) -> Stats:
    row = dict(runs[-1])
    for key in ("seconds", "cpu_s", "peak_rss_mb"):
        row[key] = statistics.median(run[key] for run in runs)
    return row


def _print(rows: dict[str, Stats], runs: dict[str, list[Stats]], described: str) -> None:
    rounds = len(next(iter(runs.values())))
    print(f"\n{described}: medians of {rounds} interleaved round(s)")
    print(
        f"{'side':<12}{'files':>7}{'wall s':>9}{'CPU s':>8}{'CPU ms/file':>13}{'files/s':>9}"
        f"{'chunks':>8}{'largest':>9}{'peak MB':>9}"
    )
    for name, row in rows.items():
        rate = row["files"] / row["seconds"] if row["seconds"] else float("inf")
        print(
            f"{name:<12}{row['files']:>7}{row['seconds']:>9.2f}{row['cpu_s']:>8.2f}"
            f"{_ms_per_file(row):>13.3f}{rate:>9.0f}{row['chunks']:>8}"
            f"{row['largest_chunk']:>9}{row['peak_rss_mb']:>9.0f}"
        )
    ours = rows["ours"]
    if "floor" in rows and _ms_per_file(rows["floor"]):
        floor = _ms_per_file(ours) / _ms_per_file(rows["floor"])
        print(f"ours CPU per file / read+hash floor: {floor:.0f}x")
    for name in ANCHORS:
        if name in rows:
            per_round = statistics.median(
                _ms_per_file(theirs) / _ms_per_file(mine)
                for mine, theirs in zip(runs["ours"], runs[name], strict=True)
            )
            print(
                f"{name} / ours, CPU per file: "
                f"{_ms_per_file(rows[name]) / _ms_per_file(ours):.2f}x (medians), "
                f"{per_round:.2f}x (median of rounds); {name} loading: "
                f"{rows[name]['load_seconds']:.2f} CPU s"
            )
    _print_markdown_and_python(runs)
    for name, row in rows.items():
        if not row["types"]:
            continue
        print(f"\n{name}, per content type (CPU, last round)")
        print(f"{'type':<28}{'files':>7}{'CPU s':>9}{'ms/file':>9}{'chunks':>9}")
        for kind, stats in sorted(row["types"].items()):
            per_file = 1000 * stats["seconds"] / stats["files"] if stats["files"] else 0.0
            print(
                f"{kind:<28}{stats['files']:>7}{stats['seconds']:>9.3f}"
                f"{per_file:>9.3f}{stats['chunks']:>9}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a real repository snapshot to measure on")
    parser.add_argument("--files", type=int, default=2_000, help="generated corpus size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV,
                        help="virtualenv for the LlamaIndex and LangChain sides")  # fmt: skip
    parser.add_argument("--ours-only", action="store_true", help="skip the anchors' sides")
    parser.add_argument("--child", choices=list(SIDES), help=argparse.SUPPRESS)
    parser.add_argument("--file-list", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.corpus, args.file_list)
        return

    sys.path.insert(0, str(HERE.parent))
    from benchmarks.corpus import generate_corpus

    anchor_python = None if args.ours_only else ensure_venv(args.venv)
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        if args.corpus is not None:
            corpus = args.corpus.resolve()
            described = f"corpus {corpus}"
        else:
            corpus = Path(tmp) / "corpus"
            generate_corpus(corpus, args.files, seed=args.seed)
            described = "generated corpus (benchmarks/corpus.py)"
        files = corpus_files(corpus)
        list_file = Path(tmp) / "files.txt"
        list_file.write_text("".join(f"{path}\n" for path in files), encoding="utf-8")
        sides: dict[str, Path | str] = dict.fromkeys(("floor", "ours", "parsers"), sys.executable)
        if anchor_python is not None:
            sides.update({name: anchor_python for name in ANCHORS})
        runs: dict[str, list[Stats]] = {name: [] for name in sides}
        names = list(sides)
        for round_ in range(args.rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                runs[name].append(_measure(sides[name], name, corpus, list_file))
                print(f"round {round_ + 1} {name}: {runs[name][-1]['cpu_s']:.2f} CPU s",
                      file=sys.stderr, flush=True)  # fmt: skip
    _print({name: _median_row(values) for name, values in runs.items()}, runs,
           f"{len(files)} files, {described}")  # fmt: skip


if __name__ == "__main__":
    main()
