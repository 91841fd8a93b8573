//! Feature flags (KIP-584): what the broker supports, what is finalized, and UpdateFeatures.
//!
//! The bundled broker supports two features:
//! - `metadata.version`, the level of the KRaft metadata format every Kafka 3.3+ cluster
//!   finalizes. It gates nothing a client does; it gives DescribeFeatures and UpdateFeatures
//!   something real to report and refuse.
//! - `transaction.version` (KIP-890 part 2), finalized at 2 as in a new Kafka 4 cluster:
//!   clients that know transactions v2 (Java 4.x) then let the partition leader add
//!   partitions to the transaction (Produce v12+), let TxnOffsetCommit v5+ add the group, and
//!   take the new epoch every EndTxn v5+ hands out. Finalizing it at 1 or 0 (UpdateFeatures)
//!   brings transactions v1 back.
//!
//! `group.version` (KIP-848) is not advertised: the bundled broker serves the classic group
//! protocol only.

use std::collections::BTreeMap;

use kafka_protocol::ErrorCode;

/// `metadata.version`'s lowest level (3.3-IV3, the first KRaft production level).
pub(crate) const METADATA_VERSION_MIN: i16 = 7;
/// `metadata.version`'s highest level here: what Kafka 4.4 supports, the release the conformance
/// suite compares with.
pub(crate) const METADATA_VERSION_MAX: i16 = 33;

/// Every supported feature: name, lowest and highest level.
pub(crate) const SUPPORTED: &[(&str, i16, i16)] = &[
    (
        "metadata.version",
        METADATA_VERSION_MIN,
        METADATA_VERSION_MAX,
    ),
    ("transaction.version", 0, TRANSACTION_VERSION_MAX),
];

/// `transaction.version`'s highest level: 2, transactions v2 (KIP-890 part 2).
pub(crate) const TRANSACTION_VERSION_MAX: i16 = 2;

/// How an update may move a level (UpdateFeatures v1+, KIP-778).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpgradeType {
    /// 1: only up.
    Upgrade,
    /// 2: down, keeping metadata.
    SafeDowngrade,
    /// 3: down, possibly losing metadata.
    UnsafeDowngrade,
}

impl UpgradeType {
    /// The wire value's meaning; unknown values are refused by the caller.
    pub fn from_i8(v: i8) -> Option<UpgradeType> {
        match v {
            1 => Some(UpgradeType::Upgrade),
            2 => Some(UpgradeType::SafeDowngrade),
            3 => Some(UpgradeType::UnsafeDowngrade),
            _ => None,
        }
    }
}

/// The finalized levels and the epoch they were last changed at.
#[derive(Debug, Clone)]
pub(crate) struct Features {
    finalized: BTreeMap<String, i16>,
    epoch: i64,
}

impl Default for Features {
    fn default() -> Self {
        Features {
            finalized: BTreeMap::from([
                ("metadata.version".to_string(), METADATA_VERSION_MAX),
                ("transaction.version".to_string(), TRANSACTION_VERSION_MAX),
            ]),
            epoch: 1,
        }
    }
}

impl Features {
    /// The finalized levels.
    pub fn finalized(&self) -> &BTreeMap<String, i16> {
        &self.finalized
    }

    /// Whether transactions v2 is on (`transaction.version` finalized at 2 or more).
    pub fn transactions_v2(&self) -> bool {
        self.finalized
            .get("transaction.version")
            .is_some_and(|level| *level >= 2)
    }

    /// The epoch of the finalized levels (bumped by every applied update).
    pub fn epoch(&self) -> i64 {
        self.epoch
    }

    /// Applies `updates` (feature, level, how) all or nothing: each gets its own verdict, and
    /// nothing changes unless every one is valid (or when `validate_only`).
    pub fn update(
        &mut self,
        updates: &[(String, i16, UpgradeType)],
        validate_only: bool,
    ) -> Vec<Result<(), (ErrorCode, String)>> {
        let verdicts: Vec<_> = updates
            .iter()
            .map(|(name, level, how)| self.check(name, *level, *how))
            .collect();
        if !validate_only && verdicts.iter().all(Result::is_ok) {
            let mut changed = false;
            for (name, level, _) in updates {
                // Level 0 removes a feature from the finalized set, as in Kafka.
                let before = if *level == 0 {
                    self.finalized.remove(name)
                } else {
                    self.finalized.insert(name.clone(), *level)
                };
                if before != Some(*level) && !(*level == 0 && before.is_none()) {
                    changed = true;
                }
            }
            if changed {
                self.epoch = self.epoch.saturating_add(1);
            }
        }
        verdicts
    }

    fn check(&self, name: &str, level: i16, how: UpgradeType) -> Result<(), (ErrorCode, String)> {
        let invalid = |why: String| {
            Err((
                ErrorCode::InvalidUpdateVersion,
                format!("Invalid update version {level} for feature {name}. {why}"),
            ))
        };
        let Some((_, min, max)) = SUPPORTED.iter().find(|(n, _, _)| *n == name) else {
            return invalid("The controller does not support the given feature.".into());
        };
        if level < *min || level > *max {
            return invalid(format!("Local controller supports versions {min}-{max}."));
        }
        let current = self.finalized.get(name).copied().unwrap_or(0);
        if level < current {
            if how == UpgradeType::Upgrade {
                return invalid("Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.".into());
            }
            if name == "metadata.version" {
                return invalid("Downgrading metadata.version is not supported.".into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_are_checked_and_applied_all_or_nothing() {
        let mut f = Features::default();
        let mv = "metadata.version".to_string();
        let same = f.update(
            &[(mv.clone(), METADATA_VERSION_MAX, UpgradeType::Upgrade)],
            false,
        );
        assert!(same[0].is_ok());
        assert_eq!(
            f.epoch(),
            1,
            "an update to the finalized level changes nothing"
        );
        let down = f.update(
            &[(mv.clone(), METADATA_VERSION_MIN, UpgradeType::Upgrade)],
            false,
        );
        assert_eq!(
            down[0].as_ref().unwrap_err().0,
            ErrorCode::InvalidUpdateVersion
        );
        let mixed = f.update(
            &[
                (mv.clone(), METADATA_VERSION_MAX, UpgradeType::Upgrade),
                ("no.such.feature".into(), 1, UpgradeType::Upgrade),
            ],
            false,
        );
        assert!(mixed[0].is_ok() && mixed[1].is_err());
        let above = f.update(
            &[(mv.clone(), METADATA_VERSION_MAX + 1, UpgradeType::Upgrade)],
            false,
        );
        assert!(above[0].is_err());
        assert_eq!(f.finalized()[&mv], METADATA_VERSION_MAX);
    }
}
