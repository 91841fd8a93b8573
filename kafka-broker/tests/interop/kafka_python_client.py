#!/usr/bin/env python3
"""Interop scenarios driven by kafka-python (a pure-Python client) against kafka-broker.

Usage: kafka_python_client.py BOOTSTRAP SCENARIO

Scenarios:
  admin   create a topic, see it in the topic list with its partitions, get
          TopicAlreadyExistsError on a second create, delete it, and see it leave the list.
  group   produce keyed messages with headers, consume them in a group, commit, fetch the
          committed offsets (consumer and admin API), list the group, and check that a restarted
          member of the group resumes from the commit.

Written against kafka-python 3.x (the version .ci/install-peers.sh installs), with fallbacks for
the 2.x names of the admin calls that were renamed. Prints one "step: ..." line per step and
"OK <scenario>" at the end; any failure raises (exit 1). A watchdog dumps every thread's stack and
exits if the scenario hangs.
"""

import faulthandler
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

SCENARIO_LIMIT_S = 150
OP_TIMEOUT_S = 30
PARTITIONS = 3
MESSAGES = 2000


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


def admin_client(bootstrap):
    return KafkaAdminClient(bootstrap_servers=bootstrap.split(","),
                            client_id="interop-kafka-python-admin",
                            request_timeout_ms=OP_TIMEOUT_S * 1000)


def create_topic(admin, topic, partitions):
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)],
                        timeout_ms=OP_TIMEOUT_S * 1000)


def scenario_admin(bootstrap):
    admin = admin_client(bootstrap)
    topic = "interop-kafka-python-admin"

    step("create topic")
    create_topic(admin, topic, PARTITIONS)

    step("list topics shows it")
    wait_until(f"{topic} in list_topics", lambda: topic in admin.list_topics())

    step("a consumer sees its partitions")
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","))
    partitions = wait_until(f"partitions of {topic}",
                            lambda: consumer.partitions_for_topic(topic))
    assert sorted(partitions) == list(range(PARTITIONS)), partitions
    consumer.close()

    step("creating it again fails with TopicAlreadyExistsError")
    try:
        create_topic(admin, topic, PARTITIONS)
        raise AssertionError("second create_topics succeeded")
    except TopicAlreadyExistsError:
        pass

    step("delete topic")
    admin.delete_topics([topic], timeout_ms=OP_TIMEOUT_S * 1000)

    step("list topics no longer shows it")
    wait_until(f"{topic} gone from list_topics", lambda: topic not in admin.list_topics())
    admin.close()


def listed_group_ids(admin):
    if hasattr(admin, "list_groups"):
        groups = admin.list_groups()
    else:  # kafka-python 2.x
        groups = admin.list_consumer_groups()
    ids = []
    for group in groups:
        if isinstance(group, dict):
            ids.append(group.get("group_id") or group.get("groupId"))
        else:
            ids.append(group[0])
    return ids


def admin_committed_offsets(admin, group):
    if hasattr(admin, "list_group_offsets"):
        offsets = admin.list_group_offsets({group: None})[group]
    else:  # kafka-python 2.x
        offsets = admin.list_consumer_group_offsets(group)
    return {tp.partition: meta.offset for tp, meta in offsets.items()}


def scenario_group(bootstrap):
    admin = admin_client(bootstrap)
    topic = "interop-kafka-python-group"
    group = "interop-kafka-python-group-g"

    step("create topic")
    create_topic(admin, topic, PARTITIONS)

    step(f"produce {MESSAGES} keyed messages with headers")
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all", linger_ms=5,
                             request_timeout_ms=OP_TIMEOUT_S * 1000)
    futures = [producer.send(topic, key=f"key-{i}".encode(), value=f"value-{i}".encode(),
                             headers=[("index", str(i).encode())])
               for i in range(MESSAGES)]
    producer.flush(timeout=60)
    for future in futures:
        future.get(timeout=OP_TIMEOUT_S)
    producer.close()

    step("consume every message once in a group")
    config = dict(bootstrap_servers=bootstrap.split(","), group_id=group,
                  auto_offset_reset="earliest", enable_auto_commit=False,
                  session_timeout_ms=10000, heartbeat_interval_ms=1000)
    consumer = KafkaConsumer(**config)
    consumer.subscribe([topic])
    seen = {}
    last_offset = {}
    deadline = time.monotonic() + 60
    while len(seen) < MESSAGES and time.monotonic() < deadline:
        for tp, records in consumer.poll(timeout_ms=500).items():
            for record in records:
                i = int(record.key.decode().split("-")[1])
                assert record.value == f"value-{i}".encode(), (record.key, record.value)
                assert list(record.headers) == [("index", str(i).encode())], record.headers
                assert i not in seen, f"message {i} delivered twice"
                prev = last_offset.get(tp.partition, -1)
                assert record.offset > prev, f"offsets out of order on {tp}"
                last_offset[tp.partition] = record.offset
                seen[i] = (tp.partition, record.offset)
    assert len(seen) == MESSAGES, f"consumed {len(seen)} of {MESSAGES}"

    step("commit offsets")
    consumer.commit()

    step("fetch committed offsets (consumer) equal the end offsets")
    wanted = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    end = {tp.partition: off for tp, off in consumer.end_offsets(wanted).items()}
    assert sum(end.values()) == MESSAGES, end
    got = {tp.partition: consumer.committed(tp) for tp in wanted}
    assert got == end, f"committed {got} != end offsets {end}"
    consumer.close()

    step("fetch committed offsets (admin)")
    got = admin_committed_offsets(admin, group)
    assert got == end, f"admin committed {got} != end offsets {end}"

    step("list groups shows the group")
    ids = listed_group_ids(admin)
    assert group in ids, ids

    step("a restarted member resumes from the committed offsets")
    consumer = KafkaConsumer(**config)
    consumer.subscribe([topic])
    extra = []
    assigned_at = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            extra.extend((r.partition, r.offset) for r in records)
        if assigned_at is None and consumer.assignment():
            assigned_at = time.monotonic()
        if assigned_at is not None and time.monotonic() - assigned_at > 3:
            break
    assert assigned_at is not None, "restarted member never got an assignment"
    assert not extra, f"restarted member re-read {len(extra)} messages, first {extra[:3]}"
    consumer.close()
    admin.close()


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
