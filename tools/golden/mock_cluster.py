#!/usr/bin/env python3
"""Hosts librdkafka's built-in mock cluster for the golden-capture run.

librdkafka starts an in-process mock cluster when a client is configured with
`test.mock.num.brokers`; the cluster lives as long as that client does. This
script creates such a client, prints the mock's bootstrap list on stdout as a
single `BOOTSTRAP <host:port,...>` line, then keeps the client alive until its
stdin is closed (the parent's signal to stop) or `--max-seconds` elapse, so the
process can never outlive a capture run by much.

The hosting client talks to the mock directly, never through the recording
proxy, so none of its frames end up in the fixtures.
"""

import argparse
import logging
import os
import re
import select
import sys
import time

from confluent_kafka import Producer

BOOTSTRAP_RE = re.compile(r"bootstrap\.servers=([0-9.:,]+)")


class _Capture(logging.Handler):
    """Remembers the mock's bootstrap list and mirrors log lines to a file."""

    def __init__(self, log_path):
        super().__init__()
        self.bootstrap = None
        self.log = open(log_path, "a", encoding="utf-8") if log_path else None

    def emit(self, record):
        msg = record.getMessage()
        if self.bootstrap is None:
            m = BOOTSTRAP_RE.search(msg)
            if m:
                self.bootstrap = m.group(1)
        if self.log:
            self.log.write(msg + "\n")
            self.log.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", type=int, default=3)
    ap.add_argument("--max-seconds", type=float, default=1200.0)
    ap.add_argument("--log", default=None, help="file receiving the mock's debug log")
    args = ap.parse_args()

    handler = _Capture(args.log)
    logger = logging.getLogger("mock")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)

    producer = Producer(
        {
            "test.mock.num.brokers": args.brokers,
            "debug": "mock",
            "logger": logger,
        }
    )
    deadline = time.monotonic() + 20.0
    while handler.bootstrap is None and time.monotonic() < deadline:
        producer.poll(0.1)
    if handler.bootstrap is None:
        print("ERROR no bootstrap line from the mock", flush=True)
        return 1
    print("BOOTSTRAP " + handler.bootstrap, flush=True)

    stop_at = time.monotonic() + args.max_seconds
    stdin_fd = sys.stdin.fileno()
    while time.monotonic() < stop_at:
        producer.poll(0.2)
        ready, _, _ = select.select([stdin_fd], [], [], 0.2)
        if ready and not os.read(stdin_fd, 4096):
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
