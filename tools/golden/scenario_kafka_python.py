#!/usr/bin/env python3
"""kafka-python client scenarios for the golden capture.

Run by capture.py as `scenario_kafka_python.py --bootstrap HOSTS --step STEP`.
kafka-python probes the broker with ApiVersions first; that probe fails
against the mock, so every step but `probe` pins `api_version` so the client
starts with an ApiVersions version the mock accepts (the `probe` step records the failing probe). Whatever it sends is recorded either way; every failure is
only printed. All calls are bounded by explicit timeouts.
"""

import argparse
import sys
import time
import traceback

TOPIC = "golden-kp"
GROUP = "golden-kp-group"
# Kafka 2.4 introduced ApiVersions v3 (KIP-511), which the mock rejects with a
# body kafka-python cannot parse; pinning 2.3 makes it send ApiVersions v2.
PINNED = (2, 3, 0)
CODECS = [None, "gzip", "snappy", "lz4", "zstd"]

COMMON = {
    "client_id": "golden-kp",
    "request_timeout_ms": 8000,
    "bootstrap_timeout_ms": 8000,
}


def log(*a):
    print(*a, flush=True)


def make(cls, bs, **kw):
    """Builds a client with a pinned broker version (see `step_probe`)."""
    return cls(bootstrap_servers=bs, api_version=PINNED, **COMMON, **kw)


def attempt(name, fn):
    try:
        res = fn()
        log(f"{name}: ok {str(res)[:300]}")
        return res
    except Exception as e:  # noqa: BLE001
        log(f"{name}: {type(e).__name__} {str(e)[:300]}")
        return None


def step_probe(bs):
    """Version probing only: no pinned api_version, whatever happens."""
    from kafka import KafkaAdminClient

    a = attempt("probing admin client", lambda: KafkaAdminClient(bootstrap_servers=bs, **COMMON))
    if a is not None:
        attempt("api_versions", a.api_versions)
        attempt("get_broker_version_data", a.get_broker_version_data)
        a.close()
    # The same probe with a 2.4+ pin starts at ApiVersions v3 instead of v4.
    a = attempt(
        "admin client pinned 2.5",
        lambda: KafkaAdminClient(bootstrap_servers=bs, api_version=(2, 5, 0), **dict(COMMON, bootstrap_timeout_ms=3000)),
    )
    if a is not None:
        a.close()


def step_producer(bs, only):
    from kafka import KafkaProducer

    for codec in CODECS:
        if only != str(codec):
            continue
        def run(codec=codec):
            p = make(KafkaProducer, bs, compression_type=codec, max_block_ms=8000, linger_ms=20)
            futs = []
            for i in range(20):
                futs.append(
                    p.send(
                        TOPIC,
                        key=f"key-{i % 5}".encode(),
                        value=f"kp {codec} value {i} ".encode() + b"z" * (i % 11),
                        headers=[("trace", f"{codec}-{i}".encode())],
                    )
                )
            p.flush(timeout=10)
            ok = sum(1 for f in futs if f.succeeded())
            p.close(timeout=5)
            return f"{ok}/20 acknowledged"

        attempt(f"produce {codec}", run)

    def txn():
        p = make(KafkaProducer, bs, transactional_id="golden-kp-txn", max_block_ms=8000)
        p.init_transactions()
        p.begin_transaction()
        for i in range(5):
            p.send(TOPIC + "-txn", key=b"t%d" % i, value=b"txn %d" % i)
        p.commit_transaction()
        p.close(timeout=5)
        return "committed"

    if only == "txn":
        attempt("transactional produce", txn)


def step_consumer(bs):
    from kafka import KafkaConsumer, TopicPartition

    def group():
        c = make(
            KafkaConsumer,
            bs,
            group_id=GROUP,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            consumer_timeout_ms=6000,
        )
        c.subscribe([TOPIC])
        n = 0
        deadline = time.monotonic() + 15
        for _ in c:
            n += 1
            if n >= 100 or time.monotonic() > deadline:
                break
        if n:
            attempt("commit", c.commit)
        attempt("committed", lambda: c.committed(TopicPartition(TOPIC, 0)))
        c.close()
        return f"{n} consumed"

    attempt("group consume", group)

    def manual():
        c = make(KafkaConsumer, bs, consumer_timeout_ms=3000)
        tps = [TopicPartition(TOPIC, p) for p in range(4)]
        c.assign(tps)
        attempt("beginning_offsets", lambda: c.beginning_offsets(tps))
        attempt("end_offsets", lambda: c.end_offsets(tps))
        ts = int(time.time() * 1000) - 60_000
        attempt("offsets_for_times", lambda: c.offsets_for_times({tps[0]: ts}))
        c.seek_to_beginning()
        got = c.poll(timeout_ms=3000, max_records=50)
        c.close()
        return f"{sum(len(v) for v in got.values())} polled"

    attempt("manual consume", manual)


def step_admin(bs):
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions, NewTopic
    from kafka import TopicPartition

    a = attempt("admin client", lambda: make(KafkaAdminClient, bs))
    if a is None:
        return
    attempt("api_versions", a.api_versions)
    attempt("list_topics", a.list_topics)
    attempt("describe_topics", lambda: a.describe_topics([TOPIC]))
    attempt("describe_cluster", a.describe_cluster)
    attempt("create_topics", lambda: a.create_topics([NewTopic("golden-kp-admin", 3, 1)], timeout_ms=8000))
    attempt("describe_configs", lambda: a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)]))
    attempt("create_partitions", lambda: a.create_partitions({TOPIC: NewPartitions(6)}, timeout_ms=8000))
    attempt("list_groups", a.list_groups)
    attempt("describe_groups", lambda: a.describe_groups([GROUP]))
    attempt("list_group_offsets", lambda: a.list_group_offsets({GROUP: None}))
    attempt("delete_records", lambda: a.delete_records({TopicPartition(TOPIC, 2): 1}, timeout_ms=8000))
    attempt("delete_groups", lambda: a.delete_groups([GROUP]))
    attempt("delete_topics", lambda: a.delete_topics(["golden-kp-admin"], timeout_ms=8000))
    attempt("close", a.close)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--step", required=True)
    args = ap.parse_args()
    steps = {"probe": step_probe, "consumer": step_consumer, "admin": step_admin}
    for variant in [str(c) for c in CODECS] + ["txn"]:
        steps["producer_" + variant] = lambda bs, v=variant: step_producer(bs, v)
    try:
        steps[args.step](args.bootstrap)
    except Exception:  # noqa: BLE001
        traceback.print_exc()
    return 0


if __name__ == "__main__":
    sys.exit(main())
