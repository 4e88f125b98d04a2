"""Code chunking beyond Python: large symbols split at their members, small
neighbours merged, module-level code kept, YAML/TOML sections kept apart."""

from __future__ import annotations

from ingest.processors import ChunkPolicy, processor_for

JAVA = "text/x-java"


def process(make_content, text, content_type, path, policy):
    return processor_for(content_type).process(
        make_content(text, content_type, path, decode=False), policy
    )


def located(doc):
    return [
        (c.metadata["symbol"], c.metadata["symbol_kind"], c.metadata["start_line"],
         c.metadata["end_line"], c.metadata.get("docstring"))
        for c in doc.chunks
    ]  # fmt: skip


def test_a_large_class_is_split_into_its_methods(make_content):
    method = "    /** Method {0}. */\n    int m{0}() {{\n        return {0} * 1000;\n    }}"
    body = "\n\n".join(method.format(i) for i in range(3))
    text = f"import a.B;\n\n/** Big. */\nclass Big {{\n    int x;\n\n{body}\n}}\n"
    doc = process(make_content, text, JAVA, "src/Big.java",
                  ChunkPolicy(target_chars=80, max_chars=100))  # fmt: skip
    assert located(doc) == [
        ("Big", "class", 1, 5, "Big."),  # the imports are merged into the class header
        ("Big.m0", "method", 7, 10, "Method 0."),
        ("Big.m1", "method", 12, 15, "Method 1."),
        ("Big.m2", "method", 17, 21, "Method 2."),
    ]
    assert doc.chunks[-1].text.endswith("return 2 * 1000;\n    }\n}")
    assert doc.chunks[-1].metadata["symbols"] == ["Big.m2"]


def test_a_large_function_becomes_line_windows_named_after_it(make_content):
    text = "fn long() {\n" + "".join(f"    let v{i} = {i} * 12345;\n" for i in range(8)) + "}\n"
    doc = process(make_content, text, "text/x-rust", "src/lib.rs",
                  ChunkPolicy(target_chars=60, max_chars=100))  # fmt: skip
    assert {c.metadata["symbol"] for c in doc.chunks} == {"long"}
    assert doc.chunks[0].metadata["start_line"] == 1
    assert doc.chunks[-1].metadata["end_line"] == 10
    assert all(len(c.text) <= 100 for c in doc.chunks)


def test_small_functions_are_merged_up_to_the_target(make_content):
    functions = "".join(f"function f{i}() {{ return {i}; }}\n\n" for i in range(20))
    doc = process(make_content, functions, "text/x-javascript", "a.js",
                  ChunkPolicy(target_chars=200, max_chars=400))  # fmt: skip
    assert 1 < len(doc.chunks) < 20
    assert all(len(c.text) <= 200 for c in doc.chunks)
    names = [name for c in doc.chunks for name in c.metadata["symbols"]]
    assert names == [f"f{i}" for i in range(20)]


def test_substantial_symbols_are_not_merged_and_module_code_is_kept(make_content):
    big = "func {0}() {{\n" + "\tx := 1\n" * 10 + "}}\n"
    text = "package p\n\nvar top = 1\n\n" + big.format("a") + "\nvar mid = 2\n\n" + big.format("b")
    doc = process(make_content, text, "text/x-go", "p.go", ChunkPolicy(target_chars=120))
    assert [(c.metadata["symbol"], c.metadata["symbol_kind"]) for c in doc.chunks] == [
        ("a", "function"), ("b", "function")
    ]  # fmt: skip
    assert doc.chunks[0].text.startswith("package p\n\nvar top = 1")
    assert doc.chunks[1].text.startswith("var mid = 2")


def test_top_level_sections_of_yaml_and_toml_stay_apart(make_content):
    yaml_doc = process(make_content, "# App.\nname: app\nport: 80\nlist:\n  - a\n",
                       "application/yaml", "c.yaml", ChunkPolicy())  # fmt: skip
    assert [(c.metadata["symbol"], c.text) for c in yaml_doc.chunks] == [
        ("name", "# App.\nname: app"), ("port", "port: 80"), ("list", "list:\n  - a")
    ]  # fmt: skip
    toml_doc = process(make_content, 'a = 1\n\n# Server.\n[server]\nport = 80\n\n[[x]]\n',
                       "application/toml", "c.toml", ChunkPolicy())  # fmt: skip
    assert located(toml_doc) == [
        ("a", "key", 1, 1, None), ("server", "table", 3, 5, "Server."), ("x", "table", 7, 7, None)
    ]  # fmt: skip
