"""Bench-only settings: the product's settings with bench/bare_urls.py as the URLconf (adds /bench/bare)."""

from scfm.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare_urls"
