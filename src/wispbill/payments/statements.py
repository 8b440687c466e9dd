"""Reading a bank statement file into lines of money received. Two formats (docs/payments.md):

- `generic`: a CSV with the header `date,amount,reference,description,tracking_key`; dates
  `YYYY-MM-DD` or `DD/MM/YYYY`, amounts with a decimal point and nothing else.
- `bbva`: BBVA México's export of account movements ("Consulta de movimientos", CSV or its
  tab-separated TXT): lines of account data, then a header with `Fecha`, `Descripción` (or
  `Concepto` / `Concepto / Referencia`), an optional `Referencia`, `Cargo`, `Abono` and
  `Saldo`; dates `DD/MM/YYYY` or `DD-MM-YYYY`, amounts as the bank writes them (`1,800.00`).
  Only deposits (`Abono`) are read; charges are counted and left out.

A file is read whole or refused whole: any bad line refuses it, and the message names the
line. The size is bounded before anything is decoded."""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from wispbill.core.clock import FIRST_DAY, today
from wispbill.core.formatting import money
from wispbill.core.models import MAX_MONEY
from wispbill.payments.models import BankLine, StatementFormat

MAX_BYTES = 5 * 1024 * 1024
MAX_LINES = 50_000
ENVELOPE = 64 * 1024
MAX_ERRORS = 20  # the messages a refused file lists; the count covers them all
GENERIC_COLUMNS = ("date", "amount", "reference", "description", "tracking_key")
ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
DMY_DATE = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")
PLAIN_AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")
GROUPED_AMOUNT = re.compile(r"^\d{1,3}(,\d{3})+(\.\d{1,2})?$")
TRACKING_KEY = re.compile(
    r"(?:clave\s+de\s+rastreo|cve\.?\s*rastreo|rastreo)[:\s]*([A-Z0-9]+)", re.I
)
LIMITS: dict[str, int | None] = {
    "reference": BankLine._meta.get_field("reference").max_length,
    "description": BankLine._meta.get_field("description").max_length,
    "tracking_key": BankLine._meta.get_field("tracking_key").max_length,
}


@dataclass(frozen=True)
class StatementLine:
    line: int
    date: date
    amount: Decimal
    reference: str
    description: str
    tracking_key: str

    @property
    def key(self) -> tuple[object, ...]:
        """What makes two lines the same transfer (the database's unique constraint)."""
        return (self.date, self.amount, self.reference, self.tracking_key)


@dataclass
class ReadStatement:
    lines: list[StatementLine]
    skipped: int  # lines of money that went out (a bank export's charges)


class _Refusals:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.count = 0

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.messages) < MAX_ERRORS:
            self.messages.append(_("Line %(line)s: %(error)s") % {"line": line, "error": message})

    def raise_if_any(self) -> None:
        if not self.count:
            return
        messages = list(self.messages)
        if self.count > len(messages):
            messages.append(
                _("…and %(n)s more lines with errors.") % {"n": self.count - len(messages)}
            )
        messages.append(_("Nothing was imported: correct the file and try again."))
        raise ValidationError({"file": messages})


def size_check(size: int) -> None:
    """Refuse a file too large to read, from its size alone."""
    if size > MAX_BYTES:
        raise ValidationError(
            {
                "file": [
                    _(
                        "The file is larger than %(size)s MB; split the statement into shorter "
                        "periods."
                    )
                    % {"size": MAX_BYTES // (1024 * 1024)}
                ]
            }
        )


def declared_size_check(content_length: str | None) -> None:
    """Refuse an upload from the length its request declares, before a byte of it is read
    (room is left for the form's other fields and the multipart boundaries)."""
    length = content_length or "0"
    size_check(int(length) - ENVELOPE if length.isdigit() else MAX_BYTES + 1)


def statement_read(data: bytes, fmt: str) -> ReadStatement:
    """The lines of money received in `data`, a statement in format `fmt`; a ValidationError
    (under "file" or "format") naming every bad line when it cannot be read whole."""
    if fmt not in StatementFormat.values:
        raise ValidationError(
            {
                "format": [
                    _("Unknown format %(format)s; the formats are: %(formats)s.")
                    % {"format": fmt, "formats": ", ".join(StatementFormat.values)}
                ]
            }
        )
    size_check(len(data))
    if data.count(b"\n") > MAX_LINES:
        raise ValidationError(
            {"file": [_("The file has more than %(n)s lines; split it.") % {"n": MAX_LINES}]}
        )
    if b"\x00" in data:
        raise ValidationError({"file": [_("The file is not a text (CSV) file.")]})
    text = _decoded(data)
    if fmt == StatementFormat.BBVA:
        return _read_bbva(text)
    return _read_generic(text)


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # what Excel saves in on Windows


def _rows(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of each row that has any text."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, start = [], 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((start, [cell.strip() for cell in cells]))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ValidationError(
            {"file": [_("Line %(line)s: the CSV is malformed.") % {"line": start}]}
        ) from exc
    return rows


def _folded(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.lower().split())


def _read_generic(text: str) -> ReadStatement:
    rows = _rows(text, ",")
    if not rows:
        raise ValidationError({"file": [_("The file is empty.")]})
    (_first, header), body = rows[0], rows[1:]
    if tuple(_folded(cell) for cell in header) != GENERIC_COLUMNS:
        raise ValidationError(
            {
                "file": [
                    _("The columns are %(found)s; a generic statement has the header %(expected)s.")
                    % {"found": ",".join(header), "expected": ",".join(GENERIC_COLUMNS)}
                ]
            }
        )
    refusals, lines = _Refusals(), []
    for number, cells in body:
        if len(cells) != len(GENERIC_COLUMNS):
            refusals.add(
                number,
                _("%(found)s columns instead of %(expected)s.")
                % {"found": len(cells), "expected": len(GENERIC_COLUMNS)},
            )
            continue
        day_text, amount_text, reference, description, tracking_key = cells
        line = _line(
            refusals,
            number,
            day_text,
            _amount(amount_text, grouped=False),
            amount_text,
            reference=reference,
            description=description,
            tracking_key=tracking_key,
        )
        if line is not None:
            lines.append(line)
    refusals.raise_if_any()
    return ReadStatement(lines, skipped=0)


BBVA_COLUMNS = {
    "fecha": "date",
    "fecha operacion": "date",
    "dia": "date",
    "descripcion": "description",
    "concepto": "description",
    "concepto / referencia": "description",
    "referencia": "reference",
    "cargo": "charge",
    "cargos": "charge",
    "abono": "deposit",
    "abonos": "deposit",
    "saldo": "balance",
}


def _bbva_header(text: str) -> tuple[list[tuple[int, list[str]]], dict[str, int]]:
    """The rows after the header and where each known column is, for whichever separator
    the export used."""
    for delimiter in ("\t", ";", ","):
        rows = _rows(text, delimiter)
        for index, (_number, cells) in enumerate(rows[:30]):
            columns = {}
            for position, cell in enumerate(cells):
                name = BBVA_COLUMNS.get(_folded(cell))
                if name and name not in columns:
                    columns[name] = position
            if {"date", "description", "deposit"} <= set(columns):
                return rows[index + 1 :], columns
    raise ValidationError(
        {
            "file": [
                _(
                    "This is not a BBVA México export of movements: no header with the columns "
                    "Fecha, Descripción (or Concepto), Cargo, Abono and Saldo was found."
                )
            ]
        }
    )


def _read_bbva(text: str) -> ReadStatement:
    rows, columns = _bbva_header(text)
    refusals, lines, skipped = _Refusals(), [], 0

    def cell(cells: list[str], name: str) -> str:
        position = columns.get(name)
        return cells[position] if position is not None and position < len(cells) else ""

    for number, cells in rows:
        day_text = cell(cells, "date")
        if not any(ch.isdigit() for ch in day_text):
            continue  # the export's totals and notes below the movements
        deposit = cell(cells, "deposit")
        if not deposit:
            skipped += 1
            continue
        description = cell(cells, "description")
        reference = cell(cells, "reference")
        if not reference:
            # BBVA writes the transfer's reference inside the description: it is what tells
            # two deposits of one day and amount apart.
            reference, description = description, ""
        found = TRACKING_KEY.search(f"{reference} {description}")
        line = _line(
            refusals,
            number,
            day_text,
            _amount(deposit, grouped=True),
            deposit,
            reference=reference,
            description=description,
            tracking_key=found.group(1) if found else "",
        )
        if line is not None:
            lines.append(line)
    refusals.raise_if_any()
    return ReadStatement(lines, skipped=skipped)


def _line(
    refusals: _Refusals,
    number: int,
    day_text: str,
    amount: Decimal | str,
    amount_text: str,
    **texts: str,
) -> StatementLine | None:
    """A checked line, or None after recording why it cannot be one."""
    errors = []
    day = _day(day_text)
    if isinstance(day, str):
        errors.append(day)
    if isinstance(amount, str):
        errors.append(amount)
    for name, value in texts.items():
        limit = LIMITS[name]
        if limit is not None and len(value) > limit:
            errors.append(
                _("the %(column)s is longer than %(n)s characters.")
                % {"column": name, "n": LIMITS[name]}
            )
    if errors or isinstance(day, str) or isinstance(amount, str):
        refusals.add(number, " ".join(errors))
        return None
    return StatementLine(line=number, date=day, amount=amount, **texts)


def _day(text: str) -> date | str:
    """The date, or why it is not one."""
    if found := ISO_DATE.match(text):
        year, month, day = (int(g) for g in found.groups())
    elif found := DMY_DATE.match(text):
        day, month, year = (int(g) for g in found.groups())
    else:
        return _("the date %(value)s is not written as YYYY-MM-DD or DD/MM/YYYY.") % {
            "value": text or "—"
        }
    try:
        value = date(year, month, day)
    except ValueError:
        return _("the date %(value)s does not exist.") % {"value": text}
    if value < FIRST_DAY:
        return _("the date %(value)s is before %(first)s.") % {
            "value": text,
            "first": date_format(FIRST_DAY),
        }
    if value > today():
        return _("the date %(value)s has not come yet.") % {"value": text}
    return value


def _amount(text: str, *, grouped: bool) -> Decimal | str:
    """The amount received, or why it is not one. Only a bank's own export may group
    thousands with commas (1,800.00); the generic format has a decimal point alone."""
    value = text.replace("$", "").replace(" ", "") if grouped else text
    if value.startswith("-"):
        return _(
            "the amount %(value)s is negative; a statement of money received has positive "
            "amounts only."
        ) % {"value": text}
    if grouped and GROUPED_AMOUNT.match(value):
        value = value.replace(",", "")
    if not PLAIN_AMOUNT.match(value):
        if "," in value:
            return _(
                "the amount %(value)s has a comma; write it with a decimal point and no "
                "thousands separator, like 1500.00."
            ) % {"value": text}
        return _("the amount %(value)s is not a number with at most two decimals.") % {
            "value": text or "—"
        }
    amount = Decimal(value)
    if amount <= 0:
        return _("the amount must be greater than zero.")
    if amount > MAX_MONEY:
        return _("the amount can be at most %(max)s.") % {"max": money(MAX_MONEY)}
    return amount
