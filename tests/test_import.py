"""kam import: every error type is reported with file, line and reason, and nothing is written."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from core.crm.importer import ImportFailed, import_directory
from core.crm.schemas import ENTITIES
from core.db import models
from core.db.session import get_engine
from core.errors import InvalidInput


def _copy(demo_csv_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "csv"
    shutil.copytree(demo_csv_dir, target)
    return target


def _edit_cell(path: Path, row_index: int, column: str, value: str) -> None:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[row_index][column] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _count_rows(url: str) -> int:
    with get_engine(url).connect() as conn:
        return sum(conn.execute(select(func.count()).select_from(orm.__table__)).scalar_one()
                   for _, orm in ENTITIES.values())


def _fails_with(directory: Path, url: str, *fragments: str) -> list[str]:
    with pytest.raises(ImportFailed) as info:
        import_directory(directory, url)
    messages = [str(e) for e in info.value.report.errors]
    for fragment in fragments:
        assert any(fragment in m for m in messages), (fragment, messages)
    assert _count_rows(url) == 0, "a failed import must write nothing"
    return messages


def test_row_schemas_match_table_columns() -> None:
    for stem, (schema, orm) in ENTITIES.items():
        assert orm.__tablename__ == stem
        assert set(schema.model_fields) == {c.name for c in orm.__table__.columns}, stem


def test_clean_import_then_reimport_changes_nothing(demo_csv_dir: Path, db_url: str) -> None:
    report = import_directory(demo_csv_dir, db_url)
    assert report.ok and report.total_rows == _count_rows(db_url)
    with get_engine(db_url).connect() as conn:
        before = {stem: conn.execute(text(f"SELECT * FROM {stem} ORDER BY id")).all() for stem in ENTITIES}
    import_directory(demo_csv_dir, db_url)
    with get_engine(db_url).connect() as conn:
        after = {stem: conn.execute(text(f"SELECT * FROM {stem} ORDER BY id")).all() for stem in ENTITIES}
    assert before == after


def test_reimport_updates_changed_values(demo_csv_dir: Path, db_url: str, tmp_path: Path) -> None:
    import_directory(demo_csv_dir, db_url)
    directory = _copy(demo_csv_dir, tmp_path)
    _edit_cell(directory / "articles.csv", 0, "stock_on_hand", "4242")
    import_directory(directory, db_url)
    with get_engine(db_url).connect() as conn:
        stock = conn.execute(select(models.Article.stock_on_hand).order_by(models.Article.id).limit(1)).scalar_one()
    assert stock == 4242


@pytest.mark.parametrize(
    ("file", "column", "value", "expected"),
    [
        ("accounts.csv", "segment", "Z", "segment: Input should be 'A', 'B' or 'C'"),
        ("articles.csv", "stock_on_hand", "-5", "stock_on_hand: Input should be greater than or equal to 0"),
        ("articles.csv", "unit_cost", "cheap", "unit_cost: Input should be a valid number"),
        ("call_off_plans.csv", "period", "2026-13", "period: String should match pattern"),
        ("deliveries.csv", "actual_date", "31.12.2025", "actual_date: Input should be a valid date"),
        ("contacts.csv", "language", "fr", "language: Input should be 'de' or 'en'"),
        ("accounts.csv", "name", "", "name: Input should be a valid string"),
        ("contracts.csv", "valid_to", "2001-01-01", "valid_to is before valid_from"),
        ("contacts.csv", "account_id", "A-99999", "account_id='A-99999' not found in accounts"),
    ],
)
def test_bad_value_is_reported_with_line_and_nothing_written(
    demo_csv_dir: Path, db_url: str, tmp_path: Path, file: str, column: str, value: str, expected: str
) -> None:
    directory = _copy(demo_csv_dir, tmp_path)
    _edit_cell(directory / file, 2, column, value)
    messages = _fails_with(directory, db_url, expected)
    assert any(m.startswith(f"{file}:4:") for m in messages), messages  # header is line 1, row index 2 is line 4


def test_all_bad_rows_are_reported_not_only_the_first(demo_csv_dir: Path, db_url: str, tmp_path: Path) -> None:
    directory = _copy(demo_csv_dir, tmp_path)
    for index in (0, 3, 5):
        _edit_cell(directory / "articles.csv", index, "lead_time_weeks", "soon")
    _edit_cell(directory / "contacts.csv", 1, "email", "no-at-sign")
    messages = _fails_with(directory, db_url, "articles.csv:2:", "articles.csv:5:", "articles.csv:7:",
                           "contacts.csv:3:")
    assert len(messages) == 4


def test_header_problems(demo_csv_dir: Path, db_url: str, tmp_path: Path) -> None:
    directory = _copy(demo_csv_dir, tmp_path)
    content = (directory / "meetings.csv").read_text(encoding="utf-8").replace("title", "subject", 1)
    (directory / "meetings.csv").write_text(content, encoding="utf-8")
    _fails_with(directory, db_url, "meetings.csv:1: missing column(s): title; unknown column(s): subject")


def test_duplicate_id_extra_cells_unknown_and_empty_file(demo_csv_dir: Path, db_url: str, tmp_path: Path) -> None:
    directory = _copy(demo_csv_dir, tmp_path)
    lines = (directory / "users.csv").read_text(encoding="utf-8").splitlines()
    (directory / "users.csv").write_text("\n".join([*lines, lines[1], lines[2] + ",surplus"]) + "\n",
                                         encoding="utf-8")
    (directory / "customers.csv").write_text("id\n1\n", encoding="utf-8")
    (directory / "escalations.csv").write_text("", encoding="utf-8")
    _fails_with(directory, db_url, "duplicate id", "more cells than header columns",
                "customers.csv: unknown file", "escalations.csv:1: file is empty")


def test_not_a_directory_and_no_csv_files(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a directory"):
        import_directory(tmp_path / "missing", db_url)
    with pytest.raises(InvalidInput, match=r"no \.csv files"):
        import_directory(tmp_path, db_url)


def test_cli_reports_errors_and_exit_code(demo_csv_dir: Path, settings, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    directory = _copy(demo_csv_dir, tmp_path)
    _edit_cell(directory / "accounts.csv", 0, "currency", "euro")
    result = CliRunner().invoke(app, ["import", str(directory)])
    assert result.exit_code == 2
    assert "accounts.csv:2: currency" in result.output
    assert "nothing was written" in result.output


@pytest.mark.parametrize(("damage", "expected"), [
    ("latin1", "accounts.csv:3: not UTF-8 (byte 0xfc"),
    ("utf16", "accounts.csv:1: the file is UTF-16"),
    ("long_field", "accounts.csv:3: not readable as CSV: field larger than field limit"),
    ("nul", "name: control character U+0000 is not allowed"),
])
def test_a_wrongly_encoded_or_malformed_file_is_a_reason_with_file_and_line(
        demo_csv_dir: Path, settings, tmp_path: Path, damage: str, expected: str) -> None:
    """From the CLI, as an operator sees it: file:line and a reason, never a traceback, nothing written."""
    from typer.testing import CliRunner

    from api.cli import app

    directory = _copy(demo_csv_dir, tmp_path)
    path = directory / "accounts.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    name = lines[2].split(",")[1]
    if damage == "latin1":
        path.write_bytes("".join(lines[:2]).encode() + lines[2].replace(name, "Müller GmbH").encode("latin-1")
                         + "".join(lines[3:]).encode())
    elif damage == "utf16":
        path.write_bytes("".join(lines).encode("utf-16"))
    elif damage == "long_field":
        path.write_text("".join(lines[:2]) + lines[2].replace(name, '"' + "x" * 140_000 + '"') + "".join(lines[3:]),
                        encoding="utf-8")
    else:
        path.write_text("".join(lines[:2]) + lines[2].replace(name, "Evil\x00Corp") + "".join(lines[3:]),
                        encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(directory)])
    assert (result.exit_code == 2 and result.exception is None) or isinstance(result.exception, SystemExit)
    assert expected in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output
    assert _count_rows(settings.resolved_database_url) == 0
