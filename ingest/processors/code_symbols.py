"""The former name of `code.outline`, kept as the very same module for importers."""

from __future__ import annotations

import sys

from .code import outline as _outline_module

# The same module object, so a patched `code_symbols.MAX_PARSE_BYTES` bounds parsing too.
sys.modules[__name__] = _outline_module
