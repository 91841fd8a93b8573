//! Client quotas (KIP-546): the values stored per entity and how DescribeClientQuotas matches
//! them. The bundled broker stores quotas and reports them; it does not throttle.
//!
//! An entity is a set of (type, name) components: `user`, `client-id` (either or both), or
//! `ip` (alone). A null name is the type's default entity (`<default>` in Kafka's tools).

use std::collections::BTreeMap;

use kafka_protocol::ErrorCode;

/// An entity: its components sorted by type, each with a name or `None` for the default.
pub(crate) type QuotaEntity = Vec<(String, Option<String>)>;

/// The quota keys each entity type accepts (Kafka's `QuotaConfig`).
fn valid_key(entity: &QuotaEntity, key: &str) -> bool {
    let is_ip = entity.iter().any(|(t, _)| t == "ip");
    if is_ip {
        key == "connection_creation_rate"
    } else {
        matches!(
            key,
            "producer_byte_rate"
                | "consumer_byte_rate"
                | "request_percentage"
                | "controller_mutation_rate"
        )
    }
}

/// Checks and sorts an entity from a request.
pub(crate) fn entity(
    components: impl IntoIterator<Item = (String, Option<String>)>,
) -> Result<QuotaEntity, (ErrorCode, String)> {
    let mut entity: QuotaEntity = components.into_iter().collect();
    entity.sort();
    let invalid = |m: String| Err((ErrorCode::InvalidRequest, m));
    if entity.is_empty() {
        return invalid("Invalid empty client quota entity".into());
    }
    for (i, (t, _)) in entity.iter().enumerate() {
        if !matches!(t.as_str(), "user" | "client-id" | "ip") {
            return invalid(format!("Unhandled client quota entity type: {t}"));
        }
        if entity[..i].iter().any(|(u, _)| u == t) {
            return invalid(format!("Duplicate {t} entity type in client quota entity"));
        }
    }
    if entity.iter().any(|(t, _)| t == "ip") && entity.len() > 1 {
        return invalid("Invalid quota entity combination, IP entity should not be combined with User or ClientId entities.".into());
    }
    Ok(entity)
}

/// One alteration of an entity's quotas.
#[derive(Debug, Clone)]
pub(crate) struct QuotaOp {
    pub key: String,
    pub value: f64,
    pub remove: bool,
}

/// Every entity's quotas.
#[derive(Debug, Default)]
pub(crate) struct QuotaStore {
    entries: BTreeMap<QuotaEntity, BTreeMap<String, f64>>,
}

impl QuotaStore {
    /// Checks `ops` against `entity` and, unless `validate_only`, applies them. Nothing is
    /// applied when one op is invalid.
    pub fn alter(
        &mut self,
        entity: &QuotaEntity,
        ops: &[QuotaOp],
        validate_only: bool,
    ) -> Result<(), (ErrorCode, String)> {
        for op in ops {
            if !valid_key(entity, &op.key) {
                return Err((
                    ErrorCode::InvalidRequest,
                    format!("Invalid configuration key {}", op.key),
                ));
            }
            if !(op.remove || op.value.is_finite() && op.value > 0.0) {
                return Err((
                    ErrorCode::InvalidRequest,
                    format!(
                        "Invalid value {} for configuration key {}",
                        op.value, op.key
                    ),
                ));
            }
        }
        if validate_only {
            return Ok(());
        }
        let values = self.entries.entry(entity.clone()).or_default();
        for op in ops {
            if op.remove {
                values.remove(&op.key);
            } else {
                values.insert(op.key.clone(), op.value);
            }
        }
        if values.is_empty() {
            self.entries.remove(entity);
        }
        Ok(())
    }

    /// The entities matching every filter `(type, match)`, where match is `Exact(name)`,
    /// `Default` or `Any`; with `strict`, an entity may have no other component types.
    pub fn describe(
        &self,
        filters: &[(String, QuotaMatch)],
        strict: bool,
    ) -> Vec<(QuotaEntity, BTreeMap<String, f64>)> {
        self.entries
            .iter()
            .filter(|(entity, _)| {
                filters.iter().all(|(t, m)| {
                    entity.iter().any(|(et, name)| {
                        et == t
                            && match m {
                                QuotaMatch::Exact(n) => name.as_deref() == Some(n.as_str()),
                                QuotaMatch::Default => name.is_none(),
                                QuotaMatch::Any => true,
                            }
                    })
                }) && (!strict || entity.len() == filters.len())
            })
            .map(|(e, v)| (e.clone(), v.clone()))
            .collect()
    }
}

/// How one component of a DescribeClientQuotas filter matches names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum QuotaMatch {
    /// Match type 0: this name.
    Exact(String),
    /// Match type 1: the default entity (null name).
    Default,
    /// Match type 2: any name, the default included.
    Any,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: Option<&str>) -> QuotaEntity {
        entity([("user".to_string(), name.map(String::from))]).unwrap()
    }

    fn set(key: &str, value: f64) -> QuotaOp {
        QuotaOp {
            key: key.into(),
            value,
            remove: false,
        }
    }

    #[test]
    fn entities_are_checked_and_sorted() {
        let e = entity([
            ("user".into(), Some("u".into())),
            ("client-id".into(), None),
        ])
        .unwrap();
        assert_eq!(e[0].0, "client-id");
        assert!(entity([]).is_err());
        assert!(entity([("host".into(), None)]).is_err());
        assert!(entity([("ip".into(), None), ("user".into(), None)]).is_err());
        assert!(entity([("user".into(), None), ("user".into(), Some("x".into()))]).is_err());
    }

    #[test]
    fn alter_checks_keys_per_entity_type_and_removes_empty_entities() {
        let mut store = QuotaStore::default();
        let alice = user(Some("alice"));
        assert!(store
            .alter(&alice, &[set("connection_creation_rate", 1.0)], false)
            .is_err());
        assert!(store
            .alter(&alice, &[set("producer_byte_rate", -1.0)], false)
            .is_err());
        store
            .alter(&alice, &[set("producer_byte_rate", 1024.0)], true)
            .unwrap();
        assert!(
            store.describe(&[], false).is_empty(),
            "validate_only stores nothing"
        );
        store
            .alter(&alice, &[set("producer_byte_rate", 1024.0)], false)
            .unwrap();
        store
            .alter(&user(None), &[set("consumer_byte_rate", 9.0)], false)
            .unwrap();
        let exact = store.describe(&[("user".into(), QuotaMatch::Exact("alice".into()))], false);
        assert_eq!(exact.len(), 1);
        assert_eq!(exact[0].1["producer_byte_rate"], 1024.0);
        assert_eq!(
            store
                .describe(&[("user".into(), QuotaMatch::Default)], false)
                .len(),
            1
        );
        assert_eq!(
            store
                .describe(&[("user".into(), QuotaMatch::Any)], true)
                .len(),
            2
        );
        assert!(store
            .describe(&[("client-id".into(), QuotaMatch::Any)], false)
            .is_empty());
        let remove = QuotaOp {
            key: "producer_byte_rate".into(),
            value: 0.0,
            remove: true,
        };
        store.alter(&alice, &[remove], false).unwrap();
        assert_eq!(
            store
                .describe(&[("user".into(), QuotaMatch::Any)], false)
                .len(),
            1
        );
    }

    #[test]
    fn strict_excludes_entities_with_more_components() {
        let mut store = QuotaStore::default();
        let both = entity([
            ("user".into(), Some("u".into())),
            ("client-id".into(), Some("c".into())),
        ])
        .unwrap();
        store
            .alter(&both, &[set("request_percentage", 50.0)], false)
            .unwrap();
        let filter = [("user".to_string(), QuotaMatch::Exact("u".into()))];
        assert_eq!(store.describe(&filter, false).len(), 1);
        assert!(store.describe(&filter, true).is_empty());
    }
}
