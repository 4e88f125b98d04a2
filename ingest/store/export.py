"""`ingest export`: write the store's documents as JSON Lines or Parquet, streaming
and atomically (a temporary file beside the target, then os.replace)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ConfigurationError
from ..models import ExportRecord

ROW_GROUP_SIZE = 1_000

_CHUNK_TYPE = pa.struct([("seq", pa.int64()), ("text", pa.string()), ("metadata", pa.string())])


class Exportable(Protocol):
    """Anything that streams export records, such as a `Store`."""

    def iter_export(self, include_deleted: bool = False) -> Iterator[ExportRecord]: ...


def export_record(record: ExportRecord, include_deleted: bool = False) -> dict[str, Any]:
    """The JSON object of one document (docs/architecture.md, "Contracts")."""
    return record.model_dump(mode="json", exclude=None if include_deleted else {"deleted"})


@contextlib.contextmanager
def _atomic(out: Path) -> Iterator[Path]:
    """A temporary file beside `out` that replaces it at the end; any OS failure is a
    ConfigurationError naming `out` and the reason, and leaves nothing behind."""
    if out.is_dir():
        raise ConfigurationError(f"cannot write {out}: it is a folder")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        os.close(fd)
    except OSError as exc:
        raise _cannot_write(out, exc) from exc
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, out)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _cannot_write(out, exc) from exc
        raise


def _cannot_write(out: Path, exc: OSError) -> ConfigurationError:
    blocking = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    reason = f"{blocking} is a file, not a folder" if blocking else exc.strerror or str(exc)
    return ConfigurationError(f"cannot write {out}: {reason}")


def export_jsonl(store: Exportable, out: Path, include_deleted: bool = False) -> int:
    """Write one JSON object per document; return the number written."""
    count = 0
    with _atomic(Path(out)) as tmp:
        with tmp.open("w", encoding="utf-8", newline="\n") as fh:
            for record in store.iter_export(include_deleted=include_deleted):
                fh.write(json.dumps(export_record(record, include_deleted), ensure_ascii=False))
                fh.write("\n")
                count += 1
            fh.flush()
            os.fsync(fh.fileno())
    return count


def parquet_schema(include_deleted: bool = False) -> pa.Schema:
    """Columns of the export; metadata as JSON text, chunks as a list of structs."""
    fields = [
        ("id", pa.string()),
        ("source", pa.string()),
        ("uri", pa.string()),
        ("content_type", pa.string()),
        ("content_hash", pa.string()),
        ("title", pa.string()),
        ("text", pa.string()),
        ("metadata", pa.string()),
        ("chunks", pa.list_(_CHUNK_TYPE)),
        ("run_id", pa.string()),
        ("updated_at", pa.timestamp("us", tz="UTC")),
    ]
    if include_deleted:
        fields.append(("deleted", pa.bool_()))
    return pa.schema(fields)


def _parquet_row(record: ExportRecord, include_deleted: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": record.id,
        "source": record.source,
        "uri": record.uri,
        "content_type": record.content_type,
        "content_hash": record.content_hash,
        "title": record.title,
        "text": record.text,
        "metadata": _json(record.metadata),
        "chunks": [
            {"seq": c.seq, "text": c.text, "metadata": _json(c.metadata)} for c in record.chunks
        ],
        "run_id": record.run_id,
        "updated_at": record.updated_at,
    }
    if include_deleted:
        row["deleted"] = record.deleted
    return row


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def export_parquet(
    store: Exportable,
    out: Path,
    include_deleted: bool = False,
    row_group_size: int = ROW_GROUP_SIZE,
) -> int:
    """Write the documents to a Parquet file in row groups of `row_group_size`;
    return the number written."""
    schema = parquet_schema(include_deleted)
    count = 0
    with _atomic(Path(out)) as tmp:
        with pq.ParquetWriter(tmp, schema) as writer:
            rows: list[dict[str, Any]] = []
            for record in store.iter_export(include_deleted=include_deleted):
                rows.append(_parquet_row(record, include_deleted))
                if len(rows) >= row_group_size:
                    writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                    count += len(rows)
                    rows = []
            if rows:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                count += len(rows)
    return count
