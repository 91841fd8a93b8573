//! The admin client's errors.

use kafka_client::ClientError;
use kafka_protocol::{ApiKey, ErrorCode, VersionRange};

/// Why an admin operation, or one item of it, failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// Reaching the cluster failed (connection, timeout of one request, decoding).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The broker answered with an error code, and often a message.
    #[error("{code}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Broker {
        /// The error code.
        code: ErrorCode,
        /// The broker's explanation, if it gave one.
        message: Option<String>,
    },
    /// The operation needs an API, or a version of it, that the broker does not serve.
    #[error("{operation} needs {api:?} {needed}, but {broker}")]
    UnsupportedVersion {
        /// The admin operation.
        operation: &'static str,
        /// The API it needs.
        api: ApiKey,
        /// The versions that would do, such as "v7+".
        needed: String,
        /// What the broker serves, in words.
        broker: String,
    },
    /// The operation did not finish within its timeout (`default.api.timeout.ms`), retriable
    /// errors included; `last` is the last error seen, if any.
    #[error("{operation} timed out after {timeout_ms} ms{}", last.as_deref().map(|e| format!(" (last error: {e})")).unwrap_or_default())]
    Timeout {
        /// The admin operation.
        operation: &'static str,
        /// The timeout that passed.
        timeout_ms: u64,
        /// The last error, as text.
        last: Option<String>,
    },
    /// The arguments cannot make a valid request.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The group has members, and the operation needs it empty (resetting offsets, as
    /// `kafka-consumer-groups.sh --reset-offsets` requires).
    #[error("group {group} is {state} with {members} member(s); stop its consumers first")]
    GroupNotEmpty {
        /// The group.
        group: String,
        /// Its state.
        state: String,
        /// How many members it has.
        members: usize,
    },
    /// The broker's answer left out an item of the request.
    #[error("the broker's answer has no result for {0}")]
    MissingResult(String),
}

impl AdminError {
    /// A broker error from a code and an optional message; `None` for `ErrorCode::None`.
    pub(crate) fn from_code(code: ErrorCode, message: Option<&str>) -> Option<AdminError> {
        (code != ErrorCode::None).then(|| AdminError::Broker {
            code,
            message: message.filter(|m| !m.is_empty()).map(String::from),
        })
    }

    /// `Ok(())` for `ErrorCode::None`, else the broker error: one item's result.
    pub(crate) fn check(code: ErrorCode, message: Option<&str>) -> Result<()> {
        AdminError::from_code(code, message).map_or(Ok(()), Err)
    }

    /// Whether retrying later may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            AdminError::Client(e) => e.is_retriable(),
            AdminError::Broker { code, .. } => code.is_retriable(),
            _ => false,
        }
    }

    /// The broker error code, if this is one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            AdminError::Broker { code, .. } => Some(*code),
            AdminError::Client(ClientError::Broker(code)) => Some(*code),
            _ => None,
        }
    }

    /// Turns the core's unsupported-version error into one naming the operation.
    pub(crate) fn for_operation(self, operation: &'static str) -> AdminError {
        match self {
            AdminError::Client(ClientError::UnsupportedVersion {
                api, ours, broker, ..
            }) => AdminError::UnsupportedVersion {
                operation,
                api,
                needed: format!("v{}-{}", ours.min, ours.max),
                broker: describe_range(broker),
            },
            other => other,
        }
    }
}

/// What a broker serves of an API, in words.
pub(crate) fn describe_range(range: Option<VersionRange>) -> String {
    match range {
        Some(r) => format!("the broker serves only v{}-{}", r.min, r.max),
        None => "the broker does not serve it".to_string(),
    }
}

/// The admin client's result type.
pub type Result<T, E = AdminError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broker_too_old_is_named_with_the_api_and_both_version_ranges() {
        let old = |broker| {
            AdminError::from(ClientError::UnsupportedVersion {
                api: ApiKey::ElectLeaders,
                addr: "127.0.0.1:9092".into(),
                ours: VersionRange { min: 0, max: 2 },
                broker,
            })
        };
        let absent = old(None).for_operation("elect_leaders").to_string();
        assert_eq!(
            absent,
            "elect_leaders needs ElectLeaders v0-2, but the broker does not serve it"
        );
        let older = old(Some(VersionRange { min: 3, max: 4 })).for_operation("elect_leaders");
        assert_eq!(
            older.to_string(),
            "elect_leaders needs ElectLeaders v0-2, but the broker serves only v3-4"
        );
        assert!(!older.is_retriable());
        // The core's own message names the broker too.
        let core = ClientError::UnsupportedVersion {
            api: ApiKey::ElectLeaders,
            addr: "b:9092".into(),
            ours: VersionRange { min: 0, max: 2 },
            broker: None,
        };
        assert_eq!(
            core.to_string(),
            "broker b:9092 does not serve ElectLeaders (key 43); this client speaks versions 0-2"
        );
    }
}
