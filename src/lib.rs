//! Facade crate: re-exports the SDK's crates so applications depend on one name.
pub use kafka_protocol as protocol;
