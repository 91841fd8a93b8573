//! Arbitrary bytes through the bundled broker's connection handler (issue: a malformed or
//! hostile client must close its own connection and nothing else; the handler must never panic).
//!
//! One single-broker cluster lives for the whole fuzzing run, on a current-thread runtime. Each
//! input is written to an in-memory duplex stream that `Cluster::serve_connection` serves exactly
//! as it would a TCP connection. Long polls (a well-formed Fetch with a long max wait, a JoinGroup
//! waiting for a rebalance) are legitimate, so each input gets a bounded time and is then dropped.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use kafka_broker::{Cluster, ClusterConfig};
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

struct Harness {
    runtime: Runtime,
    cluster: Cluster,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let cluster = runtime
            .block_on(Cluster::start(ClusterConfig::default()))
            .expect("cluster starts");
        cluster.create_topic("fuzz", 2, &[]).expect("topic");
        Harness { runtime, cluster }
    })
}

fuzz_target!(|data: &[u8]| {
    let h = harness();
    h.runtime.block_on(async {
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let serve = h.cluster.serve_connection(0, server);
        let drive = async {
            // The peer may close at any point; a write error just means it did.
            let _ = client.write_all(data).await;
            let _ = client.shutdown().await;
            let mut sink = Vec::new();
            let _ = client.read_to_end(&mut sink).await;
        };
        let _ = tokio::time::timeout(Duration::from_millis(50), async {
            let (served, ()) = tokio::join!(serve, drive);
            served.expect("broker 0 is running");
        })
        .await;
    });
});
