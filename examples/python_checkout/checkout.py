#!/usr/bin/env python3
"""Instruments one checkout through libjourney's C API (ctypes, standard library only).

    python3 checkout.py --endpoint http://127.0.0.1:9000/ [--lib path/to/libjourney.so]

The library is found from --lib, else $JOURNEY_LIB, else the system's libjourney.so.0.
Exit status: 0 when every event was tracked and delivered, 1 when not (they stay queued or
spooled), 2 on bad usage or configuration.
"""
import argparse
import collections
import ctypes
import ctypes.util
import json
import os
import sys
import threading
import uuid


class JourneyError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{message} (code {code})")
        self.code = code


class Tracker:
    """A journey_tracker handle; safe to use from several threads."""

    _ERR_LEN = 4096

    # void (*)(int outcome, const char *event_id, int status, const char *reason, void *user_data)
    _CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                 ctypes.c_void_p)
    OUTCOMES = {1: "delivered", 2: "retried", 3: "dead_lettered", 4: "dropped"}

    def __init__(self, lib_path, config, on_event=None):
        """on_event(outcome, event_id, status, reason) runs on a library thread for each event."""
        lib = ctypes.CDLL(lib_path)
        lib.journey_tracker_new.restype = ctypes.c_void_p
        lib.journey_tracker_new.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
        lib.journey_tracker_new_with_callback.restype = ctypes.c_void_p
        lib.journey_tracker_new_with_callback.argtypes = [
            ctypes.c_char_p, self._CALLBACK, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        for name in ("journey_track_json", "journey_track_durable_json"):
            fn = getattr(lib, name)
            fn.restype = ctypes.c_int
            fn.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
        for name in ("journey_flush", "journey_shutdown"):
            fn = getattr(lib, name)
            fn.restype = ctypes.c_int
            fn.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.journey_tracker_free.restype = None
        lib.journey_tracker_free.argtypes = [ctypes.c_void_p]
        lib.journey_version.restype = ctypes.c_char_p
        self._lib = lib
        err = ctypes.create_string_buffer(self._ERR_LEN)
        cfg = json.dumps(config).encode()
        if on_event is None:
            self._handle = lib.journey_tracker_new(cfg, err, self._ERR_LEN)
        else:
            def trampoline(outcome, event_id, status, reason, _user_data):
                on_event(self.OUTCOMES.get(outcome, str(outcome)), event_id.decode(), status,
                         reason.decode(errors="replace"))
            self._callback = self._CALLBACK(trampoline)  # must outlive the handle
            self._handle = lib.journey_tracker_new_with_callback(cfg, self._callback, None, err,
                                                                 self._ERR_LEN)
        if not self._handle:
            raise JourneyError(-6, err.value.decode(errors="replace"))

    @property
    def version(self):
        return self._lib.journey_version().decode()

    def _call(self, fn, event):
        err = ctypes.create_string_buffer(self._ERR_LEN)
        code = fn(self._handle, json.dumps(event).encode(), err, self._ERR_LEN)
        if code != 0:
            raise JourneyError(code, err.value.decode(errors="replace"))

    def track(self, event):
        """Queues the event without waiting for I/O; raises JourneyError when rejected."""
        self._call(self._lib.journey_track_json, event)

    def track_durable(self, event):
        """Returns once the event is committed (spool) or queued (memory)."""
        self._call(self._lib.journey_track_durable_json, event)

    def flush(self, timeout_ms):
        return self._lib.journey_flush(self._handle, timeout_ms) == 0

    def close(self, timeout_ms=5000):
        if self._handle:
            ok = self._lib.journey_shutdown(self._handle, timeout_ms) == 0
            self._lib.journey_tracker_free(self._handle)
            self._handle = None
            return ok
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def checkout_events(anonymous_id, order_id):
    """The checkout of examples/cpp_checkout: [(method, event)] in funnel order."""
    cart_id, checkout_id = f"cart-{order_id}", f"chk-{order_id}"
    mug = {"id": "mug-01", "name": "Enamel mug", "price": 14.90, "quantity": 2, "category": "kitchen"}
    total = 2 * 14.90 + 4.95
    who = {"anonymous_id": anonymous_id, "context": {"library": {"name": "journey-python-example"}}}
    return [
        ("track", {**who, "type": "view", "channel": {"source": "newsletter", "medium": "email"},
                   "properties": {"product": mug, "currency": "EUR"}}),
        ("track", {**who, "type": "add_to_cart",
                   "properties": {"product": mug, "cart_id": cart_id, "currency": "EUR"}}),
        ("track", {**who, "type": "checkout",
                   "properties": {"checkout_id": checkout_id, "cart_id": cart_id, "value": total,
                                  "currency": "EUR", "items": [mug], "step": 1}}),
        # Money events must not be lost: wait until they are committed.
        ("track_durable", {**who, "type": "payment",
                           "properties": {"order_id": order_id, "checkout_id": checkout_id,
                                          "value": total, "currency": "EUR", "method": "card"}}),
        ("track_durable", {**who, "type": "purchase",
                           "properties": {"order_id": order_id, "checkout_id": checkout_id,
                                          "cart_id": cart_id, "value": total, "currency": "EUR",
                                          "shipping": 4.95, "items": [mug]}}),
    ]


def milliseconds(text):
    """--timeout-ms: a whole number of milliseconds, 0 or more."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number of milliseconds, got {text!r}")
    return int(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="journey backend URL (http sink)")
    parser.add_argument("--lib", default=os.environ.get("JOURNEY_LIB"), help="path of libjourney.so")
    parser.add_argument("--order-id", default=f"ord-{uuid.uuid4().hex[:12]}")
    parser.add_argument("--anonymous-id", default=f"anon-{uuid.uuid4().hex[:12]}")
    parser.add_argument("--spool", default="", help="spool file (durable across restarts)")
    parser.add_argument("--timeout-ms", type=milliseconds, default=10000)
    args = parser.parse_args()
    lib = args.lib or ctypes.util.find_library("journey") or "libjourney.so.0"

    config = {"endpoint": args.endpoint, "flush_interval_ms": 100}
    if args.spool:
        config["spool_path"] = args.spool
    outcomes = collections.Counter()  # per outcome, from the library's delivery thread
    lock = threading.Lock()

    def on_event(outcome, _event_id, _status, _reason):
        with lock:
            outcomes[outcome] += 1

    try:
        tracker = Tracker(lib, config, on_event)
    except (OSError, JourneyError) as e:
        print(f"checkout.py: {e}", file=sys.stderr)
        return 2
    rejected = 0
    with tracker:
        for method, event in checkout_events(args.anonymous_id, args.order_id):
            try:
                getattr(tracker, method)(event)
            except JourneyError as e:  # a tracking problem never breaks the checkout
                print(f"checkout.py: {event['type']} not tracked: {e}", file=sys.stderr)
                rejected += 1
        delivered = tracker.flush(args.timeout_ms)
        tracker.close(args.timeout_ms if delivered else 0)  # undelivered events stay spooled
    with lock:  # the tracker is shut down: every report has come in
        reported = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())) or "none"
    print(f"order {args.order_id}: {'delivered' if delivered else 'NOT delivered'} "
          f"(journey {tracker.version}; reported: {reported})")
    return 0 if delivered and not rejected else 1


if __name__ == "__main__":
    sys.exit(main())
