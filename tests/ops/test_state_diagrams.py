"""python manage.py state_diagrams: Mermaid diagrams generated from the django-fsm transitions."""

import io
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def generated() -> str:
    out = io.StringIO()
    call_command("state_diagrams", "--output", "-", stdout=out)
    return out.getvalue()


def test_diagrams_cover_every_state_machine_when_generated():
    text = generated()
    for title in ("## Callout.status", "## BatchOperation.status", "## PhoneCall.status"):
        assert title in text
    assert text.count("```mermaid\nstateDiagram-v2\n") == 3
    assert "    initialized --> running: start\n" in text


def test_docs_state_diagrams_are_up_to_date_when_transitions_change():
    assert (ROOT / "docs" / "state-diagrams.md").read_text() == generated(), "run: python manage.py state_diagrams"
