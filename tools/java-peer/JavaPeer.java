// The Java client as a peer for the SDK's interop tests: Apache Kafka's own producer, consumer,
// partitioner and AdminClient, driven from the command line, reporting JSON lines on stdout.
//
// Built by kafka-testkit (`JavaPeer::build`) with javac against kafka-clients from Maven Central.
//
//   produce   --bootstrap B --topic T --count N [--keyed] [--acks all|1|0] [--compression C]
//             [--linger-ms MS] [--value-size BYTES] [--idempotence true|false] [--report-records]
//   consume   --bootstrap B --topic T --group G [--assignor range|roundrobin|cooperative-sticky]
//             [--max-records N] [--timeout-ms MS] [--from-beginning] [--isolation L]
//             [--stop-on-eof]
//             Consumes until N records arrived, the timeout passes, or (with --stop-on-eof)
//             stdin closes; commits after each poll; leaves the group on the way out.
//   transact  --bootstrap B --topic T --transactional-id ID --plan c:N,a:N,... [--hold]
//             One transaction per plan step: N records ("<id>-<step>-<i>"), then commit (c) or
//             abort (a). With --hold the last step's records are sent and flushed, then the
//             peer prints {"event":"holding"} and waits for a line on stdin before committing,
//             so that a test can fence it meanwhile; the commit's outcome is reported either
//             way ({"event":"committed"} or {"event":"commit_failed","type":...}).
//   partition --partitions N     keys on stdin, one per line: Java's default partition of each
//   assign                       assignment cases on stdin (format at `assign` below): the plan
//             Java's assignor makes for each, and the sticky assignor's user data per member
//   admin     OP --bootstrap B [...]   create-topic, delete-topic, list-topics, describe-topics,
//             describe-configs, list-groups, describe-groups, list-offsets,
//             list-group-offsets, describe-cluster
//
// Every line printed is one JSON object with an "event" field; errors end with
// {"event":"error",...} and exit status 1.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;

public final class JavaPeer {
    private JavaPeer() {}

    /** Command-line options: `--name value` pairs and bare `--flag`s after the command. */
    private static final class Options {
        final Map<String, List<String>> values = new HashMap<>();
        final List<String> positional = new ArrayList<>();

        Options(String[] args, int from) {
            for (int i = from; i < args.length; i++) {
                String a = args[i];
                if (a.startsWith("--")) {
                    String name = a.substring(2);
                    boolean hasValue = i + 1 < args.length && !args[i + 1].startsWith("--");
                    values.computeIfAbsent(name, k -> new ArrayList<>()).add(hasValue ? args[++i] : "true");
                } else {
                    positional.add(a);
                }
            }
        }

        String get(String name, String fallback) {
            List<String> v = values.get(name);
            return v == null ? fallback : v.get(v.size() - 1);
        }

        String require(String name) {
            String v = get(name, null);
            if (v == null) {
                throw new IllegalArgumentException("missing --" + name);
            }
            return v;
        }

        /** Adds every {@code --property key=value} (client configs such as security.protocol). */
        void applyProperties(Properties p) {
            for (String kv : all("property")) {
                String[] parts = kv.split("=", 2);
                p.put(parts[0], parts.length > 1 ? parts[1] : "");
            }
        }

        List<String> all(String name) {
            return values.getOrDefault(name, List.of());
        }

        boolean flag(String name) {
            return Boolean.parseBoolean(get(name, "false"));
        }
    }

    // --- JSON output -----------------------------------------------------------------------

    static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        return b.append('"').toString();
    }

    static String json(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof String) {
            return quote((String) v);
        }
        if (v instanceof Number || v instanceof Boolean) {
            return v.toString();
        }
        if (v instanceof Map) {
            StringBuilder b = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!first) {
                    b.append(',');
                }
                first = false;
                b.append(quote(String.valueOf(e.getKey()))).append(':').append(json(e.getValue()));
            }
            return b.append('}').toString();
        }
        if (v instanceof Collection) {
            StringBuilder b = new StringBuilder("[");
            boolean first = true;
            for (Object o : (Collection<?>) v) {
                if (!first) {
                    b.append(',');
                }
                first = false;
                b.append(json(o));
            }
            return b.append(']').toString();
        }
        return quote(v.toString());
    }

    /** An ordered map for one output line: event first, then the pairs given. */
    static Map<String, Object> line(String event, Object... pairs) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("event", event);
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            m.put((String) pairs[i], pairs[i + 1]);
        }
        return m;
    }

    static synchronized void emit(Map<String, Object> m) {
        System.out.println(json(m));
        System.out.flush();
    }

    static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    // --- commands --------------------------------------------------------------------------

    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: JavaPeer produce|consume|partition|admin ...");
            System.exit(2);
        }
        try {
            Options o = new Options(args, args[0].equals("admin") ? 2 : 1);
            switch (args[0]) {
                case "produce": produce(o); break;
                case "transact": transact(o); break;
                case "consume": consume(o); break;
                case "partition": partition(o); break;
                case "assign": assign(); break;
                case "admin": admin(args.length > 1 ? args[1] : "", o); break;
                default: throw new IllegalArgumentException("unknown command " + args[0]);
            }
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            emit(line("error", "type", cause.getClass().getName(), "message", String.valueOf(cause.getMessage())));
            System.exit(1);
        }
    }

    static void produce(Options o) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, o.require("bootstrap"));
        p.put(ProducerConfig.ACKS_CONFIG, o.get("acks", "all"));
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, o.get("compression", "none"));
        p.put(ProducerConfig.LINGER_MS_CONFIG, o.get("linger-ms", "5"));
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, o.get("idempotence", "true"));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        o.applyProperties(p);
        String topic = o.require("topic");
        long count = Long.parseLong(o.require("count"));
        boolean keyed = o.flag("keyed");
        boolean report = o.flag("report-records");
        int valueSize = Integer.parseInt(o.get("value-size", "0"));
        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (long i = 0; i < count; i++) {
                String key = keyed ? "key-" + i : null;
                String value = valueSize > 0 ? pad("value-" + i, valueSize) : "value-" + i;
                ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic,
                        key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                        value.getBytes(StandardCharsets.UTF_8));
                final String k = key;
                producer.send(record, (md, err) -> {
                    if (err != null) {
                        failed.incrementAndGet();
                        emit(line("send_error", "key", k, "message", String.valueOf(err.getMessage())));
                    } else {
                        acked.incrementAndGet();
                        if (report) {
                            emit(line("produced", "key", k, "partition", md.partition(), "offset", md.offset()));
                        }
                    }
                });
            }
            producer.flush();
        }
        emit(line("summary", "acked", acked.get(), "failed", failed.get()));
        if (failed.get() > 0) {
            System.exit(1);
        }
    }

    static void transact(Options o) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, o.require("bootstrap"));
        String id = o.require("transactional-id");
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        o.applyProperties(p);
        String topic = o.require("topic");
        String[] steps = o.require("plan").split(",");
        boolean hold = o.flag("hold");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            emit(line("initialized"));
            for (int s = 0; s < steps.length; s++) {
                String[] parts = steps[s].split(":");
                boolean commit = parts[0].equals("c");
                int n = Integer.parseInt(parts[1]);
                producer.beginTransaction();
                for (int i = 0; i < n; i++) {
                    String value = id + "-" + s + "-" + i;
                    producer.send(new ProducerRecord<>(topic, null, value.getBytes(StandardCharsets.UTF_8)));
                }
                producer.flush();
                boolean last = s == steps.length - 1;
                if (hold && last) {
                    emit(line("holding", "step", s));
                    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                    try {
                        producer.commitTransaction();
                        emit(line("committed", "step", s, "count", n));
                    } catch (Exception e) {
                        emit(line("commit_failed", "step", s, "type", e.getClass().getName(),
                                "message", String.valueOf(e.getMessage())));
                    }
                    return;
                }
                if (commit) {
                    producer.commitTransaction();
                    emit(line("committed", "step", s, "count", n));
                } else {
                    producer.abortTransaction();
                    emit(line("aborted", "step", s, "count", n));
                }
            }
        }
    }

    static String pad(String s, int size) {
        StringBuilder b = new StringBuilder(s);
        while (b.length() < size) {
            b.append('x');
        }
        return b.toString();
    }

    static List<Map<String, Object>> partitions(Collection<TopicPartition> parts) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (TopicPartition tp : parts) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("topic", tp.topic());
            m.put("partition", tp.partition());
            out.add(m);
        }
        return out;
    }

    static void consume(Options o) throws Exception {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, o.require("bootstrap"));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, o.require("group"));
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, o.flag("from-beginning") ? "earliest" : "latest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, o.get("isolation", "read_uncommitted"));
        String assignor = o.get("assignor", "range");
        String cls;
        switch (assignor) {
            case "range": cls = "org.apache.kafka.clients.consumer.RangeAssignor"; break;
            case "roundrobin": cls = "org.apache.kafka.clients.consumer.RoundRobinAssignor"; break;
            case "sticky": cls = "org.apache.kafka.clients.consumer.StickyAssignor"; break;
            case "cooperative-sticky": cls = "org.apache.kafka.clients.consumer.CooperativeStickyAssignor"; break;
            default: throw new IllegalArgumentException("unknown assignor " + assignor);
        }
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, cls);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        o.applyProperties(p);
        String topic = o.require("topic");
        long max = Long.parseLong(o.get("max-records", String.valueOf(Long.MAX_VALUE)));
        long deadline = System.currentTimeMillis() + Long.parseLong(o.get("timeout-ms", "120000"));
        AtomicBoolean stop = new AtomicBoolean();
        Thread watchdog = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // Only the end of stdin matters.
                }
            } catch (java.io.IOException ignored) {
                // A broken pipe means the same as end of file.
            }
            stop.set(true);
        }, "stdin-watchdog");
        watchdog.setDaemon(true);
        if (o.flag("stop-on-eof")) {
            watchdog.start();
        }
        long count = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> parts) {
                    emit(line("revoked", "partitions", partitions(parts)));
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> parts) {
                    emit(line("assigned", "partitions", partitions(parts)));
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> parts) {
                    emit(line("lost", "partitions", partitions(parts)));
                }
            });
            while (!stop.get() && count < max && System.currentTimeMillis() < deadline) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    emit(line("record", "partition", r.partition(), "offset", r.offset(),
                            "key", text(r.key()), "value", text(r.value())));
                    commit.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                    count++;
                }
                if (!commit.isEmpty()) {
                    consumer.commitSync(commit);
                }
            }
        }
        emit(line("done", "count", count));
    }

    /**
     * Runs Java's assignors on cases read from stdin, one directive per line:
     *
     *   case NAME ASSIGNOR            range, roundrobin, sticky or cooperative-sticky
     *   topic NAME PARTITIONS
     *   member ID INSTANCE GENERATION TOPICS OWNED
     *                                 INSTANCE is a group.instance.id or "-"; TOPICS is a comma list;
     *                                 OWNED is "-" or a comma list of topic:partition
     *   end                           assigns the case
     *
     * Each member is built as Java's consumer would send it: the sticky assignor (eager) carries
     * what it owned in its user data, made by the assignor itself; the others list it as owned
     * partitions. Prints one "assignment" line per member, in member id order, and for sticky
     * cases one "user-data" line per member with those bytes in hex.
     */
    static void assign() throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String name = null;
        String assignorName = null;
        Map<String, Integer> topics = new TreeMap<>();
        Map<String, org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription> members = new TreeMap<>();
        for (String raw; (raw = in.readLine()) != null; ) {
            String[] f = raw.trim().split("\\s+");
            if (f[0].isEmpty() || f[0].startsWith("#")) {
                continue;
            }
            switch (f[0]) {
                case "case":
                    name = f[1];
                    assignorName = f[2];
                    topics.clear();
                    members.clear();
                    break;
                case "topic":
                    topics.put(f[1], Integer.parseInt(f[2]));
                    break;
                case "member": {
                    String id = f[1];
                    java.util.Optional<String> instance = f[2].equals("-") ? java.util.Optional.empty() : java.util.Optional.of(f[2]);
                    int generation = Integer.parseInt(f[3]);
                    List<String> subscribed = List.of(f[4].split(","));
                    List<TopicPartition> owned = new ArrayList<>();
                    if (!f[5].equals("-")) {
                        for (String tp : f[5].split(",")) {
                            int colon = tp.lastIndexOf(':');
                            owned.add(new TopicPartition(tp.substring(0, colon), Integer.parseInt(tp.substring(colon + 1))));
                        }
                    }
                    org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription sub;
                    if (assignorName.equals("sticky")) {
                        org.apache.kafka.clients.consumer.StickyAssignor own = new org.apache.kafka.clients.consumer.StickyAssignor();
                        if (generation >= 0) {
                            own.onAssignment(new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Assignment(owned),
                                    new org.apache.kafka.clients.consumer.ConsumerGroupMetadata("g", generation, id, instance));
                        }
                        java.nio.ByteBuffer userData = own.subscriptionUserData(new java.util.HashSet<>(subscribed));
                        StringBuilder hex = new StringBuilder();
                        if (userData != null) {
                            java.nio.ByteBuffer b = userData.duplicate();
                            while (b.hasRemaining()) {
                                hex.append(String.format("%02x", b.get()));
                            }
                        }
                        emit(line("user-data", "case", name, "member", id, "hex", userData == null ? null : hex.toString()));
                        sub = new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription(
                                subscribed, userData, List.of(), generation, java.util.Optional.empty());
                    } else {
                        sub = new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription(
                                subscribed, null, owned, generation, java.util.Optional.empty());
                    }
                    sub.setGroupInstanceId(instance);
                    members.put(id, sub);
                    break;
                }
                case "end": {
                    org.apache.kafka.clients.consumer.ConsumerPartitionAssignor assignor;
                    switch (assignorName) {
                        case "range": assignor = new org.apache.kafka.clients.consumer.RangeAssignor(); break;
                        case "roundrobin": assignor = new org.apache.kafka.clients.consumer.RoundRobinAssignor(); break;
                        case "sticky": assignor = new org.apache.kafka.clients.consumer.StickyAssignor(); break;
                        case "cooperative-sticky": assignor = new org.apache.kafka.clients.consumer.CooperativeStickyAssignor(); break;
                        default: throw new IllegalArgumentException("unknown assignor " + assignorName);
                    }
                    Node node = new Node(0, "localhost", 9092);
                    List<org.apache.kafka.common.PartitionInfo> infos = new ArrayList<>();
                    for (Map.Entry<String, Integer> t : topics.entrySet()) {
                        for (int p = 0; p < t.getValue(); p++) {
                            infos.add(new org.apache.kafka.common.PartitionInfo(t.getKey(), p, node, new Node[] {node}, new Node[] {node}));
                        }
                    }
                    org.apache.kafka.common.Cluster cluster = new org.apache.kafka.common.Cluster(
                            "golden", List.of(node), infos, java.util.Set.of(), java.util.Set.of());
                    Map<String, org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Assignment> plan = assignor.assign(cluster,
                            new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupSubscription(members)).groupAssignment();
                    for (String id : members.keySet()) {
                        List<TopicPartition> got = new ArrayList<>(plan.containsKey(id) ? plan.get(id).partitions() : List.of());
                        got.sort((a, b) -> a.topic().equals(b.topic()) ? Integer.compare(a.partition(), b.partition()) : a.topic().compareTo(b.topic()));
                        emit(line("assignment", "case", name, "member", id, "partitions", partitions(got)));
                    }
                    break;
                }
                default:
                    throw new IllegalArgumentException("unknown directive " + f[0]);
            }
        }
    }

    static void partition(Options o) throws Exception {
        int n = Integer.parseInt(o.require("partitions"));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String key;
        while ((key = in.readLine()) != null) {
            int partition = Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % n;
            emit(line("partition", "key", key, "partition", partition));
        }
    }

    // --- AdminClient -----------------------------------------------------------------------

    static void admin(String op, Options o) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, o.require("bootstrap"));
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, o.get("timeout-ms", "30000"));
        o.applyProperties(p);
        try (Admin admin = Admin.create(p)) {
            switch (op) {
                case "create-topic": {
                    Map<String, String> configs = new HashMap<>();
                    for (String kv : o.all("config")) {
                        String[] parts = kv.split("=", 2);
                        configs.put(parts[0], parts.length > 1 ? parts[1] : "");
                    }
                    NewTopic t = new NewTopic(o.require("topic"), Integer.parseInt(o.get("partitions", "1")),
                            Short.parseShort(o.get("replication-factor", "1"))).configs(configs);
                    admin.createTopics(List.of(t)).all().get();
                    emit(line("created", "topic", t.name()));
                    break;
                }
                case "delete-topic":
                    admin.deleteTopics(List.of(o.require("topic"))).all().get();
                    emit(line("deleted", "topic", o.require("topic")));
                    break;
                case "list-topics":
                    emit(line("topics", "names", new java.util.TreeSet<>(admin.listTopics().names().get())));
                    break;
                case "describe-topics": {
                    Map<String, TopicDescription> d = admin.describeTopics(o.all("topic")).allTopicNames().get();
                    for (TopicDescription t : new TreeMap<>(d).values()) {
                        List<Map<String, Object>> parts = new ArrayList<>();
                        for (TopicPartitionInfo info : t.partitions()) {
                            parts.add(line("partition", "partition", info.partition(),
                                    "leader", info.leader() == null ? -1 : info.leader().id(),
                                    "replicas", ids(info.replicas()), "isr", ids(info.isr())));
                        }
                        emit(line("topic", "name", t.name(), "internal", t.isInternal(),
                                "topic_id", t.topicId().toString(), "partitions", parts));
                    }
                    break;
                }
                case "describe-configs": {
                    ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, o.require("topic"));
                    Config c = admin.describeConfigs(List.of(r)).all().get().get(r);
                    Map<String, Object> configs = new TreeMap<>();
                    for (ConfigEntry e : c.entries()) {
                        configs.put(e.name(), line("config", "value", e.value(), "source", e.source().toString(),
                                "read_only", e.isReadOnly()));
                    }
                    emit(line("configs", "topic", r.name(), "configs", configs));
                    break;
                }
                case "list-groups": {
                    List<Map<String, Object>> groups = new ArrayList<>();
                    for (GroupListing g : admin.listGroups().all().get()) {
                        groups.add(line("group", "group_id", g.groupId(),
                                "type", g.type().map(Object::toString).orElse(null),
                                "protocol", g.protocol(),
                                "state", g.groupState().map(Object::toString).orElse(null)));
                    }
                    groups.sort((a, b) -> String.valueOf(a.get("group_id")).compareTo(String.valueOf(b.get("group_id"))));
                    emit(line("groups", "groups", groups));
                    break;
                }
                case "describe-groups": {
                    Map<String, ConsumerGroupDescription> d =
                            admin.describeConsumerGroups(o.all("group")).all().get();
                    for (ConsumerGroupDescription g : new TreeMap<>(d).values()) {
                        List<Map<String, Object>> members = new ArrayList<>();
                        for (MemberDescription m : g.members()) {
                            members.add(line("member", "client_id", m.clientId(), "host", m.host(),
                                    "assignment", partitions(m.assignment().topicPartitions())));
                        }
                        emit(line("group", "group_id", g.groupId(), "state", g.groupState().toString(),
                                "protocol", g.partitionAssignor(), "coordinator", g.coordinator().id(),
                                "members", members));
                    }
                    break;
                }
                case "list-offsets": {
                    String topic = o.require("topic");
                    TopicDescription t = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
                    Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
                    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
                    for (TopicPartitionInfo info : t.partitions()) {
                        TopicPartition tp = new TopicPartition(topic, info.partition());
                        earliest.put(tp, OffsetSpec.earliest());
                        latest.put(tp, OffsetSpec.latest());
                    }
                    Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> e = admin.listOffsets(earliest).all().get();
                    Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> l = admin.listOffsets(latest).all().get();
                    for (TopicPartitionInfo info : t.partitions()) {
                        TopicPartition tp = new TopicPartition(topic, info.partition());
                        emit(line("offsets", "partition", info.partition(), "earliest", e.get(tp).offset(),
                                "latest", l.get(tp).offset()));
                    }
                    break;
                }
                case "list-group-offsets": {
                    Map<TopicPartition, OffsetAndMetadata> offsets =
                            admin.listConsumerGroupOffsets(o.require("group")).partitionsToOffsetAndMetadata().get();
                    Map<String, Object> out = new TreeMap<>();
                    for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
                        out.put(e.getKey().toString(), e.getValue() == null ? null : e.getValue().offset());
                    }
                    emit(line("group_offsets", "group_id", o.require("group"), "offsets", out));
                    break;
                }
                case "describe-cluster": {
                    DescribeClusterResult c = admin.describeCluster();
                    emit(line("cluster", "cluster_id", c.clusterId().get(), "controller", c.controller().get().id(),
                            "nodes", ids(c.nodes().get())));
                    break;
                }
                default:
                    throw new IllegalArgumentException("unknown admin operation " + op);
            }
        }
    }

    static List<Integer> ids(Collection<Node> nodes) {
        List<Integer> out = new ArrayList<>();
        for (Node n : nodes) {
            out.add(n.id());
        }
        out.sort(null);
        return out;
    }
}
