//! Empty: this package only holds `benches/peer.rs`, which measures our record batches against
//! the crates.io `kafka-protocol` crate (a peer) in the same run.
