//! Keyed records land where the Java client puts them: for 1,000 keys (text and binary, of
//! every length from empty to 40 bytes) and several partition counts, our partition equals the
//! one computed by kafka-python's `murmur2`, which is a port of the Java client's
//! `Utils.murmur2` (`toPositive(murmur2(key)) % partitions`).
//!
//! Needs python3 with kafka-python (`.ci/run` installs it). Without it the test prints SKIPPED,
//! unless CI is set, where a missing peer is a failure.

use std::io::Write;
use std::process::{Command, Stdio};

use kafka_producer::partitioner::partition_for_key;

const PARTITION_COUNTS: [i32; 7] = [1, 2, 3, 6, 12, 50, 1_000];

fn keys() -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = (0..600).map(|i| format!("key-{i}").into_bytes()).collect();
    keys.push(Vec::new());
    // Binary keys of every length up to 40, so every tail length of murmur2 is exercised.
    let mut x: u32 = 0x1234_5678;
    for i in 0..399 {
        let len = i % 41;
        let key = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        keys.push(key);
    }
    keys
}

#[test]
fn partitions_match_javas_murmur2_for_a_thousand_keys() {
    let keys = keys();
    assert_eq!(keys.len(), 1_000);
    let script = format!(
        "import sys\nfrom kafka.partitioner.default import murmur2\ncounts = {PARTITION_COUNTS:?}\nfor line in sys.stdin:\n    key = bytes.fromhex(line.strip())\n    h = murmur2(key) & 0x7fffffff\n    print(' '.join(str(h % n) for n in counts))\n"
    );
    let child = Command::new("python3")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return skip(&format!("python3: {e}")),
    };
    {
        let mut stdin = child.stdin.take().expect("stdin");
        for k in &keys {
            let hex: String = k.iter().map(|b| format!("{b:02x}")).collect();
            writeln!(stdin, "{hex}").expect("write key");
        }
    }
    let out = child.wait_with_output().expect("python3 runs");
    if !out.status.success() {
        return skip(&format!(
            "kafka-python's murmur2: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("failed")
        ));
    }
    let theirs: Vec<Vec<i32>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split(' ').map(|n| n.parse().unwrap()).collect())
        .collect();
    assert_eq!(theirs.len(), keys.len());
    for (key, expected) in keys.iter().zip(&theirs) {
        let ours: Vec<i32> = PARTITION_COUNTS
            .iter()
            .map(|n| partition_for_key(key, *n))
            .collect();
        assert_eq!(&ours, expected, "key {key:02x?}");
    }
}

fn skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI requires the kafka-python peer: {why}"
    );
    println!("SKIPPED: {why}");
}
