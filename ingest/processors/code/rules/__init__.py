"""Every tree-sitter language's symbol rules by name, gathered from the family modules."""

from __future__ import annotations

from .base import LanguageRules
from .c_family import RULES as _C_FAMILY
from .data import RULES as _DATA
from .go_rust import RULES as _GO_RUST
from .javascript import RULES as _JAVASCRIPT
from .jvm import RULES as _JVM
from .php import RULES as _PHP
from .ruby import RULES as _RUBY
from .sql import RULES as _SQL

__all__ = ["RULES", "LanguageRules"]

RULES: dict[str, LanguageRules] = {
    **_JAVASCRIPT,
    **_GO_RUST,
    **_JVM,
    **_C_FAMILY,
    **_RUBY,
    **_PHP,
    **_SQL,
    **_DATA,
}
