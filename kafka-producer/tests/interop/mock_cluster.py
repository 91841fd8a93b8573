"""Starts librdkafka's mock cluster (3 brokers) and serves until stdin closes.

Prints `bootstrap: HOST:PORT,...` once the cluster is up. librdkafka creates the cluster inside
a client instance; this process keeps that instance alive while the test's producer talks to
the mock brokers.
"""
import logging
import queue
import sys

import confluent_kafka

found = queue.Queue()


class Catch(logging.Handler):
    def emit(self, record):
        text = record.getMessage()
        marker = "bootstrap.servers="
        if "Mock cluster" in text and marker in text:
            found.put(text.split(marker, 1)[1].split()[0].strip(","))


logger = logging.getLogger("mock")
logger.setLevel(logging.DEBUG)
logger.addHandler(Catch())

holder = confluent_kafka.Producer(
    {"test.mock.num.brokers": 3, "debug": "mock", "logger": logger}
)
deadline = 100
while found.empty() and deadline > 0:
    holder.poll(0.1)
    deadline -= 1
if found.empty():
    print("mock cluster did not report its bootstrap servers", file=sys.stderr)
    sys.exit(1)
print("bootstrap: " + found.get(), flush=True)
# Serve until the test closes our stdin.
sys.stdin.read()
