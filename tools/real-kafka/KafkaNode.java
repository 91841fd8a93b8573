// Runs one Apache Kafka node (kafka.Kafka, KRaft) for the SDK's tests, and guarantees that it never
// outlives the process that started it.
//
// The starter keeps this JVM's stdin open as a pipe. When the pipe closes - because the starter
// asked the node to stop, or because the starter died, even by SIGKILL - the watchdog thread sees
// end of file and exits the JVM through Kafka's shutdown hook (a clean, controlled shutdown). If
// that shutdown takes longer than the grace period given as the first argument, the JVM halts.
//
// Usage: java -cp 'DIR:lib/*' KafkaNode GRACE_MS server.properties
public final class KafkaNode {
    private KafkaNode() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: KafkaNode GRACE_MS server.properties");
            System.exit(2);
        }
        final long graceMs = Long.parseLong(args[0]);
        Thread watchdog = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // Anything written on stdin is ignored; only its end matters.
                }
            } catch (java.io.IOException ignored) {
                // A broken pipe means the same as end of file.
            }
            Thread halt = new Thread(() -> {
                try {
                    Thread.sleep(graceMs);
                } catch (InterruptedException ignored) {
                    // Halt at once.
                }
                Runtime.getRuntime().halt(1);
            }, "kafka-node-halt");
            halt.setDaemon(true);
            halt.start();
            System.exit(0);
        }, "kafka-node-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        kafka.Kafka.main(new String[] {args[1]});
    }
}
