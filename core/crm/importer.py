"""Transactional CSV import: validate every row, report every bad one, write all or nothing.

Rows are validated and written file by file inside one transaction, so memory stays flat for millions of
rows; the first bad row stops the writing (validation goes on, to report all of them) and the transaction
is rolled back at the end. Writes are upserts on the external id, so re-importing changes nothing.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from core.crm.schemas import ENTITIES, Row
from core.db.session import get_engine
from core.errors import InvalidInput

BATCH_ROWS = 5_000


@dataclass(frozen=True)
class RowError:
    file: str
    line: int  # 1-based line in the file; the header is line 1, 0 for file-level problems
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}" if self.line else f"{self.file}: {self.reason}"


@dataclass
class ImportReport:
    rows_per_file: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total_rows(self) -> int:
        return sum(self.rows_per_file.values())


class ImportFailed(InvalidInput):
    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            f"import rejected: {len(report.errors)} bad row(s); nothing was written",
            details=[str(e) for e in report.errors],
        )
        self.report = report


def _format_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        column = ".".join(str(p) for p in err["loc"]) or "row"
        parts.append(f"{column}: {err['msg']}")
    return "; ".join(parts)


def _upsert_statement(conn: Connection, table: Table):  # type: ignore[no-untyped-def]
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(conn.dialect.name)
    if dialect is None:
        raise InvalidInput(f"import supports SQLite and PostgreSQL, not {conn.dialect.name}")
    stmt = dialect.insert(table)
    updatable = {c.name: stmt.excluded[c.name] for c in table.columns if c.name != "id"}
    return stmt.on_conflict_do_update(index_elements=["id"], set_=updatable)


class _KnownIds:
    """Ids per table: those imported in this run plus, looked up once when needed, those already stored."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._from_files: dict[str, set[str]] = {}
        self._stored: dict[str, set[str]] = {}

    def add(self, table: str, row_id: str) -> None:
        self._from_files.setdefault(table, set()).add(row_id)

    def __contains__(self, key: tuple[str, str]) -> bool:
        table, row_id = key
        if row_id in self._from_files.get(table, ()):
            return True
        if table not in self._stored:
            meta_table = ENTITY_TABLES[table]
            self._stored[table] = set(self._conn.execute(select(meta_table.c.id)).scalars())
        return row_id in self._stored[table]


ENTITY_TABLES: dict[str, Table] = {stem: orm.__table__ for stem, (_, orm) in ENTITIES.items()}  # type: ignore[misc]


class _Unreadable(Exception):
    """The file cannot be read as UTF-8 CSV at this line; the import reports it like a bad row."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def _text_lines(path: Path) -> Iterator[str]:
    """The file's lines decoded one by one, so a bad byte is reported with its own line number."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1:
                if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    raise _Unreadable(1, "the file is UTF-16; save it as UTF-8")
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _Unreadable(number, f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                                          "save the file as UTF-8") from None


def _read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(_text_lines(path))
    try:
        for record in reader:
            yield reader.line_num, record
    except csv.Error as exc:  # e.g. a field over the csv module's 131,072-character limit
        raise _Unreadable(reader.line_num + 1, f"not readable as CSV: {exc}") from None


def _check_header(path: Path, schema: type[Row]) -> str | None:
    try:
        header = next(csv.reader(_text_lines(path)), None)
    except (_Unreadable, csv.Error) as exc:
        return getattr(exc, "reason", None) or f"not readable as CSV: {exc}"
    if not header:
        return "file is empty (a header row is required)"
    columns = set(schema.model_fields)
    required = {n for n, f in schema.model_fields.items() if f.is_required()}
    problems = []
    if missing := sorted(required - set(header)):
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unknown := sorted(set(header) - columns):
        problems.append(f"unknown column(s): {', '.join(unknown)}")
    return "; ".join(problems) or None


def import_directory(
    directory: Path,
    database_url: str,
    *,
    on_file: Callable[[str, int], None] | None = None,
) -> ImportReport:
    """Import every ``<entity>.csv`` in ``directory``; raise :class:`ImportFailed` if any row is bad."""
    if not directory.is_dir():
        raise InvalidInput(f"{directory} is not a directory")
    report = ImportReport()
    files = {p.stem: p for p in sorted(directory.glob("*.csv"))}
    if not files:
        raise InvalidInput(f"no .csv files in {directory}; expected some of: {', '.join(ENTITIES)}")
    for stem in files:
        if stem not in ENTITIES:
            report.errors.append(RowError(f"{stem}.csv", 0, f"unknown file; expected one of: {', '.join(ENTITIES)}"))

    engine = get_engine(database_url)
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            known = _KnownIds(conn)
            for stem, (schema, _orm) in ENTITIES.items():
                if stem not in files:
                    continue
                count = _import_file(conn, files[stem], stem, schema, known, report)
                report.rows_per_file[f"{stem}.csv"] = count
                if on_file:
                    on_file(stem, count)
            if report.errors:
                transaction.rollback()
                raise ImportFailed(report)
            transaction.commit()
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
    return report


def _import_file(
    conn: Connection, path: Path, stem: str, schema: type[Row], known: _KnownIds, report: ImportReport
) -> int:
    file_name = path.name
    if problem := _check_header(path, schema):
        report.errors.append(RowError(file_name, 1, problem))
        return 0
    table = ENTITY_TABLES[stem]
    references = [(fk.parent.name, fk.column.table.name) for fk in table.foreign_keys]
    statement = _upsert_statement(conn, table)
    count = 0
    try:
        count = _import_rows(conn, path, stem, schema, known, report, statement, references)
    except _Unreadable as exc:
        report.errors.append(RowError(file_name, exc.line, exc.reason))
    return count


def _import_rows(conn: Connection, path: Path, stem: str, schema: type[Row], known: _KnownIds,
                 report: ImportReport, statement: Any, references: list[tuple[str, str]]) -> int:
    file_name = path.name
    validator = schema.__pydantic_validator__
    seen: set[str] = set()
    batch: list[dict[str, object]] = []
    count = 0
    for line, record in _read_rows(path):
        count += 1
        if None in record:  # csv puts surplus cells under the key None
            report.errors.append(RowError(file_name, line, "more cells than header columns"))
            continue
        try:
            row = validator.validate_python(record).__dict__
        except ValidationError as exc:
            report.errors.append(RowError(file_name, line, _format_validation_error(exc)))
            if record.get("id"):
                known.add(stem, record["id"].strip())  # so rows referencing it do not report a second error
            continue
        if row["id"] in seen:
            report.errors.append(RowError(file_name, line, f"duplicate id {row['id']!r} in this file"))
            continue
        seen.add(row["id"])
        dangling = [
            f"{column}={row[column]!r} not found in {target}"
            for column, target in references
            if row[column] is not None and (target, row[column]) not in known
        ]
        if dangling:
            report.errors.append(RowError(file_name, line, "; ".join(dangling)))
            continue
        known.add(stem, row["id"])
        if report.errors:
            continue  # keep validating to report every bad row, but stop writing
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            conn.execute(statement, batch)
            batch.clear()
    if batch and not report.errors:
        conn.execute(statement, batch)
    return count
