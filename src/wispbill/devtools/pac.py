"""A stand-in for the PAC outside the tests, for `wispbill benchmark`: the SW Sapien paths that
satcfdi's driver uses, in a process of its own (as a real PAC is another machine), answering
each stamp a set latency after it arrived (its own checking and stamping within that time, as
a remote PAC's answer time includes its work; `_stats` gives the answer times it kept). Like
the tests' stand-in (tests/cfdi/conftest.py, which uses the same seal check and stamp), it
checks each seal against the certificate in the XML, adds a TimbreFiscalDigital signed with
its own certificate, answers a document it stamped before with SW's code 307 and that stamp,
counts the stamps it gave per customid, and acknowledges cancellations."""

import base64
import json
import logging
import multiprocessing
import socket
import threading
import time
import uuid as uuidlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from statistics import median
from typing import Any

from lxml import etree
from satcfdi.cfdi import CFDI
from satcfdi.create.cfd.tfd11 import TimbreFiscalDigital
from satcfdi.models import Certificate, Signer

from wispbill.devtools.csd import make_csd

CFDI_NS = "http://www.sat.gob.mx/cfd/4"
USER, PASSWORD, TOKEN = "bench", "bench-secret", "BENCH-TOKEN"


def pac_csd() -> tuple[bytes, bytes, str]:
    """The PAC's own certificate, key and password (its RFC is a real PAC's)."""
    csd = make_csd(rfc="LSO1306189R5", unit="PACLSO1306189R5", serial=b"00001000000504465028")
    return csd.certificate, csd.key, csd.password


def verify_seal(cfdi: CFDI) -> bool:
    """The CFDI's seal verifies against the certificate it carries."""
    certificate = Certificate.load_certificate(base64.b64decode(cfdi["Certificado"]))
    return bool(
        certificate.verify_sha256(cfdi.cadena_original().encode(), base64.b64decode(cfdi["Sello"]))
    )


def with_stamp(xml: bytes, pac_signer: Signer, cfdi: CFDI) -> tuple[str, str]:
    """The document with a TimbreFiscalDigital of a new UUID: (uuid, stamped XML)."""
    uuid = str(uuidlib.uuid4()).upper()
    tfd = TimbreFiscalDigital(
        proveedor=pac_signer, uuid=uuid, fecha_timbrado=None, sello_cfd=cfdi["Sello"]
    )
    root = etree.fromstring(xml)
    complemento = root.find(f"{{{CFDI_NS}}}Complemento")
    if complemento is None:
        complemento = etree.SubElement(root, f"{{{CFDI_NS}}}Complemento")
    complemento.append(tfd.to_xml())
    return uuid, etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()


class _StandIn:
    def __init__(self, signer: Signer, latency: float) -> None:
        self.signer, self.latency = signer, latency
        self.lock = threading.Lock()
        self.stamped: dict[str, tuple[str, str]] = {}
        self.stamps_per_id: Counter[str] = Counter()
        self.calls = 0
        self.answer_times: list[float] = []  # seconds from a stamp's arrival to its answer
        self.at_once = self.most_at_once = 0  # stamps being answered, now and at most

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "calls": self.calls,
                "stamped": len(self.stamped),
                "most_stamps_of_one": max(self.stamps_per_id.values(), default=0),
                "most_at_once": self.most_at_once,
                "answer_ms_median": 1000 * median(self.answer_times or [0.0]),
                "answer_ms_max": 1000 * max(self.answer_times or [0.0]),
            }

    def arrived(self) -> float:
        with self.lock:
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
        return time.monotonic()

    def stamp(self, xml: bytes, customid: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.calls += 1
            before = self.stamped.get(customid)
        if before is not None:
            message = "307. El comprobante contiene un timbre previo."
            return 400, {"status": "error", "message": message, "data": _data(*before)}
        cfdi = CFDI.from_string(xml)
        if not verify_seal(cfdi):
            return 400, {"status": "error", "message": "CFDI40102", "messageDetail": "sello"}
        uuid, stamped = with_stamp(xml, self.signer, cfdi)
        with self.lock:
            if customid in self.stamped:  # the same document twice at once: the first wins
                uuid, stamped = self.stamped[customid]
            else:
                self.stamped[customid] = (uuid, stamped)
                self.stamps_per_id[customid] += 1
        return 200, {"status": "success", "data": _data(uuid, stamped)}

    def cancel(self, path: str) -> tuple[int, dict[str, Any]]:
        """SW's cancellation of `/cfdi33/cancel/{rfc}/{uuid}/{reason}[/{substitution}]`: any
        well-formed UUID (a demo's stand-in forgets its stamps when it restarts, a PAC does
        not), answered with SAT's acknowledgment code 201."""
        parts = path.strip("/").split("/")
        try:
            uuid = str(uuidlib.UUID(parts[3])).upper()
        except (IndexError, ValueError):
            return 400, {"status": "error", "message": "CA1000", "messageDetail": "UUID"}
        return 200, {"status": "success", "data": {"uuid": {uuid: "201"}, "acuse": "<Acuse/>"}}

    def answered(self, arrived: float) -> None:
        """Wait until `latency` after the request `arrived` (its own checking and stamping
        happen within it, as a remote PAC's do within its answer time), and note how long
        the answer took."""
        time.sleep(max(0.0, arrived + self.latency - time.monotonic()))
        with self.lock:
            self.answer_times.append(time.monotonic() - arrived)
            self.at_once -= 1


def _data(uuid: str, stamped: str) -> dict[str, str]:
    return {"uuid": uuid, "cfdi": stamped}


def _serve(port: int, latency: float, csd: tuple[bytes, bytes, str], ready: Any) -> None:
    from werkzeug import Request, Response
    from werkzeug.serving import WSGIRequestHandler, make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per stamp
    stand_in = _StandIn(Signer.load(*csd), latency)

    @Request.application
    def app(request: Request) -> Response:
        status, body = 200, {"status": "success", "data": {"token": TOKEN}}
        if request.path == "/_stats":
            status, body = 200, stand_in.stats()
        elif request.path == "/security/authenticate":
            if (request.headers.get("user"), request.headers.get("password")) != (USER, PASSWORD):
                status, body = 401, {"status": "error", "message": "AU4101"}
        elif request.headers.get("Authorization") != f"Bearer {TOKEN}":
            status, body = 401, {"status": "error", "message": "AU2000"}
        elif request.path == "/v4/cfdi33/stamp/v4":
            arrived = stand_in.arrived()
            try:
                status, body = stand_in.stamp(
                    request.files["xml"].read(), request.headers.get("customid", "")
                )
            finally:
                stand_in.answered(arrived)
        elif request.path.startswith("/cfdi33/cancel/"):
            status, body = stand_in.cancel(request.path)
        else:
            status, body = 404, {"status": "error", "message": "404"}
        return Response(json.dumps(body), status=status, content_type="application/json")

    class Handler(WSGIRequestHandler):
        def setup(self) -> None:
            super().setup()
            # Its answer leaves in one go, as a PAC's server sends it: without this, the
            # body waits behind the headers for the client's delayed ACK (Nagle, 40 ms).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=Handler)
    ready.put(server.server_port)
    server.serve_forever()


@contextmanager
def pac_stand_in(*, latency: float, port: int = 0) -> Iterator[str]:
    """A PAC stand-in running in a process of its own while the block runs: its base URL
    (user USER, password PASSWORD; GET <url>/_stats says what it stamped); on a free port
    unless one is given."""
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    process = context.Process(target=_serve, args=(port, latency, pac_csd(), ready), daemon=True)
    process.start()
    try:
        port = ready.get(timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.join(10)
