//! Record batches written by a real client (kcat, librdkafka 2.0), one capture per codec, decoded
//! by our record-batch reader: codec, CRC32C, keys, values and headers must all come out as kcat
//! was told to write them (see `tools/golden/capture.py`, `keyed_lines` and the `-H` flags).

use std::path::PathBuf;

use bytes::{Buf, Bytes};
use kafka_protocol::messages::ProduceRequest;
use kafka_protocol::records::{Compression, RecordSet};
use kafka_protocol::{frame, ApiKey, Message};

fn golden(file: &str) -> Bytes {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(file);
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The Produce request file kcat sent in scenario `produce_<codec>`, from the manifest.
fn kcat_produce_file(codec: &str) -> String {
    let manifest = String::from_utf8(golden("MANIFEST.tsv").to_vec()).unwrap();
    let scenario = format!("produce_{codec}");
    manifest
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|c| c.len() > 7 && c[1] == "kcat" && c[2] == "0" && c[6] == scenario && c[7] == "req")
        .unwrap_or_else(|| panic!("no kcat Produce request for {scenario} in MANIFEST.tsv"))[0]
        .to_string()
}

#[test]
fn kcat_batches_decode_with_every_codec() {
    for (codec, expected) in [
        ("none", Compression::None),
        ("gzip", Compression::Gzip),
        ("snappy", Compression::Snappy),
        ("lz4", Compression::Lz4),
        ("zstd", Compression::Zstd),
    ] {
        let mut frame = golden(&kcat_produce_file(codec));
        let (api, header) = frame::decode_request_header(&mut frame).unwrap();
        assert_eq!(api, ApiKey::Produce);
        let req = ProduceRequest::decode(&mut frame, header.request_api_version).unwrap();
        assert!(!frame.has_remaining());
        let mut records = 0;
        for topic in &req.topic_data {
            assert_eq!(topic.name, format!("golden-kcat-{codec}"));
            for part in &topic.partition_data {
                let data = part.records.clone().expect("kcat sends records");
                let set = RecordSet::decode(data).unwrap_or_else(|e| panic!("{codec}: {e}"));
                assert!(
                    set.partial.is_none(),
                    "a produce request never carries a partial batch"
                );
                for batch in &set.batches {
                    assert_eq!(batch.compression(), expected, "{codec}: batch codec");
                    for record in batch.records() {
                        let record = record.unwrap_or_else(|e| panic!("{codec}: {e}"));
                        let key = String::from_utf8(record.key.unwrap().to_vec()).unwrap();
                        let value = String::from_utf8(record.value.unwrap().to_vec()).unwrap();
                        // keyed_lines: "key-{i % 7}:{codec} message {i} " + "x" * (i % 13)
                        let i: usize = value
                            .strip_prefix(&format!("{codec} message "))
                            .and_then(|rest| rest.split(' ').next())
                            .and_then(|n| n.parse().ok())
                            .unwrap_or_else(|| panic!("{codec}: unexpected value {value:?}"));
                        assert_eq!(key, format!("key-{}", i % 7));
                        assert_eq!(value, format!("{codec} message {i} {}", "x".repeat(i % 13)));
                        let headers: Vec<(String, Vec<u8>)> = record
                            .headers
                            .iter()
                            .map(|h| (h.key().to_string(), h.value.clone().unwrap().to_vec()))
                            .collect();
                        assert_eq!(
                            headers,
                            vec![
                                ("trace".to_string(), format!("kcat-{codec}").into_bytes()),
                                ("origin".to_string(), b"golden".to_vec()),
                            ]
                        );
                        records += 1;
                    }
                }
            }
        }
        assert!(records > 0, "{codec}: no records in the captured request");
    }
}
