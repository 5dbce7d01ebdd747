"""The embedded broker of laptop mode (`make run`): kombu's file-system transport, made sturdy.

Why this and not kombu's SQLAlchemy transport on SQLite (`sqla+sqlite:///...`): measured in bench/laptop.py
(results in bench/results/laptop.md), the SQLAlchemy transport moved fewer messages a second than this one, adds
a dependency, and, like the stock file-system transport, loses every message a worker had taken when the worker
is killed (it marks a message invisible when it is read and never shows it again). This transport keeps what the
stock file-system transport does well (no server, one file per message, FIFO by file name) and fixes what made
laptop mode fragile:

- A message file that cannot be read (empty, truncated, not JSON) is moved to `<broker>/corrupt/` with a warning
  instead of raising out of the worker's consumer loop (which killed the worker, and with it `make run`).
- Producers write a message to `<broker>/tmp/` and rename it into the queue folder, so a consumer never reads a
  half-written file.
- At-least-once delivery: a consumed message is moved to `<broker>/unacked/<pid>/` (the consumer holds an flock on
  that folder's `.lock` for its lifetime) and removed only when the task is acknowledged. When a worker dies, even
  by `kill -9`, the next consumer finds the folder's lock free and moves its messages back to the queue, so tasks a
  dead worker had taken (ETA tasks included) run again within seconds instead of being lost.
- The queue folder is listed once per batch of messages rather than once per message.
- The consumer loop does not sleep while work is waiting (`Transport.drain_events`): a full prefetch waits for an
  acknowledgement, not for `polling_interval`, and an empty queue is looked at again within 10 ms while messages
  keep coming. kombu's loop slept after nearly every task of a prefork worker and capped it at ~60 tasks/s.

Settings (scfm/settings.py): CELERY_BROKER_URL=`filesystem://` selects it; `polling_interval` (0.05 s) is now only
the idle wait (the stock 1 s sleep after every empty poll, or whenever the worker's prefetch was full, capped laptop
mode at ~2 tasks/s).
"""

import fcntl
import logging
import os
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from queue import Empty

from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

RESTORE_CHECK_SECONDS = 2.0
LISTING_MAX_AGE_SECONDS = 1.0  # list the folder again at least this often, so a long listing stays fair
RELIST_EMPTY_SECONDS = 0.01  # an empty queue lists the folder again at most this often
BUSY_POLL_SECONDS = 0.01  # while messages keep coming, an empty queue is looked at again this soon
BUSY_FOR_SECONDS = 2.0  # ... for this long after the last message; then every `polling_interval`


_process_locks: dict = {}  # unacked folder -> its open, flocked .lock file, for this process


def _queue_of(filename: str) -> str:
    """`<ms>_<uuid>.<queue>.msg` -> `<queue>` (queue names may hold dots; the prefix never does)."""
    return filename.partition(".")[2].removesuffix(".msg")


class Channel(filesystem.Channel):
    """A file-system channel that survives unreadable files and dead consumers (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._listing: dict[str, deque] = {}
        self._listed_at = 0.0
        self._unacked: dict[str, Path] = {}
        self._no_ack_queues: set[str] = set()
        self._restore_checked_at = 0.0
        self._folders: dict[str, Path] = {}

    # -- folders ----------------------------------------------------------------------------------------------
    @property
    def broker_root(self) -> Path:
        return Path(self.data_folder_in).parent

    def _folder(self, name: str) -> Path:
        path = self._folders.get(name)
        if path is None:
            path = self.broker_root / name
            path.mkdir(parents=True, exist_ok=True)
            self._folders[name] = path
        return path

    def _unacked_dir(self) -> Path:
        """This process's folder of taken-but-unacknowledged messages, locked for as long as the process lives (one
        lock per process, shared by its channels: a second flock of the same file in one process would wait forever).
        """
        own = self._folder("unacked") / str(os.getpid())
        if _process_locks.get(own) is None:  # a forked child gets a folder of its own
            own.mkdir(exist_ok=True)
            lock = open(own / ".lock", "a")  # noqa: SIM115 - held open until the process exits
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            _process_locks[own] = lock
            for path in own.glob("*.msg"):  # left by a dead process that had the same pid
                os.replace(path, Path(self.data_folder_in) / path.name)
        return own

    # -- producing --------------------------------------------------------------------------------------------
    def _put(self, queue, payload, **kwargs):
        """Write the message beside the queue, then rename it in: a consumer sees a whole file or none."""
        filename = f"{time.monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"  # FIFO by name
        staging = self._folder("tmp") / filename
        try:
            with open(staging, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(staging, Path(self.data_folder_out) / filename)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {filename!r} to directory") from exc

    # -- consuming --------------------------------------------------------------------------------------------
    def basic_consume(self, queue, no_ack, *args, **kwargs):
        if no_ack:
            self._no_ack_queues.add(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def _next_filename(self, queue: str) -> str | None:
        pending = self._listing.get(queue)
        age = time.monotonic() - self._listed_at
        if (not pending and age > RELIST_EMPTY_SECONDS) or age > LISTING_MAX_AGE_SECONDS:
            self._listing = {}
            for name in sorted(os.listdir(self.data_folder_in)):
                if name.endswith(".msg"):
                    self._listing.setdefault(_queue_of(name), deque()).append(name)
            self._listed_at = time.monotonic()
            pending = self._listing.get(queue)
        return pending.popleft() if pending else None

    def _get(self, queue):
        """Take the oldest readable message of `queue`; unreadable files are quarantined, never raised."""
        self._restore_dead_consumers()
        keep = queue not in self._no_ack_queues
        while (filename := self._next_filename(queue)) is not None:
            taken = (self._unacked_dir() if keep else self._folder("tmp")) / filename
            try:
                os.replace(Path(self.data_folder_in) / filename, taken)
            except OSError:
                continue  # another consumer took it
            try:
                payload = loads(bytes_to_str(taken.read_bytes()))
                delivery_tag = payload["properties"]["delivery_tag"]
            except (OSError, ValueError, TypeError, KeyError) as exc:
                self._quarantine(taken, exc)
                continue
            if keep:
                self._unacked[delivery_tag] = taken
            else:
                taken.unlink(missing_ok=True)
            return payload
        raise Empty()

    def _quarantine(self, path: Path, exc: Exception) -> None:
        target = self._folder("corrupt") / path.name
        try:
            os.replace(path, target)
        except OSError:
            target = path
        logger.warning("broker: unreadable message file moved to %s (%s)", target, exc)

    def _forget(self, delivery_tag) -> None:
        path = self._unacked.pop(delivery_tag, None)
        if path is not None:
            path.unlink(missing_ok=True)

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple=multiple)
        self._forget(delivery_tag)
        self.connection.slot_freed.set()

    def basic_reject(self, delivery_tag, requeue=False):
        super().basic_reject(delivery_tag, requeue=requeue)  # requeue re-puts it through _restore
        self._forget(delivery_tag)
        self.connection.slot_freed.set()

    def _restore(self, message):
        super()._restore(message)
        self._forget(message.delivery_tag)

    def _restore_dead_consumers(self) -> None:
        """Move the messages of consumers that died (their folder's lock is free) back to the queue."""
        now = time.monotonic()
        if now - self._restore_checked_at < RESTORE_CHECK_SECONDS:
            return
        self._restore_checked_at = now
        mine = self._unacked_dir()
        for folder in self._folder("unacked").iterdir():
            if folder == mine or not folder.is_dir():
                continue
            with open(folder / ".lock", "a") as lock:
                try:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # its consumer is alive
                restored = 0
                for path in folder.glob("*.msg"):
                    os.replace(path, Path(self.data_folder_in) / path.name)
                    restored += 1
                (folder / ".lock").unlink(missing_ok=True)
                folder.rmdir()
            if restored:
                logger.warning("broker: %s messages of a dead worker (%s) are back in the queue", restored, folder.name)

    def _size(self, queue):
        return sum(1 for name in os.listdir(self.data_folder_in) if _queue_of(name) == queue)

    def _purge(self, queue):
        count = 0
        for name in os.listdir(self.data_folder_in):
            if _queue_of(name) == queue:
                try:
                    os.remove(os.path.join(self.data_folder_in, name))
                    count += 1
                except OSError:
                    pass
        return count


class Transport(filesystem.Transport):
    """kombu's file-system transport with the sturdier channel above, and a consumer loop that does not sleep
    while work is waiting (see `drain_events`)."""

    Channel = Channel
    global_state = filesystem.virtual.BrokerState()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.slot_freed = threading.Event()  # set when a message is acknowledged or rejected (any thread)
        self._delivered_at = 0.0

    def drain_events(self, connection, timeout=None):
        """Deliver one message; kombu's loop, with two waits changed.

        kombu sleeps `polling_interval` after every empty poll, and a poll is "empty" too when the consumer's
        prefetch is full. With Celery's prefork pool (prefetch 1 x concurrency) that is after nearly every task:
        each task then waited up to 50 ms for the loop to look again, which capped the worker at ~60 tasks a second
        however short its tasks (bench/results/laptop.md). Here:

        - prefetch full: wait for an acknowledgement (the pool's result thread acknowledges; `slot_freed`), so a
          free slot gets its next message at once;
        - queue empty: look again after BUSY_POLL_SECONDS while messages kept coming in the last BUSY_FOR_SECONDS
          (a task's follow-up messages are picked up promptly), after `polling_interval` when idle (an idle
          `make run` does not spin).

        Raises TimeoutError (socket.timeout) after `timeout` seconds without a message, as kombu's does.
        """
        began = time.monotonic()
        while True:
            self.slot_freed.clear()  # before looking, so an ack arriving meanwhile is not missed
            try:
                self.cycle.get(self._deliver, timeout=timeout)
            except Empty:
                now = time.monotonic()
                if timeout is not None and now - began >= timeout:
                    raise TimeoutError() from None
                full = any(channel._consumers and not channel.qos.can_consume() for channel in self.channels)
                idle = now - self._delivered_at > BUSY_FOR_SECONDS
                interval = self.polling_interval or 0.0
                wait = interval if idle else min(interval, BUSY_POLL_SECONDS)
                if timeout is not None:
                    wait = min(wait, max(timeout - (now - began), 0.0))
                if full:
                    self.slot_freed.wait(wait)
                else:
                    time.sleep(wait)
            else:
                self._delivered_at = time.monotonic()
                return


def queue_depth(broker_dir: Path) -> dict[str, int]:
    """Messages waiting in the queue folder, taken but unacknowledged, and quarantined: {"ready": n, ...}."""
    unacked = broker_dir / "unacked"
    return {
        "ready": sum(1 for name in os.listdir(broker_dir / "queue") if name.endswith(".msg")),
        "unacked": sum(1 for _ in unacked.glob("*/*.msg")) if unacked.exists() else 0,
        "corrupt": sum(1 for _ in (broker_dir / "corrupt").glob("*")) if (broker_dir / "corrupt").exists() else 0,
    }
