"""Money and dates as staff and clients read them, the same in every part of the product."""

from datetime import UTC, date, datetime
from decimal import Decimal

from django.template import Context, Template
from django.utils import translation

from wispbill.core.formatting import long_date, money, short_date, speed, translated


def test_money_with_thousands_and_credit():
    assert money(Decimal("1234.5")) == "$1,234.50"
    assert money("99999999.99") == "$99,999,999.99"
    assert money(Decimal("-51")) == "-$51.00"
    assert money(0) == "$0.00"
    assert money(None) == money("") == "—"
    assert money("not money") == "not money"


def test_speed_as_plans_and_routers_say_it():
    assert speed(10000) == "10 Mbps"
    assert speed(1500) == "1.5 Mbps"
    assert speed(512) == "512 kbps"
    assert speed(1536) == "1,536 kbps"
    assert speed(100000) == "100 Mbps"
    assert speed(None) == "—"
    assert Template("{% load panel %}{{ v|speed }}").render(Context({"v": 20000})) == "20 Mbps"


def test_long_date_in_the_active_or_a_chosen_language():
    day = date(2026, 10, 29)
    with translation.override("es"):
        assert long_date(day) == "29 de octubre de 2026"
        assert long_date(day, "en") == "October 29, 2026"
        # Asking for another language leaves the active one as it was.
        assert translation.get_language() == "es"
    with translation.override("en"):
        assert long_date(day) == "October 29, 2026"
    assert long_date(None) == "—"


def test_short_date_is_day_month_year_in_every_language():
    for language in ("es", "en"):
        with translation.override(language):
            assert short_date(date(2026, 3, 7)) == "07/03/2026"
    # A moment is read on the ISP's clock: 03:00 UTC is still the evening before in Mexico.
    assert short_date(datetime(2026, 3, 8, 3, 0, tzinfo=UTC)) == "07/03/2026"
    assert short_date(None) == short_date("") == "—"


def test_the_panel_and_the_documents_share_the_filters():
    context = Context({"amount": Decimal("1234.5"), "day": date(2026, 10, 29)})
    with translation.override("es"):
        for library in ("panel", "documents"):
            html = Template(
                "{% load " + library + " %}{{ amount|money }} {{ day|long_date }} "
                "{{ day|short_date }}"
            ).render(context)
            assert html == "$1,234.50 29 de octubre de 2026 29/10/2026"


def test_stored_messages_are_translated_when_read():
    with translation.override("es"):
        assert translated("Not sent", {}) == "No enviado"
        assert translated("Channel off: %(names)s not set.", {"names": "X"}) == (
            "Canal apagado: falta configurar X."
        )
        assert translated("SMTP 451: 100% busy") == "SMTP 451: 100% busy"
        assert translated("") == ""
