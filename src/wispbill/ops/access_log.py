"""Client-page links stay out of the logs: whoever reads a log must not be able to open a
client's account with the link they find there. The token in `/portal/<token>/` is replaced,
in gunicorn's access log (`RedactingLogger`, which `wispbill serve` uses) and in Django's own
request log lines (`RedactTokens`, a logging filter in settings)."""

import logging
import re

from gunicorn.glogging import Logger

PORTAL_TOKEN = re.compile(r"(/portal/)[^/?#\s\"']+")
HIDDEN = r"\1[hidden]"


def redacted(text: str) -> str:
    return PORTAL_TOKEN.sub(HIDDEN, text)


class RedactingLogger(Logger):
    """gunicorn's logger, with every part of an access-log line that can carry a path (the
    request line, the path, the referrer, headers such as Location) redacted."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: redacted(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }


class RedactTokens(logging.Filter):
    """Django's "Not Found: /portal/…" and the development server's request lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/portal/" in message:
            record.msg, record.args = redacted(message), ()
        return True
