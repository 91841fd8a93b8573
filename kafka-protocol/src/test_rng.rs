//! A small deterministic generator for the generated round-trip property tests (xorshift64*),
//! so every failing case is reproducible from its seed and no extra dependency is needed.

use bytes::Bytes;

use crate::codec::{RawTaggedField, Uuid};

pub(crate) struct TestRng(u64);

impl TestRng {
    pub(crate) fn new(seed: u64) -> Self {
        // Avoid the all-zero state, which xorshift never leaves.
        TestRng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub(crate) fn bool(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    pub(crate) fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 1e6 - 5e5
    }

    pub(crate) fn uuid(&mut self) -> Uuid {
        let mut u = [0u8; 16];
        u[..8].copy_from_slice(&self.next_u64().to_be_bytes());
        u[8..].copy_from_slice(&self.next_u64().to_be_bytes());
        Uuid(u)
    }

    pub(crate) fn string(&mut self) -> crate::StrBytes {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz-._0123456789";
        let len = self.below(12) as usize;
        let mut s: String = (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char)
            .collect();
        if self.below(8) == 0 {
            s.push('é'); // multi-byte UTF-8 must survive too
        }
        s.into()
    }

    pub(crate) fn bytes(&mut self) -> Bytes {
        let len = self.below(20) as usize;
        (0..len)
            .map(|_| self.next_u64() as u8)
            .collect::<Vec<u8>>()
            .into()
    }

    pub(crate) fn unknown_tagged_field(&mut self) -> RawTaggedField {
        // Tags far above any the schemas use, so the field stays unknown on decode.
        RawTaggedField {
            tag: 10_000 + self.below(1000) as u32,
            data: self.bytes(),
        }
    }
}
