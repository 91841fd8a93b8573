#!/usr/bin/env python3
"""confluent-kafka (librdkafka) client scenarios for the golden capture.

Run by capture.py as `scenario_confluent.py --bootstrap HOSTS --step STEP`.
Every step is bounded in messages and wall-clock time. An admin call the
broker does not support fails inside librdkafka without any frame being sent;
that is expected and only printed.
"""

import argparse
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    ConfigResource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
)

TOPIC = "golden-ck"
TXN_TOPIC = "golden-ck-txn"
GROUP = "golden-ck-group"


def log(*a):
    print(*a, flush=True)


def produce(conf, topic, n, tag):
    p = Producer(conf)
    for i in range(n):
        p.produce(
            topic,
            key=f"key-{i % 5}".encode(),
            value=f"{tag} value {i} ".encode() + b"y" * (i % 17),
            headers=[("trace", f"{tag}-{i}".encode()), ("empty", b"")],
        )
        p.poll(0)
    left = p.flush(15)
    log(f"{tag}: produced {n}, {left} unflushed")


PRODUCER_VARIANTS = {
    # name: (extra config, message count)
    "producer_idempotent_gzip": ({"enable.idempotence": True, "compression.type": "gzip"}, 40),
    "producer_acks1_zstd": ({"acks": 1, "compression.type": "zstd"}, 20),
    "producer_acks0_snappy": ({"acks": 0, "compression.type": "snappy"}, 10),
    "producer_lz4": ({"compression.type": "lz4"}, 20),
}


def step_producer(bs, variant):
    extra, n = PRODUCER_VARIANTS[variant]
    conf = {"bootstrap.servers": bs, "client.id": "golden-ck-producer", "linger.ms": 20}
    conf.update(extra)
    produce(conf, TOPIC, n, variant)


def consume(c, want, seconds):
    got = []
    deadline = time.monotonic() + seconds
    while len(got) < want and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        got.append(m)
    return got


def step_transactions(bs):
    p = Producer({"bootstrap.servers": bs, "transactional.id": "golden-ck-txn", "client.id": "golden-ck-txn"})
    p.init_transactions(15)
    p.begin_transaction()
    for i in range(10):
        p.produce(TXN_TOPIC, key=b"k%d" % i, value=b"committed %d" % i)
    c = Consumer(
        {
            "bootstrap.servers": bs,
            "group.id": GROUP + "-txn",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    c.subscribe([TOPIC])
    msgs = consume(c, 5, 15)
    if msgs:
        offsets = [TopicPartition(m.topic(), m.partition(), m.offset() + 1) for m in msgs]
        p.send_offsets_to_transaction(offsets, c.consumer_group_metadata(), 15)
    p.commit_transaction(15)
    log(f"committed txn, {len(msgs)} consumed offsets sent")
    p.begin_transaction()
    p.produce(TXN_TOPIC, key=b"aborted", value=b"aborted")
    p.flush(10)
    p.abort_transaction(15)
    log("aborted txn")
    c.close()


def step_consumer(bs, protocol="classic"):
    conf = {
        "bootstrap.servers": bs,
        "group.id": GROUP if protocol == "classic" else GROUP + "-848",
        "client.id": "golden-ck-consumer",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    }
    if protocol != "classic":
        conf["group.protocol"] = protocol
    c = Consumer(conf)
    c.subscribe([TOPIC])
    msgs = consume(c, 60, 20)
    log(f"consumed {len(msgs)}")
    if msgs:
        try:
            c.commit(asynchronous=False)
        except KafkaException as e:
            log("commit:", e)
    try:
        log("committed:", c.committed([TopicPartition(TOPIC, p) for p in range(4)], 10))
        log("watermarks:", c.get_watermark_offsets(TopicPartition(TOPIC, 0), 10))
        ts = int(time.time() * 1000) - 60_000
        log("offsets_for_times:", c.offsets_for_times([TopicPartition(TOPIC, 1, ts)], 10))
    except KafkaException as e:
        log("offset queries:", e)
    c.close()


def step_admin(bs):
    a = AdminClient({"bootstrap.servers": bs, "client.id": "golden-ck-admin"})

    def attempt(name, fn):
        try:
            res = fn()
            if isinstance(res, dict):
                res = {k: f.result(6) for k, f in res.items()}
            elif hasattr(res, "result"):
                res = res.result(6)
            log(f"{name}: ok {str(res)[:200]}")
        except Exception as e:  # noqa: BLE001 - any failure is just reported
            log(f"{name}: {type(e).__name__} {str(e)[:200]}")

    attempt("list_topics", lambda: a.list_topics(timeout=10))
    attempt("create_topics", lambda: a.create_topics([NewTopic("golden-ck-admin", 3, 1)], request_timeout=4))
    attempt("describe_topics", lambda: a.describe_topics(
        __import__("confluent_kafka").TopicCollection([TOPIC]), request_timeout=4))
    attempt("describe_cluster", lambda: a.describe_cluster(request_timeout=4))
    attempt("describe_configs", lambda: a.describe_configs(
        [ConfigResource(ConfigResource.Type.TOPIC, TOPIC)], request_timeout=4))
    attempt("create_partitions", lambda: a.create_partitions([NewPartitions(TOPIC, 6)], request_timeout=4))
    attempt("list_offsets", lambda: a.list_offsets(
        {TopicPartition(TOPIC, 0): OffsetSpec.latest(), TopicPartition(TOPIC, 1): OffsetSpec.earliest()},
        request_timeout=4))
    attempt("list_consumer_groups", lambda: a.list_consumer_groups(request_timeout=4))
    attempt("describe_consumer_groups", lambda: a.describe_consumer_groups([GROUP], request_timeout=4))
    from confluent_kafka import ConsumerGroupTopicPartitions

    attempt("list_consumer_group_offsets", lambda: a.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(GROUP)], request_timeout=4))
    attempt("delete_records", lambda: a.delete_records([TopicPartition(TOPIC, 2, 1)], request_timeout=4))
    attempt("delete_consumer_groups", lambda: a.delete_consumer_groups([GROUP + "-txn"], request_timeout=4))
    attempt("delete_topics", lambda: a.delete_topics(["golden-ck-admin"], request_timeout=4))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--step", required=True)
    args = ap.parse_args()
    steps = {v: (lambda bs, v=v: step_producer(bs, v)) for v in PRODUCER_VARIANTS}
    steps.update({
        "transactions": step_transactions,
        "consumer": step_consumer,
        "consumer_next_gen": lambda bs: step_consumer(bs, "consumer"),
        "admin": step_admin,
    })
    steps[args.step](args.bootstrap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
