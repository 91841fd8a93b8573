"""confluent-kafka-python's AdminClient (librdkafka) as a peer for kafka-admin's cross-check.

Usage: confluent_admin.py BOOTSTRAP COMMAND [ARGS...]; prints one JSON document.

  describe-topics NAME...        partitions (leader, sorted replicas and ISR), internal, topic id
  list-topics                    sorted names of the non-internal topics
  create-topic NAME PARTITIONS REPLICATION_FACTOR
  describe-configs TOPIC         each config's value, source and read-only flag
  list-group-offsets GROUP       "topic-partition" -> committed offset
"""

import json
import sys

from confluent_kafka import ConsumerGroupTopicPartitions, TopicCollection
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewTopic, ResourceType

TIMEOUT = 30


def main():
    bootstrap, command, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    if command == "describe-topics":
        out = {}
        for name, future in admin.describe_topics(TopicCollection(args), request_timeout=TIMEOUT).items():
            t = future.result()
            out[name] = {
                "name": t.name,
                "internal": t.is_internal,
                # librdkafka prints ids in standard base64; Kafka's form is URL-safe unpadded.
                "topic_id": str(t.topic_id).replace("+", "-").replace("/", "_").rstrip("="),
                "partitions": [
                    {
                        "partition": p.id,
                        "leader": p.leader.id if p.leader is not None else -1,
                        "replicas": sorted(r.id for r in p.replicas),
                        "isr": sorted(r.id for r in p.isr),
                    }
                    for p in sorted(t.partitions, key=lambda p: p.id)
                ],
            }
    elif command == "list-topics":
        topics = admin.list_topics(timeout=TIMEOUT).topics
        out = sorted(n for n in topics if not n.startswith("__"))
    elif command == "create-topic":
        name, partitions, rf = args[0], int(args[1]), int(args[2])
        for future in admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=rf)]).values():
            future.result()
        out = {"created": name}
    elif command == "describe-configs":
        resource = ConfigResource(ResourceType.TOPIC, args[0])
        entries = admin.describe_configs([resource])[resource].result()
        out = {
            name: {"value": e.value, "source": ConfigSource(e.source).name, "read_only": e.is_read_only}
            for name, e in entries.items()
        }
    elif command == "list-group-offsets":
        futures = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(args[0])])
        result = futures[args[0]].result()
        out = {f"{tp.topic}-{tp.partition}": tp.offset for tp in result.topic_partitions}
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
