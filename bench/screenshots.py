"""Screenshots of the dashboard's main pages for the README: desktop (1280 px) and phone (360 px) wide, English and
Khmer, into docs/screenshots/.

    .venv/bin/python bench/screenshots.py [--port 8793]

Builds a small demo account in its own database (DATABASE_URL, default scfm_screenshots; rebuilt each run): contacts
with metadata, a running callout half-way through (participations, calls, counters recomputed from the rows and an
hour of per-minute series for the chart), and one callout not started yet. Starts gunicorn on 127.0.0.1:`--port`
and drives Debian's Chromium (/usr/bin/chromium) with Playwright, signed in as an English user and as a Khmer one.
"""

import argparse
import os
import random
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import ensure_database, setup_django, start_server  # noqa: E402

URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/scfm_screenshots")
OUT = ROOT / "docs" / "screenshots"
PASSWORD = "screenshots-only-password"
SIZES = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 360, "height": 780}}
PROVINCES = ["Kampot", "Takeo", "Kandal", "Kampong Cham", "Siem Reap"]


def build() -> dict:
    """The demo data; returns the ids and emails the pages need."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Account, User
    from callouts import counters
    from callouts.models import Callout, CalloutCount, CalloutParticipation
    from contacts.models import Contact
    from phone_calls.models import PhoneCall

    random.seed(14)
    with transaction.atomic():
        account = Account.objects.create(settings={"time_zone": "Asia/Phnom_Penh", "phone_call_queue_limit": 50})
        users = {}
        for language in ("en", "km"):
            users[language] = User.objects.create_user(
                email=f"staff-{language}-{account.pk}@example.org", password=PASSWORD, account=account, locale=language
            )
        contacts = Contact.objects.bulk_create(
            Contact(
                account=account,
                msisdn=f"+85512{account.pk % 100:02d}{n:04d}",
                metadata={"province": PROVINCES[n % 5], "households": 1 + n % 6},
            )
            for n in range(240)
        )
        callout = Callout.objects.create(
            account=account,
            call_flow_logic="CallFlowLogic::PlayMessage",
            audio_url="https://example.org/flood-warning-kampot.mp3",
            status="running",
            metadata={"name": "Flood warning — Kampot"},
            created_by=users["en"],
        )
        Callout.objects.create(
            account=account, call_flow_logic="CallFlowLogic::HelloWorld", metadata={"name": "Drought advisory"}
        )
        outcomes = ["completed"] * 5 + ["busy", "not_answered", "failed", "in_progress", "created"]
        for contact in contacts[:200]:
            status = random.choice(outcomes)
            participation = CalloutParticipation.objects.create(
                callout=callout,
                contact=contact,
                msisdn=contact.msisdn,
                call_flow_logic=callout.call_flow_logic,
                answered=status == "completed",
                phone_calls_count=1,
                given_up_at=timezone.now() if status == "failed" else None,
            )
            PhoneCall.objects.create(
                account=account,
                callout=callout,
                callout_participation=participation,
                contact=contact,
                msisdn=contact.msisdn,
                call_flow_logic=callout.call_flow_logic,
                status=status,
            )
        counters.callout_counts_recount(callout_ids=[callout.pk], lock=False)
        now = counters.minute_of(timezone.now())
        rows = []
        for back in range(40):
            minute = now - timedelta(minutes=back)
            dialled = max(0, int(8 + 4 * random.random() - back * 0.1))
            answered = int(dialled * 0.6)
            for key, count in (("dialled", dialled), ("answered", answered), ("busy", dialled // 6)):
                rows.append(CalloutCount(callout=callout, key=key, minute=minute, count=count, is_squashed=True))
        CalloutCount.objects.bulk_create(rows)
        # the last five minutes settle people at a steady rate, so "time left" shows
        CalloutCount.objects.bulk_create(
            CalloutCount(callout=callout, key=counters.ANSWERED, minute=now - timedelta(minutes=m), count=4)
            for m in range(5)
        )
    return {"callout": callout.pk, "users": {language: user.email for language, user in users.items()}}


def shoot(base_url: str, demo: dict) -> list[Path]:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from tests.dashboard.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    pages = {
        "callouts": "/dashboard/",
        "callout": f"/dashboard/callouts/{demo['callout']}",
        "start": f"/dashboard/callouts/{demo['callout']}/stop",
        "populate": f"/dashboard/callouts/{demo['callout']}/populate",
        "contacts": "/dashboard/contacts",
    }
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for language, email in demo["users"].items():
            for size_name, viewport in SIZES.items():
                context = browser.new_context(base_url=base_url, viewport=viewport, device_scale_factor=1)
                page = context.new_page()
                page.goto("/dashboard/login")
                page.locator("#id_username").fill(email)
                page.locator("#id_password").fill(PASSWORD)
                page.locator("#id_password").press("Enter")
                page.wait_for_url("**/dashboard/")
                for name, path in pages.items():
                    page.goto(path)
                    if name == "callout":
                        page.locator("#chart canvas").wait_for()
                    if name == "populate":
                        page.wait_for_timeout(800)  # the live preview
                    target = OUT / f"{name}-{size_name}-{language}.png"
                    page.screenshot(path=str(target), full_page=size_name == "desktop")
                    written.append(target)
                context.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8793)
    args = parser.parse_args()
    ensure_database(URL)
    setup_django(URL, env={"SCFM_LOG_LEVEL": "WARNING"})
    demo = build()
    env = {**os.environ, "DATABASE_URL": URL, "SCFM_LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "*"}
    gunicorn = str(ROOT / ".venv" / "bin" / "gunicorn")
    server = start_server(
        [gunicorn, "scfm.wsgi:application", "--bind", f"127.0.0.1:{args.port}", "--workers", "2"],
        port=args.port,
        env=env,
    )
    try:
        for path in shoot(f"http://127.0.0.1:{args.port}", demo):
            print(path.relative_to(ROOT))
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
