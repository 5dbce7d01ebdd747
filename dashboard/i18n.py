"""The dashboard's translation catalogues, with Babel (pure Python: a fresh machine needs no GNU gettext).

`make messages` (manage.py i18n_catalogues) extracts every translatable string of the project's Python modules
(gettext, gettext_lazy, ngettext, pgettext... calls) and of the dashboard's templates (`{% translate %}`,
`{% blocktranslate %}`, read with Django's own `templatize`, as makemessages does), updates each language's
`dashboard/locale/<lang>/LC_MESSAGES/django.po` (new strings with an empty translation, old ones kept as obsolete),
and compiles it to the django.mo Django reads (committed). `catalogue_problems` is the check the test suite runs:
every string has a translation in every language but English, and each .mo says what its .po says.
"""

import gettext
import io
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from django.conf import settings
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
LOCALE_DIR = ROOT / "dashboard" / "locale"
PACKAGES = (
    "scfm",
    "accounts",
    "contacts",
    "callouts",
    "batch_operations",
    "phone_calls",
    "call_flow_logic",
    "dashboard",
)
TEMPLATES = ROOT / "dashboard" / "templates"
SOURCE_LANGUAGE = "en"
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext_lazy": (1, 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext_lazy": ((1, "c"), 2, 3),
}


@dataclass
class Message:
    """One translatable string: its id (a (singular, plural) pair for plurals), context and where it is used."""

    id: str | tuple[str, str]
    context: str | None
    locations: list[tuple[str, int]] = field(default_factory=list)


def _python_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _template_files():
    for pattern in ("*.html", "*.txt"):
        yield from sorted(TEMPLATES.rglob(pattern))


def extract_messages() -> dict[tuple, Message]:
    """Every translatable string in the project's Python and the dashboard's templates, keyed by (id, context)."""
    found: dict[tuple, Message] = {}

    def add(path: Path, source: bytes) -> None:
        for lineno, message, _comments, context in extract("python", io.BytesIO(source), keywords=KEYWORDS):
            if isinstance(message, tuple | list):
                message = tuple(message[:2])
            if not message or (isinstance(message, tuple) and not message[0]):
                continue
            key = (message, context)
            entry = found.setdefault(key, Message(message, context))
            entry.locations.append((str(path.relative_to(ROOT)), lineno))

    for path in _python_files():
        add(path, path.read_bytes())
    for path in _template_files():
        # templatize keeps the template's lines (gettext calls where the tags were, markup blanked); their
        # indentation means nothing to Python, and the tokenizer would trip over it
        code = "\n".join(line.lstrip() for line in templatize(path.read_text("utf-8"), origin=str(path)).split("\n"))
        add(path, code.encode("utf-8"))
    return found


def _template_catalog(messages: dict[tuple, Message]) -> Catalog:
    catalog = Catalog(project="SCFM", fuzzy=False)
    for message in messages.values():
        catalog.add(message.id, locations=message.locations, context=message.context)
    return catalog


def languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES if code != SOURCE_LANGUAGE]


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "django.po"


def _read(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, project="SCFM", fuzzy=False)
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def update_catalogues() -> dict[str, int]:
    """Extract, update every language's .po, compile its .mo. Returns the number of untranslated strings by language."""
    template = _template_catalog(extract_messages())
    missing = {}
    for language in languages():
        catalog = _read(language)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.obsolete.clear()  # git keeps the history; a stale entry only confuses translators
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=120, sort_output=False, include_lineno=False)
        with path.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        missing[language] = sum(1 for message in catalog if message.id and not _translated(message))
    return missing


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return not message.fuzzy and all(strings) and len(strings) > 0


def catalogue_problems() -> list[str]:
    """What is wrong with the committed catalogues, one line each (empty when nothing is): a string used in the code
    with no translation (or a fuzzy one) in a language, and a .mo that does not say what its .po says."""
    problems = []
    messages = extract_messages()
    for language in languages():
        catalog = _read(language)
        for (message_id, context), message in messages.items():
            entry = catalog.get(message_id, context=context)
            where = "{}:{}".format(*message.locations[0])
            if entry is None or not _translated(entry):
                problems.append(f"{language}: no translation of {message_id!r} ({where})")
        problems.extend(_mo_problems(language, catalog))
    return problems


def _mo_problems(language: str, catalog: Catalog) -> list[str]:
    path = po_path(language).with_suffix(".mo")
    if not path.exists():
        return [f"{language}: {_shown(path)} is missing (make messages)"]
    with path.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    expected = io.BytesIO()
    write_mo(expected, catalog, use_fuzzy=False)
    expected.seek(0)
    wanted = gettext.GNUTranslations(expected)._catalog  # type: ignore[attr-defined]
    if compiled != wanted:
        return [f"{language}: {_shown(path)} is out of date with its .po (make messages)"]
    return []


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
