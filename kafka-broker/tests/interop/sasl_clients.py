#!/usr/bin/env python3
"""SASL interop: confluent-kafka-python (librdkafka) or kafka-python against a kafka-broker
that requires SASL.

Usage: sasl_clients.py CLIENT BOOTSTRAP MECHANISM USER PASSWORD TOPIC [CA_FILE]

CLIENT is confluent or kafka-python. With CA_FILE the connection is SASL_SSL, trusting that CA. Produces three records to TOPIC and reads them back,
printing "OK"; or, when the broker refuses the credentials, prints "AUTH_FAILED". Anything else
raises (exit 1). A watchdog exits if it hangs.
"""

import faulthandler
import sys
import time
import uuid

LIMIT_S = 60


def confluent(bootstrap, mechanism, user, password, topic, ca):
    from confluent_kafka import Consumer, KafkaError, Producer
    from confluent_kafka.admin import AdminClient

    errors = []
    common = {
        "bootstrap.servers": bootstrap,
        "security.protocol": "SASL_SSL" if ca else "SASL_PLAINTEXT",
        "sasl.mechanism": mechanism,
        "sasl.username": user,
        "sasl.password": password,
        "error_cb": errors.append,
    }
    if mechanism == "OAUTHBEARER":
        # librdkafka's unsecured JWT builder; USER is the principal.
        del common["sasl.username"], common["sasl.password"]
        common["enable.sasl.oauthbearer.unsecure.jwt"] = True
        common["sasl.oauthbearer.config"] = f"principal={user}"
    if ca:
        common["ssl.ca.location"] = ca
    admin = AdminClient(common)

    def refused():
        return any(isinstance(e, KafkaError) and e.code() == KafkaError._AUTHENTICATION for e in errors)

    try:
        admin.list_topics(timeout=5)
    except Exception:
        # A refused login fails the metadata request; the error callback says why.
        deadline = time.monotonic() + 5
        while not refused() and time.monotonic() < deadline:
            admin.poll(0.2)
        if refused():
            return "AUTH_FAILED"
        raise SystemExit(f"metadata failed: {errors[:3]}")
    producer = Producer(dict(common, **{"acks": "all"}))
    for i in range(3):
        producer.produce(topic, key=f"k{i}", value=f"v{i}")
    if producer.flush(30) != 0:
        raise SystemExit(f"records not delivered: {errors[:3]}")
    consumer = Consumer(dict(common, **{"group.id": f"sasl-{uuid.uuid4()}", "auto.offset.reset": "earliest"}))
    consumer.subscribe([topic])
    seen = set()
    deadline = time.monotonic() + 30
    while len(seen) < 3 and time.monotonic() < deadline:
        m = consumer.poll(0.5)
        if m is not None and m.error() is None:
            seen.add(m.value().decode())
    consumer.close()
    if seen != {"v0", "v1", "v2"}:
        raise SystemExit(f"read {sorted(seen)}")
    return "OK"


def kafka_python(bootstrap, mechanism, user, password, topic, ca):
    import io
    import logging

    from kafka import KafkaConsumer, KafkaProducer

    # kafka-python logs why a login failed and then gives up bootstrapping.
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logging.getLogger("kafka").addHandler(handler)
    logging.getLogger("kafka").setLevel(logging.INFO)

    common = {
        "bootstrap_servers": bootstrap.split(","),
        "security_protocol": "SASL_SSL" if ca else "SASL_PLAINTEXT",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": user,
        "sasl_plain_password": password,
    }
    if ca:
        common["ssl_cafile"] = ca
    try:
        producer = KafkaProducer(acks="all", bootstrap_timeout_ms=5000, **common)
    except Exception as e:
        if "uthentication" in type(e).__name__ + str(e) + log.getvalue():
            return "AUTH_FAILED"
        raise
    for i in range(3):
        producer.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode()).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(topic, group_id=f"sasl-{uuid.uuid4()}", auto_offset_reset="earliest", consumer_timeout_ms=15000, **common)
    seen = set()
    for m in consumer:
        seen.add(m.value.decode())
        if len(seen) == 3:
            break
    consumer.close()
    if seen != {"v0", "v1", "v2"}:
        raise SystemExit(f"read {sorted(seen)}")
    return "OK"


def main():
    faulthandler.dump_traceback_later(LIMIT_S, exit=True)
    client, bootstrap, mechanism, user, password, topic = sys.argv[1:7]
    ca = sys.argv[7] if len(sys.argv) > 7 else None
    run = confluent if client == "confluent" else kafka_python
    print(run(bootstrap, mechanism, user, password, topic, ca), flush=True)


if __name__ == "__main__":
    main()
