"""A bundle's manifest and files, checked against the 1.2 CSV binding (``binding``).

Everything is checked before anything is recorded, and the first problem refuses the bundle
naming its file, line and column: the manifest (versions, a mode for every file it lists, the
zip holding exactly the files it says are there), each file's header, every value's type, a
``sourcedId`` given once per file, ``status`` and ``dateLastModified`` on every row of a delta
file, and every reference between files. A reference a delta file makes to a row it does not
carry may name one an earlier export sent: that is left to the rows that use it (a bulk file
is the whole data set, so there it refuses the bundle).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from db.imports.dates import how_to_write
from db.imports.oneroster import binding
from db.imports.oneroster.binding import Column, FileSpec, Type
from db.imports.rows import FileProblem
from db.imports.spreadsheet import lines_of


@dataclass(frozen=True, slots=True)
class Record:
    line: int
    values: dict[str, str]  # by column, stripped; "" for a blank or missing value

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass(frozen=True, slots=True)
class Table:
    spec: FileSpec
    mode: str  # bulk | delta
    records: list[Record]
    by_id: dict[str, Record]


@dataclass(frozen=True, slots=True)
class Bundle:
    modes: dict[str, str]  # every file of the binding: absent | bulk | delta
    tables: dict[str, Table]  # the files read, by name

    def table(self, name: str) -> Table | None:
        return self.tables.get(name)


def _text(content: bytes, filename: str) -> str:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise FileProblem(
            "ENCODING",
            f"{filename} line {line} is not UTF-8 text; export the bundle as UTF-8",
            file=filename,
            line=line,
        ) from None
    return text.removeprefix("\ufeff")


def _rows(content: bytes, filename: str) -> list[tuple[int, list[str]]]:
    """(line, values) of every non-blank row, the header first."""
    # Cut at "\n" only (``lines_of``): a quoted value may hold characters splitlines cuts at.
    reader = csv.reader(lines_of(_text(content, filename)), strict=True)
    rows = []
    start = 1
    try:
        for values in reader:
            if any(value.strip() for value in values):
                rows.append((start, values))
            start = reader.line_num + 1
    except csv.Error as error:
        # Where the record began: an open quote runs on to the end of the file.
        line = start
        raise FileProblem(
            "CSV", f"{filename} line {line}: {error}; check its quotes", file=filename, line=line
        ) from None
    return rows


def _manifest(members: Mapping[str, bytes]) -> dict[str, str]:
    name = binding.MANIFEST
    if name not in members:
        raise FileProblem(
            "MANIFEST",
            f"the zip has no {name}: a OneRoster bundle starts with one (and the CSV files sit at "
            "the top of the zip)",
            file=name,
        )
    rows = _rows(members[name], name)
    if not rows or [v.strip() for v in rows[0][1][:2]] != ["propertyName", "value"]:
        raise FileProblem(
            "MANIFEST", f"{name} line 1 must be the header propertyName,value", file=name, line=1
        )
    properties: dict[str, tuple[int | None, str]] = {}
    for line, values in rows[1:]:
        key = values[0].strip()
        if key in properties:
            raise FileProblem(
                "MANIFEST", f"{name} line {line}: {key} is given twice", file=name, line=line
            )
        properties[key] = (line, values[1].strip() if len(values) > 1 else "")
    for key, wanted in (
        ("manifest.version", binding.MANIFEST_VERSION),
        ("oneroster.version", binding.ONEROSTER_VERSION),
    ):
        at, value = properties.get(key, (None, ""))
        if value != wanted:
            said = f"says {value!r}" if at is not None else "is missing"
            raise FileProblem(
                "VERSION",
                f"{name}: {key} {said}; this registry reads OneRoster {binding.ONEROSTER_VERSION} "
                f"bundles ({key} = {wanted})",
                file=name,
                line=at,
                column="value",
            )
    modes: dict[str, str] = {}
    for file in binding.DATA_FILES:
        at, mode = properties.get(f"file.{file}", (None, "absent"))
        if mode not in binding.MODES:
            raise FileProblem(
                "MANIFEST",
                f"{name} line {at}: file.{file} is {mode!r}; it must be absent, bulk or delta",
                file=name,
                line=at,
                column="value",
            )
        modes[file] = mode
    listed = {f"{file}.csv" for file, mode in modes.items() if mode != "absent"}
    for member in members:
        if member != name and member not in listed:
            raise FileProblem(
                "MANIFEST",
                f"the zip holds {member}, which {name} does not list as bulk or delta",
                file=member,
            )
    for member in sorted(listed):
        if member not in members:
            raise FileProblem(
                "MANIFEST", f"{name} lists {member}, which is not in the zip", file=member
            )
    for file in binding.NEEDED_FILES:
        if modes[file] == "absent":
            raise FileProblem(
                "MANIFEST",
                f"{name} says file.{file} is absent: the registry records results, scaled by "
                "their line items, so a bundle needs results.csv and lineItems.csv",
                file=f"{file}.csv",
            )
    return modes


_ENUMERATIONS = {
    Type.STATUS: binding.STATUSES,
    Type.SCORE_STATUS: binding.SCORE_STATUSES,
    Type.ROLE: binding.ROLES,
    Type.ORG_TYPE: binding.ORG_TYPES,
}


def _type_error(column: Column, value: str) -> str | None:
    """Why ``value`` is not of the column's type, or None."""
    kind = column.type
    if kind in (Type.TEXT, Type.ID):
        return None
    if kind == Type.FLOAT:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return "must be a number"
        return None if number.is_finite() else "must be a finite number"
    if kind == Type.BOOLEAN:
        return None if value in ("true", "false") else "must be true or false"
    if kind == Type.DATE:
        return None if _is_date(value) else "must be a date, YYYY-MM-DD"
    if kind == Type.DATETIME:
        return None if _is_datetime(value) else "must be a date-time with its zone (ISO 8601)"
    if kind == Type.DATE_OR_DATETIME:
        if _is_date(value) or _is_datetime(value):
            return None
        return f"is not a date the registry reads: {how_to_write(value)}"
    allowed = _ENUMERATIONS[kind]
    if value in allowed:
        return None
    return "must be one of " + ", ".join(allowed)


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_datetime(value: str) -> bool:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value and parsed.tzinfo is not None


def _table(spec: FileSpec, mode: str, content: bytes, max_rows: int) -> Table:
    filename = spec.filename
    rows = _rows(content, filename)
    if not rows:
        raise FileProblem("EMPTY", f"{filename} is empty: it needs its header row", file=filename)
    header_line, cells = rows[0]
    header = [cell.strip() for cell in cells]
    for name in header:
        if header.count(name) > 1:
            raise FileProblem(
                "DUPLICATE_COLUMN",
                f"{filename}: column {name} appears twice",
                file=filename,
                line=header_line,
                column=name,
            )
    for name in spec.header:
        if name not in header:
            raise FileProblem(
                "MISSING_COLUMN",
                f"{filename}: missing column {name}",
                file=filename,
                line=header_line,
                column=name,
            )
    if len(rows) - 1 > max_rows:
        raise FileProblem(
            "TOO_MANY_ROWS",
            f"{filename} has more than {max_rows:,} rows; split the export",
            file=filename,
            line=rows[max_rows + 1][0],
        )
    records: list[Record] = []
    by_id: dict[str, Record] = {}
    for line, values in rows[1:]:
        if len(values) > len(header):
            raise FileProblem(
                "CSV",
                f"{filename} line {line} has {len(values)} values and the header {len(header)} "
                "columns",
                file=filename,
                line=line,
            )
        record = Record(
            line, {name: value.strip() for name, value in zip(header, values, strict=False)}
        )
        for column in spec.columns:
            value = record[column.name]
            needed = column.required or (
                mode == "delta" and column.name in ("status", "dateLastModified")
            )
            if not value:
                if needed:
                    extra = " (a delta file says it on every row)" if not column.required else ""
                    raise FileProblem(
                        "MISSING_VALUE",
                        f"{filename} line {line}: {column.name} is empty{extra}",
                        file=filename,
                        line=line,
                        column=column.name,
                    )
                continue
            error = _type_error(column, value)
            if error is not None:
                raise FileProblem(
                    "TYPE",
                    f"{filename} line {line}: {column.name} {value[:60]!r} {error}",
                    file=filename,
                    line=line,
                    column=column.name,
                )
        if record["sourcedId"] in by_id:
            raise FileProblem(
                "DUPLICATE_ID",
                f"{filename} line {line}: sourcedId {record['sourcedId']!r} is also on line "
                f"{by_id[record['sourcedId']].line}",
                file=filename,
                line=line,
                column="sourcedId",
            )
        by_id[record["sourcedId"]] = record
        records.append(record)
    return Table(spec, mode, records, by_id)


def _check_line_item(table: Table) -> None:
    for record in table.records:
        if Decimal(record["resultValueMax"]) <= Decimal(record["resultValueMin"]):
            raise FileProblem(
                "TYPE",
                f"lineItems.csv line {record.line}: resultValueMax must be greater than "
                "resultValueMin",
                file="lineItems.csv",
                line=record.line,
                column="resultValueMax",
            )


def _check_references(bundle: Bundle) -> None:
    for table in bundle.tables.values():
        for column in table.spec.columns:
            if column.refers_to is None:
                continue
            target = bundle.table(column.refers_to)
            # A file the bundle does not carry cannot be checked against; a delta file may
            # name rows an earlier export sent.
            if target is None or table.mode == "delta" or target.mode == "delta":
                continue
            for record in table.records:
                value = record[column.name]
                if value and value not in target.by_id:
                    raise FileProblem(
                        "REFERENCE",
                        f"{table.spec.filename} line {record.line}: {column.name} {value!r} is "
                        f"not a sourcedId in {target.spec.filename}",
                        file=table.spec.filename,
                        line=record.line,
                        column=column.name,
                    )
    results, users = bundle.table("results"), bundle.table("users")
    if results is not None and results.mode == "bulk" and users is None:
        raise FileProblem(
            "MANIFEST",
            "a bulk results.csv needs users.csv: the registry registers the students it names",
            file="users.csv",
        )


def read_bundle(members: Mapping[str, bytes], *, max_rows: int) -> Bundle:
    """The bundle's manifest and the files the registry reads, checked (module docstring)."""
    modes = _manifest(members)
    tables: dict[str, Table] = {}
    for name in binding.READ_ORDER:
        spec = binding.FILES[name]
        if modes[name] != "absent":
            tables[name] = _table(spec, modes[name], members[spec.filename], max_rows)
    _check_line_item(tables["lineItems"])
    bundle = Bundle(modes, tables)
    _check_references(bundle)
    return bundle
