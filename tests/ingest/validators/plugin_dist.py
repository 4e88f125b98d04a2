"""A third-party plug-in distribution written on the fly: one module and its
`.dist-info` folder, so `importlib.metadata` finds its entry points once the folder
is on sys.path, exactly as for an installed package."""

from __future__ import annotations

from pathlib import Path

MODULE = "aichemist_lorem_plugin"
VALIDATOR = "no-lorem"
PROCESSOR = "shout"
SHOUT_TYPE = "text/x-shout"

_SOURCE = '''"""Test plug-in: a validator that refuses placeholder text, a processor for shouts."""

from ingest.errors import ProcessingError
from ingest.models import Chunk, ProcessedDocument, ValidationIssue, ValidationResult


class LoremValidator:
    name = "no-lorem"
    content_types = ("text/plain", "text/markdown")

    def validate(self, content):
        text = content.text or ""
        at = text.lower().find("lorem ipsum")
        if at == -1:
            return ValidationResult()
        line = text.count("\\n", 0, at) + 1
        issue = ValidationIssue(
            code="lorem-ipsum", message="placeholder text left in", location=f"line {line}"
        )
        return ValidationResult(errors=[issue])


class ShoutProcessor:
    name = "shout"
    version = "1"
    content_types = ("text/x-shout",)

    def process(self, content, policy):
        text = content.text or ""
        if text != text.upper():
            raise ProcessingError("a shout must be upper case", uri=content.item.uri)
        return ProcessedDocument(
            id=content.content_hash,
            source=content.item.source_id,
            uri=content.item.uri,
            content_type=content.content_type,
            content_hash=content.content_hash,
            text=text,
            chunks=[Chunk(seq=0, text=text)],
        )
'''

_ENTRY_POINTS = f"""[aichemist_ingest.validators]
{VALIDATOR} = {MODULE}:LoremValidator

[aichemist_ingest.processors]
{PROCESSOR} = {MODULE}:ShoutProcessor
"""


def write_distribution(site: Path, entry_points: str = _ENTRY_POINTS) -> Path:
    """Write the plug-in into `site` (to be put on sys.path); returns `site`."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{MODULE}.py").write_text(_SOURCE)
    info = site / f"{MODULE}-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {MODULE.replace('_', '-')}\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(entry_points)
    return site
