"""The one adapter to the PAC (SW Sapien, through satcfdi's driver): stamp, recover, cancel.
Everything the product reads back is checked here, and every failure is one of two kinds:
`PacRefused` (the PAC said no: a person must fix the data) or `PacUnavailable` (no answer, a
5xx, an answer that is not the PAC's: try again later)."""

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from lxml import etree
from satcfdi.cfdi import CFDI
from satcfdi.exceptions import ResponseError
from satcfdi.pacs import CancelReason as SatCancelReason
from satcfdi.pacs import Environment
from satcfdi.pacs.swsapien import SWSapien

TIMEOUT = 30  # seconds for one call; a PAC that takes longer is retried later
# SW's answer to a document it stamped before (the same seal): the stamp it gave then.
ALREADY_STAMPED = "307"
CFDI_NS = "http://www.sat.gob.mx/cfd/4"


class PacError(Exception):
    def __init__(self, code: str, message: str):
        self.code, self.message = code, message
        super().__init__(f"{code}: {message}")


class PacRefused(PacError):
    """The PAC refused the document: the data must be fixed before it goes again."""


class PacUnavailable(PacError):
    """No usable answer: the document goes again later, as it is."""


@dataclass(frozen=True)
class Stamp:
    uuid: str
    xml: bytes


def configured() -> bool:
    return bool(
        settings.WISPBILL_PAC == "swsapien"
        and settings.WISPBILL_PAC_USER
        and settings.WISPBILL_PAC_PASSWORD
    )


class _Driver(SWSapien):  # type: ignore[misc]  # satcfdi ships no types: SWSapien is Any
    """satcfdi's driver with a base URL from the settings, a timeout on every call, and the
    token read where SW puts it (`data.token`)."""

    def __init__(self, base_url: str, user: str, password: str) -> None:
        super().__init__(token="-", environment=Environment.PRODUCTION)
        self.base_url = base_url.rstrip("/")
        self.token: str | None = None
        self.expires_in = 0.0
        self.session = requests.Session()  # one connection kept open, not one per call

        def get_token() -> str:
            if not self.token or time.time() > self.expires_in:
                answer = self._request(
                    "security/authenticate",
                    headers={"user": user, "password": password},
                    needs_token=False,
                )
                data = answer.get("data") or answer
                self.token = str(data["token"])
                self.expires_in = time.time() + 600
            return "Bearer " + self.token

        self.token_fn = get_token

    def _host(self, service: str = "services") -> str:
        return self.base_url or super()._host(service)

    def _request(
        self,
        path: str,
        headers: dict[str, str] | None = None,
        method: str = "post",
        files: Any = None,
        json: Any = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        host = self._host(kwargs.get("service", "services"))
        auth = self.token_fn() if kwargs.get("needs_token", True) else ""
        response = self.session.request(
            method=method,
            url=f"{host}/{path.lstrip('/')}",
            headers={"Cache-Control": "no-cache", "Authorization": auth, **(headers or {})},
            json=json,
            files=files,
            timeout=TIMEOUT,
        )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ResponseError(response)
        if not response.ok or answer.get("status") != "success":
            raise ResponseError(response)
        return answer


_local = threading.local()


def _driver() -> _Driver:
    """This thread's driver for the PAC as configured now: its token is asked for once (and
    again when it expires), not before every document."""
    config = (settings.WISPBILL_PAC_URL, settings.WISPBILL_PAC_USER, settings.WISPBILL_PAC_PASSWORD)
    if getattr(_local, "config", None) != config:
        _local.config, _local.driver = config, _Driver(*config)
    driver: _Driver = _local.driver
    return driver


def _failure(error: Exception) -> PacError:
    """What a failed call means: refused (a 4xx the PAC explains) or unavailable."""
    if isinstance(error, (requests.Timeout, requests.ConnectionError)):
        return PacUnavailable("timeout", str(error)[:300])
    response = getattr(error, "response", None)
    if response is None:
        return PacUnavailable("error", str(error)[:300])
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 500 or not isinstance(body, dict):
        # No explanation a person could act on: say what came back, briefly.
        text = " ".join(response.text.split())[:200]
        return PacUnavailable(str(response.status_code), f"HTTP {response.status_code} {text}")
    code = str(body.get("messageDetail") and body.get("message") or body.get("code") or "")
    message = str(body.get("messageDetail") or body.get("message") or "")
    return PacRefused(code[:40] or str(response.status_code), message[:1000])


class _Signed:
    """The signed XML as satcfdi's driver reads a CFDI to send (`xml_bytes`): the very bytes
    that were sealed, without parsing them into satcfdi's objects and writing them again."""

    def __init__(self, xml: bytes) -> None:
        self.xml = xml

    def xml_bytes(self) -> bytes:
        return self.xml


TFD = "{http://www.sat.gob.mx/TimbreFiscalDigital}TimbreFiscalDigital"


def stamp(xml: bytes, customid: str) -> Stamp:
    """Stamp a signed CFDI; the same `customid` and XML sent again get the same stamp."""
    try:
        document = _driver().stamp(_Signed(xml), ref_id=customid)
    except (ResponseError, requests.RequestException) as error:
        _local.config = None  # the next call starts afresh (a new token, a new connection)
        failure = _failure(error)
        data = _already_stamped(error)
        if data is not None:
            return data
        raise failure from None
    return _checked_stamp(document.document_id, document.xml)


def _already_stamped(error: Exception) -> Stamp | None:
    response = getattr(error, "response", None)
    try:
        body = response.json() if response is not None else None
    except ValueError:
        return None
    if not isinstance(body, dict) or not str(body.get("message", "")).startswith(ALREADY_STAMPED):
        return None
    data = body.get("data") or {}
    if not data.get("uuid") or not data.get("cfdi"):
        return None
    return _checked_stamp(data["uuid"], data["cfdi"].encode())


def _checked_stamp(uuid: str, xml: bytes | None) -> Stamp:
    """The PAC's stamp, refused as garbage unless it is a CFDI with that UUID."""
    if not xml:
        raise PacUnavailable("garbage", "the PAC's answer is not a stamped CFDI")
    try:
        root = etree.fromstring(xml)  # lxml's default parser: per thread, no network
        found = root.find(f"{{{CFDI_NS}}}Complemento/{TFD}").get("UUID")
        if root.tag != f"{{{CFDI_NS}}}Comprobante" or not found:
            raise ValueError(found)
    except Exception:  # noqa: BLE001 - anything unreadable is an unusable answer
        raise PacUnavailable("garbage", "the PAC's answer is not a stamped CFDI") from None
    if str(found).upper() != str(uuid).upper():
        raise PacUnavailable("garbage", "the PAC's answer names another UUID")
    return Stamp(str(found).upper(), xml)


def cancel(xml: bytes, reason: str, substitution: str = "") -> str:
    """Cancel a stamped CFDI at the PAC with SAT's reason; the PAC's acknowledgment code."""
    try:
        ack = _driver().cancel(
            CFDI.from_string(xml), SatCancelReason(reason), substitution_id=substitution or None
        )
    except (ResponseError, requests.RequestException) as error:
        raise _failure(error) from None
    except (KeyError, TypeError, ValueError):
        raise PacUnavailable("garbage", "the PAC's answer is not a cancellation") from None
    return json.dumps(ack.code) if not isinstance(ack.code, str) else ack.code
