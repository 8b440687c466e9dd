"""The ways a message leaves: e-mail over SMTP and the WhatsApp Cloud API. A channel without
its settings is off, and says why."""

import smtplib
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.utils import formataddr, make_msgid
from urllib.parse import unquote, urlsplit

import requests
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.translation import gettext_noop as _

from wispbill.clients.models import ClientState
from wispbill.core.wire import has_control
from wispbill.messaging.models import Channel, Kind, Problem

TIMEOUT = 30


class ChannelError(Exception):
    """A send that did not go; `permanent` when trying again cannot help. The text is our
    untranslated message with its values, or the provider's answer as it came."""

    def __init__(self, text: str, values: dict | None = None, *, permanent: bool = False):
        self.problem = Problem(text, values or {})
        super().__init__(str(self.problem))
        self.permanent = permanent


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/pdf"


# --- E-mail -------------------------------------------------------------------------------

SCHEMES = {"smtp": (25, False, False), "smtp+tls": (587, True, False), "smtps": (465, False, True)}


def email_config(url: str) -> dict | None:
    """Django's SMTP backend arguments from smtp://, smtp+tls:// or smtps:// URLs."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in SCHEMES or not parts.hostname:
        return None
    default_port, use_tls, use_ssl = SCHEMES[parts.scheme]
    return {
        "host": parts.hostname,
        "port": port or default_port,
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "use_tls": use_tls,
        "use_ssl": use_ssl,
        "timeout": TIMEOUT,
    }


def email_off_reason() -> Problem | None:
    if not settings.WISPBILL_EMAIL_URL:
        return Problem(_("Channel off: WISPBILL_EMAIL_URL is not set."))
    config = email_config(settings.WISPBILL_EMAIL_URL)
    if config is None:
        return Problem(_("Channel off: WISPBILL_EMAIL_URL is not an smtp:// address."))
    # SMTP is read line by line: a line break in what we send would start a command.
    if any(has_control(str(value)) for value in (*config.values(), settings.WISPBILL_FROM_EMAIL)):
        return Problem(
            _(
                "Channel off: WISPBILL_EMAIL_URL or WISPBILL_FROM_EMAIL has a line break or "
                "another control character."
            )
        )
    return None


def _from_address(config: dict, company_name: str) -> str:
    address = settings.WISPBILL_FROM_EMAIL
    if not address:
        username = config["username"]
        address = username if "@" in username else f"wispbill@{config['host']}"
    return formataddr((company_name, address))


BAD_SENDER = _(
    "Not sent: the company's name or the sender address has a line break or another "
    "control character; correct it in the company settings."
)
BAD_HEADER = _("Not sent: the subject or the address has a line break or a control character.")


class EmailSession:
    """One SMTP connection for a batch of messages."""

    def __init__(self, company):
        self.config = email_config(settings.WISPBILL_EMAIL_URL)
        self.from_email = _from_address(self.config, company.name)
        self.bad_sender = has_control(company.name) or has_control(self.from_email)
        self.connection = get_connection(
            "django.core.mail.backends.smtp.EmailBackend", fail_silently=False, **self.config
        )

    def close(self) -> None:
        with suppress(OSError, smtplib.SMTPException):
            self.connection.close()

    def send(self, message, attachments: list[Attachment]) -> str:
        # A header that can never be written (a line break in the company's name, which
        # names the sender, or in the subject) fails at once instead of being retried.
        if self.bad_sender:
            raise ChannelError(BAD_SENDER, permanent=True)
        if has_control(message.subject) or has_control(message.recipient):
            raise ChannelError(BAD_HEADER, permanent=True)
        domain = self.from_email.rpartition("@")[2].rstrip(">") or None
        message_id = make_msgid(domain=domain)
        mail = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=self.from_email,
            to=[message.recipient],
            connection=self.connection,
            headers={"Message-ID": message_id},
        )
        for attachment in attachments:
            mail.attach(attachment.filename, attachment.content, attachment.content_type)
        try:
            # Opened once and kept for the batch (Django closes only what it opened itself).
            self.connection.open()
            mail.send()
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _text in exc.recipients.values()]
            raise ChannelError(
                _("The mail server refused the address: %(error)s"),
                {"error": str(exc.recipients)},
                permanent=all(code >= 500 for code in codes),
            ) from exc
        except smtplib.SMTPResponseException as exc:
            # A 5xx answer to the message itself will not change; a 4xx one, or a login
            # refused (the operator fixes the settings), may.
            permanent = exc.smtp_code >= 500 and not isinstance(
                exc, smtplib.SMTPAuthenticationError
            )
            error = exc.smtp_error  # bytes from the server; a str when smtplib makes it up
            text = error.decode(errors="replace") if isinstance(error, bytes) else str(error or "")
            raise ChannelError(f"SMTP {exc.smtp_code}: {text}", permanent=permanent) from exc
        except (OSError, smtplib.SMTPException) as exc:
            # The connection broke: the next send opens a new one.
            self.close()
            raise ChannelError(
                _("Could not reach the mail server: %(error)s"), {"error": str(exc)}
            ) from exc
        return message_id


# --- WhatsApp Cloud API ---------------------------------------------------------------------

# Error codes that mean "not now" (throttling, Meta's own trouble); other 400s are about the
# message (template, parameters, recipient) and fail the same on every try.
RETRYABLE_CODES = {1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056, 133004}
TEMPLATE_FIELDS = {
    Kind.INVOICE: "whatsapp_template_invoice",
    Kind.REMINDER: "whatsapp_template_reminder",
    Kind.CUT: "whatsapp_template_cut",
    Kind.RECEIPT: "whatsapp_template_receipt",
}


def whatsapp_template(company, message) -> str:
    """The approved template a message goes as: a cut that reduced the speed has its own, since
    a template's text is fixed when Meta approves it."""
    if message.kind == Kind.CUT and message.client.state == ClientState.THROTTLED:
        return company.whatsapp_template_throttled
    return getattr(company, TEMPLATE_FIELDS[message.kind])


def whatsapp_off_reason() -> Problem | None:
    missing = [
        name
        for name in ("WISPBILL_WHATSAPP_TOKEN", "WISPBILL_WHATSAPP_PHONE_ID")
        if not getattr(settings, name)
    ]
    if missing:
        return Problem(_("Channel off: %(names)s not set."), {"names": ", ".join(missing)})
    return None


def whatsapp_error(response: requests.Response) -> ChannelError:
    """The Graph API's error object ({"error": {"code", "message", "error_data"}}) as text."""
    try:
        error = response.json()["error"]
        code = error.get("code")
        text = f"WhatsApp {code}: {error.get('message', '')}"
        details = (error.get("error_data") or {}).get("details")
        if details:
            text += f" ({details})"
    except (ValueError, KeyError, TypeError, AttributeError):
        code = None
        text = f"WhatsApp HTTP {response.status_code}: {response.text[:300]}"
    permanent = response.status_code == 400 and code not in RETRYABLE_CODES
    return ChannelError(text, permanent=permanent)


class WhatsAppSession:
    """Template messages through the Cloud API; a PDF goes as an uploaded document header."""

    def __init__(self, company):
        self.company = company
        self.base = f"{settings.WISPBILL_WHATSAPP_API_URL.rstrip('/')}/"
        self.base += settings.WISPBILL_WHATSAPP_PHONE_ID
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {settings.WISPBILL_WHATSAPP_TOKEN}"

    def close(self) -> None:
        self.http.close()

    def _post(self, path: str, **kwargs) -> dict:
        try:
            response = self.http.post(f"{self.base}/{path}", timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise ChannelError(
                _("Could not reach the WhatsApp API: %(error)s"), {"error": str(exc)}
            ) from exc
        if response.status_code >= 300:
            raise whatsapp_error(response)
        try:
            return response.json()
        except ValueError as exc:
            raise ChannelError(f"WhatsApp: {response.text[:300]}") from exc

    def _upload(self, attachment: Attachment) -> str:
        answer = self._post(
            "media",
            data={"messaging_product": "whatsapp", "type": "application/pdf"},
            files={"file": (attachment.filename, attachment.content, "application/pdf")},
        )
        if not answer.get("id"):
            raise ChannelError(f"WhatsApp: no media id in {answer}")
        return answer["id"]

    def send(self, message, attachments: list[Attachment]) -> str:
        components = []
        # A template's header carries one document: the first (the invoice or receipt).
        if attachment := next(iter(attachments), None):
            document = {"id": self._upload(attachment), "filename": attachment.filename}
            components.append(
                {"type": "header", "parameters": [{"type": "document", "document": document}]}
            )
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in message.params]}
        )
        answer = self._post(
            "messages",
            json={
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": message.recipient,
                "type": "template",
                "template": {
                    "name": whatsapp_template(self.company, message),
                    "language": {"code": message.language},
                    "components": components,
                },
            },
        )
        try:
            return answer["messages"][0]["id"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ChannelError(f"WhatsApp: no message id in {answer}") from exc


OFF_REASONS: dict[str, Callable[[], Problem | None]] = {
    Channel.EMAIL: email_off_reason,
    Channel.WHATSAPP: whatsapp_off_reason,
}
SESSIONS: dict[str, type[EmailSession | WhatsAppSession]] = {
    Channel.EMAIL: EmailSession,
    Channel.WHATSAPP: WhatsAppSession,
}


def off_reason(channel: str) -> Problem | None:
    """Why a channel cannot send now; None when it can."""
    return OFF_REASONS[channel]()


@contextmanager
def channel_session(channel: str, company):
    session = SESSIONS[channel](company)
    try:
        yield session
    finally:
        session.close()
