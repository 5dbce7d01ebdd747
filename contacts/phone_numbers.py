"""Phone numbers: stored in E.164 (`+252662345678`); read here, and only here, however people and programs write them.

Every entry point calls this module: contacts create/update and contact_data (contacts/services.py), callout
participations (callouts/services.py), CSV imports (contacts/csv_reading.py), `q[msisdn]` filters
(scfm/api/filters.py MsisdnFilter) and provider webhooks' From/To (through contacts.services.contact_upsert).

Accepted (each family is a table in tests/contacts/test_phone_numbers.py, run on every entry point):
- separators: spaces of every kind (NBSP, thin, figure, ideographic ...), dashes of every kind (hyphen, en/em dash,
  minus sign), dots, slashes, brackets, a `(0)` national prefix after the country code; a leading `+` or `00`;
- invisible characters anywhere: every Unicode format character (category Cf: LRM/RLM U+200E/F, bidi embeddings and
  isolates U+202A-202E and U+2066-2069, zero-width U+200B-200D, word joiner U+2060, BOM U+FEFF, soft hyphen ...);
- compatibility forms (Unicode NFKC): fullwidth digits, `＋` and brackets;
- decimal digits of any script (Arabic-Indic, Persian, Khmer, Devanagari, Thai ...);
- a whole number as spreadsheets and JSON render it: `85512345678.0`, `85512345678,00`, `85,512,345,678`,
  `85.512.345.678,00`, JSON `85512345678` and `85512345678.0`.
Refused, with a message naming the cause (never read as another number):
- scientific notation (`8.55123E+11`): the spreadsheet rounded it, digits are lost;
- a fraction (`85512345678.5`);
- a national number (`012 345 678`, a leading 0 and no country code);
- 6 digits or more that are no number with a country code (`12345678`: a local number, or one whose leading 0
  or `+` a spreadsheet dropped);
- letters or other characters (`+855 12 345 67O`, `ext. 12`);
- anything else that is not a possible number for its country code (numbers only dialable locally included).

Functions:
- msisdn_or_error(value) -> (E.164, None) or (None, message): the reference implementation (on phonenumbers);
- normalize_msisdn(value) -> E.164 or None; valid_msisdn(value) -> E.164, or DomainError {field: [message]} (422);
- fast_normalize_msisdn(str) -> the same answers as normalize_msisdn, faster for plain digits (the CSV hot path).
"""

import math
import re
import unicodedata
from functools import cache

import phonenumbers
from phonenumbers import phonenumberutil

from scfm.errors import DomainError

BLANK = "can't be blank"
INVALID = "is invalid"
SCIENTIFIC = "is in scientific notation ({text}), which has lost digits: save phone numbers as text, not as numbers"
FRACTION = "is a decimal number ({text}), not a phone number"
NATIONAL = "is a national number (it starts with 0): write it with its country code, e.g. +855 12 345 678"
NO_COUNTRY_CODE = (
    "is invalid: not a number with its country code (a local number, or a spreadsheet dropped its leading 0 or +?)"
)
CHARACTERS = "is invalid: {char} is not part of a phone number"
MAX_LENGTH = 64  # characters once invisible ones are removed; longer input is no phone number

_SEPARATORS = frozenset("-./()[]")
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+")
# a whole number with a decimal part of 1-2 digits, as spreadsheets render numbers: 85512345678.0, 85.512.345.678,00
_DECIMAL = re.compile(
    r"(?P<whole>\+?\d+|\+?\d{1,3}(?P<group>[,.'])\d{3}(?:(?P=group)\d{3})*)(?P<point>[.,])(?P<fraction>\d{1,2})"
)
# thousands grouping without a decimal part: 85,512,345,678 (dots are separators anyway)
_GROUPED = re.compile(r"\+?\d{1,3}(?P<group>[,'])\d{3}(?:(?P=group)\d{3})+")
_PLAIN_NUMBER = re.compile(r"\+?([1-9]\d{3,16})")


class _Refused(Exception):
    def __init__(self, message: str):
        self.message = message


def _visible_text(value) -> str:
    """`value` as text with invisible characters and spaces removed, compatibility forms, digits and dashes folded."""
    if isinstance(value, bool):
        raise _Refused(INVALID)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Refused(INVALID)
        text = repr(value)  # 85523456789.0 -> "85523456789.0"; 1e+16 -> scientific notation
    else:
        text = str(value)
    if len(text) > 4 * MAX_LENGTH:
        raise _Refused(INVALID)
    kept = []
    for char in unicodedata.normalize("NFKC", text):
        if char.isspace() or unicodedata.category(char) == "Cf":
            continue
        if char.isdecimal() and not char.isascii():
            char = str(unicodedata.decimal(char))
        elif unicodedata.category(char) == "Pd" or char == "\u2212":
            char = "-"
        kept.append(char)
    return "".join(kept)


def _digits(text: str) -> tuple[str, bool]:
    """(the digits, whether written in international form) of a number's text, or _Refused naming the cause."""
    if _SCIENTIFIC.fullmatch(text):
        raise _Refused(SCIENTIFIC.format(text=text))
    decimal = _DECIMAL.fullmatch(text)
    if decimal and decimal["group"] != decimal["point"] and sum(c.isdigit() for c in decimal["whole"]) >= 6:
        if decimal["fraction"].strip("0"):
            raise _Refused(FRACTION.format(text=text))
        text = decimal["whole"].translate({ord(","): None, ord("."): None, ord("'"): None})
    elif _GROUPED.fullmatch(text):
        text = text.translate({ord(","): None, ord("'"): None})
    international = text.startswith(("+", "00"))
    body = text[1:] if text.startswith("+") else text[2:] if international else text
    for char in body:
        if not (char.isascii() and char.isdigit()) and char not in _SEPARATORS:
            raise _Refused(CHARACTERS.format(char=repr(char)))
    digits = "".join(char for char in body if char.isdigit())
    if not digits:
        raise _Refused(INVALID)
    if not international and digits.startswith("0"):
        raise _Refused(NATIONAL)
    return digits, international


def msisdn_or_error(value) -> tuple[str | None, str | None]:
    """(E.164 form of `value`, None), or (None, the message saying why it is not a phone number).

    `value` is text (any Unicode a phone, word processor, PDF or spreadsheet produces), an int or a float (a JSON
    number); see the module docstring for what is accepted and refused.
    """
    if value is None:
        return None, BLANK
    try:
        text = _visible_text(value)
        if not text:
            return None, BLANK
        if len(text) > MAX_LENGTH:
            return None, INVALID
        digits, international = _digits(text)
    except _Refused as refused:
        return None, refused.message
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not _possible(number):
        # a local number (with its leading 0 dropped) has 6 digits or more; fewer is no phone number at all
        return None, (NO_COUNTRY_CODE if not international and len(digits) >= 6 else INVALID)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def normalize_msisdn(value) -> str | None:
    """E.164 form of a plausible number, or None (msisdn_or_error without the reason)."""
    return msisdn_or_error(value)[0]


def valid_msisdn(value, *, field: str = "msisdn") -> str:
    """E.164 form of `value`; DomainError `{field: [message]}` (a 422 in the API) naming why it is not a number."""
    normalized, error = msisdn_or_error(value)
    if normalized is None:
        raise DomainError({field: [error]})
    return normalized


def _possible(number: phonenumbers.PhoneNumber) -> bool:
    """A possible length for the country code, and dialable from abroad (not IS_POSSIBLE_LOCAL_ONLY)."""
    reason = phonenumbers.is_possible_number_with_reason(number)
    return reason == phonenumbers.ValidationResult.IS_POSSIBLE


@cache
def _country(country_code: int):
    """(national-prefix regex or None, metadata) for a calling code."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    prefix = metadata.national_prefix_for_parsing if metadata else None
    return (re.compile(prefix) if prefix else None), metadata


@cache
def _possible_length(country_code: int, length: int) -> bool:
    """_possible only looks at the calling code and the national number's length."""
    return _possible(phonenumbers.PhoneNumber(country_code=country_code, national_number=int("1" * length)))


def fast_normalize_msisdn(value: str) -> str | None:
    """normalize_msisdn, with a shortcut for plain `+<digits>` / `<digits>` that phonenumbers would keep as they are.

    When the national number cannot start with the country's national prefix, phonenumbers keeps the digits
    unchanged and only checks the length, which is cached per (calling code, length); anything else takes the
    full path. tests/contacts/test_imports.py checks both agree on random numbers of every country.
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
