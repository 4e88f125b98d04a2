"""Source languages: which one a file is written in (content type, file name,
modeline, shebang) and the tree-sitter parser for it, loaded from the grammar
wheels installed with the package (nothing is downloaded at run time)."""

from __future__ import annotations

import importlib
import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from ..content_types import CODE_LANGUAGES, sniff_content_type

if TYPE_CHECKING:
    from tree_sitter import Language, Parser


@dataclass(frozen=True)
class Grammar:
    """Where the compiled grammar of a language lives: `module.function()`."""

    module: str
    function: str = "language"


#: language name (as in `CODE_LANGUAGES`) -> grammar; Python is parsed with `ast`.
GRAMMARS: dict[str, Grammar] = {
    "javascript": Grammar("tree_sitter_javascript"),
    "typescript": Grammar("tree_sitter_typescript", "language_typescript"),
    "tsx": Grammar("tree_sitter_typescript", "language_tsx"),
    "go": Grammar("tree_sitter_go"),
    "rust": Grammar("tree_sitter_rust"),
    "java": Grammar("tree_sitter_java"),
    "c": Grammar("tree_sitter_c"),
    "cpp": Grammar("tree_sitter_cpp"),
    "csharp": Grammar("tree_sitter_c_sharp"),
    "ruby": Grammar("tree_sitter_ruby"),
    "php": Grammar("tree_sitter_php", "language_php"),
    "sql": Grammar("tree_sitter_sql"),
    "yaml": Grammar("tree_sitter_yaml"),
    "toml": Grammar("tree_sitter_toml"),
}

#: names used by Vim `ft=` / `syntax=` and Emacs `mode:` -> our language name.
_MODE_NAMES: dict[str, str] = {
    "python": "python", "python3": "python", "py": "python",
    "javascript": "javascript", "js": "javascript", "js2": "javascript", "jsx": "javascript",
    "javascriptreact": "javascript", "node": "javascript", "rjsx": "javascript",
    "typescript": "typescript", "ts": "typescript", "typescriptreact": "typescript",
    "tsx": "typescript",
    "go": "go", "golang": "go",
    "rust": "rust", "rs": "rust", "rustic": "rust",
    "java": "java",
    "c": "c",
    "cpp": "cpp", "c++": "cpp", "cxx": "cpp", "cc": "cpp",
    "cs": "csharp", "csharp": "csharp", "c#": "csharp",
    "ruby": "ruby", "rb": "ruby", "enh-ruby": "ruby",
    "php": "php",
    "sh": "bash", "bash": "bash", "zsh": "bash", "shell": "bash", "shell-script": "bash",
    "ksh": "bash",
    "sql": "sql", "mysql": "sql", "pgsql": "sql", "plsql": "sql", "sqlite": "sql",
    "yaml": "yaml", "yml": "yaml",
    "toml": "toml", "conf-toml": "toml",
}  # fmt: skip

_VIM = re.compile(
    r"(?:^|\s)(?:vi|vim|ex)(?:[<=>]?\d+)?:.*?[\s:](?:ft|filetype|syntax|syn)=([\w+#-]+)"
)
_EMACS = re.compile(r"-\*-(.*?)-\*-")
_EMACS_MODE = re.compile(r"(?:^|;)\s*mode\s*:\s*([\w+#-]+)", re.IGNORECASE)
_MODELINE_LINES = 5


def language_from_modeline(text: str) -> str | None:
    """The language a Vim or Emacs modeline names (`vim: set ft=python:`,
    `-*- mode: ruby -*-`, `-*- ruby -*-`), looked for in the first and last lines."""
    lines = text[:4096].split("\n")[:_MODELINE_LINES]
    tail = text[-4096:].split("\n")[-_MODELINE_LINES:]
    for line in lines[:2]:
        found = _EMACS.search(line)
        if found:
            spec = found.group(1)
            mode = _EMACS_MODE.search(spec)
            name = mode.group(1) if mode else spec.strip() if ":" not in spec else ""
            language = _MODE_NAMES.get(name.lower().removesuffix("-mode"))
            if language:
                return language
    for line in [*lines, *tail]:
        found = _VIM.search(line)
        if found:
            language = _MODE_NAMES.get(found.group(1).lower())
            if language:
                return language
    return None


def detect_language(text: str, content_type: str | None = None) -> str | None:
    """The language of source `text`: a modeline wins, then a code content type
    (from the file name or a shebang), then a shebang; None when nothing says."""
    language = language_from_modeline(text)
    if language:
        return language
    if content_type in CODE_LANGUAGES:
        return CODE_LANGUAGES[content_type]
    return CODE_LANGUAGES.get(sniff_content_type(text[:1024], None))


def grammar_name(language: str, file_name: str = "") -> str:
    """The grammar to parse `language` with: TSX files need their own."""
    if language == "typescript" and PurePosixPath(file_name).suffix.lower() == ".tsx":
        return "tsx"
    return language


@cache
def _language(name: str) -> Language | None:
    grammar = GRAMMARS.get(name)
    if grammar is None:
        return None
    try:
        from tree_sitter import Language

        module = importlib.import_module(grammar.module)
        return Language(getattr(module, grammar.function)())
    except (ImportError, AttributeError, ValueError, TypeError):
        return None


def has_grammar(name: str) -> bool:
    return _language(name) is not None


_local = threading.local()


def parser_for(name: str) -> Parser | None:
    """A parser for grammar `name`, private to the calling thread (tree-sitter
    parsers are not thread-safe); None when the grammar is not installed."""
    parsers: dict[str, Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(name)
    if parser is None:
        language = _language(name)
        if language is None:
            return None
        from tree_sitter import Parser

        parser = parsers[name] = Parser(language)
    return parser
