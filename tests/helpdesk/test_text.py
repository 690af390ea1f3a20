import pytest

from helpdesk.references import clean_reference, new_reference
from helpdesk.text import normalise, query_tokens, sanitise_html, text_to_html, tokenize


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("كتاب", "کتاب"),  # Arabic kaf
        ("علي", "علی"),  # Arabic yeh
        ("مدرسة", "مدرسه"),  # teh marbuta
        ("۱۲۳", "123"),  # Persian digits
        ("١٢٣", "123"),  # Arabic-Indic digits
        ("سَلامٌ", "سلام"),  # diacritics
        ("بـــرنامه", "برنامه"),  # tatweel
        ("Printer", "printer"),
    ],
)
def test_normalise_folds_keyboard_variants(typed, stored):
    assert normalise(typed) == stored


def test_zwnj_joined_split_and_spaced_words_meet():
    document = set(tokenize("این کار انجام می‌شود"))

    assert set(query_tokens("میشود")) <= document
    assert set(query_tokens("مي‌شود")) <= document
    assert set(query_tokens("می شود")) <= document


def test_emails_and_codes_are_searchable_whole_and_in_parts():
    tokens = tokenize("Contact sara@example.com about K7M4-QX9Z")

    assert {"sara@example.com", "sara", "example", "k7m4-qx9z", "k7m4", "qx9z"} <= set(tokens)


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">click</a>',
        "<svg onload=alert(1)>",
        '<p style="background:url(javascript:alert(1))">x</p>',
        '<iframe src="https://evil.example"></iframe>',
    ],
)
def test_sanitiser_removes_script_vectors(payload):
    clean = sanitise_html(payload)

    assert "<script" not in clean and "onerror" not in clean and "javascript:" not in clean
    assert "onload" not in clean and "<iframe" not in clean and "style=" not in clean


def test_plain_text_is_escaped_not_interpreted():
    assert text_to_html("<script>alert(1)</script>") == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )


def test_tracking_codes_are_readable_and_forgiving():
    code = new_reference()

    assert len(code) == 9 and code[4] == "-"
    assert clean_reference(code.lower().replace("-", " ")) == code
    assert clean_reference("k7mo-qx9l") == "K7M0-QX91"  # O->0, L->1 look-alikes
    assert clean_reference("nope") == ""
    assert clean_reference("'; drop table") == ""
