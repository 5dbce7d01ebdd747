"""Absolute URLs of this server as its clients reach it (pagination Link headers; webhooks use SCFM_PUBLIC_URL too).

Behind a TLS-terminating proxy the request Django sees is plain http to an internal host. Two settings fix that
(README, "Behind a reverse proxy"): SCFM_PUBLIC_URL, when set, is the base of every absolute URL; otherwise
SCFM_TRUSTED_PROXY=true makes Django honour X-Forwarded-Proto / X-Forwarded-Host.
"""

from django.conf import settings


def absolute_url(request, path: str) -> str:
    """`path` (absolute, starting with "/", query string allowed) as a full URL: under SCFM_PUBLIC_URL when it is
    configured (keeping any path prefix it has, e.g. https://example.org/scfm), else built from the request (its
    scheme and host, which honour the proxy headers when SCFM_TRUSTED_PROXY is on)."""
    if settings.SCFM_PUBLIC_URL_CONFIGURED:
        return settings.SCFM_PUBLIC_URL.rstrip("/") + path
    return request.build_absolute_uri(path)


def public_url(path: str) -> str:
    """`path` (absolute, starting with "/") under SCFM_PUBLIC_URL: for URLs handed to a provider outside any request
    (webhooks, uploaded audio), which must be the address the provider reaches us at."""
    return settings.SCFM_PUBLIC_URL.rstrip("/") + path
