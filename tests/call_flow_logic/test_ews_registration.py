"""CallFlowLogic::EWSRegistration over the national gazetteer, through the signed webhook (issue 11, section 10).

Families covered: the packaged gazetteer (counts, every province has districts and every district communes, parsed
once); the menus (the province menu in the original's order with its languages, key N = the N-th district or commune
of its parent in id order, ids with gaps included); how keys are gathered (one key for menus of up to nine entries, two
for longer ones, where `03`, `3#` and `3` all pick the third entry); what is refused (keys naming no entry, `0`, `00`,
past the end, mixed with `*`, empty: the same menu again); `*` (back to the language menu from the province, district
and commune menus); what is written (Latin names in `*_name_en`, Khmer and Latin addresses on the contact); every
province reaches a commune.
"""

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from call_flow_logic.ews_registration import PROVINCE_MENU, menu_digits
from call_flow_logic.gazetteer import DATA_FILE, gazetteer
from contacts.models import Contact
from tests.phone_calls.webhook_helpers import callback_params, outbound_call, provider_account, signed_post

WEBHOOK = "/twilio_webhooks/phone_call_events"
FLOW = "CallFlowLogic::EWSRegistration"


class Caller:
    """Somebody on the phone: posts each answer to the URL the last TwiML named, as the provider does."""

    def __init__(self, client, account, call):
        self.client, self.account, self.call = client, account, call
        self.path = f"{WEBHOOK}?phone_call_id={call.pk}"
        self.twiml = None

    def answer(self, digits: str | None = None) -> ET.Element:
        extra = {} if digits is None else {"Digits": digits}
        params = callback_params(call_sid=f"CA-{self.call.pk}", CallStatus="in-progress", **extra)
        response = signed_post(self.client, self.path, params)
        assert response.status_code == 200, response.content
        self.twiml = ET.fromstring(response.content)
        self.call.refresh_from_db()
        follow = self.twiml.find("Gather")
        url = follow.get("action") if follow is not None else getattr(self.twiml.find("Redirect"), "text", None)
        if url:
            assert url.startswith(settings.SCFM_PUBLIC_URL)
            self.path = urlsplit(url).path + "?" + urlsplit(url).query
        return self.twiml

    def keys(self, *digits: str | None) -> ET.Element:
        for item in digits:
            self.answer(item)
        return self.twiml

    @property
    def status(self) -> str:
        return self.call.metadata["status"]

    @property
    def gather(self) -> tuple[str, str]:
        """The prompt file and numDigits of the menu the caller hears now."""
        gather = self.twiml.find("Gather")
        return gather.find("Play").text.rsplit("/", 1)[-1], gather.get("numDigits")


@pytest.fixture
def account(db, settings):
    settings.SCFM_AUDIO_BASE_URL = "https://audio.example.org/prompts/"
    return provider_account()


@pytest.fixture
def caller(client, account):
    """A caller who has heard the introduction and now hears the language menu."""
    caller = Caller(client, account, outbound_call(account, call_flow_logic=FLOW))
    caller.keys(None, None)
    assert caller.status == "gathering_language"
    return caller


def province_key(province_id: str) -> str:
    return str([entry[0] for entry in PROVINCE_MENU].index(province_id) + 1).zfill(2)


def key(index: int, size: int) -> str:
    """The keys for the index-th (1-based) entry of a menu of `size` entries, zero-padded as a caller keys them."""
    return str(index).zfill(menu_digits(size))


# the gazetteer ---------------------------------------------------------------------------------------------------
def test_gazetteer_holds_the_whole_country():
    places = gazetteer()
    assert (places.count("provinces"), places.count("districts"), places.count("communes")) == (25, 210, 1652)
    assert len(places.provinces) == 25
    assert all(places.children(province.id) for province in places.provinces)
    districts = [district for province in places.provinces for district in places.children(province.id)]
    assert len(districts) == 210
    assert all(places.children(district.id) for district in districts)
    assert sum(len(places.children(district.id)) for district in districts) == 1652
    assert all(place.name_km and place.name_latin for place in places.places.values())


def test_gazetteer_is_parsed_once():
    assert gazetteer() is gazetteer()


def test_children_are_in_id_order_even_where_ids_have_gaps():
    assert [district.id for district in gazetteer().children("01")][:2] == ["0102", "0103"]
    assert gazetteer().children("0801")[-1].id == "080128"
    for children in gazetteer().children_by_parent.values():
        assert [place.id for place in children] == sorted(place.id for place in children)


def test_the_data_ships_with_its_licence_in_the_package():
    import tomllib
    from fnmatch import fnmatch

    licence = DATA_FILE.with_name("cambodia-gazetteer.LICENSE.txt")
    assert "MIT License" in licence.read_text() and "David Wilkie" in licence.read_text()
    assert "MIT" in gazetteer().about["source"]
    root = DATA_FILE.parents[2]
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    packaged = [f"{name}/{glob}" for name, patterns in globs.items() for glob in patterns]
    for path in (DATA_FILE, licence):
        relative = path.relative_to(root).as_posix()
        assert any(fnmatch(relative, pattern) for pattern in packaged), relative
    assert "call_flow_logic" not in (root / ".dockerignore").read_text()


def test_province_menu_offers_every_province_once_in_the_documented_order():
    assert [entry[0] for entry in PROVINCE_MENU][:3] == ["15", "01", "06"]
    assert [entry[0] for entry in PROVINCE_MENU][-1] == "12"
    assert sorted(entry[0] for entry in PROVINCE_MENU) == [province.id for province in gazetteer().provinces]
    assert dict(PROVINCE_MENU)["16"] == ("khm", "jra", "tpu", "krr")
    assert dict(PROVINCE_MENU)["11"] == ("khm", "cmo")


@pytest.mark.parametrize(("size", "digits"), [(1, 1), (9, 1), (10, 2), (25, 2), (99, 2)])
def test_menus_of_more_than_nine_entries_gather_two_keys(size, digits):
    assert menu_digits(size) == digits


# the flow --------------------------------------------------------------------------------------------------------
def test_prompts_come_from_the_audio_base_url_and_answers_post_back(client, account):
    caller = Caller(client, account, outbound_call(account, call_flow_logic=FLOW))
    root = caller.answer()
    assert root.find("Play").text == "https://audio.example.org/prompts/ews_registration/introduction-khm.wav"
    assert root.find("Redirect").text.endswith(f"phone_call_id={caller.call.pk}")
    root = caller.answer()
    assert root.find("Gather").get("actionOnEmptyResult") == "true"
    assert root.find("Gather").get("action").endswith(f"phone_call_id={caller.call.pk}")
    assert caller.gather == ("select_language.wav", "1")


def test_registers_in_a_commune_of_a_province_the_old_subset_lacked(caller):
    """Banteay Meanchey (menu 2): its first district is 0102 (there is no 0101); 0102 has 13 communes."""
    caller.keys("1")
    assert caller.gather == ("select_province-khm.wav", "2")
    caller.keys("2#")
    assert (caller.status, caller.call.metadata["province_code"]) == ("gathering_district", "01")
    assert caller.gather == ("01-khm.wav", "1")
    caller.keys("1")
    assert caller.call.metadata["district_code"] == "0102"
    assert caller.gather == ("0102-khm.wav", "2")
    root = caller.keys("3")  # a single key, then the gather's timeout
    assert [child.tag for child in root] == ["Play", "Hangup"]
    assert root.find("Play").text.endswith("registration_successful-khm.wav")
    assert {key: value for key, value in caller.call.metadata.items() if key != "status"} == {
        "language_code": "khm",
        "province_code": "01",
        "province_name_en": "Banteay Meanchey",
        "district_code": "0102",
        "district_name_en": "Mongkol Borey",
        "commune_code": "010203",
        "commune_name_en": "Chamnaom",
    }
    caller.call.contact.refresh_from_db()
    assert caller.call.contact.metadata["latest_address_en"] == "Chamnaom, Mongkol Borey, Banteay Meanchey"
    assert caller.call.contact.metadata["latest_address_km"] == "ចំណោម, មង្គលបូរី, បន្ទាយមានជ័យ"


def test_registers_in_the_last_district_of_a_province_with_more_than_nine(caller):
    """Phnom Penh (menu 25) has 14 districts: `14` is Kamboul (1214), whose 7th and last commune is Prateah Lang."""
    caller.keys("1", "25")
    assert caller.gather == ("12-khm.wav", "2")
    caller.keys("14")
    assert (caller.call.metadata["district_code"], caller.call.metadata["district_name_en"]) == ("1214", "Kamboul")
    assert caller.gather == ("1214-khm.wav", "1")
    caller.keys("7")
    assert (caller.status, caller.call.metadata["commune_code"]) == ("playing_conclusion", "121407")
    assert Contact.objects.get(pk=caller.call.contact_id).metadata["latest_commune_id"] == "121407"


def test_registers_in_the_last_commune_of_a_district_with_more_than_nine(caller):
    """Kandal (menu 24), district `01` Kandal Stueng (0801) has 18 communes; the 18th is 080128 Trea."""
    caller.keys("1", "24", "01")
    assert caller.call.metadata["district_code"] == "0801"
    assert caller.gather == ("0801-khm.wav", "2")
    caller.keys("18")
    assert (caller.call.metadata["commune_code"], caller.call.metadata["commune_name_en"]) == ("080128", "Trea")


def test_registration_is_merged_into_the_contact_metadata(caller):
    contact = caller.call.contact
    contact.metadata = {"name": "Dara", "commune_ids": ["020101"]}
    contact.save()
    caller.keys("1", "7", "01", "8")  # Khmer, Battambang, Banan, Ta Kream
    contact.refresh_from_db()
    assert contact.metadata == {
        "name": "Dara",
        "commune_ids": ["020101", "020108"],
        "language_code": "khm",
        "latest_commune_id": "020108",
        "latest_address_en": "Ta Kream, Banan, Battambang",
        "latest_address_km": "តាគ្រាម, បាណន់, បាត់ដំបង",
    }
    assert caller.status == "playing_conclusion"
    assert [child.tag for child in caller.keys(None)] == ["Hangup"]
    assert caller.status == "finished"


@pytest.mark.parametrize("keys", ["3", "03", "3#"])
def test_a_two_key_menu_takes_one_key_a_padded_key_or_a_key_and_hash(caller, keys):
    caller.keys("1", keys)  # Kampong Thom is the 3rd province
    assert caller.call.metadata["province_code"] == "06"


@pytest.mark.parametrize(
    ("menu", "before", "keys"),
    [
        ("language", [], "9"),
        ("language", [], "0"),
        ("language", [], ""),
        ("province", ["1"], "26"),
        ("province", ["1"], "0"),
        ("province", ["1"], "00"),
        ("province", ["1"], "#"),
        ("province", ["1"], "3*"),
        ("province", ["1"], ""),
        ("district", ["1", "25"], "15"),  # Phnom Penh has 14
        ("district", ["1", "25"], "99"),
        ("district", ["1", "25"], ""),
        ("commune", ["1", "24", "01"], "19"),  # Kandal Stueng has 18
        ("commune", ["1", "24", "01"], "0"),
        ("commune", ["1", "24", "01"], "1*"),
        ("commune", ["1", "24", "01"], "\u0661"),  # an Arabic-Indic 1: a digit to Python, not a key
        ("commune", ["1", "24", "01"], "\u00b3"),  # a superscript 3
        ("commune", ["1", "24", "01"], "0" * 4999 + "1"),
        ("commune", ["1", "04", "9"], "4"),  # Kampot's 9th district Bokor has 3 communes: a one-key menu
    ],
)
def test_keys_that_name_no_entry_play_the_same_menu_again(caller, menu, before, keys):
    caller.keys(*before)
    status, heard = caller.status, caller.gather
    assert status == f"gathering_{menu}"
    caller.keys(keys)
    assert (caller.status, caller.gather) == (status, heard)
    caller.call.contact.refresh_from_db()
    assert "latest_commune_id" not in caller.call.contact.metadata


def test_a_province_is_offered_only_in_its_languages(caller):
    caller.keys("2")  # Central Mnong: only Mondulkiri offers it
    assert caller.gather == ("select_province-cmo.wav", "2")
    caller.keys("1")  # Pursat does not offer cmo
    assert caller.status == "gathering_province"
    caller.keys("20")  # Mondulkiri
    assert (caller.status, caller.call.metadata["province_code"]) == ("gathering_district", "11")
    assert caller.gather == ("11-cmo.wav", "1")


@pytest.mark.parametrize(
    ("menu", "before"), [("province", ["1"]), ("district", ["1", "25"]), ("commune", ["1", "24", "01"])]
)
@pytest.mark.parametrize("keys", ["*", "*1", "**"])
def test_star_goes_back_to_the_language_menu(caller, menu, before, keys):
    caller.keys(*before)
    assert caller.status == f"gathering_{menu}"
    caller.keys(keys)
    assert caller.status == "gathering_language"
    assert caller.gather == ("select_language.wav", "1")
    caller.keys("1", "12", "1", "1")  # and a new registration goes through: Kep, Damnak Chang'aeur, its 1st commune
    assert (caller.status, caller.call.metadata["commune_code"]) == ("playing_conclusion", "230101")
    assert caller.call.metadata["district_code"] == "2301"


@pytest.mark.parametrize("province_id", [entry[0] for entry in PROVINCE_MENU])
def test_every_province_reaches_the_last_commune_of_its_last_district(client, account, province_id):
    caller = Caller(client, account, outbound_call(account, call_flow_logic=FLOW))
    districts = gazetteer().children(province_id)
    communes = gazetteer().children(districts[-1].id)
    caller.keys(None, None, "1", province_key(province_id), key(len(districts), len(districts)))
    assert caller.gather == (f"{districts[-1].id}-khm.wav", str(menu_digits(len(communes))))
    caller.keys(key(len(communes), len(communes)))
    assert caller.call.metadata["commune_code"] == communes[-1].id
    caller.call.contact.refresh_from_db()
    assert caller.call.contact.metadata["latest_address_en"] == ", ".join(
        place.name_latin for place in (communes[-1], districts[-1], gazetteer().get(province_id))
    )


def test_feedback_branch_records_with_a_status_callback(client, account, settings):
    settings.SCFM_EWS_FEEDBACK_MSISDNS = "+252660000001"
    caller = Caller(client, account, outbound_call(account, call_flow_logic=FLOW, msisdn="+252660000001"))
    caller.keys(None, None)
    assert caller.gather == ("main_menu-khm.mp3", "1")
    record = caller.keys("2").find("Record")
    assert (
        record.get("recordingStatusCallback")
        == f"{settings.SCFM_PUBLIC_URL}/twilio_webhooks/recording_status_callbacks"
    )
    root = caller.keys(None)
    assert [child.tag for child in root] == ["Play", "Hangup"]
    assert caller.status == "playing_feedback_successful"
