"""CPU per file of Python and Markdown processing, split at the parse: what `ast.parse`
alone costs, what our validation plus processing costs, and the difference, the cost
"after the parse" (issue #19, item 3).

    python benchmarks/bench_after_parse.py --corpus PATH [--rounds 5] [--before DIR]
    python benchmarks/bench_after_parse.py --corpus PATH --profile python

Files are decoded once, untimed, as the pipeline decodes them (`ingest.pipeline`);
then each round times every file, in CPU time (`time.process_time`):
- `parse`: `ast.parse` of the text alone (Python only);
- `whole`: `ingest.validators.validate` then the processor, as the pipeline runs them,
  the shared parse cache emptied first so the validator parses as it does in a run;
- `after parse`: `whole` minus `parse`, file by file;
- `after parse, direct` (Python only): `whole` with this file's tree already in the
  parse cache (parsed untimed just before), so nothing is parsed or freed in it.
The steps are interleaved per file and their order flips every round. Each file's
value is the median of its rounds; the table shows the mean of those medians (ms per
file) and the median file. Objects alive before the rounds are frozen out of the
garbage collector's scans, as in a pipeline that does not hold the whole corpus.
`--before DIR` also times the `ingest` package of another checkout (say `git worktree
add DIR main`), imported as `ingest_before`, in the same rounds, so a before/after
comparison shares the machine's load. `--profile python|markdown` runs cProfile over
one pass of that kind instead.
"""

from __future__ import annotations

import argparse
import ast
import cProfile
import gc
import importlib.util
import pstats
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

KINDS = {"python": "text/x-python", "markdown": "text/markdown"}
_ROW_ORDER = ["parse", "whole", "after"]
Step = Callable[[Any], None]
Timed = tuple[Step, Step, list[Any]]  # untimed preparation, the timed step, the contents


def nothing(content: Any) -> None:
    return None


def load_package(checkout: Path, name: str) -> ModuleType:
    """The `ingest` package of `checkout`, imported under `name` (its imports are relative)."""
    init = checkout / "ingest" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(init.parent)]
    )
    if spec is None or spec.loader is None:
        raise SystemExit(f"no ingest package in {checkout}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_contents(package: str, files: list[Path], corpus: Path) -> dict[str, list[Any]]:
    """Decoded content of every Python and Markdown file, by kind, as `package` decodes."""
    content_types = importlib.import_module(f"{package}.content_types")
    models = importlib.import_module(f"{package}.models")
    pipeline = importlib.import_module(f"{package}.pipeline")
    found: dict[str, list[Any]] = {kind: [] for kind in KINDS}
    for path in files:
        relative = path.relative_to(corpus).as_posix()
        data = path.read_bytes()
        item = models.SourceItem(
            source_id="bench",
            uri=path.as_uri(),
            size=len(data),
            path=relative,
            content_type=content_types.guess_content_type(relative),
        )
        content = pipeline._decode(item, data, models.content_hash(data))
        for kind, content_type in KINDS.items():
            if content.content_type == content_type and content.text is not None:
                found[kind].append(content)
    return found


def parse_alone(content: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ast.parse(content.text)


def whole(package: str, *, parsed: bool = False) -> Step:
    """Validation then processing of one item, as `ingest.pipeline.process_content`;
    `parsed`: with the parse cache as `prime_parse` left it."""
    processors = importlib.import_module(f"{package}.processors")
    python_source = importlib.import_module(f"{package}.python_source")
    validators = importlib.import_module(f"{package}.validators")
    chunk_policy, validation = processors.ChunkPolicy(), validators.ValidationPolicy()

    def run(content: Any) -> None:
        if not parsed:
            python_source.parse_python.cache_clear()
        if validators.validate(content, validation).ok:
            processors.processor_for(content.content_type).process(content, chunk_policy)

    return run


def prime_parse(package: str) -> Step:
    parse_python = importlib.import_module(f"{package}.python_source").parse_python

    def prime(content: Any) -> None:
        try:
            parse_python(content.text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass  # not cached: the validator parses again, as it would in a run

    return prime


def cpu_ms(step: Step, content: Any) -> float:
    began = time.process_time()
    step(content)
    return 1000 * (time.process_time() - began)


def measure(steps: dict[str, Timed], rounds: int) -> dict[str, list[float]]:
    """Per step, each file's median CPU ms over `rounds`, the steps interleaved per file."""
    files = len(next(iter(steps.values()))[2])
    samples: dict[str, list[list[float]]] = {name: [[] for _ in range(files)] for name in steps}
    order = list(steps)
    for _ in range(rounds):
        for index in range(files):
            for name in order:
                prepare, step, contents = steps[name]
                prepare(contents[index])
                samples[name][index].append(cpu_ms(step, contents[index]))
        order.reverse()
    return {name: [statistics.median(s) for s in per_file] for name, per_file in samples.items()}


def report(kind: str, medians: dict[str, list[float]], rounds: int) -> None:
    files = len(next(iter(medians.values())))
    print(f"\n{kind}: {files} files, CPU ms per file (per file the median of {rounds} rounds)")
    print(f"{'step':<30}{'mean':>9}{'median':>9}{'total s':>9}")
    rows = dict(medians)
    for name in list(medians):
        if name.startswith("whole") and "parse" in medians:
            after = zip(medians[name], medians["parse"], strict=True)
            rows[name.replace("whole", "after parse")] = [w - p for w, p in after]
    for name, values in sorted(rows.items(), key=lambda row: _ROW_ORDER.index(row[0][:5])):
        print(
            f"{name:<30}{statistics.fmean(values):>9.3f}{statistics.median(values):>9.3f}"
            f"{sum(values) / 1000:>9.2f}"
        )


def profile(run: Step, contents: list[Any], top: int) -> None:
    run(contents[0])  # imports and caches outside the profile
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for content in contents:
        run(content)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", type=Path, help="checkout whose `ingest` to compare with")
    parser.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS))
    parser.add_argument("--profile", choices=list(KINDS), help="cProfile one pass of a kind")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    from benchmarks.bench_processors import corpus_files

    corpus = args.corpus.resolve()
    files = corpus_files(corpus)
    packages = ["ingest"]
    if args.before:
        packages.append(load_package(args.before.resolve(), "ingest_before").__name__)
    contents = {package: load_contents(package, files, corpus) for package in packages}
    if args.profile:
        profile(whole("ingest"), contents["ingest"][args.profile], args.top)
        return
    for kind in args.kinds:
        steps: dict[str, Timed] = {}
        if kind == "python":
            steps["parse"] = (nothing, parse_alone, contents["ingest"][kind])
        for package in packages:
            run = whole(package)
            for content in contents[package][kind][:5]:  # imports and caches
                run(content)
            suffix = "" if package == "ingest" else " (before)"
            steps["whole" + suffix] = (nothing, run, contents[package][kind])
            if kind == "python":
                direct = (prime_parse(package), whole(package, parsed=True))
                steps["after parse, direct" + suffix] = (*direct, contents[package][kind])
        gc.freeze()
        report(kind, measure(steps, args.rounds), args.rounds)
        gc.unfreeze()


if __name__ == "__main__":
    main()
