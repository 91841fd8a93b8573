#!/usr/bin/env python3
"""Reads a whole topic with confluent-kafka-python (librdkafka) at an isolation level.

Usage: confluent_read.py BOOTSTRAP TOPIC read_committed|read_uncommitted

Assigns every partition from the beginning, reads until each partition reported its end
(partition EOF, which under read_committed is the last stable offset), and prints one line
per record value, then "END <count>". Bounded: exits 1 after 60 s without finishing.
"""

import sys
import time

from confluent_kafka import Consumer, KafkaError, TopicPartition, OFFSET_BEGINNING

LIMIT_S = 60


def main():
    bootstrap, topic, isolation = sys.argv[1:4]
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "confluent-read-unused",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": isolation,
        }
    )
    metadata = consumer.list_topics(topic, timeout=30)
    partitions = sorted(metadata.topics[topic].partitions)
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    at_end = set()
    count = 0
    deadline = time.monotonic() + LIMIT_S
    while len(at_end) < len(partitions):
        if time.monotonic() > deadline:
            print(f"TIMEOUT after {count} records", flush=True)
            sys.exit(1)
        message = consumer.poll(0.5)
        if message is None:
            continue
        if message.error():
            if message.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(message.partition())
                continue
            raise RuntimeError(str(message.error()))
        at_end.discard(message.partition())
        print(message.value().decode(), flush=True)
        count += 1
    consumer.close()
    print(f"END {count}", flush=True)


if __name__ == "__main__":
    main()
