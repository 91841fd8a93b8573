//! Arbitrary and mutated bytes through the connection handler: it must neither panic nor hang,
//! and the cluster must keep serving afterwards. (A deterministic, bounded stand-in for a fuzzer;
//! `Cluster::serve_connection` is the entry point a cargo-fuzz target would call.)

mod common;

use std::time::Duration;

use common::*;
use kafka_protocol::messages::*;
use kafka_protocol::ErrorCode;
use tokio::io::AsyncWriteExt;

/// xorshift64*: deterministic so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Valid request frames to mutate.
fn seeds(c: &mut Client) -> Vec<Vec<u8>> {
    let create = CreateTopicsRequest {
        topics: vec![create_topics_request::CreatableTopic {
            name: "fz2".into(),
            num_partitions: 2,
            replication_factor: 1,
            ..Default::default()
        }],
        ..Default::default()
    };
    let join = JoinGroupRequest {
        group_id: "fzg".into(),
        session_timeout_ms: 6000,
        rebalance_timeout_ms: 100,
        protocol_type: "consumer".into(),
        ..Default::default()
    };
    vec![
        c.frame(&produce_request("fz", 0, batch(&["a", "b"], 0), 1), 9)
            .1
            .to_vec(),
        c.frame(&fetch_request("fz", 0, 0, 10, 0), 12).1.to_vec(),
        c.frame(&MetadataRequest::default().with_topics(None), 12)
            .1
            .to_vec(),
        c.frame(&common::api_versions_request(), 3).1.to_vec(),
        c.frame(&create, 7).1.to_vec(),
        c.frame(&join, 5).1.to_vec(),
    ]
}

#[tokio::test]
async fn random_and_mutated_frames_never_panic_or_hang() {
    let cluster = cluster(1).await;
    cluster.create_topic("fz", 1, &[]).unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let seeds = seeds(&mut c);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..400 {
        let input: Vec<u8> = match case % 3 {
            0 => (0..rng.below(200)).map(|_| rng.next() as u8).collect(),
            _ => {
                let mut frame = seeds[rng.below(seeds.len())].clone();
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(frame.len());
                    frame[at] = rng.next() as u8;
                }
                if rng.below(4) == 0 {
                    frame.truncate(rng.below(frame.len()));
                }
                frame
            }
        };
        let (mut client, server) = tokio::io::duplex(1 << 20);
        client.write_all(&input).await.unwrap();
        client.shutdown().await.unwrap();
        // Keep the client end alive (so responses can be written) but never read it.
        let served =
            tokio::time::timeout(Duration::from_secs(5), cluster.serve_connection(0, server)).await;
        assert!(served.is_ok(), "case {case} hung on input {input:?}");
        drop(client);
    }
    // Still serving normally.
    let r = c.send(&common::api_versions_request(), 3).await;
    assert_eq!(r.error_code, ErrorCode::None);
    cluster.shutdown().await;
}
