#!/usr/bin/env python3
"""Convert the old wiki export (one HTML file per page) to Markdown files.

Usage: migrate_wiki.py EXPORT_DIR OUT_DIR
"""

import re
import sys
from pathlib import Path

HEADING = re.compile(r"<h([1-6])>(.*?)</h\1>", re.IGNORECASE | re.DOTALL)
TAG = re.compile(r"<[^>]+>")


def to_markdown(html: str) -> str:
    text = HEADING.sub(
        lambda m: "\n" + "#" * int(m.group(1)) + " " + m.group(2).strip() + "\n", html
    )
    text = text.replace("<li>", "- ").replace("<br>", "\n")
    return TAG.sub("", text).strip() + "\n"


def main(export_dir: Path, out_dir: Path) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    for page in sorted(export_dir.glob("*.html")):
        target = out_dir / (page.stem + ".md")
        target.write_text(to_markdown(page.read_text(encoding="utf-8")), encoding="utf-8")
        count += 1
    print(f"converted {count} pages")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
