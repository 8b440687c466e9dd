"""Staff at work, for `scripts/load.sh`: each simulated person pauses 1 to 3 seconds between
clicks and uses the clients list and its search, a client's page, a payment at the counter
and the API's lists, each in a session of its own. Loopback only."""

import itertools
import os
import random
import re

from locust import HttpUser, between, task

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
WORDS = ["cliente", "0099", "10.0.", "cliente 01", "000", "3.1", "cliente 05"]
CLIENTS = int(os.environ.get("LOAD_CLIENTS", "100000"))
FIRST_ID = int(os.environ.get("LOAD_FIRST_ID", "1"))
API_KEY = os.environ["LOAD_API_KEY"]
SESSIONS = os.environ["LOAD_SESSIONS"].split(",")
SEATS = itertools.count()


class Staff(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        # Each person has logged in earlier (load.sh made the sessions).
        self.client.cookies.set("sessionid", SESSIONS[next(SEATS) % len(SESSIONS)])

    def _client_id(self) -> int:
        return FIRST_ID + random.randrange(CLIENTS)

    @task(4)
    def clients_list(self):
        self.client.get(f"/clients/?page={random.randrange(1, CLIENTS // 50)}", name="/clients/")

    @task(3)
    def search(self):
        self.client.get("/clients/", params={"q": random.choice(WORDS)}, name="/clients/?q=")

    @task(3)
    def client_page(self):
        self.client.get(f"/clients/{self._client_id()}/", name="/clients/{id}/")

    @task(1)
    def payment(self):
        client_id = self._client_id()
        page = self.client.get(f"/clients/{client_id}/", name="/clients/{id}/")
        token = CSRF.search(page.text).group(1)
        self.client.post(
            f"/clients/{client_id}/payments/",
            {"amount": "50.00", "method": "cash", "csrfmiddlewaretoken": token, "activate": "1"},
            name="payment",
        )

    @task(2)
    def api_lists(self):
        headers = {"Authorization": f"Api-Key {API_KEY}"}
        offset = random.randrange(CLIENTS)
        self.client.get(
            f"/api/v1/clients/?limit=50&offset={offset}", headers=headers, name="api clients"
        )
        self.client.get("/api/v1/invoices/?limit=50", headers=headers, name="api invoices")
