import pytest


@pytest.fixture
def device(emulator):
    """An unsaved router record pointed at the emulator: driver tests need no database."""
    from wispbill.network.models import Router

    router = Router(
        name="emulated",
        host="127.0.0.1",
        api_port=emulator.port,
        username="wispbill",
        enforcement="mikrotik",
        allow_local_host=True,
    )
    router.password = "s3cret"
    return router
