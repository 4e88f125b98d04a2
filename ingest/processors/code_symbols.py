"""The former name of `code.outline`, kept for importers: the very same module, so a
patched `code_symbols.MAX_PARSE_BYTES` still bounds what is parsed."""

from __future__ import annotations

import sys

from .code import outline as _outline_module

sys.modules[__name__] = _outline_module
