"""CallFlowLogic::EWSRegistration: the Cambodian early-warning registration IVR (original-behaviour.md 8.2).

answered -> playing_introduction -> [main_menu -> recording_feedback -> playing_feedback_successful -> finished]
| gathering_language -> gathering_province -> gathering_district -> gathering_commune -> playing_conclusion -> finished

The step is kept in `phone_call.metadata["status"]` and the choices beside it; each request is the answer to the
previous step's TwiML (a Redirect, a Gather posting back to the same URL with `Digits`, or a Record's action). The main
menu (feedback recording) is offered to the numbers in SCFM_EWS_FEEDBACK_MSISDNS only.

Menus: the language menu (1-5), the 25 provinces in the original's fixed order (PROVINCE_MENU; a province is offered
only in the languages it lists), then key N picks the N-th district of the province, then the N-th commune of the
district, both in id order, from the whole national gazetteer (call_flow_logic/gazetteer.py), so every one of
Cambodia's 1,652 communes can be registered. A menu of up to nine entries gathers one key; a longer one (the province
menu, 13 provinces' district menus, 67 districts' commune menus) gathers two: the caller keys `03`, or `3` then `#`
(or `3` and waits for the gather's timeout). `*` as the first key during the province, district or commune menu goes
back to the language menu; any other key that names no entry, or none, plays the same menu again.

The phone call's metadata takes `province_code`/`district_code`/`commune_code` and `*_name_en` (the gazetteer's
Latin-script name). The commune is merged into the contact's metadata: `commune_ids` (appended once),
`language_code`, `latest_commune_id`, `latest_address_en` ("Commune, District, Province" in Latin script) and
`latest_address_km` (the same in Khmer).
"""

import re

from django.conf import settings

from contacts.models import Contact
from contacts.phone_numbers import normalize_msisdn
from scfm.metadata import merge_metadata

from .audio import audio_url
from .base import CallFlow
from .gazetteer import Place, gazetteer

LANGUAGES = {"1": "khm", "2": "cmo", "3": "jra", "4": "tpu", "5": "krr"}
# The province menu as the original recorded it (select_province-<lang>.wav): key N -> (province id, the languages
# the province is offered in). Not id order: the prompts were recorded in this order.
PROVINCE_MENU: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("15", ("khm",)),  # 1 Pursat
    ("01", ("khm",)),  # 2 Banteay Meanchey
    ("06", ("khm",)),  # 3 Kampong Thom
    ("07", ("khm",)),  # 4 Kampot
    ("04", ("khm",)),  # 5 Kampong Chhnang
    ("17", ("khm",)),  # 6 Siem Reap
    ("02", ("khm",)),  # 7 Battambang
    ("10", ("khm",)),  # 8 Kratie
    ("19", ("khm",)),  # 9 Stung Treng
    ("13", ("khm",)),  # 10 Preah Vihear
    ("22", ("khm",)),  # 11 Oddar Meanchey
    ("23", ("khm",)),  # 12 Kep
    ("24", ("khm",)),  # 13 Pailin
    ("09", ("khm",)),  # 14 Koh Kong
    ("18", ("khm",)),  # 15 Preah Sihanouk
    ("03", ("khm",)),  # 16 Kampong Cham
    ("25", ("khm",)),  # 17 Tboung Khmum
    ("14", ("khm",)),  # 18 Prey Veng
    ("16", ("khm", "jra", "tpu", "krr")),  # 19 Ratanakiri
    ("11", ("khm", "cmo")),  # 20 Mondulkiri
    ("20", ("khm",)),  # 21 Svay Rieng
    ("05", ("khm",)),  # 22 Kampong Speu
    ("21", ("khm",)),  # 23 Takeo
    ("08", ("khm",)),  # 24 Kandal
    ("12", ("khm",)),  # 25 Phnom Penh
)
GATHER_TIMEOUT_SECONDS = 10
ENTRY_STATES = (None, "", "answered")


def feedback_msisdns() -> set[str]:
    """SCFM_EWS_FEEDBACK_MSISDNS in E.164 however it is written (contacts.phone_numbers), to compare with calls'."""
    raw = settings.SCFM_EWS_FEEDBACK_MSISDNS or ""
    return {normalize_msisdn(item) or item.strip() for item in raw.split(",") if item.strip()}


def menu_digits(size: int) -> int:
    """How many keys a menu of `size` entries gathers: 1 up to nine entries, else as many as its last number has."""
    return max(1, len(str(size)))


def _choice(options: tuple, digits: str):
    """The entry a caller's keys pick (`3`, `03` and `3#` all pick the third), or None for anything else."""
    digits = digits.rstrip("#")
    if not re.fullmatch(r"[0-9]{1,3}", digits) or not 1 <= int(digits) <= len(options):
        return None
    return options[int(digits) - 1]


class EWSRegistration(CallFlow):
    name = "CallFlowLogic::EWSRegistration"

    @property
    def state(self) -> dict:
        return self.phone_call.metadata or {}

    @property
    def status(self) -> str | None:
        return self.state.get("status")

    @property
    def digits(self) -> str:
        return str(self.params.get("Digits") or "").strip()

    @property
    def language(self) -> str:
        return self.state.get("language_code") or "khm"

    def run(self) -> None:
        updates = self._next()
        self.phone_call.metadata = merge_metadata(self.phone_call.metadata, updates, "deep_merge")
        self.phone_call.save(update_fields=["metadata", "updated_at"])

    # transitions ----------------------------------------------------------------------------------------------
    def _next(self) -> dict:
        status = self.status
        if status in ENTRY_STATES:
            return {"status": "playing_introduction"}
        if status == "playing_introduction":
            return {"status": "main_menu" if self.phone_call.msisdn in feedback_msisdns() else "gathering_language"}
        if status == "main_menu":
            return {
                "status": {"": "gathering_language", "1": "gathering_language", "2": "recording_feedback"}.get(
                    self.digits, "main_menu"
                )
            }
        if status == "recording_feedback":
            return {"status": "playing_feedback_successful"}
        if status in ("playing_feedback_successful", "playing_conclusion", "finished"):
            return {"status": "finished"}
        if status == "gathering_language":
            language = LANGUAGES.get(self.digits)
            return {"status": "gathering_province", "language_code": language} if language else {}
        if self.digits.startswith("*"):
            return {"status": "gathering_language"}
        return getattr(self, f"_after_{status}", lambda: {})()

    def _after_gathering_province(self) -> dict:
        entry = _choice(PROVINCE_MENU, self.digits)
        if entry is None or self.language not in entry[1]:
            return {}
        province = gazetteer().get(entry[0])
        return {"status": "gathering_district", "province_code": province.id, "province_name_en": province.name_latin}

    def _after_gathering_district(self) -> dict:
        district = _choice(gazetteer().children(self.state.get("province_code")), self.digits)
        if district is None:
            return {}
        return {"status": "gathering_commune", "district_code": district.id, "district_name_en": district.name_latin}

    def _after_gathering_commune(self) -> dict:
        commune = _choice(gazetteer().children(self.state.get("district_code")), self.digits)
        if commune is None:
            return {}
        self._register(commune)
        return {"status": "playing_conclusion", "commune_code": commune.id, "commune_name_en": commune.name_latin}

    def _register(self, commune: Place) -> None:
        """Merge the registration into the contact's metadata (a caller with no usable number has no contact: the
        call's own metadata keeps the commune)."""
        if self.phone_call.contact_id is None:
            return
        district = gazetteer().get(commune.parent_id)
        province = gazetteer().get(district.parent_id)
        places = (commune, district, province)
        contact = Contact.objects.select_for_update().get(pk=self.phone_call.contact_id)
        commune_ids = list(contact.metadata.get("commune_ids") or [])
        if commune.id not in commune_ids:
            commune_ids.append(commune.id)
        contact.metadata = merge_metadata(
            contact.metadata,
            {
                "commune_ids": commune_ids,
                "language_code": self.language,
                "latest_commune_id": commune.id,
                "latest_address_en": ", ".join(place.name_latin for place in places),
                "latest_address_km": ", ".join(place.name_km for place in places),
            },
        )
        contact.save(update_fields=["metadata", "updated_at"])

    # TwiML ----------------------------------------------------------------------------------------------------
    def twiml(self) -> str:
        response = self.response()
        status = self.status
        if status == "playing_introduction":
            response.play(audio_url("ews_registration/introduction-khm.wav"))
            self._redirect(response)
        elif status == "main_menu":
            self._gather(response, "ews_registration/main_menu-khm.mp3", num_digits=1)
        elif status == "recording_feedback":
            response.play(audio_url("ews_registration/record_feedback_instructions-khm.mp3"))
            response.record(
                action=self.current_url,
                recording_status_callback=f"{settings.SCFM_PUBLIC_URL}/twilio_webhooks/recording_status_callbacks",
            )
        elif status == "playing_feedback_successful":
            response.play(audio_url("ews_registration/feedback_successful-khm.mp3"))
            response.hangup()
        elif status == "gathering_language":
            self._gather(response, "ews_registration/select_language.wav", num_digits=1)
        elif status == "gathering_province":
            prompt = f"ews_registration/select_province-{self.language}.wav"
            self._gather(response, prompt, num_digits=menu_digits(len(PROVINCE_MENU)))
        elif status == "gathering_district":
            province_code = self.state["province_code"]
            prompt = f"ews_registration/{province_code}-{self.language}.wav"
            self._gather(response, prompt, num_digits=menu_digits(len(gazetteer().children(province_code))))
        elif status == "gathering_commune":
            district_code = self.state["district_code"]
            prompt = f"ews_registration/{district_code}-{self.language}.wav"
            self._gather(response, prompt, num_digits=menu_digits(len(gazetteer().children(district_code))))
        elif status == "playing_conclusion":
            response.play(audio_url(f"ews_registration/registration_successful-{self.language}.wav"))
            response.hangup()
        else:
            response.hangup()
        return str(response)

    def _redirect(self, response) -> None:
        if self.current_url:
            response.redirect(self.current_url)

    def _gather(self, response, prompt: str, *, num_digits: int) -> None:
        gather = response.gather(
            action=self.current_url,
            action_on_empty_result=True,
            num_digits=num_digits,
            timeout=GATHER_TIMEOUT_SECONDS,
        )
        gather.play(audio_url(prompt))
