//! Turning schema names (Kafka's `CamelCase`) into Rust names.

/// `ThrottleTimeMs` -> `throttle_time_ms`, `V3AndBelowTopics` -> `v3_and_below_topics`,
/// `IsKRaftController` -> `is_k_raft_controller`. Rust keywords get a trailing underscore.
pub fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
    "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "yield", "abstract", "become", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual",
];

#[cfg(test)]
mod tests {
    use super::snake;

    #[test]
    fn snake_case() {
        assert_eq!(snake("ThrottleTimeMs"), "throttle_time_ms");
        assert_eq!(snake("V3AndBelowTopics"), "v3_and_below_topics");
        assert_eq!(snake("IsKRaftController"), "is_k_raft_controller");
        assert_eq!(snake("Type"), "type_");
        assert_eq!(snake("TopicId"), "topic_id");
    }
}
