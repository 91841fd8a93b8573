//! The principal of a TLS client: its certificate's subject as Kafka's default SSL principal
//! builder names it, `User:` and the distinguished name in RFC 2253 form (what Java's
//! `X500Principal.getName()` prints), e.g. `User:CN=alice,O=Example,C=DE`.
//!
//! Only the subject is read, with a bounds-checked DER walk (the certificate comes from the
//! network, although rustls has verified it): Certificate → TBSCertificate → the sixth field
//! (after the optional `[0]` version, the serial, the signature algorithm, the issuer and the
//! validity). A name is a sequence of relative distinguished names, each a set of
//! (attribute type, value) pairs; RFC 2253 prints them last first, joined by `,`, with `+`
//! inside one RDN, known types by keyword and others as dotted OIDs with `#`-hex values.

/// A DER tag-length-value: the tag, and the contents.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;

/// The subject of a DER certificate, in RFC 2253 form; `None` if it does not parse.
pub(crate) fn subject_dn(certificate: &[u8]) -> Option<String> {
    let (tag, cert, _) = tlv(certificate)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, mut tbs, _) = tlv(cert)?;
    if tag != SEQUENCE {
        return None;
    }
    // The optional explicit [0] version.
    if tbs.first() == Some(&0xa0) {
        tbs = tlv(tbs)?.2;
    }
    // Serial, signature algorithm, issuer, validity: skipped.
    for _ in 0..4 {
        tbs = tlv(tbs)?.2;
    }
    let (tag, name, _) = tlv(tbs)?;
    if tag != SEQUENCE {
        return None;
    }
    rfc2253(name)
}

/// A Name's contents (the RDN sequence) in RFC 2253 form.
fn rfc2253(mut name: &[u8]) -> Option<String> {
    let mut rdns = Vec::new();
    while !name.is_empty() {
        let (tag, set, rest) = tlv(name)?;
        if tag != SET {
            return None;
        }
        name = rest;
        let mut parts = Vec::new();
        let mut attributes = set;
        while !attributes.is_empty() {
            let (tag, pair, rest) = tlv(attributes)?;
            if tag != SEQUENCE {
                return None;
            }
            attributes = rest;
            let (tag, oid, value) = tlv(pair)?;
            if tag != OID {
                return None;
            }
            let (value_tag, text, _) = tlv(value)?;
            let part = match (keyword(oid), string_value(value_tag, text)) {
                (Some(k), Some(v)) => format!("{k}={}", escape(&v)),
                // Unknown types, or values that are not strings: the OID and the value's DER.
                _ => format!("{}=#{}", dotted(oid)?, hex(value)),
            };
            parts.push(part);
        }
        rdns.push(parts.join("+"));
    }
    rdns.reverse();
    Some(rdns.join(","))
}

/// The RFC 2253 keyword of an attribute type, for the types it names.
fn keyword(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x09] => "STREET",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01] => "UID",
        _ => return None,
    })
}

/// The text of a directory string (UTF8, printable, IA5, teletex as Latin-1, BMP).
fn string_value(tag: u8, bytes: &[u8]) -> Option<String> {
    match tag {
        0x0c | 0x13 | 0x16 => String::from_utf8(bytes.to_vec()).ok(),
        0x14 => Some(bytes.iter().map(|b| char::from(*b)).collect()),
        0x1e => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// RFC 2253 section 2.4 escaping.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An OID's dotted form.
fn dotted(oid: &[u8]) -> Option<String> {
    let (&first, rest) = oid.split_first()?;
    let mut parts = vec![
        u64::from(first / 40).min(2),
        u64::from(first) - 40 * u64::from(first / 40).min(2),
    ];
    let mut value: u64 = 0;
    for &b in rest {
        value = value.checked_mul(128)?.checked_add(u64::from(b & 0x7f))?;
        if b & 0x80 == 0 {
            parts.push(value);
            value = 0;
        }
    }
    Some(
        parts
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DER of a Name with these (OID, UTF8String value) RDNs, one attribute each.
    fn name(rdns: &[(&[u8], &str)]) -> Vec<u8> {
        let wrap = |tag: u8, body: Vec<u8>| {
            let mut v = vec![tag, u8::try_from(body.len()).unwrap()];
            v.extend(body);
            v
        };
        let mut seq = Vec::new();
        for (oid, value) in rdns {
            let mut pair = wrap(OID, oid.to_vec());
            pair.extend(wrap(0x0c, value.as_bytes().to_vec()));
            seq.extend(wrap(SET, wrap(SEQUENCE, pair)));
        }
        seq
    }

    #[test]
    fn names_print_last_rdn_first_with_keywords_and_escapes() {
        let der = name(&[
            (&[0x55, 0x04, 0x06], "DE"),
            (&[0x55, 0x04, 0x0a], "Example, Inc"),
            (&[0x55, 0x04, 0x03], "alice"),
        ]);
        assert_eq!(rfc2253(&der).unwrap(), "CN=alice,O=Example\\, Inc,C=DE");
        let odd = name(&[(&[0x2a, 0x03], "x")]);
        assert_eq!(rfc2253(&odd).unwrap(), "1.2.3=#0c0178");
    }

    #[test]
    fn hostile_input_is_none_not_a_panic() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x10, 0x30],
            &[0x31, 0x02, 0x30, 0x00],
        ] {
            assert!(subject_dn(bad).is_none());
            let _ = rfc2253(bad);
        }
        assert_eq!(escape(" #a "), "\\ #a\\ ");
        assert_eq!(dotted(&[0x2a, 0x86, 0x48]).unwrap(), "1.2.840");
    }
}
