"""A fake telephone network for bench/callout_e2e.py, run as a process of its own on 127.0.0.1.

    .venv/bin/python bench/fake_provider.py --account-sid SID --auth-token TOKEN --out stats.json \
        [--ring 3 --talk 5 --seed 13 --threads 64]

It serves the Calls API with tests/fakes/fake_twilio.py (Somleng mode: the real twilio library in SCFM's workers
talks to it) and then behaves like a provider, for every call it accepted:
  1. after `--ring` seconds the call is answered or not: 70 % completed, 10 % busy, 10 % no-answer, 10 % failed
     (`--seed`ed, drawn per call);
  2. an answered call fetches its voice `Url` (a signed POST with CallStatus=in-progress, as Twilio does: the TwiML
     SCFM answers is read and dropped), stays up `--talk` seconds, then
  3. the signed terminal status callback (X-Twilio-Signature computed by the twilio library's RequestValidator)
     goes to the call's StatusCallback with CallDuration (`--talk` for a completed call, 0 otherwise).
The first line on stdout is `BASE_URL <url>`. SIGTERM (or SIGINT) stops it and writes `--out`: every create
(wall time, sid, the phone_call_id of its Url, To), every voice-Url fetch and every status callback (wall time sent,
latency in ms, HTTP status or the error, sid, outcome).
"""

import argparse
import heapq
import json
import random
import signal
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402  (the twilio library's own HTTP client)
from twilio.request_validator import RequestValidator  # noqa: E402

from tests.fakes.fake_twilio import FakeTwilio  # noqa: E402

OUTCOMES = (("completed", 0.7), ("busy", 0.1), ("no-answer", 0.1), ("failed", 0.1))


class Network:
    """Rings, answers and hangs up the fake's calls on a timer, with a pool of threads for the webhook requests."""

    def __init__(self, *, ring: float, talk: float, seed: int, threads: int):
        self.ring, self.talk = ring, talk
        self.random = random.Random(seed)
        self.pool = ThreadPoolExecutor(max_workers=threads)
        self.local = threading.local()
        self.lock = threading.Condition()
        self.timers: list[tuple[float, int, object]] = []
        self.sequence = 0
        self.stopping = threading.Event()
        self.creates: list[list] = []
        self.fetches: list[list] = []
        self.callbacks: list[list] = []
        self.fake: FakeTwilio | None = None
        self.validator: RequestValidator | None = None
        threading.Thread(target=self._timer_loop, daemon=True).start()

    # timers ------------------------------------------------------------------------------------------------------
    def later(self, seconds: float, job) -> None:
        with self.lock:
            self.sequence += 1
            heapq.heappush(self.timers, (time.monotonic() + seconds, self.sequence, job))
            self.lock.notify()

    def _timer_loop(self) -> None:
        while not self.stopping.is_set():
            with self.lock:
                while not self.timers or self.timers[0][0] > time.monotonic():
                    wait = self.timers[0][0] - time.monotonic() if self.timers else 0.5
                    self.lock.wait(timeout=max(wait, 0.001))
                    if self.stopping.is_set():
                        return
                _due, _n, job = heapq.heappop(self.timers)
            self.pool.submit(job)

    # the call's life ---------------------------------------------------------------------------------------------
    def accepted(self, call: dict) -> None:
        """Called for each call the fake accepted (from its finisher thread, right after the ring time)."""
        with self.lock:
            outcome = self.random.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.fake.calls[call["sid"]]["url"] or "").query)
        self.creates.append([time.time(), call["sid"], (query.get("phone_call_id") or [None])[0], call["to"]])
        if outcome == "completed":
            self.pool.submit(self._answer, call["sid"])
        else:
            self.pool.submit(self._hang_up, call["sid"], outcome, 0)

    def _answer(self, sid: str) -> None:
        call = self.fake.calls[sid]
        params = self.fake.callback_params(call, "in-progress")
        self.fetches.append(self._post(call["url"], params, sid, "in-progress"))
        self.later(self.talk, lambda: self._hang_up(sid, "completed", round(self.talk)))

    def _hang_up(self, sid: str, outcome: str, duration: int) -> None:
        call = self.fake.set_status(sid, outcome, duration=duration)
        params = self.fake.callback_params(call, outcome, duration=duration)
        self.callbacks.append(self._post(call["status_callback"], params, sid, outcome))

    def _post(self, url: str, params: dict, sid: str, outcome: str) -> list:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        # one connection per webhook, as Twilio does: a kept-alive connection the server has just closed (gunicorn's
        # keep-alive is 2 s) fails a POST that requests does not retry, which would count as a lost callback
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, params), "Connection": "close"}
        sent = time.time()
        began = time.perf_counter()
        try:
            response = session.post(url, data=params, headers=headers, timeout=30)
            status: int | str = response.status_code
        except requests.RequestException as error:
            status = type(error).__name__
        return [sent, round((time.perf_counter() - began) * 1000, 2), status, sid, outcome]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--ring", type=float, default=3.0, help="seconds from accept to answer / no answer")
    parser.add_argument("--talk", type=float, default=5.0, help="seconds an answered call lasts (its CallDuration)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=64, help="threads sending the webhooks")
    args = parser.parse_args()

    network = Network(ring=args.ring, talk=args.talk, seed=args.seed, threads=args.threads)
    fake = FakeTwilio(
        somleng=True,
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        auto_finish=(args.ring, "ringing"),
        on_finish=network.accepted,
    )
    network.fake = fake
    network.validator = RequestValidator(args.auth_token)
    fake.requests = _Discard()  # keep no per-request record: memory stays flat over 100,000s of calls
    fake.start()
    print(f"BASE_URL {fake.base_url}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    network.stopping.set()
    fake.stop()
    network.pool.shutdown(wait=False, cancel_futures=True)
    stats = {"creates": network.creates, "fetches": network.fetches, "callbacks": network.callbacks}
    Path(args.out).write_text(json.dumps(stats))


class _Discard(list):
    """A list that keeps nothing (FakeTwilio appends every request it receives to `requests`)."""

    def append(self, item) -> None:
        pass


if __name__ == "__main__":
    main()
