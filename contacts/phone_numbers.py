"""Phone numbers are stored in E.164 (`+252662345678`); input may have spaces, dashes or no plus sign.

- normalize_msisdn: any input -> E.164 or None (the reference implementation, on top of phonenumbers);
- fast_normalize_msisdn: the same answers, faster for plain digits (the CSV import's hot path);
- valid_msisdn: E.164, or the API's 422 (`{"msisdn": ["is invalid"]}`) for services to raise.
"""

import re
from functools import cache

import phonenumbers
from phonenumbers import phonenumberutil

from scfm.errors import DomainError

_NOISE = re.compile(r"[\s\-().]")
_PLAIN_NUMBER = re.compile(r"\+?([1-9]\d{3,16})")


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


def valid_msisdn(value, *, field: str = "msisdn") -> str:
    """E.164 form of `value`; DomainError `{field: ["is invalid"]}` (a 422 in the API) when it is not a number."""
    normalized = normalize_msisdn(value)
    if normalized is None:
        raise DomainError({field: ["is invalid"]})
    return normalized


@cache
def _country(country_code: int):
    """(national-prefix regex or None, metadata) for a calling code."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    prefix = metadata.national_prefix_for_parsing if metadata else None
    return (re.compile(prefix) if prefix else None), metadata


@cache
def _possible_length(country_code: int, length: int) -> bool:
    """is_possible_number only looks at the calling code and the national number's length."""
    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int("1" * length))
    return phonenumbers.is_possible_number(number)


def fast_normalize_msisdn(value: str) -> str | None:
    """normalize_msisdn, with a shortcut for plain `+<digits>` / `<digits>` that phonenumbers would keep as they are.

    When the national number cannot start with the country's national prefix, phonenumbers keeps the digits
    unchanged and only checks the length, which is cached per (calling code, length); anything else takes the
    full phonenumbers path. tests/contacts/test_imports.py checks both agree on random numbers of every country.
    """
    match = _PLAIN_NUMBER.fullmatch(value)
    if match is None:
        return normalize_msisdn(value)
    digits = match.group(1)
    for size in (1, 2, 3):
        country_code = int(digits[:size])
        if country_code in phonenumberutil.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return normalize_msisdn(value)
    national = digits[size:]
    prefix, metadata = _country(country_code)
    if metadata is None or len(national) < 2 or (prefix is not None and prefix.match(national)):
        return normalize_msisdn(value)
    return "+" + digits if _possible_length(country_code, len(national)) else None
