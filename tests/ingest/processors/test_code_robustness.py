"""Code that does not parse, garbage, deep nesting, threads, missing grammars, and
language detection from modelines."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ingest.content_types import CODE_LANGUAGES
from ingest.processors import ChunkPolicy, languages, processor_for
from ingest.processors.code import outline as code_outline
from ingest.processors.languages import detect_language, language_from_modeline

TREE_SITTER_TYPES = sorted(t for t in CODE_LANGUAGES if t != "text/x-python")


def process(make_content, text, content_type, path="src/file", policy=None):
    return processor_for(content_type).process(
        make_content(text, content_type, path, decode=False), policy or ChunkPolicy()
    )


def test_every_grammar_loads_offline_from_installed_wheels():
    for name in languages.GRAMMARS:
        assert languages.has_grammar(name), name


def test_a_file_with_syntax_errors_keeps_its_symbols_and_gets_a_warning(make_content):
    text = (
        "// Good.\nfunction good() {\n  return 1;\n}\n\n"
        "function broken( {\n  return ;;\n\n"
        "class Later {\n  m() {}\n}\n"
    )
    doc = process(make_content, text, "text/x-javascript", "a.js", ChunkPolicy(target_chars=50))
    names = [s["name"] for s in doc.metadata["symbols"]]
    assert names[0] == "good"
    assert doc.metadata["symbols"][0]["start_line"] == 1
    assert len(doc.metadata["warnings"]) == 1
    assert doc.metadata["warnings"][0].startswith("parse errors at lines ")
    assert "".join("".join(c.text for c in doc.chunks).split()) == "".join(text.split())


@pytest.mark.parametrize("content_type", TREE_SITTER_TYPES)
def test_garbage_gives_a_document(make_content, content_type):
    noise = random.Random(7).randbytes(20_000).decode("latin-1")
    started = time.perf_counter()
    for text in (noise, "\x00\x01\x02" * 1000, "lone { \ufffd", "}" * 500 + "{" * 500):
        doc = process(make_content, text, content_type)
        assert doc.chunks
        assert all(len(c.text) <= ChunkPolicy().max_chars for c in doc.chunks)
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("text/x-javascript", "function f() " + "{" * 10_000 + "}" * 10_000),
        ("text/x-c", "int f() " + "{" * 10_000),
        ("text/x-c++", "namespace a { " * 5_000 + "}" * 5_000),
        ("text/x-rust", "fn f() { let x = " + "(" * 10_000 + ")" * 10_000 + "; }"),
        ("application/yaml", "a:\n" + "".join(" " * i + "b:\n" for i in range(1, 2000))),
        ("application/yaml", "a:\n  " + "- " * 1000 + "x\n"),
        ("application/toml", "a = " + "[" * 10_000),
        ("text/x-ruby", "module M\n" * 3_000 + "end\n" * 3_000),
    ],
)
def test_deep_nesting_is_fast(make_content, content_type, text):
    """The YAML one crashes the YAML grammar's scanner: it must never reach it."""
    started = time.perf_counter()
    doc = process(make_content, text, content_type)
    assert time.perf_counter() - started < 1
    assert doc.chunks


def test_a_file_over_the_parse_cap_falls_back_to_line_windows(make_content, monkeypatch):
    monkeypatch.setattr(code_outline, "MAX_PARSE_BYTES", 1000)
    text = "function f() { return 1; }\n" * 100
    doc = process(make_content, text, "text/x-javascript", "a.js")
    assert doc.metadata["warnings"][0].startswith("over 1000 bytes")
    assert doc.metadata["symbols"] == []
    assert doc.chunks


def test_without_a_grammar_code_gets_line_windows_and_sql_statements(make_content, monkeypatch):
    monkeypatch.setattr(languages, "_language", lambda name: None)
    monkeypatch.setattr(languages._local, "parsers", {}, raising=False)
    doc = process(make_content, "fn a() {}\n", "text/x-rust", "a.rs")
    assert doc.metadata == {"language": "rust", "line_count": 2}
    assert doc.chunks[0].metadata["start_line"] == 1
    sql = (
        "-- People.\ncreate table if not exists people (\n  id int\n);\n\n"
        "insert into people values (1);\n"
        "CREATE OR REPLACE VIEW v AS SELECT 1; -- trailing\n"
    )
    doc = process(make_content, sql, "text/x-sql", "a.sql")
    assert doc.metadata["symbols"] == [
        {"name": "people", "kind": "table", "start_line": 1, "end_line": 4},
        {"name": "v", "kind": "view", "start_line": 7, "end_line": 7},
    ]
    assert doc.metadata["warnings"] == ["no SQL grammar installed: statements split at ';'"]


def test_parsers_are_per_thread_and_give_the_same_results(make_content):
    text = "".join(f"func f{i}() int {{\n\treturn {i}\n}}\n\n" for i in range(200))

    def run(_: int) -> list:
        return process(make_content, text, "text/x-go", "a.go").metadata["symbols"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, range(32)))
    assert all(result == results[0] for result in results)
    assert len(results[0]) == 200


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("# vim: set ft=python :\nx = 1\n", "python"),
        ("x\n\n// vim: set filetype=javascript:\n", "javascript"),
        ("/* vi: ts=4 sw=4 ft=cpp */\n", "cpp"),
        ("# -*- mode: ruby -*-\n", "ruby"),
        ("#!/bin/sh\n# -*- Mode: shell-script; coding: utf-8 -*-\n", "bash"),
        ("// -*- c++ -*-\n", "cpp"),
        ("-- -*- mode: sql -*-\n", "sql"),
        ("# ex: syntax=yaml\n", "yaml"),
        ("# vim: set ft=unknownlang:\n", None),
        ("# -*- coding: utf-8 -*-\n", None),
        ("just text about vim: and mode: things\n", None),
    ],
)
def test_modelines(text, language):
    assert language_from_modeline(text) == language


def test_detect_language_prefers_modeline_then_content_type_then_shebang():
    assert detect_language("#!/usr/bin/env node\n", "text/plain") == "javascript"
    assert detect_language("#!/usr/bin/env node\n", "text/x-typescript") == "typescript"
    assert detect_language("// vim: ft=cpp\n", "text/x-c") == "cpp"
    assert detect_language("hello\n", "text/plain") is None


def test_a_modeline_sets_the_language_and_the_parser(make_content):
    header = "// -*- mode: c++ -*-\nnamespace n {\nclass K {\n  void m() {}\n};\n}\n"
    doc = process(make_content, header, "text/x-c", "include/k.h")
    assert doc.metadata["language"] == "cpp"
    assert [s["name"] for s in doc.metadata["symbols"]] == ["n", "n.K", "n.K.m"]
    script = "#!/bin/sh\n# vim: set ft=python:\n\ndef f():\n    return 1\n"
    doc = process(make_content, script, "text/x-shellscript", "bin/tool")
    assert doc.metadata["language"] == "python"
    assert doc.metadata["symbols"] == [
        {"name": "f", "kind": "function", "start_line": 4, "end_line": 5}
    ]


def test_tsx_files_use_the_tsx_grammar(make_content):
    text = "export function App(): JSX.Element {\n  return <div>{1}</div>;\n}\n"
    doc = process(make_content, text, "text/x-typescript", "src/App.tsx")
    assert "warnings" not in doc.metadata
    assert doc.metadata["symbols"][0]["name"] == "App"


def test_random_fragments_of_code_never_crash(make_content):
    fragments = ["{", "}", "(", ")", "class A", "fn f()", "def m", "end", "\n", "/*", "*/",
                 "//", "#", "'", '"', "<?php", "impl X for Y", "namespace n", "template <T>",
                 "---\n", "[t]\n", "k: v\n", ";", "CREATE TABLE t (", "function", "=>"]  # fmt: skip
    rng = random.Random(3)
    for _ in range(30):
        text = "".join(rng.choice(fragments) for _ in range(rng.randrange(1, 60)))
        for content_type in TREE_SITTER_TYPES:
            doc = process(make_content, text, content_type, policy=ChunkPolicy(target_chars=50))
            assert "".join("".join(c.text for c in doc.chunks).split()) == "".join(text.split())


def test_processing_costs_well_under_10_ms_of_cpu_per_file(make_content):
    # CPU time, which a loaded machine does not stretch: a guard against a
    # pathological slowdown, not a benchmark (benchmarks/ measures speed).
    files = [
        "".join(f"// f{i}\nexport function f{i}(a, b) {{\n  return a + b * {i};\n}}\n\n"
                for i in range(40))
        for _ in range(50)
    ]  # fmt: skip
    started = time.process_time()
    for text in files:
        process(make_content, text, "text/x-javascript", "a.js")
    assert (time.process_time() - started) / len(files) < 0.010


def test_deeply_indented_yaml_gets_its_top_level_keys_by_line(make_content):
    text = "# First.\na:\n" + "".join(" " * i + "b:\n" for i in range(1, 400)) + "\n# C.\nc: 1\n"
    doc = process(make_content, text, "application/yaml", "deep.yaml")
    assert doc.metadata["symbols"] == [
        {"name": "a", "kind": "key", "start_line": 1, "end_line": 401},
        {"name": "c", "kind": "key", "start_line": 403, "end_line": 405},
    ]
    assert doc.metadata["warnings"] == [
        "YAML nested too deeply for the parser: top-level keys by line"
    ]
