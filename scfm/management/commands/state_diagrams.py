from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_fsm import FSMFieldMixin

CHOICE_THRESHOLD = 3  # a RETURN_VALUE transition with more possible targets is drawn through a choice node
DEFAULT_OUTPUT = Path(settings.BASE_DIR) / "docs" / "state-diagrams.md"
INTRO = """# State diagrams

Generated from the django-fsm transitions of the models by `python manage.py state_diagrams`; do not edit by hand.
Each arrow is a model method (the transition); services call it, save, and schedule side effects on commit.
"""


def state_machines() -> list[tuple[type, object]]:
    """(model, FSM field) for every django-fsm state field of the project's models, in app order."""
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.fields
        if isinstance(field, FSMFieldMixin) and model.__module__.split(".")[0] in settings.INSTALLED_APPS
    ]


def mermaid(model, field) -> str:
    """A Mermaid stateDiagram-v2 of one state field: the initial state, then one arrow per (source, target, method).

    A method whose return value picks among many states (django-fsm RETURN_VALUE) is drawn through a choice node:
    its sources lead into the node, the node leads to every state it may return, noted with the method's docstring.
    """
    states = [value for value, _label in field.choices]
    edges, choices = set(), {}
    for transition in field.get_all_transitions(model):
        sources = states if transition.source in ("*", "+") else [transition.source]
        target = transition.target
        allowed = list(getattr(target, "allowed_states", None) or [])
        if isinstance(target, str):
            edges.update(
                (source, target, transition.name) for source in sources if source != target or transition.source != "+"
            )
        elif len(allowed) <= CHOICE_THRESHOLD:
            edges.update((source, state, transition.name) for source in sources for state in allowed if state != source)
        else:
            method, choice_sources, _ = choices.setdefault(transition.name, (transition.method, [], allowed))
            choice_sources.extend(source for source in sources if source not in choice_sources)
    lines = ["stateDiagram-v2", f"    [*] --> {field.default}"]
    lines += [f"    {source} --> {target}: {name}" for source, target, name in sorted(edges, key=_order(states))]
    for name, (method, sources, allowed) in choices.items():
        node = f"{name}_result"
        doc = " ".join((method.__doc__ or "").split())
        lines.append(f"    state {node} <<choice>>")
        lines += [f"    {source} --> {node}: {name}" for source in sources]
        lines += [f"    {node} --> {state}" for state in allowed]
        if doc:
            lines.append(f"    note right of {node}: {name}() - {doc}")
    return "\n".join(lines)


def _order(states):
    position = {state: index for index, state in enumerate(states)}
    return lambda edge: (position.get(edge[0], 99), position.get(edge[1], 99), edge[2])


def document() -> str:
    sections = [INTRO]
    for model, field in state_machines():
        doc = " ".join((model.__doc__ or "").strip().split("\n\n")[0].split())
        title = f"## {model.__name__}.{field.name} ({model._meta.label})"
        sections.append(f"{title}\n\n{doc}\n\n```mermaid\n{mermaid(model, field)}\n```\n")
    return "\n".join(sections)


class Command(BaseCommand):
    help = "Write Mermaid state diagrams of every django-fsm state machine (Callout, BatchOperation, PhoneCall...)."

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="file to write, or - for stdout")
        parser.add_argument("--check", action="store_true", help="fail if the file is not up to date")

    def handle(self, *args, output, check, **options):
        text = document()
        if output == "-":
            self.stdout.write(text, ending="")
            return
        path = Path(output)
        if check:
            if not path.is_file() or path.read_text() != text:
                raise CommandError(f"{path} is out of date: run python manage.py state_diagrams")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.stdout.write(f"wrote {path}")
