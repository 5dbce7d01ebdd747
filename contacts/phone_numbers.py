"""Phone numbers are stored in E.164 (`+252662345678`); input may have spaces, dashes or no plus sign."""

import re

import phonenumbers

_NOISE = re.compile(r"[\s\-().]")


def normalize_msisdn(value) -> str | None:
    """E.164 form of a plausible number, or None."""
    if value is None:
        return None
    text = _NOISE.sub("", str(value))
    if not text:
        return None
    if text.startswith("00"):
        text = text[2:]
    if not text.startswith("+"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
