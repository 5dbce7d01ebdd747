"""The translation catalogues (dashboard/i18n.py): every string the dashboard uses has a Khmer translation, and the
committed .mo says what the .po says (`make messages` rebuilds both; no GNU gettext needed)."""

import shutil

from django.core.management import call_command
from django.utils import translation

from dashboard import i18n


def test_every_translatable_string_has_a_khmer_translation_and_the_mo_is_current():
    problems = i18n.catalogue_problems()
    assert problems == [], "run `make messages` and translate:\n" + "\n".join(problems)


def test_extraction_finds_strings_of_templates_python_blocks_and_plurals():
    found = i18n.extract_messages()
    ids = {message_id for message_id, _context in found}
    assert "Sign in" in ids  # {% translate %}
    assert "Choose a password for %(email)s." in ids  # {% blocktranslate with %}
    assert ("%(counter)s contact matches.", "%(counter)s contacts match.") in ids  # {% blocktranslate count %}
    assert "You have been invited to SCFM" in ids  # gettext() in accounts/services.py
    assert "Calls in flight at once" in ids  # gettext_lazy() in dashboard/forms


def test_the_check_reports_a_missing_translation_and_a_stale_mo(tmp_path, monkeypatch):
    shutil.copytree(i18n.LOCALE_DIR, tmp_path / "locale")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    po = i18n.po_path("km")
    text = po.read_text("utf-8")
    po.write_text(text.replace('msgstr "ចូលគណនី"', 'msgstr ""'), "utf-8")

    problems = i18n.catalogue_problems()

    assert any("no translation of 'Sign in'" in problem for problem in problems)
    assert any("out of date" in problem for problem in problems)


def test_make_messages_rebuilds_a_mo_equal_to_the_committed_one(tmp_path, monkeypatch):
    shutil.copytree(i18n.LOCALE_DIR, tmp_path / "locale")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    call_command("i18n_catalogues", verbosity=0)
    assert i18n.catalogue_problems() == []
    assert i18n.po_path("km").read_text("utf-8") == (i18n.ROOT / "dashboard/locale/km/LC_MESSAGES/django.po").read_text(
        "utf-8"
    )


def test_django_reads_the_compiled_khmer_catalogue():
    with translation.override("km"):
        assert translation.gettext("Sign in") == "ចូលគណនី"
