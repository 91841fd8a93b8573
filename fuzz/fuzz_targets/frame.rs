//! `frame`: see `kafka_protocol_fuzz::checks::frame` for what the input means and what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kafka_protocol_fuzz::checks::frame(data));
