"""Dialler benchmark against the fake Twilio server on loopback (tasks run inline in this process).

    DATABASE_URL=postgres://... python bench/dialer.py --calls 100000

Measures (1) the sustained dispatch rate with pacing off (claim + Calls.create + record, one process),
(2) pacing accuracy at --rate calls per second, (3) the time from `start` to the first call reaching the provider.
Writes bench/results/dialer.json and dialer.md. Uses its own account; creates `--calls` created calls.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scfm.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--pacing-seconds", type=float, default=10.0)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from accounts.models import Account
    from callouts.models import Callout, CalloutParticipation
    from callouts.services import callout_fire_event
    from contacts.models import Contact
    from phone_calls import services
    from phone_calls.models import PhoneCall
    from scfm.celery import app
    from tests.fakes.fake_twilio import FakeTwilio

    app.conf.task_always_eager = True
    fake = FakeTwilio().start()

    def account_with(calls: int, **settings) -> tuple[Account, Callout]:
        account = Account.objects.create(
            platform_provider_name="somleng",
            somleng_account_sid=f"{fake.account_sid}-{time.monotonic_ns()}",
            somleng_auth_token=fake.auth_token,
            somleng_api_base_url=fake.base_url,
            settings={"from_phone_number": "1234", "phone_call_queue_limit": 10**9, **settings},
        )
        fake.add_account(account.somleng_account_sid, fake.auth_token)
        callout = Callout.objects.create(account=account, call_flow_logic="CallFlowLogic::HelloWorld")
        prefix = f"+1{account.pk % 1000:03d}"
        contacts = Contact.objects.bulk_create(
            Contact(account=account, msisdn=f"{prefix}{n:07d}") for n in range(calls)
        )
        participations = CalloutParticipation.objects.bulk_create(
            CalloutParticipation(callout=callout, contact=c, msisdn=c.msisdn, call_flow_logic=callout.call_flow_logic)
            for c in contacts
        )
        PhoneCall.objects.bulk_create(
            (
                PhoneCall(
                    account=account,
                    callout=callout,
                    callout_participation=p,
                    contact_id=p.contact_id,
                    msisdn=p.msisdn,
                    call_flow_logic=p.call_flow_logic,
                )
                for p in participations
            ),
            batch_size=5000,
        )
        return account, callout

    results = {"database": connection.vendor, "calls": args.calls}

    # 1. time from start to the first call at the provider
    account, callout = account_with(50, max_calls_per_second=10)
    began = time.monotonic()
    callout_fire_event(callout=callout, event="start")
    results["start_to_first_call_seconds"] = round(fake.create_requests()[0].at - began, 4)

    # 2. sustained dispatch rate, pacing off
    account, callout = account_with(args.calls, max_calls_per_second=0)
    Callout.objects.filter(pk=callout.pk).update(status="running")
    before = len(fake.create_requests())
    began = time.perf_counter()
    while services.phone_calls_claim(account_id=account.pk).more:
        pass
    elapsed = time.perf_counter() - began
    dialled = len(fake.create_requests()) - before
    results["pacing_off"] = {
        "dialled": dialled,
        "seconds": round(elapsed, 2),
        "calls_per_second": round(dialled / elapsed, 1),
    }

    # 3. pacing accuracy
    account, callout = account_with(int(args.rate * args.pacing_seconds * 2), max_calls_per_second=args.rate)
    Callout.objects.filter(pk=callout.pk).update(status="running")
    before = len(fake.create_requests())
    began = time.monotonic()
    services.account_calls_dispatch(account_id=account.pk, hold_seconds=args.pacing_seconds)
    requests = fake.create_requests()[before:]
    span = requests[-1].at - began if requests else 0
    per_second = [0] * (int(args.pacing_seconds) + 1)
    for request in requests:
        per_second[min(int(request.at - began), len(per_second) - 1)] += 1
    results["pacing"] = {
        "target_calls_per_second": args.rate,
        "dialled": len(requests),
        "seconds": round(span, 2),
        "measured_calls_per_second": round((len(requests) - args.rate) / span, 2) if span else None,
        "calls_in_each_second": per_second,
        "note": "the first second includes the one-second burst the bucket holds (max(rate, 1) tokens)",
    }
    fake.stop()

    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "dialer.json").write_text(json.dumps(results, indent=2) + "\n")
    md = [
        "# Dialler benchmark",
        "",
        f"Database: {results['database']}; fake Twilio on loopback; tasks inline in one process (no broker).",
        "",
        f"- start -> first call at the provider: {results['start_to_first_call_seconds']} s",
        f"- pacing off: {results['pacing_off']['dialled']} calls in {results['pacing_off']['seconds']} s "
        f"= {results['pacing_off']['calls_per_second']} calls/s (one process)",
        f"- pacing at {args.rate}/s: {results['pacing']['measured_calls_per_second']} calls/s after the initial burst; "
        f"per second: {results['pacing']['calls_in_each_second']}",
        "",
    ]
    (out / "dialer.md").write_text("\n".join(md))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
