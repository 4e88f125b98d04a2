"""Processing throughput per content type: ours against LlamaIndex and LangChain, side by side.

    python benchmarks/bench_processors.py --files 2000

Generates a mixed corpus (benchmarks/corpus.py), then processes it in two separate
processes, one after the other in the same run:
- `ours`: read, decode, validate and process every file with the code the pipeline
  runs (`ingest.pipeline` decoding, `ingest.validators.validate`, `processor_for`);
- `llamaindex`: `SimpleDirectoryReader` then `MarkdownNodeParser` for Markdown,
  `CodeSplitter` (tree-sitter) for Python, JavaScript and Go, `SentenceSplitter`
  for the rest. LlamaIndex is not a project dependency: it runs in its own
  virtualenv (`--venv`, created on first use from benchmarks/requirements-anchors.txt);
- `langchain`: `DirectoryLoader` with `TextLoader`, then `MarkdownHeaderTextSplitter`
  (and the recursive splitter inside long sections) for Markdown,
  `RecursiveCharacterTextSplitter.from_language` for Python, JavaScript and Go, the
  recursive splitter for the rest; same virtualenv.
Imports are excluded from both timings. Each row: files, seconds, files/s, chunks,
peak RSS of its process; then the throughput ratio and a table per content type.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
import venv
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-anchors.txt"
DEFAULT_VENV = Path.home() / ".cache" / "aichemist-ingest" / "bench-venv"
CODE_LANGUAGES = {".py": "python", ".js": "javascript", ".go": "go"}

Stats = dict[str, Any]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _files(corpus: Path) -> list[Path]:
    return sorted(path for path in corpus.rglob("*") if path.is_file())


def run_ours(corpus: Path) -> Stats:
    sys.path.insert(0, str(HERE.parent))
    from ingest.content_types import guess_content_type
    from ingest.errors import ProcessingError
    from ingest.models import SourceItem, content_hash
    from ingest.pipeline import _decode
    from ingest.processors import ChunkPolicy, processor_for
    from ingest.validators import ValidationPolicy, validate

    chunk_policy, validation = ChunkPolicy(), ValidationPolicy()
    types: dict[str, Stats] = defaultdict(lambda: {"files": 0, "seconds": 0.0, "chunks": 0})
    started = time.perf_counter()
    files = chunks = 0
    for path in _files(corpus):
        began = time.perf_counter()
        relative = path.relative_to(corpus).as_posix()
        data = path.read_bytes()
        item = SourceItem(
            source_id="bench",
            uri=path.as_uri(),
            size=len(data),
            path=relative,
            content_type=guess_content_type(relative),
        )
        content = _decode(item, data, content_hash(data))
        kind, made = content.content_type, 0
        if content.text is None:
            kind = "binary (rejected)"
        elif validate(content, validation).ok:
            try:
                document = processor_for(content.content_type).process(content, chunk_policy)
                made = len(document.chunks)
            except ProcessingError:
                kind += " (rejected)"
        row = types[kind]
        row["files"] += 1
        row["chunks"] += made
        row["seconds"] += time.perf_counter() - began
        files += 1
        chunks += made
    seconds = time.perf_counter() - started
    return {"files": files, "seconds": seconds, "chunks": chunks, "types": dict(types)}


def run_llamaindex(corpus: Path) -> Stats:
    import tree_sitter_go
    import tree_sitter_javascript
    import tree_sitter_python
    from llama_index.core import SimpleDirectoryReader
    from llama_index.core.node_parser import CodeSplitter, MarkdownNodeParser, SentenceSplitter
    from tree_sitter import Language, Parser

    grammars = {
        "python": tree_sitter_python.language(),
        "javascript": tree_sitter_javascript.language(),
        "go": tree_sitter_go.language(),
    }
    started = time.perf_counter()
    documents = SimpleDirectoryReader(str(corpus), recursive=True).load_data()
    load_seconds = time.perf_counter() - started
    by_suffix: dict[str, list[Any]] = defaultdict(list)
    for document in documents:
        by_suffix[Path(document.metadata.get("file_path", "")).suffix].append(document)
    types: dict[str, Stats] = {}
    chunks = 0
    for suffix, group in sorted(by_suffix.items()):
        began = time.perf_counter()
        parser: Any
        if suffix == ".md":
            parser = MarkdownNodeParser()
        elif suffix in CODE_LANGUAGES:
            language = CODE_LANGUAGES[suffix]
            parser = CodeSplitter(language=language, parser=Parser(Language(grammars[language])))
        else:
            parser = SentenceSplitter()
        made = len(parser.get_nodes_from_documents(group))
        types[suffix] = {"files": len(group), "seconds": time.perf_counter() - began,
                         "chunks": made}  # fmt: skip
        chunks += made
    seconds = time.perf_counter() - started
    return {"files": len(documents), "seconds": seconds, "chunks": chunks,
            "load_seconds": load_seconds, "types": types}  # fmt: skip


def run_langchain(corpus: Path) -> Stats:
    from langchain_community.document_loaders import DirectoryLoader, TextLoader
    from langchain_text_splitters import (
        Language,
        MarkdownHeaderTextSplitter,
        RecursiveCharacterTextSplitter,
    )

    languages = {".py": Language.PYTHON, ".js": Language.JS, ".go": Language.GO}
    size = {"chunk_size": 2000, "chunk_overlap": 0}  # our default maximum chunk
    started = time.perf_counter()
    documents = DirectoryLoader(
        str(corpus), glob="**/*", loader_cls=TextLoader, silent_errors=True, recursive=True
    ).load()
    load_seconds = time.perf_counter() - started
    by_suffix: dict[str, list[Any]] = defaultdict(list)
    for document in documents:
        by_suffix[Path(document.metadata.get("source", "")).suffix].append(document)
    types: dict[str, Stats] = {}
    chunks = 0
    headers = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]
    for suffix, group in sorted(by_suffix.items()):
        began = time.perf_counter()
        if suffix == ".md":
            sections = MarkdownHeaderTextSplitter(headers)
            inner = RecursiveCharacterTextSplitter(**size)
            made = sum(
                len(inner.split_documents(sections.split_text(doc.page_content)))
                for doc in group
            )
        elif suffix in languages:
            splitter = RecursiveCharacterTextSplitter.from_language(languages[suffix], **size)
            made = len(splitter.split_documents(group))
        else:
            made = len(RecursiveCharacterTextSplitter(**size).split_documents(group))
        types[suffix] = {"files": len(group), "seconds": time.perf_counter() - began,
                         "chunks": made}  # fmt: skip
        chunks += made
    seconds = time.perf_counter() - started
    return {"files": len(documents), "seconds": seconds, "chunks": chunks,
            "load_seconds": load_seconds, "types": types}  # fmt: skip


SIDES = {"ours": run_ours, "llamaindex": run_llamaindex, "langchain": run_langchain}


def _child(mode: str, corpus: Path) -> None:
    result = SIDES[mode](corpus)
    result["peak_rss_mb"] = _peak_rss_mb()
    print("RESULT " + json.dumps(result))


def _measure(python: Path | str, mode: str, corpus: Path) -> Stats:
    command = [str(python), __file__, "--child", mode, "--corpus", str(corpus)]
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
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True
    )
    stamp.write_text(digest)
    return python


def _rate(row: Stats) -> float:
    return row["files"] / row["seconds"] if row["seconds"] else float("inf")


def _print(rows: list[tuple[str, Stats]], n_files: int) -> None:
    print(f"\n{n_files} files (mixed corpus, benchmarks/corpus.py)")
    print(f"{'side':<12}{'files':>8}{'seconds':>10}{'files/s':>10}{'chunks':>9}{'peak MB':>10}")
    for name, row in rows:
        print(
            f"{name:<12}{row['files']:>8}{row['seconds']:>10.2f}{_rate(row):>10.0f}"
            f"{row['chunks']:>9}{row['peak_rss_mb']:>10.0f}"
        )
    ours = rows[0][1]
    for name, theirs in rows[1:]:
        print(
            f"ours / {name} throughput: {_rate(ours) / _rate(theirs):.1f}x "
            f"({name}: {theirs['load_seconds']:.2f} s of loading)"
        )
    for name, row in rows:
        print(f"\n{name}, per content type")
        print(f"{'type':<28}{'files':>7}{'seconds':>10}{'files/s':>10}{'chunks':>9}")
        for kind, stats in sorted(row["types"].items()):
            print(
                f"{kind:<28}{stats['files']:>7}{stats['seconds']:>10.3f}"
                f"{_rate(stats):>10.0f}{stats['chunks']:>9}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--files", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV,
                        help="virtualenv for the LlamaIndex and LangChain sides")  # fmt: skip
    parser.add_argument("--ours-only", action="store_true", help="skip the anchors' sides")
    parser.add_argument("--child", choices=list(SIDES))
    parser.add_argument("--corpus", type=Path)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.corpus)
        return

    sys.path.insert(0, str(HERE.parent))
    from benchmarks.corpus import generate_corpus

    anchor_python = None if args.ours_only else ensure_venv(args.venv)
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        generate_corpus(corpus, args.files, seed=args.seed)
        rows = [("ours", _measure(sys.executable, "ours", corpus))]
        if anchor_python is not None:
            for side in ("llamaindex", "langchain"):
                rows.append((side, _measure(anchor_python, side, corpus)))
    _print(rows, args.files)


if __name__ == "__main__":
    main()
