//! Client configuration: a typed builder, or string properties with the Java client's names.
//!
//! Defaults are the Java client's (Kafka 4.x `CommonClientConfigs` / `ProducerConfig`), so a
//! properties file written for a Java application means the same thing here.

use std::time::Duration;

use crate::error::{ClientError, Result};

/// Settings every client (producer, consumer, admin) shares.
///
/// ```
/// use std::time::Duration;
/// use kafka_client::ClientConfig;
///
/// let config = ClientConfig::new("127.0.0.1:9092").with_client_id("billing");
/// assert_eq!(config.request_timeout, Duration::from_secs(30));
///
/// let from_props = ClientConfig::from_properties([
///     ("bootstrap.servers", "a:9092,b:9092"),
///     ("request.timeout.ms", "5000"),
/// ])
/// .unwrap();
/// assert_eq!(from_props.bootstrap_servers.len(), 2);
/// assert!(ClientConfig::from_properties([("request.timeout.ms", "soon")]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// `bootstrap.servers`: `host:port` addresses to discover the cluster from.
    pub bootstrap_servers: Vec<String>,
    /// `client.id`: sent in every request header, for broker logs and quotas.
    pub client_id: String,
    /// `request.timeout.ms` (30 s): how long to wait for a response.
    pub request_timeout: Duration,
    /// `metadata.max.age.ms` (5 min): refresh metadata at least this often.
    pub metadata_max_age: Duration,
    /// `reconnect.backoff.ms` (50 ms): first wait before reconnecting to a broker.
    pub reconnect_backoff: Duration,
    /// `reconnect.backoff.max.ms` (1 s): the longest wait between reconnects.
    pub reconnect_backoff_max: Duration,
    /// `retry.backoff.ms` (100 ms): first wait before retrying a failed request.
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms` (1 s): the longest wait between retries.
    pub retry_backoff_max: Duration,
    /// `connections.max.idle.ms` (9 min): close a connection idle this long.
    pub connections_max_idle: Duration,
    /// `socket.connection.setup.timeout.ms` (10 s): how long a TCP connect may take.
    pub connection_setup_timeout: Duration,
    /// `max.in.flight.requests.per.connection` (5).
    pub max_in_flight_requests_per_connection: usize,
    /// `security.protocol` and SASL settings (secrets redacted from `Debug`).
    pub security: crate::security::SecurityConfig,
}

impl ClientConfig {
    /// Java's defaults, with `bootstrap` as `bootstrap.servers` (comma-separated).
    pub fn new(bootstrap: &str) -> ClientConfig {
        ClientConfig {
            bootstrap_servers: split_list(bootstrap),
            client_id: String::new(),
            request_timeout: Duration::from_millis(30_000),
            metadata_max_age: Duration::from_millis(300_000),
            reconnect_backoff: Duration::from_millis(50),
            reconnect_backoff_max: Duration::from_millis(1_000),
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_millis(1_000),
            connections_max_idle: Duration::from_millis(540_000),
            connection_setup_timeout: Duration::from_millis(10_000),
            max_in_flight_requests_per_connection: 5,
            security: crate::security::SecurityConfig::default(),
        }
    }

    /// Sets `client.id`.
    pub fn with_client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = id.into();
        self
    }

    /// Sets `request.timeout.ms`.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets `metadata.max.age.ms`.
    pub fn with_metadata_max_age(mut self, age: Duration) -> Self {
        self.metadata_max_age = age;
        self
    }

    /// Sets `reconnect.backoff.ms` and `reconnect.backoff.max.ms`.
    pub fn with_reconnect_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.reconnect_backoff = first;
        self.reconnect_backoff_max = max;
        self
    }

    /// Sets `retry.backoff.ms` and `retry.backoff.max.ms`.
    pub fn with_retry_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.retry_backoff = first;
        self.retry_backoff_max = max;
        self
    }

    /// Sets `connections.max.idle.ms`.
    pub fn with_connections_max_idle(mut self, idle: Duration) -> Self {
        self.connections_max_idle = idle;
        self
    }

    /// Sets `max.in.flight.requests.per.connection`.
    pub fn with_max_in_flight_requests_per_connection(mut self, n: usize) -> Self {
        self.max_in_flight_requests_per_connection = n;
        self
    }

    /// Builds a configuration from Java-style properties. Unknown keys are errors: a typo must
    /// not silently fall back to a default.
    pub fn from_properties<'a>(
        props: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ClientConfig> {
        let mut config = ClientConfig::new("");
        for (key, value) in props {
            if !config.set(key, value)? {
                return Err(unknown(key));
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// Applies one property; `Ok(false)` when the key is not a client-core key (the producer,
    /// consumer and admin configurations try their own keys first and then this).
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool> {
        match key {
            "bootstrap.servers" => self.bootstrap_servers = split_list(value),
            "client.id" => self.client_id = value.to_string(),
            "request.timeout.ms" => self.request_timeout = parse_ms(key, value)?,
            "metadata.max.age.ms" => self.metadata_max_age = parse_ms(key, value)?,
            "reconnect.backoff.ms" => self.reconnect_backoff = parse_ms(key, value)?,
            "reconnect.backoff.max.ms" => self.reconnect_backoff_max = parse_ms(key, value)?,
            "retry.backoff.ms" => self.retry_backoff = parse_ms(key, value)?,
            "retry.backoff.max.ms" => self.retry_backoff_max = parse_ms(key, value)?,
            "connections.max.idle.ms" => self.connections_max_idle = parse_ms(key, value)?,
            "socket.connection.setup.timeout.ms" => {
                self.connection_setup_timeout = parse_ms(key, value)?
            }
            "max.in.flight.requests.per.connection" => {
                self.max_in_flight_requests_per_connection = parse_int(key, value, 1, 1_000)?
            }
            _ => return self.security.set(key, value),
        }
        Ok(true)
    }

    /// Checks what no single key can: at least one bootstrap address, each `host:port`.
    pub fn validate(&self) -> Result<()> {
        if self.bootstrap_servers.is_empty() {
            return Err(invalid(
                "bootstrap.servers",
                "at least one host:port is needed",
            ));
        }
        for addr in &self.bootstrap_servers {
            let port = addr.rsplit_once(':').map(|(_, p)| p.parse::<u16>());
            if !matches!(port, Some(Ok(_))) {
                return Err(invalid(
                    "bootstrap.servers",
                    &format!("{addr:?} is not host:port"),
                ));
            }
        }
        self.security.validate()
    }
}

/// The error for a key no configuration knows.
pub fn unknown(key: &str) -> ClientError {
    ClientError::Config {
        key: key.to_string(),
        reason: "unknown configuration key".to_string(),
    }
}

/// The error for a malformed value.
pub fn invalid(key: &str, reason: &str) -> ClientError {
    ClientError::Config {
        key: key.to_string(),
        reason: reason.to_string(),
    }
}

/// A duration in milliseconds (a non-negative integer).
pub fn parse_ms(key: &str, value: &str) -> Result<Duration> {
    parse_int::<u64>(key, value, 0, u64::from(u32::MAX) * 1_000).map(Duration::from_millis)
}

/// An integer within `min..=max`.
pub fn parse_int<T>(key: &str, value: &str, min: T, max: T) -> Result<T>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let n: T = value
        .trim()
        .parse()
        .map_err(|_| invalid(key, &format!("{value:?} is not an integer")))?;
    if n < min || n > max {
        return Err(invalid(key, &format!("{n} is outside {min}..={max}")));
    }
    Ok(n)
}

/// `true` or `false`, as Java spells them.
pub fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(invalid(key, &format!("{other:?} is not true or false"))),
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_name_the_bad_key() {
        let err = ClientConfig::from_properties([("bootstrap.servers", "a:1"), ("linger", "5")])
            .unwrap_err();
        assert!(err.to_string().contains("`linger`"), "{err}");
        let err = ClientConfig::from_properties([
            ("bootstrap.servers", "a:1"),
            ("max.in.flight.requests.per.connection", "0"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("outside 1..=1000"), "{err}");
        let err = ClientConfig::from_properties([("bootstrap.servers", "nohost")]).unwrap_err();
        assert!(err.to_string().contains("not host:port"), "{err}");
    }

    #[test]
    fn defaults_are_javas() {
        let c = ClientConfig::new("h:9092");
        assert_eq!(c.metadata_max_age, Duration::from_secs(300));
        assert_eq!(c.reconnect_backoff, Duration::from_millis(50));
        assert_eq!(c.retry_backoff, Duration::from_millis(100));
        assert_eq!(c.connections_max_idle, Duration::from_secs(540));
        assert_eq!(c.max_in_flight_requests_per_connection, 5);
    }
}
