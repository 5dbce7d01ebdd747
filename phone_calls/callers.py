"""Who is calling: the usable phone number of an inbound caller, or None for a caller who has none.

An inbound call is always answered; only a caller with a usable number becomes a contact. A caller has no usable
number when the provider sends (the whole family, each a test in tests/phone_calls/test_callers.py):

- nothing: an empty or blank From;
- a withheld-number word: Anonymous, Restricted, Private, Unknown, Unavailable, Blocked, Withheld (any case);
- Twilio's sentinel for such a word, the word spelled on a telephone keypad: +266696687 (ANONYMOUS),
  +7378742833 (RESTRICTED), +7748283 (PRIVATE), +8656696 (UNKNOWN), +86282452253 (UNAVAILABLE), +2562533 (BLOCKED);
- a non-telephone address: a SIP URI (sip:alice@example.org), a Twilio Client identity (client:alice), or any
  other `scheme:` address;
- anything else that is not a phone number (contacts.phone_numbers.msisdn_or_error refuses it).

The phone call row keeps what the provider sent (`msisdn`, up to MSISDN_MAX_LENGTH characters) either way.
"""

from __future__ import annotations

import re

from contacts.phone_numbers import msisdn_or_error

WITHHELD_WORDS = ("anonymous", "restricted", "private", "unknown", "unavailable", "blocked", "withheld")
KEYPAD = {
    letter: str(digit)
    for digit, letters in {2: "abc", 3: "def", 4: "ghi", 5: "jkl", 6: "mno", 7: "pqrs", 8: "tuv", 9: "wxyz"}.items()
    for letter in letters
}


def keypad_spelling(word: str) -> str:
    """`word` as typed on a telephone keypad, E.164 style: "anonymous" -> "+266696687"."""
    return "+" + "".join(KEYPAD[letter] for letter in word.lower())


WITHHELD_SENTINELS = frozenset(keypad_spelling(word) for word in WITHHELD_WORDS)
ADDRESS_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # sip:, sips:, client:, tel: is handled below
MSISDN_MAX_LENGTH = 255


def caller_msisdn(value) -> str | None:
    """The E.164 number of a caller (`From` of an inbound call), or None when the caller has no usable number
    (see the module docstring for the family). Never raises."""
    text = str(value or "").strip()
    if not text or text.lower().strip("+") in WITHHELD_WORDS:
        return None
    if text.lower().startswith("tel:"):
        text = text[4:].split(";", 1)[0]
    elif ADDRESS_SCHEME.match(text):
        return None
    if "+" + re.sub(r"\D", "", text) in WITHHELD_SENTINELS:  # with or without its "+", spaced or not
        return None
    msisdn, _error = msisdn_or_error(text)
    return msisdn


def provider_address(value) -> str:
    """What the provider sent as the caller, as stored on the phone call (stripped, cut to the column's size)."""
    return str(value or "").strip()[:MSISDN_MAX_LENGTH]
