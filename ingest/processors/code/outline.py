"""Symbols of source code read from tree-sitter trees: definitions with qualified
names and line ranges (leading comments and attributes included), their doc
comments, the file's imports, and where the parser met errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .languages import grammar_name, parser_for

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

MAX_PARSE_BYTES = 4 * 1024 * 1024  # larger files get line windows: parse time is bounded
_MAX_DEPTH = 24  # nesting of containers (namespaces, classes) that we look into
_MAX_ERRORS = 10
_MAX_ERROR_VISITS = 20_000
_MAX_COMMENT_LINES = 400


@dataclass
class Symbol:
    """A definition: 1-based inclusive line range, members of containers as children."""

    name: str
    kind: str
    start: int
    end: int
    docstring: str | None = None
    children: list[Symbol] = field(default_factory=list)


@dataclass
class Outline:
    symbols: list[Symbol]
    imports: list[str]
    warnings: list[str]


def walk_symbols(symbols: list[Symbol]) -> list[Symbol]:
    """Every symbol, parents before their members, in file order."""
    found: list[Symbol] = []
    for symbol in symbols:
        found.append(symbol)
        found.extend(walk_symbols(symbol.children))
    return found


def outline(language: str, text: str, file_name: str = "") -> Outline | None:
    """The outline of `text` in `language`; None when no grammar is installed."""
    if language == "bash":
        # tree-sitter-bash's scanner crashes the process on some inputs
        # (e.g. '{' followed by multibyte text): shell is read line by line.
        return shell_outline(text)
    parser = parser_for(grammar_name(language, file_name))
    if parser is None or language not in _RULES:
        return None
    if language == "yaml" and _deep_yaml(text):
        found = yaml_keys_outline(text)
        found.warnings.append("YAML nested too deeply for the parser: top-level keys by line")
        return found
    data = text.encode("utf-8", "surrogatepass")
    tree = _parse(parser, data)
    if tree is None:
        return Outline([], [], [f"over {MAX_PARSE_BYTES} bytes; not parsed for symbols"])
    walker = _Walker(_RULES[language], text.split("\n"))
    symbols = walker.walk(tree.root_node, "", 0, False, 0)
    warnings: list[str] = []
    if tree.root_node.has_error:
        lines = _error_lines(tree.root_node)
        where = ", ".join(map(str, lines)) if lines else "unknown lines"
        warnings.append(f"parse errors at lines {where}")
    return Outline(symbols, list(walker.imports), warnings)


def _parse(parser: Parser, data: bytes) -> Tree | None:
    # Parse from bytes, not through a read callback: py-tree-sitter 0.26 can crash
    # the process when nodes of a callback-parsed tree read their text.
    if len(data) > MAX_PARSE_BYTES:
        return None
    return parser.parse(data)


def _error_lines(root: Node) -> list[int]:
    found: set[int] = set()
    stack = [root]
    visits = 0
    while stack and len(found) < _MAX_ERRORS and visits < _MAX_ERROR_VISITS:
        node = stack.pop()
        visits += 1
        if node.is_error or node.is_missing:
            found.add(node.start_point.row + 1)
        elif node.has_error:
            stack.extend(reversed(node.children))
    return sorted(found)


# -- reading nodes ---------------------------------------------------------------------


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return " ".join(node.text.decode("utf-8", "replace").split())


def _first_line(node: Node) -> int:
    return node.start_point.row + 1


def _last_line(node: Node) -> int:
    """Last line holding a character of `node` (a node may end after a newline)."""
    row, column = node.end_point
    if column == 0 and row > node.start_point.row:
        return row
    return row + 1


def _field(node: Node, name: str) -> Node | None:
    return node.child_by_field_name(name)


def _name(node: Node) -> str:
    return _text(_field(node, "name"))


_GENERIC = re.compile(r"<[^<>]*>|\[[^\[\]]*\]")


def _bare_type(text: str) -> str:
    """`Wrapper<T>` -> `Wrapper`, `*Pair[T]` -> `Pair`, `a::B` -> `a.B`."""
    for _ in range(8):
        stripped = _GENERIC.sub("", text)
        if stripped == text:
            break
        text = stripped
    text = text.replace("::", ".").replace("\\", ".").strip(" *&")
    return text.removeprefix("mut ").removeprefix("dyn ").strip()


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        return text[1:-1]
    return text.strip("<>")


# -- comments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Comments:
    line: tuple[str, ...]
    block: bool = True
    attributes: tuple[str, ...] = ()
    xml_docs: bool = False


_C_STYLE = _Comments(("//",))
_HASH = _Comments(("#",), block=False)
_MARKERS = re.compile(r"^(?:/\*\*|/\*!|/\*|\*/|\*|///|//!|//|#|--)\s?")
_XML_TAG = re.compile(r"</?\w+[^>]*>")


def _leading(lines: list[str], start: int, floor: int, style: _Comments) -> tuple[int, str | None]:
    """Move `start` up over the comment and attribute lines right above it (never
    to `floor` or above); returns the new start and the first line of the comment."""
    line = start - 1
    comment: list[str] = []
    while line > floor:
        stripped = lines[line - 1].strip()
        if not stripped:
            break
        if style.block and stripped.endswith("*/"):
            top = line
            while top > floor and line - top < _MAX_COMMENT_LINES and "/*" not in lines[top - 1]:
                top -= 1
            if top <= floor or not lines[top - 1].lstrip().startswith("/*"):
                break
            comment[:0] = [text.strip() for text in lines[top - 1 : line]]
            line = top - 1
        elif stripped.startswith(style.line) and not (line == 1 and stripped.startswith("#!")):
            comment.insert(0, stripped)
            line -= 1
        elif style.attributes and stripped.startswith(style.attributes):
            line -= 1
        else:
            break
    return line + 1, _doc_line(comment, style)


def _doc_line(comment: list[str], style: _Comments) -> str | None:
    for raw in comment:
        text = _MARKERS.sub("", raw).removesuffix("*/").strip()
        if style.xml_docs:
            text = _XML_TAG.sub("", text).strip()
        if text and text.strip("*/-#=! "):
            return text
    return None


# -- language rules ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Def:
    name: str
    kind: str
    body: Node | None = None  # a container's members live here
    qualify: bool = True  # members are named `Name.member`


Classify = Callable[["Node", bool], "_Def | None"]
Imports = Callable[["Node"], list[str]]


@dataclass(frozen=True)
class _Rules:
    classify: Classify
    comments: _Comments = _C_STYLE
    imports: dict[str, Imports] = field(default_factory=dict)
    transparent: frozenset[str] = frozenset()  # look through, same level (#ifdef, ...)
    prefix_nodes: frozenset[str] = frozenset()  # belong to the next definition (Rust attributes)
    end_at_last_child: frozenset[str] = frozenset()  # TOML tables own the lines up to the next


def _simple(
    table: dict[str, tuple[str, str | None]], special: dict[str, Classify] | None = None
) -> Classify:
    """Definitions named by their `name` field: type -> (kind, body field)."""

    def classify(node: Node, in_type: bool) -> _Def | None:
        if special and node.type in special:
            return special[node.type](node, in_type)
        rule = table.get(node.type)
        if rule is None:
            return None
        name = _name(node)
        if not name:
            return None
        kind, body = rule
        if kind == "function" and in_type:
            kind = "method"
        return _Def(name, kind, _field(node, body) if body else None)

    return classify


def _wrapper(classify_ref: list[Classify], *fields: str) -> Classify:
    """A statement that wraps one definition (`export ...`, `template <...> ...`)."""

    def classify(node: Node, in_type: bool) -> _Def | None:
        candidates = [c for c in (_field(node, f) for f in fields) if c is not None]
        candidates.extend(node.named_children)
        for child in candidates:
            found = classify_ref[0](child, in_type)
            if found is not None:
                return found
        return None

    return classify


# JavaScript and TypeScript


def _js_variable(node: Node, in_type: bool) -> _Def | None:
    declarators = [c for c in node.named_children if c.type == "variable_declarator"]
    if len(declarators) != 1:
        return None
    value = _field(declarators[0], "value")
    if value is None:
        return None
    kinds = {
        "arrow_function": "function", "function_expression": "function",
        "function": "function", "generator_function": "function", "class": "class",
    }  # fmt: skip
    kind = kinds.get(value.type)
    name = _name(declarators[0])
    if kind is None or not name:
        return None
    return _Def(name, kind, _field(value, "body") if kind == "class" else None)


def _js_imports(node: Node) -> list[str]:
    if node.type in ("import_statement", "export_statement"):
        source = _field(node, "source")
        return [_unquote(_text(source))] if source is not None else []
    found = []
    for declarator in node.named_children:
        value = _field(declarator, "value") if declarator.type == "variable_declarator" else None
        if value is not None and value.type == "call_expression":
            function = _field(value, "function")
            arguments = _field(value, "arguments")
            if _text(function) == "require" and arguments is not None and arguments.named_children:
                found.append(_unquote(_text(arguments.named_children[0])))
    return found


_JS_TABLE: dict[str, tuple[str, str | None]] = {
    "function_declaration": ("function", None),
    "generator_function_declaration": ("function", None),
    "class_declaration": ("class", "body"),
    "method_definition": ("method", None),
}
_TS_TABLE: dict[str, tuple[str, str | None]] = {
    **_JS_TABLE,
    "abstract_class_declaration": ("class", "body"),
    "interface_declaration": ("interface", "body"),
    "type_alias_declaration": ("type", None),
    "enum_declaration": ("enum", None),
    "internal_module": ("namespace", "body"),
    "module": ("namespace", "body"),
    "abstract_method_signature": ("method", None),
    "method_signature": ("method", None),
}


def _js_rules(table: dict[str, tuple[str, str | None]]) -> _Rules:
    ref: list[Classify] = []
    wrap = _wrapper(ref, "declaration")
    special: dict[str, Classify] = {
        "export_statement": wrap,
        "expression_statement": wrap,
        "ambient_declaration": wrap,
        "lexical_declaration": _js_variable,
        "variable_declaration": _js_variable,
    }
    ref.append(_simple(table, special))
    imports: dict[str, Imports] = {
        "import_statement": _js_imports,
        "export_statement": _js_imports,
        "lexical_declaration": _js_imports,
        "variable_declaration": _js_imports,
    }
    return _Rules(ref[0], imports=imports)


# Go


def _go_method(node: Node, in_type: bool) -> _Def | None:
    name = _name(node)
    receiver = _field(node, "receiver")
    owner = ""
    if receiver is not None:
        for parameter in receiver.named_children:
            owner = _bare_type(_text(_field(parameter, "type")))
    return _Def(f"{owner}.{name}" if owner else name, "method") if name else None


def _go_type(node: Node, in_type: bool) -> _Def | None:
    name = _name(node)
    kinds = {"struct_type": "struct", "interface_type": "interface"}
    type_node = _field(node, "type")
    kind = kinds.get(type_node.type if type_node is not None else "", "type")
    return _Def(name, kind) if name else None


def _go_imports(node: Node) -> list[str]:
    found: list[str] = []
    stack = list(node.named_children)
    while stack:
        child = stack.pop(0)
        if child.type == "import_spec":
            found.append(_unquote(_text(_field(child, "path"))))
        elif child.type == "import_spec_list":
            stack[:0] = child.named_children
    return found


# Rust


def _rust_impl(node: Node, in_type: bool) -> _Def | None:
    name = _bare_type(_text(_field(node, "type")))
    return _Def(name, "impl", _field(node, "body")) if name else None


def _rust_signature(node: Node, in_type: bool) -> _Def | None:
    name = _name(node)
    return _Def(name, "method") if in_type and name else None


def _rust_imports(node: Node) -> list[str]:
    if node.type == "extern_crate_declaration":
        return [_name(node)]
    return [_text(_field(node, "argument")).replace(" ", "")]


# Java and C#


def _java_imports(node: Node) -> list[str]:
    text = _text(node).removeprefix("import").removeprefix("global using").removeprefix("using")
    return [text.strip().rstrip(";").strip()]


# C and C++

_DECLARATOR_NAMES = frozenset(
    {"identifier", "field_identifier", "type_identifier", "destructor_name", "operator_name",
     "qualified_identifier", "template_function", "operator_cast"}
)  # fmt: skip


def _declarator_name(node: Node | None) -> str:
    for _ in range(16):
        if node is None:
            return ""
        if node.type in _DECLARATOR_NAMES:
            return _bare_type(_text(node))
        inner = _field(node, "declarator")
        if inner is None and node.named_children:
            inner = node.named_children[-1]
        node = inner
    return ""


def _c_function(node: Node, in_type: bool) -> _Def | None:
    name = _declarator_name(_field(node, "declarator"))
    if not name:
        return None
    return _Def(name, "method" if in_type or "." in name else "function")


def _c_type(kind: str) -> Classify:
    def classify(node: Node, in_type: bool) -> _Def | None:
        body = _field(node, "body")
        name = _bare_type(_name(node))
        if body is None or not name:
            return None
        return _Def(name, kind, body if kind in ("class", "struct") else None)

    return classify


def _c_typedef(node: Node, in_type: bool) -> _Def | None:
    name = _declarator_name(_field(node, "declarator"))
    type_node = _field(node, "type")
    kind = "type"
    if type_node is not None and _field(type_node, "body") is not None:
        kind = {"struct_specifier": "struct", "union_specifier": "union",
                "enum_specifier": "enum"}.get(type_node.type, "type")  # fmt: skip
    return _Def(name, kind) if name else None


def _c_namespace(node: Node, in_type: bool) -> _Def | None:
    body = _field(node, "body")
    name = _bare_type(_name(node))
    if not name:  # an anonymous namespace: its members stay at this level
        return _Def("", "namespace", body, qualify=False)
    return _Def(name, "namespace", body)


def _c_linkage(node: Node, in_type: bool) -> _Def | None:
    return _Def("", "namespace", _field(node, "body"), qualify=False)


def _c_imports(node: Node) -> list[str]:
    return [_unquote(_text(_field(node, "path")))]


def _c_rules(cpp: bool) -> _Rules:
    ref: list[Classify] = []
    special: dict[str, Classify] = {
        "function_definition": _c_function,
        "struct_specifier": _c_type("struct"),
        "union_specifier": _c_type("union"),
        "enum_specifier": _c_type("enum"),
        "type_definition": _c_typedef,
    }
    if cpp:
        special.update(
            {
                "class_specifier": _c_type("class"),
                "namespace_definition": _c_namespace,
                "linkage_specification": _c_linkage,
                "template_declaration": _wrapper(ref),
            }
        )
    ref.append(_simple({}, special))
    transparent = frozenset(
        {"preproc_ifdef", "preproc_if", "preproc_else", "preproc_elif", "preproc_elifdef"}
    )
    return _Rules(ref[0], imports={"preproc_include": _c_imports}, transparent=transparent)


# Ruby


def _ruby_container(kind: str) -> Classify:
    def classify(node: Node, in_type: bool) -> _Def | None:
        name = _bare_type(_name(node))
        return _Def(name, kind, _field(node, "body")) if name else None

    return classify


def _ruby_singleton(node: Node, in_type: bool) -> _Def | None:
    name = _name(node)
    owner = _text(_field(node, "object"))
    if not name:
        return None
    return _Def(name if owner == "self" else f"{_bare_type(owner)}.{name}", "method")


def _ruby_class_body(node: Node, in_type: bool) -> _Def | None:
    return _Def("", "class", _field(node, "body"), qualify=False)


_RUBY_LOADS = frozenset({"require", "require_relative", "load"})


def _ruby_imports(node: Node) -> list[str]:
    method = _field(node, "method")
    arguments = _field(node, "arguments")
    if _field(node, "receiver") is not None or _text(method) not in _RUBY_LOADS:
        return []
    if arguments is None or not arguments.named_children:
        return []
    return [_unquote(_text(arguments.named_children[0]))]


# PHP


def _php_namespace(node: Node, in_type: bool) -> _Def | None:
    body = _field(node, "body")
    name = _bare_type(_name(node))
    return _Def(name, "namespace", body) if body is not None and name else None


_PHP_LOADS = frozenset(
    {"require_expression", "require_once_expression", "include_expression",
     "include_once_expression"}
)  # fmt: skip


def _php_imports(node: Node) -> list[str]:
    if node.type == "namespace_use_declaration":
        found = []
        for clause in node.named_children:
            if clause.type == "namespace_use_clause":
                found.append(_text(clause).split(" as ")[0].lstrip("\\"))
            elif clause.type == "namespace_use_group":
                found.append(_text(node).removeprefix("use").rstrip(";").strip())
                break
        return found
    expression = node.named_children[0] if node.named_children else None
    if expression is None or expression.type not in _PHP_LOADS:
        return []
    return [_unquote(_text(expression.named_children[0]))] if expression.named_children else []


# Shell


_SHELL_FUNCTION = re.compile(
    r"^(?P<indent>[ \t]*)(?:function[ \t]+(?P<kw>[A-Za-z_][\w:.-]*)[ \t]*(?:\(\s*\))?"
    r"|(?P<name>[A-Za-z_][\w:.-]*)[ \t]*\(\s*\))[ \t]*\{?[ \t]*(?:#.*)?$"
)
_SHELL_SOURCE = re.compile(r"^[ \t]*(?:source|\.)[ \t]+(?P<path>[^\s;#&|]+)")


def shell_outline(text: str) -> Outline:
    """Shell functions (`name() {` and `function name {`) ending at the first `}` line
    at or left of their indentation, and sourced files as imports."""
    lines = text.split("\n")
    symbols: list[Symbol] = []
    imports: list[str] = []
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        if (sourced := _SHELL_SOURCE.match(line)) is not None:
            imports.append(_unquote(sourced.group("path")))
            continue
        found = _SHELL_FUNCTION.match(line)
        if found is None:
            continue
        indent = len(found.group("indent").expandtabs())
        end = number
        for later in range(number, len(lines)):
            body = lines[later]
            if body.strip().startswith("}") and len(body) - len(body.lstrip()) <= indent:
                end = later + 1
                break
        floor = symbols[-1].end if symbols else 0
        start, docstring = _leading(lines, number, floor, _HASH)
        name = found.group("kw") or found.group("name")
        symbols.append(Symbol(name, "function", start, end, docstring))
        number = max(number, end)
    return Outline(symbols, imports, [])


# SQL


def _sql_statement(node: Node, in_type: bool) -> _Def | None:
    for inner in node.named_children:
        if not inner.type.startswith("create_"):
            continue
        kind = inner.type.removeprefix("create_")
        for child in inner.named_children:
            if child.type in ("object_reference", "identifier"):
                return _Def(_text(child), kind)
    return None


# YAML and TOML


def _yaml_pair(node: Node, in_type: bool) -> _Def | None:
    name = _unquote(_text(_field(node, "key")))
    return _Def(name, "key") if name else None


_TOML_KEYS = frozenset({"bare_key", "dotted_key", "quoted_key"})


def _toml_entry(kind: str) -> Classify:
    def classify(node: Node, in_type: bool) -> _Def | None:
        for child in node.named_children:
            if child.type in _TOML_KEYS:
                return _Def(_text(child), kind)
        return None

    return classify


def _rules() -> dict[str, _Rules]:
    rules = {
        "javascript": _js_rules(_JS_TABLE),
        "typescript": _js_rules(_TS_TABLE),
        "go": _Rules(
            _simple({"function_declaration": ("function", None)},
                    {"method_declaration": _go_method, "type_spec": _go_type}),
            imports={"import_declaration": _go_imports},
            transparent=frozenset({"type_declaration"}),
        ),
        "rust": _Rules(
            _simple(
                {"function_item": ("function", None), "struct_item": ("struct", None),
                 "enum_item": ("enum", None), "union_item": ("union", None),
                 "trait_item": ("trait", "body"), "mod_item": ("module", "body"),
                 "macro_definition": ("macro", None), "type_item": ("type", None)},
                {"impl_item": _rust_impl, "function_signature_item": _rust_signature},
            ),
            comments=_Comments(("//",), attributes=("#[",)),
            prefix_nodes=frozenset({"attribute_item"}),
            imports={"use_declaration": _rust_imports,
                     "extern_crate_declaration": _rust_imports},
        ),
        "java": _Rules(
            _simple(
                {"class_declaration": ("class", "body"),
                 "interface_declaration": ("interface", "body"),
                 "enum_declaration": ("enum", "body"), "record_declaration": ("record", "body"),
                 "annotation_type_declaration": ("interface", "body"),
                 "method_declaration": ("method", None),
                 "constructor_declaration": ("method", None),
                 "compact_constructor_declaration": ("method", None)},
            ),
            imports={"import_declaration": _java_imports},
            transparent=frozenset({"enum_body_declarations"}),
        ),
        "c": _c_rules(cpp=False),
        "cpp": _c_rules(cpp=True),
        "csharp": _Rules(
            _simple(
                {"namespace_declaration": ("namespace", "body"),
                 "class_declaration": ("class", "body"), "struct_declaration": ("struct", "body"),
                 "interface_declaration": ("interface", "body"),
                 "enum_declaration": ("enum", None), "record_declaration": ("record", "body"),
                 "method_declaration": ("method", None),
                 "constructor_declaration": ("method", None),
                 "destructor_declaration": ("method", None),
                 "local_function_statement": ("function", None)},
            ),
            comments=_Comments(("//",), xml_docs=True),
            imports={"using_directive": _java_imports},
            transparent=frozenset({"global_statement"}),
        ),
        "ruby": _Rules(
            _simple(
                {"method": ("function", None)},
                {"class": _ruby_container("class"), "module": _ruby_container("module"),
                 "singleton_method": _ruby_singleton, "singleton_class": _ruby_class_body},
            ),
            comments=_HASH,
            imports={"call": _ruby_imports},
            transparent=frozenset({"body_statement"}),
        ),
        "php": _Rules(
            _simple(
                {"class_declaration": ("class", "body"),
                 "interface_declaration": ("interface", "body"),
                 "trait_declaration": ("trait", "body"), "enum_declaration": ("enum", "body"),
                 "function_definition": ("function", None), "method_declaration": ("method", None)},
                {"namespace_definition": _php_namespace},
            ),
            comments=_Comments(("//", "#")),
            imports={"namespace_use_declaration": _php_imports,
                     "expression_statement": _php_imports},
            transparent=frozenset({"enum_declaration_list"}),
        ),
        "sql": _Rules(
            _simple({}, {"statement": _sql_statement}), comments=_Comments(("--",))
        ),
        "yaml": _Rules(
            _simple({}, {"block_mapping_pair": _yaml_pair}),
            comments=_HASH,
            transparent=frozenset({"document", "block_node", "block_mapping"}),
        ),
        "toml": _Rules(
            _simple({}, {"pair": _toml_entry("key"), "table": _toml_entry("table"),
                         "table_array_element": _toml_entry("table")}),
            comments=_HASH,
            end_at_last_child=frozenset({"table", "table_array_element"}),
        ),
    }  # fmt: skip
    return rules


class _Walker:
    def __init__(self, rules: _Rules, lines: list[str]) -> None:
        self.rules = rules
        self.lines = lines
        self.imports: dict[str, None] = {}

    def walk(self, node: Node, prefix: str, depth: int, in_type: bool, floor: int) -> list[Symbol]:
        """Definitions among the children of `node`; `floor` is the last line that
        leading comments of the first one cannot reach."""
        symbols: list[Symbol] = []
        if depth > _MAX_DEPTH:
            return symbols
        previous_end = floor
        for child in node.named_children:
            importer = self.rules.imports.get(child.type)
            if importer is not None:
                for name in importer(child):
                    if name:
                        self.imports[name] = None
            if child.type in self.rules.transparent:
                inner = self.walk(child, prefix, depth + 1, in_type, previous_end)
                symbols.extend(inner)
            else:
                found = self.rules.classify(child, in_type)
                if found is not None:
                    symbols.extend(self._symbols(child, found, prefix, depth, previous_end))
            if not child.type.endswith("comment") and child.type not in self.rules.prefix_nodes:
                previous_end = max(previous_end, _last_line(child))
        return symbols

    def _symbols(
        self, node: Node, found: _Def, prefix: str, depth: int, floor: int
    ) -> list[Symbol]:
        first = _first_line(node)
        last = _last_line(node)
        if node.type in self.rules.end_at_last_child and node.named_children:
            last = max(first, _last_line(node.named_children[-1]))
        members: list[Symbol] = []
        if found.body is not None:
            inner_prefix = f"{prefix}{found.name}." if found.qualify else prefix
            in_type = found.kind not in ("namespace", "module")
            members = self.walk(found.body, inner_prefix, depth + 1, in_type, first)
        if not found.name:  # anonymous namespace, extern "C", class << self
            return members
        start, docstring = _leading(self.lines, first, floor, self.rules.comments)
        return [Symbol(prefix + found.name, found.kind, start, last, docstring, members)]


_RULES = _rules()


_SQL_CREATE = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP(?:ORARY)?\s+)?"
    r"(?:UNIQUE\s+)?(MATERIALIZED\s+VIEW|TABLE|VIEW|FUNCTION|PROCEDURE|INDEX|TRIGGER|TYPE"
    r"|SCHEMA|SEQUENCE|DOMAIN|EXTENSION)\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.\"`\[\]]+)",
    re.IGNORECASE,
)


def sql_statements_outline(text: str) -> Outline:
    """SQL without a grammar: statements end at a `;` closing a line; CREATE
    statements are the symbols."""
    lines = text.split("\n")
    symbols: list[Symbol] = []
    statement_start = 1
    floor = 0
    for number, line in enumerate(lines, 1):
        code = line.split("--", 1)[0].rstrip()
        if not code.endswith(";") and number != len(lines):
            continue
        first = statement_start
        while first <= number and (
            not lines[first - 1].strip() or lines[first - 1].lstrip().startswith("--")
        ):
            first += 1
        if first <= number:
            found = _SQL_CREATE.match("\n".join(lines[first - 1 : number]))
            if found:
                kind = "_".join(found.group(1).lower().split())
                start, docstring = _leading(lines, first, floor, _Comments(("--",)))
                symbols.append(Symbol(found.group(2).strip('"`[]'), kind, start, number, docstring))
        floor = number
        statement_start = number + 1
    return Outline(symbols, [], [])


# The YAML grammar's scanner crashes the process past ~250 indentation levels; a
# level takes at least one column, so a shallower indentation prefix is safe.
_YAML_MAX_PREFIX = 200
_YAML_KEY = re.compile(r"""^("[^"]*"|'[^']*'|[^\s#\-?:'"][^#]*?)\s*:(?:\s|$)""")


def _deep_yaml(text: str) -> bool:
    return any(
        len(line) - len(line.lstrip(" \t-?:")) >= _YAML_MAX_PREFIX
        for line in text.split("\n")
        if len(line) >= _YAML_MAX_PREFIX
    )


def yaml_keys_outline(text: str) -> Outline:
    """Top-level keys of YAML read line by line: a key line starts at column 0 and
    its section runs to the line before the next key or document marker."""
    lines = text.split("\n")
    symbols: list[Symbol] = []
    for number, line in enumerate(lines, 1):
        found = _YAML_KEY.match(line)
        if found is None and not line.startswith(("---", "...")):
            continue
        start, docstring = number, None
        if found is not None:
            floor = symbols[-1].start if symbols else 0
            start, docstring = _leading(lines, number, floor, _HASH)
        if symbols and symbols[-1].end == 0:
            end = start - 1
            while end > symbols[-1].start and not lines[end - 1].strip():
                end -= 1
            symbols[-1].end = end
        if found is not None:
            symbols.append(Symbol(_unquote(found.group(1)), "key", start, 0, docstring))
    if symbols and symbols[-1].end == 0:
        symbols[-1].end = len(lines)
    return Outline(symbols, [], [])
