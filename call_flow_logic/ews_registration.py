"""CallFlowLogic::EWSRegistration: the Cambodian early-warning registration IVR (original-behaviour.md 8.2).

answered -> playing_introduction -> [main_menu -> recording_feedback -> playing_feedback_successful -> finished]
| gathering_language -> gathering_province -> gathering_district -> gathering_commune -> playing_conclusion -> finished

The step is kept in `phone_call.metadata["status"]` and the choices beside it; each request is the answer to the
previous step's TwiML (a Redirect, a Gather posting back to the same URL with `Digits`, or a Record's action). `*`
during province/district/commune goes back to the language menu; invalid or empty input asks again. The main menu
(feedback recording) is offered to the numbers in SCFM_EWS_FEEDBACK_MSISDNS only. The chosen commune is merged into
the contact's metadata.
"""

import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from contacts.models import Contact
from scfm.metadata import merge_metadata

from .audio import audio_url
from .base import CallFlow

LANGUAGES = {"1": "khm", "2": "cmo", "3": "jra", "4": "tpu", "5": "krr"}
GATHER_TIMEOUT_SECONDS = 10
ENTRY_STATES = (None, "", "answered")


@lru_cache(maxsize=1)
def gazetteer() -> dict:
    """Provinces (menu order), districts by province code, communes by district code."""
    return json.loads((Path(__file__).parent / "gazetteer.json").read_text(encoding="utf-8"))


def feedback_msisdns() -> set[str]:
    raw = settings.SCFM_EWS_FEEDBACK_MSISDNS or ""
    return {item.strip() for item in raw.split(",") if item.strip()}


def _choice(options: list[dict], digits: str) -> dict | None:
    if not digits.isdigit() or not 1 <= int(digits) <= len(options):
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
        province = _choice(gazetteer()["provinces"], self.digits)
        if province is None or self.language not in province["languages"]:
            return {}
        chosen = {"province_code": province["code"], "province_name_en": province["name_en"]}
        if not gazetteer()["districts"].get(province["code"]):
            return self._conclude(chosen)
        return {"status": "gathering_district", **chosen}

    def _after_gathering_district(self) -> dict:
        district = _choice(gazetteer()["districts"].get(self.state.get("province_code"), []), self.digits)
        if district is None:
            return {}
        chosen = {"district_code": district["code"], "district_name_en": district["name_en"]}
        if not gazetteer()["communes"].get(district["code"]):
            return self._conclude(chosen)
        return {"status": "gathering_commune", **chosen}

    def _after_gathering_commune(self) -> dict:
        commune = _choice(gazetteer()["communes"].get(self.state.get("district_code"), []), self.digits)
        if commune is None:
            return {}
        return self._conclude({"commune_code": commune["code"], "commune_name_en": commune["name_en"]})

    def _conclude(self, chosen: dict) -> dict:
        """Write the registration into the contact's metadata (merge) and play the conclusion."""
        choices = {**self.state, **chosen}
        province = next(item for item in gazetteer()["provinces"] if item["code"] == choices["province_code"])
        names_en = [choices.get(key) for key in ("commune_name_en", "district_name_en")] + [province["name_en"]]
        names_km = [choices.get(key) for key in ("commune_name_en", "district_name_en")] + [province["name_km"]]
        location_code = choices.get("commune_code") or choices.get("district_code") or choices["province_code"]
        contact = Contact.objects.select_for_update().get(pk=self.phone_call.contact_id)
        commune_ids = list(contact.metadata.get("commune_ids") or [])
        if location_code not in commune_ids:
            commune_ids.append(location_code)
        contact.metadata = merge_metadata(
            contact.metadata,
            {
                "commune_ids": commune_ids,
                "language_code": self.language,
                "latest_commune_id": location_code,
                "latest_address_en": ", ".join(name for name in names_en if name),
                "latest_address_km": ", ".join(name for name in names_km if name),
            },
        )
        contact.save(update_fields=["metadata", "updated_at"])
        return {"status": "playing_conclusion", **chosen}

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
            self._gather(response, f"ews_registration/select_province-{self.language}.wav")
        elif status == "gathering_district":
            self._gather(response, f"ews_registration/{self.state['province_code']}-{self.language}.wav")
        elif status == "gathering_commune":
            self._gather(response, f"ews_registration/{self.state['district_code']}-{self.language}.wav")
        elif status == "playing_conclusion":
            response.play(audio_url(f"ews_registration/registration_successful-{self.language}.wav"))
            response.hangup()
        else:
            response.hangup()
        return str(response)

    def _redirect(self, response) -> None:
        if self.current_url:
            response.redirect(self.current_url)

    def _gather(self, response, prompt: str, *, num_digits: int | None = None) -> None:
        gather = response.gather(
            action=self.current_url,
            action_on_empty_result=True,
            num_digits=num_digits,
            timeout=GATHER_TIMEOUT_SECONDS,
        )
        gather.play(audio_url(prompt))
