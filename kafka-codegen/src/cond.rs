//! Boolean expressions in generated code, folded while they are built.
//!
//! Version tests come out of [`Versions::rust_test`] as `"true"`, `"false"` or a comparison on
//! `version`. Combining them textually would leave `if true && x` and `if !(false)` in the
//! generated code; these helpers fold the constants away instead, so every condition the
//! generator writes can actually go both ways.

use crate::schema::Versions;

/// `a && b`, folding constants.
pub fn and(a: &str, b: &str) -> String {
    match (a, b) {
        ("false", _) | (_, "false") => "false".into(),
        ("true", x) | (x, "true") => x.into(),
        (a, b) => format!("{} && {}", group(a), group(b)),
    }
}

/// Wraps a disjunction in parentheses so it can be an operand of `&&`.
fn group(a: &str) -> String {
    if a.contains("||") {
        format!("({a})")
    } else {
        a.into()
    }
}

/// The test for the versions in `within` that are *not* in `set`.
pub fn complement_test(set: Versions, within: Versions) -> String {
    let (wlo, whi) = match within {
        Versions::Range(a, b) => (a, b),
        Versions::None => return "false".into(),
    };
    match set.intersect(within) {
        Versions::None => "true".into(),
        Versions::Range(lo, hi) => match (lo > wlo, hi < whi) {
            (false, false) => "false".into(),
            (true, false) => format!("version < {lo}"),
            (false, true) => format!("version > {hi}"),
            (true, true) => format!("version < {lo} || version > {hi}"),
        },
    }
}

/// Whether `code` uses the local or parameter `ident`: a whole word outside string literals and
/// not a field or method access (`.ident`).
pub fn uses_ident(code: &str, ident: &str) -> bool {
    let bytes = code.as_bytes();
    let mut i = 0;
    let mut prev_non_space = b' ';
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'"' {
            // Skip the literal, honouring escapes.
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            prev_non_space = b'"';
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            if &code[start..i] == ident && prev_non_space != b'.' {
                return true;
            }
            prev_non_space = b'a';
            continue;
        }
        if c.is_ascii_digit() {
            // A number literal (possibly with a suffix such as `0usize`).
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            prev_non_space = b'0';
            continue;
        }
        if !c.is_ascii_whitespace() {
            prev_non_space = c;
        }
        i += 1;
    }
    false
}

/// The name to give a parameter: `name`, or `_name` when `body` never uses it.
pub fn param(name: &str, body: &str) -> String {
    if uses_ident(body, name) {
        name.into()
    } else {
        format!("_{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_fold() {
        assert_eq!(and("true", "version >= 3"), "version >= 3");
        assert_eq!(and("version >= 3", "false"), "false");
        assert_eq!(and("a", "b || c"), "a && (b || c)");
    }

    #[test]
    fn complements() {
        let within = Versions::Range(0, 9);
        assert_eq!(
            complement_test(Versions::Range(3, i16::MAX), within),
            "version < 3"
        );
        assert_eq!(
            complement_test(Versions::Range(0, 4), within),
            "version > 4"
        );
        assert_eq!(
            complement_test(Versions::Range(2, 4), within),
            "version < 2 || version > 4"
        );
        assert_eq!(complement_test(Versions::Range(0, 12), within), "false");
        assert_eq!(complement_test(Versions::None, within), "true");
    }

    #[test]
    fn identifiers() {
        assert!(uses_ident("if version >= 3 {", "version"));
        assert!(!uses_ident("self.version = 1;", "version"));
        assert!(!uses_ident("field: \"version mode\"", "mode"));
        assert!(!uses_ident("let versions = 1;", "version"));
        assert!(uses_ident("f(buf, \"a\\\"b\", mode)", "mode"));
    }
}
