"""metadata_merge_mode semantics shared by every resource that has metadata."""

MERGE_MODES = ("merge", "replace", "deep_merge")


def deep_merge(base: dict, new: dict) -> dict:
    merged = dict(base)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def merge_metadata(existing: dict | None, new: dict | None, mode: str | None = "merge") -> dict:
    """Combine stored metadata with a new value: shallow merge (default), replace, or deep merge."""
    existing = existing or {}
    if new is None:
        return existing
    if mode == "replace":
        return dict(new)
    if mode == "deep_merge":
        return deep_merge(existing, new)
    return {**existing, **new}
