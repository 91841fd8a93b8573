//! Global settings: bootstrap servers, Java-named properties from `--config` and `-X`, and the
//! client configurations built from them.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use kafka_admin::{AdminClient, AdminConfig};
use kafka_client::ClientConfig;
use kafka_consumer::ConsumerConfig;
use kafka_producer::ProducerConfig;

use crate::output::Output;
use crate::Failure;

/// What every command gets.
#[derive(Debug)]
pub struct Settings {
    pub bootstrap: String,
    /// Properties in the order given (`--config` first, then `-X`).
    pub properties: Vec<(String, String)>,
    pub output: Output,
    pub timeout: Duration,
}

/// Parses `30s`, `500ms`, `2m`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 30s or 500ms"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (ms, s, m, h)")),
    };
    if !(secs.is_finite() && secs > 0.0) {
        return Err(format!("{s:?} must be positive"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A duration as people write it.
pub fn show_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

fn parse_pair(s: &str, what: &str) -> Result<(String, String), Failure> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| Failure(format!("{what} {s:?} is not KEY=VALUE")))
}

impl Settings {
    pub fn new(
        bootstrap: &str,
        config_file: Option<&Path>,
        properties: &[String],
        output: Output,
        timeout: Duration,
    ) -> Result<Settings, Failure> {
        let mut all = Vec::new();
        if let Some(path) = config_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure(format!("--config {}: {e}", path.display())))?;
            for line in text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                    continue;
                }
                all.push(parse_pair(line, "--config line")?);
            }
        }
        for p in properties {
            all.push(parse_pair(p, "-X")?);
        }
        let mut bootstrap = bootstrap.to_string();
        if let Some((_, v)) = all.iter().rev().find(|(k, _)| k == "bootstrap.servers") {
            bootstrap = v.clone();
        }
        let settings = Settings {
            bootstrap,
            properties: all,
            output,
            timeout,
        };
        settings.check_keys()?;
        Ok(settings)
    }

    /// Every key must mean something to one of the clients: a typo is an error, not a default.
    fn check_keys(&self) -> Result<(), Failure> {
        for (k, v) in &self.properties {
            let known = ClientConfig::new("x:1").set(k, v)?
                || ProducerConfig::new("x:1").set(k, v)?
                || ConsumerConfig::new("x:1").set(k, v)?
                || k == "default.api.timeout.ms";
            if !known {
                return Err(Failure(format!("unknown config key {k}")));
            }
        }
        Ok(())
    }

    /// The client core's settings: bootstrap, client-core properties, and timeouts no longer
    /// than the command's.
    pub fn client(&self) -> Result<ClientConfig, Failure> {
        let mut c = ClientConfig::new(&self.bootstrap).with_client_id("kfk");
        c.connection_setup_timeout = c.connection_setup_timeout.min(self.timeout);
        c.request_timeout = c.request_timeout.min(self.timeout);
        for (k, v) in &self.properties {
            c.set(k, v)?;
        }
        c.bootstrap_servers = ClientConfig::new(&self.bootstrap).bootstrap_servers;
        Ok(c)
    }

    pub async fn admin(&self) -> Result<AdminClient, Failure> {
        let mut config = AdminConfig::new(&self.bootstrap).with_default_api_timeout(self.timeout);
        config.client = self.client()?;
        Ok(AdminClient::connect(config).await?)
    }

    pub fn producer_config(&self, extra: &[(&str, String)]) -> Result<ProducerConfig, Failure> {
        let mut p = ProducerConfig::new(&self.bootstrap);
        p.client = self.client()?;
        for (k, v) in self
            .properties
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(extra.iter().map(|(k, v)| (*k, v.as_str())))
        {
            p.set(k, v)?;
        }
        Ok(p)
    }

    pub fn consumer_config(&self, extra: &[(&str, String)]) -> Result<ConsumerConfig, Failure> {
        let mut c = ConsumerConfig::new(&self.bootstrap);
        c.client = self.client()?;
        for (k, v) in self
            .properties
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(extra.iter().map(|(k, v)| (*k, v.as_str())))
        {
            c.set(k, v)?;
        }
        Ok(c)
    }
}

/// `KEY=VALUE` arguments as a map.
pub fn pairs(list: &[String], what: &str) -> Result<BTreeMap<String, String>, Failure> {
    list.iter().map(|s| parse_pair(s, what)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("3 parsecs").is_err());
    }

    #[test]
    fn unknown_keys_are_refused_and_bootstrap_servers_wins() {
        let s = Settings::new(
            "a:1",
            None,
            &["acks=all".into(), "group.id=g".into()],
            Output::Table,
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(s.properties.len(), 2);
        assert!(Settings::new(
            "a:1",
            None,
            &["acks.typo=1".into()],
            Output::Table,
            Duration::from_secs(1)
        )
        .is_err());
        let s = Settings::new(
            "a:1",
            None,
            &["bootstrap.servers=b:2".into()],
            Output::Table,
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(s.bootstrap, "b:2");
    }
}
