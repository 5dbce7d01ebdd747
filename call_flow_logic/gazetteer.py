"""Cambodia's national gazetteer (provinces, districts, communes), read once from the packaged data file.

`call_flow_logic/data/cambodia-gazetteer.json` (NCDD data as published by the pumi gem, MIT licence beside it in
`cambodia-gazetteer.LICENSE.txt`) is parsed on first use and cached for the life of the process. Ids are strings:
a province's 2 digits, a district's 4 (its province's id + 2), a commune's 6 (its district's id + 2).
"""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "cambodia-gazetteer.json"
LEVELS = ("provinces", "districts", "communes")


@dataclass(frozen=True)
class Place:
    """A province, district or commune: its id, Khmer name, Latin-script name and kind (Province, Capital, District,
    Municipality, Section, Commune or Quarter)."""

    id: str
    name_km: str
    name_latin: str
    administrative_unit: str

    @property
    def parent_id(self) -> str | None:
        """The id of the province (of a district) or district (of a commune); None for a province."""
        return self.id[:-2] or None


@dataclass(frozen=True)
class Gazetteer:
    """Every place by id, and each province's districts and each district's communes in id order."""

    places: dict[str, Place]
    provinces: tuple[Place, ...]
    children_by_parent: dict[str, tuple[Place, ...]]
    about: dict

    def get(self, place_id: str | None) -> Place | None:
        """The place with this id, or None."""
        return self.places.get(place_id or "")

    def children(self, parent_id: str | None) -> tuple[Place, ...]:
        """The districts of a province or the communes of a district, sorted by id (empty for an unknown id)."""
        return self.children_by_parent.get(parent_id or "", ())

    def count(self, level: str) -> int:
        """How many `provinces`, `districts` or `communes` the gazetteer holds."""
        depth = 2 * (LEVELS.index(level) + 1)
        return sum(1 for place_id in self.places if len(place_id) == depth)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The national gazetteer (parsed once per process).

    Raises FileNotFoundError if the data file was not packaged, ValueError if it is malformed.
    """
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    places: dict[str, Place] = {}
    for level in LEVELS:
        for item in raw[level]:
            place = Place(
                id=item["id"],
                name_km=item["name_km"],
                name_latin=item["name_latin"],
                administrative_unit=item["administrative_unit"],
            )
            if place.id in places:
                raise ValueError(f"gazetteer: duplicate id {place.id}")
            if place.parent_id and place.parent_id not in places:
                raise ValueError(f"gazetteer: {place.id} has no parent {place.parent_id}")
            places[place.id] = place
    children: dict[str, list[Place]] = {}
    for place in places.values():
        if place.parent_id:
            children.setdefault(place.parent_id, []).append(place)
    return Gazetteer(
        places=places,
        provinces=tuple(sorted((place for place in places.values() if not place.parent_id), key=lambda p: p.id)),
        children_by_parent={parent: tuple(sorted(items, key=lambda p: p.id)) for parent, items in children.items()},
        about=raw.get("about", {}),
    )
