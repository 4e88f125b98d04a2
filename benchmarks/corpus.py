"""A deterministic, mixed corpus for benchmarks: Markdown, Python, text, JSON, CSV, other code
and a few binary files behind text names, spread over nested folders.

    python benchmarks/corpus.py OUT --files 10000 --seed 0
"""

from __future__ import annotations

import argparse
import json
import keyword
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

#: kind -> (share of the files, file extensions)
MIX: dict[str, tuple[float, tuple[str, ...]]] = {
    "markdown": (0.35, (".md",)),
    "python": (0.30, (".py",)),
    "text": (0.15, (".txt",)),
    "json": (0.10, (".json",)),
    "csv": (0.05, (".csv",)),
    "code": (0.03, (".js", ".go")),
    "binary": (0.02, (".md", ".txt", ".json")),
}
FILES_PER_FOLDER = 50

_WORDS = (
    "ingest batch source store chunk token index search query document folder file "
    "pipeline flow task retry cache fingerprint schema record field value stream "
    "parser heading section symbol function class module config setting limit rate "
    "worker queue schedule deployment report error warning state result page link "
    "the a of to and in for with on by from is are be can will should may never always "
    "customer order product stock warehouse price invoice service device sensor lab"
).split()
#: Words safe as Python, JavaScript and Go identifiers.
_IDENTIFIERS = [
    w for w in _WORDS[:40] if not keyword.iskeyword(w) and w not in {"class", "function"}
]
_AREAS = ("docs", "src", "notes", "data", "handbook", "services", "tools", "archive")


class _Writer:
    """Builds file contents from a pool of sentences, so a large corpus stays fast to make."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.sentences = [self._sentence() for _ in range(400)]
        self.names = [self._name() for _ in range(300)]

    def _sentence(self) -> str:
        words = self.rng.choices(_WORDS, k=self.rng.randint(6, 18))
        return " ".join(words).capitalize() + self.rng.choice((".", ".", ".", "?", "!"))

    def _name(self) -> str:
        return "_".join(self.rng.choices(_IDENTIFIERS, k=self.rng.randint(1, 3)))

    def paragraph(self, sentences: tuple[int, int] = (2, 7)) -> str:
        return " ".join(self.rng.choices(self.sentences, k=self.rng.randint(*sentences)))

    def title(self) -> str:
        return " ".join(w.capitalize() for w in self.rng.choices(_WORDS, k=self.rng.randint(2, 5)))

    def name(self) -> str:
        return self.rng.choice(self.names)

    # -- one method per kind; each returns the bytes of one file ----------------------------

    def markdown(self) -> bytes:
        rng, target = self.rng, self.rng.randint(1024, 8 * 1024)
        parts: list[str] = []
        if rng.random() < 0.4:
            tags = ", ".join(rng.sample(_WORDS[:40], 3))
            parts.append(f"---\ntitle: {self.title()}\ntags: [{tags}]\n---\n")
        parts.append(f"# {self.title()}\n\n{self.paragraph()}\n")
        size = sum(map(len, parts))
        while size < target:
            level = rng.choice(("##", "##", "###", "####"))
            block = [f"\n{level} {self.title()}\n\n{self.paragraph()}\n"]
            roll = rng.random()
            if roll < 0.3:
                block.append("\n" + "".join(f"- {self.paragraph((1, 1))}\n" for _ in range(4)))
            elif roll < 0.5:
                block.append(f"\n```python\n{self._function()}```\n")
            elif roll < 0.6:
                rows = "".join(
                    f"| {self.name()} | {rng.randint(1, 999)} | {self.name()} |\n" for _ in range(4)
                )
                block.append(f"\n| name | count | owner |\n|---|---:|---|\n{rows}")
            text = "".join(block)
            parts.append(text)
            size += len(text)
        return "".join(parts).encode()

    def _function(self, indent: str = "") -> str:
        rng = self.rng
        name, arg = self.name(), self.name()
        body = [
            f"{indent}def {name}_{rng.randint(0, 99)}"
            f"({arg}: int, limit: int = {rng.randint(1, 500)}) -> list[int]:\n",
            f'{indent}    """{self.paragraph((1, 1))}"""\n',
            f"{indent}    result = []\n",
            f"{indent}    for index in range({arg}):\n",
            f"{indent}        if index % {rng.randint(2, 9)} == 0 and len(result) < limit:\n",
            f"{indent}            result.append(index * {rng.randint(1, 50)})\n",
            f"{indent}    return result\n",
        ]
        return "".join(body)

    def python(self) -> bytes:
        rng, target = self.rng, self.rng.randint(1024, 10 * 1024)
        parts = [
            f'"""{self.paragraph((1, 2))}"""\n\nfrom __future__ import annotations\n\n'
            "import functools\nfrom dataclasses import dataclass\n\n"
            f"LIMIT = {rng.randint(10, 10_000)}\n"
        ]
        size = len(parts[0])
        while size < target:
            roll = rng.random()
            if roll < 0.4:
                text = "\n\n" + self._function()
            elif roll < 0.6:
                text = "\n\n@functools.lru_cache(maxsize=128)\n" + self._function()
            else:
                cls = "".join(w.capitalize() for w in self.name().split("_"))
                fields = "".join(f"    {self.name()}_{i}: int = {i}\n" for i in range(3))
                text = (
                    f"\n\n@dataclass\nclass {cls}{rng.randint(0, 999)}:\n"
                    f'    """{self.paragraph((1, 1))}"""\n\n{fields}\n'
                    + self._function("    ").replace("(", "(self, ", 1)
                )
            parts.append(text)
            size += len(text)
        return "".join(parts).encode()

    def text(self) -> bytes:
        target = self.rng.randint(512, 6 * 1024)
        parts = [self.title().upper() + "\n"]
        size = len(parts[0])
        while size < target:
            paragraph = "\n" + self.paragraph() + "\n"
            parts.append(paragraph)
            size += len(paragraph)
        return "".join(parts).encode()

    def json(self) -> bytes:
        rng = self.rng
        records = [
            {
                "id": f"{self.name()}-{rng.randint(0, 99_999)}",
                "count": rng.randint(0, 1000),
                "ratio": round(rng.random(), 4),
                "active": rng.random() < 0.7,
                "tags": rng.sample(_WORDS[:40], rng.randint(0, 4)),
                "note": self.paragraph((1, 2)),
            }
            for _ in range(rng.randint(3, 40))
        ]
        document = {"name": self.title(), "version": rng.randint(1, 9), "records": records}
        return (json.dumps(document, indent=2) + "\n").encode()

    def csv(self) -> bytes:
        rng = self.rng
        lines = ["id,name,quantity,price,owner"]
        for row in range(rng.randint(10, 200)):
            price = f"{rng.randint(1, 9999) / 100:.2f}"
            lines.append(f"{row},{self.name()},{rng.randint(0, 500)},{price},{self.name()}")
        return ("\n".join(lines) + "\n").encode()

    def code(self, suffix: str) -> bytes:
        name, n = self.name(), self.rng.randint(2, 60)
        if suffix == ".go":
            return (
                f"// Package {name.replace('_', '')} {self.paragraph((1, 1)).lower()}\n"
                f"package {name.replace('_', '')}\n\n"
                f"// Sum adds the first n multiples of {n}.\n"
                f"func Sum(n int) int {{\n\ttotal := 0\n\tfor i := 0; i < n; i++ {{\n"
                f"\t\ttotal += i * {n}\n\t}}\n\treturn total\n}}\n"
            ).encode()
        return (
            f"// {self.paragraph((1, 1))}\n"
            f"export function {name}(items) {{\n"
            f"  return items.filter((item) => item.count > {n}).map((item) => item.id);\n}}\n\n"
            f"export const LIMIT = {n * 10};\n"
        ).encode()

    def binary(self) -> bytes:
        # A PNG-like header guarantees NULs, so every decoder sees these as binary.
        header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
        return header + self.rng.randbytes(self.rng.randint(256, 4096))


def _kinds(n_files: int, rng: random.Random) -> list[str]:
    """Exactly the shares of MIX (rounded), in a shuffled order."""
    kinds: list[str] = []
    for kind, (share, _) in MIX.items():
        kinds.extend([kind] * round(n_files * share))
    kinds = (kinds + ["markdown"] * n_files)[:n_files]
    rng.shuffle(kinds)
    return kinds


def _folder(index: int, rng: random.Random) -> str:
    """Folder of the index-th group of files: two or three levels deep."""
    area = _AREAS[index % len(_AREAS)]
    if rng.random() < 0.5:
        return f"{area}/group-{index // len(_AREAS):03}"
    return f"{area}/group-{index // len(_AREAS):03}/part-{rng.randint(0, 2)}"


def generate_corpus(root: Path, n_files: int, seed: int = 0) -> None:
    """Write `n_files` files under `root`; the same seed always gives the same bytes."""
    rng = random.Random(seed)
    writer = _Writer(rng)
    makers: dict[str, Callable[[str], bytes]] = {
        "markdown": lambda _: writer.markdown(),
        "python": lambda _: writer.python(),
        "text": lambda _: writer.text(),
        "json": lambda _: writer.json(),
        "csv": lambda _: writer.csv(),
        "code": writer.code,
        "binary": lambda _: writer.binary(),
    }
    folder = ""
    for index, kind in enumerate(_kinds(n_files, rng)):
        if index % FILES_PER_FOLDER == 0:
            folder = _folder(index // FILES_PER_FOLDER, rng)
            (root / folder).mkdir(parents=True, exist_ok=True)
        suffix = rng.choice(MIX[kind][1])
        name = f"{kind}-{index:06}-{writer.name()}{suffix}"
        (root / folder / name).write_bytes(makers[kind](suffix))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="folder to write the corpus into")
    parser.add_argument("--files", type=int, default=10_000, help="number of files")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)
    generate_corpus(args.out, args.files, seed=args.seed)
    counts = Counter(path.suffix for path in args.out.rglob("*") if path.is_file())
    total = sum(path.stat().st_size for path in args.out.rglob("*") if path.is_file())
    print(f"{args.files} files, {total / 1e6:.1f} MB in {args.out}: {dict(sorted(counts.items()))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
