"""Import clients from a spreadsheet (CSV or XLSX, read with tablib and openpyxl): every row is
read into the fields of `client_new` and checked by the same rules as a client made by hand;
the preview names each bad row and what is wrong with it, in the reader's language, and the
import writes all rows or none."""

import csv
import io
import json
import os
import re
import secrets
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import openpyxl
import tablib
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wispbill.clients.models import Access, BillingType, Client, Plan
from wispbill.clients.services.bulk import clients_check_many, clients_create_many
from wispbill.core.answers import Answer
from wispbill.core.clock import first_day_check
from wispbill.core.scratch import scratch_folder, scratch_tidy
from wispbill.network.models import Zone
from wispbill.staff.permissions import MANAGE_CLIENTS, require_permission_of_person

COLUMNS = (
    "name",
    "ip",
    "zone",
    "plan",
    "email",
    "phone",
    "address",
    "access",
    "pppoe_username",
    "pppoe_password",
    "billing_type",
    "start_date",
    "paid_until",
    "rfc",
    "fiscal_name",
    "fiscal_regime",
    "fiscal_postal_code",
    "cfdi_use",
)
REQUIRED = ("name", "ip", "plan")
# The columns taken as written (the model checks them).
TEXT_COLUMNS = (
    "name",
    "ip",
    "email",
    "phone",
    "address",
    "pppoe_username",
    "pppoe_password",
    "rfc",
    "fiscal_name",
    "fiscal_regime",
    "fiscal_postal_code",
    "cfdi_use",
)
# Headings a Spanish-speaking operator may have written instead.
ALIASES = {
    "nombre": "name",
    "zona": "zone",
    "correo": "email",
    "telefono": "phone",
    "teléfono": "phone",
    "direccion": "address",
    "dirección": "address",
    "acceso": "access",
    "usuario_pppoe": "pppoe_username",
    "contraseña_pppoe": "pppoe_password",
    "tipo_facturacion": "billing_type",
    "tipo_facturación": "billing_type",
    "fecha_inicio": "start_date",
    "pagado_hasta": "paid_until",
    "razon_social": "fiscal_name",
    "razón_social": "fiscal_name",
    "nombre_fiscal": "fiscal_name",
    "regimen_fiscal": "fiscal_regime",
    "régimen_fiscal": "fiscal_regime",
    "codigo_postal_fiscal": "fiscal_postal_code",
    "código_postal_fiscal": "fiscal_postal_code",
    "uso_cfdi": "cfdi_use",
}
VALUES: dict[str, dict[str, str]] = {
    "access": {
        "static": Access.STATIC,
        "estatica": Access.STATIC,
        "estática": Access.STATIC,
        "pppoe": Access.PPPOE,
    },
    "billing_type": {
        "zone": BillingType.ZONE,
        "zona": BillingType.ZONE,
        "own": BillingType.OWN,
        "propia": BillingType.OWN,
    },
}
IMPORT_REASON = gettext_noop("imported from the file %(file)s")
# What one file may hold, read before anything grows with it: a workbook is a zip, and a few
# hundred KB of it can unpack to gigabytes, so its parts' sizes and compression are checked
# before openpyxl opens it, and rows are read one at a time up to the limit.
MAX_ROWS = 20_000  # rows of clients, blank ones included
MAX_BYTES = 10 * 1024 * 1024  # the file as uploaded
MAX_UNPACKED = 60 * 1024 * 1024  # a workbook's parts, unpacked, all together
MAX_RATIO = 100  # unpacked / packed, for a part larger than RATIO_FROM
RATIO_FROM = 1024 * 1024
MAX_PARTS = 200
MAX_CELLS = 64  # cells read per row: more columns than the file can use, fewer than a bomb's
NUL = "\x00"
# A checked file waits this long for its confirmation, in the data dir, for its uploader alone.
KEPT_SECONDS = 3600
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


@dataclass
class FileRow:
    line: int  # the spreadsheet's row number (the headings are row 1)
    values: dict[str, str]
    fields: dict | None = None  # the client's fields, when the row could be read
    errors: dict[str, list[str]] = field(default_factory=dict)
    # The first invoice the daily run would issue the client (billing.imports sets it).
    next_invoice: Answer | None = None


@dataclass
class FilePreview:
    rows: list[FileRow]
    errors: list[str]  # about the file as a whole

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors and not any(r.errors for r in self.rows)

    @property
    def bad_rows(self) -> list[FileRow]:
        return [row for row in self.rows if row.errors]

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "errors": self.errors,
            "rows": [
                {
                    "line": r.line,
                    "values": r.values,
                    "errors": r.errors,
                    "next_invoice": r.next_invoice.as_dict() if r.next_invoice else None,
                }
                for r in self.rows
            ],
        }


def template_dataset() -> tablib.Dataset:
    """The file to fill in: the headings and one example row of each access."""
    data = tablib.Dataset(headers=list(COLUMNS))
    data.append(
        ["Ana Díaz", "172.16.0.10", "Zona día 1", "Hogar 10 Mbps", "ana@example.com",
         "5512345678", "Av. Juárez 12", "pppoe", "ana.diaz", "cambiar-esto", "zone",
         "01/09/2025", "31/10/2025", "", "", "", "", ""]
    )  # fmt: skip
    data.append(
        ["Casa Pérez", "172.16.0.11", "Zona día 1", "Hogar 10 Mbps", "", "", "", "static", "",
         "", "zone", "2025-09-15", "", "PEPJ8001019QA", "JUAN PEREZ PEREZ", "612", "06000",
         "G03"]
    )  # fmt: skip
    return data


def read_table(data: bytes, filename: str) -> tuple[list, list[list]]:
    """The headings and rows of a CSV file (UTF-8, or the Windows encoding Excel saves in;
    commas or semicolons) or of an XLSX workbook's first sheet; ValidationError when it is
    neither, or larger than the limits. CSV goes through Python's reader rather than
    tablib's, which refuses a whole file for one line with a cell too many: here that line
    is one bad row."""
    if len(data) > MAX_BYTES:
        raise ValidationError(_("The file is larger than 10 MB."))
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        lines = _xlsx_rows(data)
    else:
        lines = _csv_rows(data)
    table = []
    for line in lines:
        table.append(line)
        if len(table) > MAX_ROWS + 1:  # the headings, then the rows
            raise ValidationError(_("At most %(n)s rows per file.") % {"n": MAX_ROWS})
    if not table:
        return [], []
    headings = list(table[0])
    while headings and headings[-1] in (None, ""):
        headings.pop()  # a sheet's rows come padded to a width; a cell past them is extra
    return headings, table[1:]


def _csv_rows(data: bytes):
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    if text.count(delimiter) > (MAX_ROWS + 1) * MAX_CELLS:
        # A line of millions of empty cells is millions of strings once read.
        raise ValidationError(
            _("The file has more cells than %(n)s rows can hold.") % {"n": MAX_ROWS}
        )
    try:
        yield from csv.reader(io.StringIO(text), delimiter=delimiter)
    except csv.Error as exc:
        raise ValidationError(
            _("The file is not a readable CSV file: %(error)s") % {"error": exc}
        ) from exc


def xlsx_check(data: bytes) -> None:
    """Refuse a workbook whose parts would unpack too large (a zip bomb, or a sheet far beyond
    the row limit) from the zip's directory alone, before anything is unpacked. zipfile stops
    each part at its declared size, so the declared sizes bound what openpyxl can read."""
    try:
        parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ValidationError(_("The file is not a readable XLSX workbook.")) from exc
    too_big = ValidationError(
        _("The workbook unpacks to more than %(mb)s MB; save fewer rows per file, as CSV.")
        % {"mb": MAX_UNPACKED // (1024 * 1024)}
    )
    if len(parts) > MAX_PARTS or sum(part.file_size for part in parts) > MAX_UNPACKED:
        raise too_big
    for part in parts:
        if part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            # Other methods unpack a whole block at a time, whatever is asked of them.
            raise ValidationError(_("The file is not a readable XLSX workbook."))
        if part.file_size > RATIO_FROM and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise too_big


def _xlsx_rows(data: bytes):
    xlsx_check(data)
    unreadable = _("The file is not a readable XLSX workbook.")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ValidationError(unreadable) from exc
    try:
        # Streaming, and never more rows or cells than the limits: a sheet that claims a
        # million rows is not padded out to them.
        rows = book.worksheets[0].iter_rows(
            max_row=MAX_ROWS + 2, max_col=MAX_CELLS, values_only=True
        )
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise ValidationError(unreadable) from exc
            yield row
    finally:
        book.close()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number a spreadsheet took for a number
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _date(text: str) -> date:
    for parse in (date.fromisoformat, lambda t: datetime.strptime(t, "%d/%m/%Y").date()):
        try:
            return parse(text)
        except ValueError:
            continue
    raise ValueError(text)


def day_from(text: str, field: str = "paid_until") -> date | None:
    """A day typed as dd/mm/aaaa or aaaa-mm-dd (None when empty), as the imports' options
    take it; a ValidationError on `field` says how to write it, or that it is too early."""
    if not (text or "").strip():
        return None
    try:
        day = _date(text.strip())
    except ValueError:
        raise ValidationError({field: [_("Write the date as dd/mm/yyyy or yyyy-mm-dd.")]}) from None
    first_day_check(day, field)
    return day


class _Lookup:
    """Zones and plans by id or name, read once."""

    def __init__(self):
        self.zones = list(Zone.objects.select_related("router"))
        self.plans = list(Plan.objects.all())

    def zone(self, text: str) -> Zone:
        found = [
            z
            for z in self.zones
            if str(z.pk) == text or z.name.lower() == text.lower() or str(z).lower() == text.lower()
        ]
        if not found:
            raise ValueError(_("There is no zone %(zone)s.") % {"zone": text})
        if len(found) > 1:
            raise ValueError(
                _("Several zones are named %(zone)s: write its id, or «Router · Zone».")
                % {"zone": text}
            )
        return found[0]

    def plan(self, text: str) -> Plan:
        for plan in self.plans:
            if str(plan.pk) == text or plan.name.lower() == text.lower():
                return plan
        raise ValueError(_("There is no plan %(plan)s.") % {"plan": text})


def _row_fields(
    values: dict[str, str], lookup: _Lookup, zone: Zone | None, paid_until: date | None
) -> tuple[dict, dict]:
    """The fields of `client_new` a row asks for, and what could not be read; a row without
    a `paid_until` of its own takes the import's."""
    fields: dict = {}
    errors: dict[str, list[str]] = {
        name: [_("This cell holds a NUL character (\\x00), which cannot be stored.")]
        for name, value in values.items()
        if NUL in value
    }
    for name in REQUIRED:
        if not values.get(name):
            errors[name] = [_("This field is required.")]
    for name in TEXT_COLUMNS:
        if values.get(name):
            fields[name] = values[name]
    try:
        if values.get("zone"):
            fields["zone"] = lookup.zone(values["zone"])
        elif zone is not None:
            fields["zone"] = zone
        else:
            errors["zone"] = [_("This field is required (or choose a zone for every row).")]
    except ValueError as exc:
        errors["zone"] = [str(exc)]
    if values.get("plan"):
        try:
            fields["plan"] = lookup.plan(values["plan"])
        except ValueError as exc:
            errors["plan"] = [str(exc)]
    for name, choices in VALUES.items():
        if values.get(name):
            chosen = choices.get(values[name].lower())
            if chosen is None:
                errors[name] = [
                    _("Must be one of: %(values)s.") % {"values": ", ".join(sorted(choices))}
                ]
            else:
                fields[name] = chosen
    for name in ("start_date", "paid_until"):
        if values.get(name):
            try:
                fields[name] = _date(values[name])
            except ValueError:
                errors[name] = [_("Write the date as dd/mm/yyyy or yyyy-mm-dd.")]
    if "paid_until" not in fields and "paid_until" not in errors and paid_until is not None:
        fields["paid_until"] = paid_until
    if fields.get("billing_type") == BillingType.OWN and "zone" in fields:
        # Own billing starts from its zone's schedule; the client page can change it later.
        fields["billing"] = fields["zone"].schedule.as_dict()
    return fields, errors


def clients_file_preview(
    *,
    actor: User | None,
    data: bytes,
    filename: str,
    zone: Zone | None = None,
    paid_until: date | None = None,
) -> FilePreview:
    """Read a file of clients and check every row as an import would (`paid_until`: the day
    the rows without one paid for until); writes nothing."""
    require_permission_of_person(actor, MANAGE_CLIENTS)
    try:
        headings, table = read_table(data, filename)
    except ValidationError as exc:
        return FilePreview(rows=[], errors=exc.messages)
    headers = [ALIASES.get(h, h) for h in (_text(h).lower() for h in headings)]
    unknown = [h for h in headers if h and h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in headers]
    if "zone" not in headers and zone is None:
        missing.append("zone")
    errors = []
    if unknown:
        errors.append(
            _("Unknown columns: %(unknown)s. The columns are: %(columns)s.")
            % {"unknown": ", ".join(unknown), "columns": ", ".join(COLUMNS)}
        )
    if missing:
        errors.append(_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
    if errors:
        return FilePreview(rows=[], errors=errors)
    lookup = _Lookup()
    rows = []
    for number, raw in enumerate(table, start=2):
        values = {h: _text(v) for h, v in zip(headers, raw, strict=False) if h}
        extra = [v for v in raw[len(headers) :] if _text(v)]
        if not any(values.values()) and not extra:
            continue  # a blank line between rows
        fields, row_errors = _row_fields(values, lookup, zone, paid_until)
        if extra:
            row_errors["__all__"] = [_("This row has more cells than there are columns.")]
        rows.append(FileRow(number, values, None if row_errors else fields, row_errors))
    if not rows:
        return FilePreview(rows=[], errors=[_("The file has no rows of clients.")])
    readable = [(row, row.fields) for row in rows if row.fields is not None]
    _built, found = clients_check_many(
        actor=actor,
        rows=[fields for _row, fields in readable],
        numbers=[row.line for row, _fields in readable],
    )
    for index, messages in found.items():
        for name, texts in messages.items():
            readable[index][0].errors.setdefault(name, []).extend(texts)
    return FilePreview(rows=rows, errors=[])


def clients_file_import(
    *,
    actor: User | None,
    data: bytes,
    filename: str,
    zone: Zone | None = None,
    paid_until: date | None = None,
) -> list[Client]:
    """Import every row of a file of clients, or none: a ValidationError carries the preview's
    errors when any row is bad."""
    preview = clients_file_preview(
        actor=actor, data=data, filename=filename, zone=zone, paid_until=paid_until
    )
    if not preview.ok:
        messages = list(preview.errors) + [
            _("Row %(line)s, %(field)s: %(message)s")
            % {"line": row.line, "field": name, "message": message}
            for row in preview.bad_rows
            for name, texts in row.errors.items()
            for message in texts
        ]
        raise ValidationError(messages or [_("The file has no rows of clients.")])
    return clients_create_many(
        actor=actor,
        # Every row has its fields: a row without them has errors, and the preview is ok.
        rows=[row.fields for row in preview.rows if row.fields is not None],
        reason=IMPORT_REASON,
        reason_args={"file": filename[:100]},
    )


# --- a checked file kept for its confirmation ------------------------------------------------


def _kept_path(actor: User, token: str) -> Path:
    return scratch_folder("imports") / f"{actor.pk}-{token}"


def clients_file_keep(*, actor: User, data: bytes, filename: str) -> str:
    """Keep a checked file on the server until its uploader confirms it (the panel's second
    step need not carry the file back); returns the token that names it. Files older than
    an hour are dropped."""
    token = secrets.token_urlsafe(24)
    path = _kept_path(actor, token)
    heading = json.dumps({"filename": filename[:200], "at": time.time()}).encode() + b"\n"
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as kept:
        kept.write(heading + data)
    scratch_tidy(path.parent, fresh=path, older_than=KEPT_SECONDS)
    return token


def clients_file_kept(*, actor: User, token: str) -> tuple[bytes, str]:
    """The file and its name that `actor` kept under `token`; ValidationError when there is
    none (expired, imported already, or someone else's)."""
    gone = ValidationError(_("The checked file is no longer kept; upload it again."))
    if not TOKEN.fullmatch(token or ""):
        raise gone
    try:
        heading, data = _kept_path(actor, token).read_bytes().split(b"\n", 1)
        kept = json.loads(heading)
    except (FileNotFoundError, ValueError):
        raise gone from None
    if not 0 <= time.time() - kept["at"] <= KEPT_SECONDS:
        raise gone
    return data, kept["filename"]


def clients_file_forget(*, actor: User, token: str) -> None:
    """Drop a kept file once it is imported."""
    if TOKEN.fullmatch(token or ""):
        _kept_path(actor, token).unlink(missing_ok=True)
