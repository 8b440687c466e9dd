"""Router text read byte for byte, shown as a person wrote it."""

from hypothesis import given
from hypothesis import strategies as st

from wispbill.network.inventory import readable


def test_winbox_latin_text_and_utf8_text_both_read_right():
    assert readable("Señora Núñez") == "Señora Núñez"  # one byte per letter (Windows-1252)
    assert readable("Se\xc3\xb1ora") == "Señora"  # UTF-8 bytes, read one per character
    assert readable("wispbill:client:5") == "wispbill:client:5"


@given(st.text())
def test_any_text_a_utf8_client_wrote_comes_back(text):
    assert readable(text.encode("utf-8").decode("latin-1")) == text
