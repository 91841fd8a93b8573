#!/usr/bin/env python3
"""Interop scenarios driven by confluent-kafka-python (librdkafka) against kafka-broker.

Usage: confluent_client.py BOOTSTRAP SCENARIO

Scenarios:
  admin   create a topic, see it in the topic list with its partitions, get TOPIC_ALREADY_EXISTS
          on a second create, delete it, and see it leave the topic list.
  group   produce keyed messages with headers (idempotent producer), consume them in a group,
          commit, fetch the committed offsets (consumer and admin API), list the group, and check
          that a restarted member of the group resumes from the commit.

Prints one "step: ..." line per step and "OK <scenario>" at the end; any failure raises (exit 1)
with the step it failed in. A watchdog dumps every thread's stack and exits if the scenario hangs.
"""

import faulthandler
import sys
import time

from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic

SCENARIO_LIMIT_S = 150
OP_TIMEOUT_S = 30
PARTITIONS = 3
MESSAGES = 3000


def step(text):
    print(f"step: {text}", flush=True)


def wait_until(description, check, limit_s=OP_TIMEOUT_S):
    """Polls check() until it returns a truthy value; raises after limit_s."""
    deadline = time.monotonic() + limit_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit_s}s waiting for {description}")
        time.sleep(0.2)


def create_topic(admin, topic, partitions):
    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=partitions, replication_factor=1)],
        operation_timeout=OP_TIMEOUT_S,
        request_timeout=OP_TIMEOUT_S,
    )
    futures[topic].result(timeout=OP_TIMEOUT_S)


def topic_partitions(admin, topic):
    """Partition ids of topic as listed by the cluster metadata, or None if not listed."""
    metadata = admin.list_topics(timeout=OP_TIMEOUT_S)
    listed = metadata.topics.get(topic)
    if listed is None or listed.error is not None:
        return None
    return sorted(listed.partitions)


def scenario_admin(bootstrap):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topic = "interop-confluent-admin"

    step("create topic")
    create_topic(admin, topic, PARTITIONS)

    step("list topics shows it with its partitions")
    partitions = wait_until(f"{topic} in list_topics", lambda: topic_partitions(admin, topic))
    assert partitions == list(range(PARTITIONS)), partitions

    step("creating it again fails with TOPIC_ALREADY_EXISTS")
    try:
        create_topic(admin, topic, PARTITIONS)
        raise AssertionError("second create_topics succeeded")
    except KafkaException as e:
        code = e.args[0].code()
        assert code == KafkaError.TOPIC_ALREADY_EXISTS, e

    step("delete topic")
    futures = admin.delete_topics([topic], operation_timeout=OP_TIMEOUT_S,
                                  request_timeout=OP_TIMEOUT_S)
    futures[topic].result(timeout=OP_TIMEOUT_S)

    step("list topics no longer shows it")
    wait_until(f"{topic} gone from list_topics", lambda: topic_partitions(admin, topic) is None)


def scenario_group(bootstrap):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topic = "interop-confluent-group"
    group = "interop-confluent-group-g"

    step("create topic")
    create_topic(admin, topic, PARTITIONS)

    step(f"produce {MESSAGES} keyed messages with headers (idempotent)")
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "linger.ms": 5,
        "message.timeout.ms": 60000,
    })
    failures = []

    def on_delivery(err, msg):
        if err is not None:
            failures.append(err)

    for i in range(MESSAGES):
        producer.produce(topic, key=f"key-{i}".encode(), value=f"value-{i}".encode(),
                         headers=[("index", str(i).encode())], on_delivery=on_delivery)
        producer.poll(0)
    left = producer.flush(60)
    assert left == 0, f"{left} messages not delivered"
    assert not failures, f"delivery failures: {failures[:5]}"

    step("consume every message once in a group")
    config = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 10000,
    }
    consumer = Consumer(config)
    consumer.subscribe([topic])
    seen = {}
    last_offset = {}
    deadline = time.monotonic() + 60
    while len(seen) < MESSAGES and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error() is not None:
            raise AssertionError(f"consumer error: {msg.error()}")
        i = int(msg.key().decode().split("-")[1])
        assert msg.value() == f"value-{i}".encode(), (msg.key(), msg.value())
        assert msg.headers() == [("index", str(i).encode())], msg.headers()
        assert i not in seen, f"message {i} delivered twice"
        prev = last_offset.get(msg.partition(), -1)
        assert msg.offset() > prev, f"offsets out of order on partition {msg.partition()}"
        last_offset[msg.partition()] = msg.offset()
        seen[i] = (msg.partition(), msg.offset())
    assert len(seen) == MESSAGES, f"consumed {len(seen)} of {MESSAGES}"

    step("commit offsets")
    committed = consumer.commit(asynchronous=False)
    assert all(tp.error is None for tp in committed), committed

    step("fetch committed offsets (consumer) equal the high watermarks")
    wanted = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    high = {}
    for tp in wanted:
        low, hi = consumer.get_watermark_offsets(tp, timeout=OP_TIMEOUT_S)
        high[tp.partition] = hi
    assert sum(high.values()) == MESSAGES, high
    fetched = consumer.committed(wanted, timeout=OP_TIMEOUT_S)
    got = {tp.partition: tp.offset for tp in fetched}
    assert got == high, f"committed {got} != high watermarks {high}"
    consumer.close()

    step("fetch committed offsets (admin)")
    futures = admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, wanted)], request_timeout=OP_TIMEOUT_S)
    result = futures[group].result(timeout=OP_TIMEOUT_S)
    got = {tp.partition: tp.offset for tp in result.topic_partitions}
    assert got == high, f"admin committed {got} != high watermarks {high}"

    step("list consumer groups shows the group")
    listing = admin.list_consumer_groups(request_timeout=OP_TIMEOUT_S).result(timeout=OP_TIMEOUT_S)
    assert group in [g.group_id for g in listing.valid], (listing.valid, listing.errors)

    step("a restarted member resumes from the committed offsets")
    consumer = Consumer(config)
    consumer.subscribe([topic])
    extra = []
    assigned_at = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            extra.append((msg.partition(), msg.offset()))
        if assigned_at is None and consumer.assignment():
            assigned_at = time.monotonic()
        if assigned_at is not None and time.monotonic() - assigned_at > 3:
            break
    assert assigned_at is not None, "restarted member never got an assignment"
    assert not extra, f"restarted member re-read {len(extra)} messages, first {extra[:3]}"
    consumer.close()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    bootstrap, scenario = sys.argv[1], sys.argv[2]
    scenarios = {"admin": scenario_admin, "group": scenario_group}
    if scenario not in scenarios:
        print(f"unknown scenario {scenario!r}", file=sys.stderr)
        sys.exit(2)
    faulthandler.dump_traceback_later(SCENARIO_LIMIT_S, exit=True)
    scenarios[scenario](bootstrap)
    print(f"OK {scenario}", flush=True)


if __name__ == "__main__":
    main()
