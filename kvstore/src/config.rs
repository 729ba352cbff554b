//! Test configurations: the JSON files of CS3700's suite (`configs/*.json`,
//! built into the binary so `kvstore-sim all` works from anywhere) and their
//! validation.
//!
//! Keys and defaults are Gen D's. Unknown keys are ignored, as the original
//! simulator does: five configs put `maximum_get_generation_fail_fraction` at
//! the top level, where it has no effect (the 0.1 default of `tests` applies).
//! `description` is ours: the line `all` prints for the config.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The 17 configs in the order `all` runs them, with their JSON text.
pub const BUILTIN: [(&str, &str); 17] = [
    ("simple-1", include_str!("../configs/simple-1.json")),
    ("simple-2", include_str!("../configs/simple-2.json")),
    ("unreliable-1", include_str!("../configs/unreliable-1.json")),
    ("unreliable-2", include_str!("../configs/unreliable-2.json")),
    ("unreliable-3", include_str!("../configs/unreliable-3.json")),
    ("crash-1", include_str!("../configs/crash-1.json")),
    ("crash-2", include_str!("../configs/crash-2.json")),
    ("crash-3", include_str!("../configs/crash-3.json")),
    ("crash-4", include_str!("../configs/crash-4.json")),
    ("partition-1", include_str!("../configs/partition-1.json")),
    ("partition-2", include_str!("../configs/partition-2.json")),
    ("partition-3", include_str!("../configs/partition-3.json")),
    ("partition-4", include_str!("../configs/partition-4.json")),
    ("advanced-1", include_str!("../configs/advanced-1.json")),
    ("advanced-2", include_str!("../configs/advanced-2.json")),
    ("advanced-3", include_str!("../configs/advanced-3.json")),
    ("advanced-4", include_str!("../configs/advanced-4.json")),
];

/// One scheduled fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    KillLeader,
    KillNonLeader,
    PartEasy,
    PartHard,
    PartEnd,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// Seconds after the first request may go out (t0).
    pub time: f64,
}

/// A metric's tier bounds `[bonus, full, partial]` (strict `<`).
pub type Tiers = [f64; 3];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Benchmarks {
    pub total_msgs: Tiers,
    pub failures: Tiers,
    pub duplicates: Tiers,
    pub median_latency: Tiers,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tests {
    pub benchmarks: Benchmarks,
    #[serde(default = "half")]
    pub maximum_get_fail_fraction: f64,
    #[serde(default = "half")]
    pub maximum_put_fail_fraction: f64,
    #[serde(default = "tenth")]
    pub maximum_get_generation_fail_fraction: f64,
    #[serde(default = "half")]
    pub maximum_appends_batched_fraction: f64,
}

fn half() -> f64 {
    0.5
}
fn tenth() -> f64 {
    0.1
}
fn default_mix() -> f64 {
    0.8
}
fn default_start_wait() -> f64 {
    5.0
}
fn default_end_wait() -> f64 {
    2.0
}
fn default_max_packets() -> u64 {
    20_000
}

/// One test configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Seconds during which requests are issued.
    pub lifetime: f64,
    pub replicas: usize,
    pub requests: usize,
    #[serde(default = "default_mix")]
    pub mix: f64,
    #[serde(default = "default_start_wait")]
    pub start_wait: f64,
    #[serde(default = "default_end_wait")]
    pub end_wait: f64,
    #[serde(default)]
    pub drops: f64,
    #[serde(default = "default_max_packets")]
    pub max_packets: u64,
    #[serde(default)]
    pub events: Vec<Event>,
    /// A seed in the file is used when the command line gives none.
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub description: String,
    pub tests: Tests,
}

/// Why a config cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{name}: not a valid config: {source}")]
    Parse {
        name: String,
        source: serde_json::Error,
    },
    #[error("{name}: {what}")]
    Invalid { name: String, what: String },
}

impl Config {
    /// Parses and validates a config's JSON text; `name` is for messages.
    pub fn from_json(name: &str, text: &str) -> Result<Config, ConfigError> {
        let config: Config = serde_json::from_str(text).map_err(|source| ConfigError::Parse {
            name: name.to_owned(),
            source,
        })?;
        config.validate().map_err(|what| ConfigError::Invalid {
            name: name.to_owned(),
            what,
        })?;
        Ok(config)
    }

    /// A built-in config by name (`simple-1`, …).
    pub fn builtin(name: &str) -> Option<Config> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, text)| Config::from_json(n, text).expect("built-in configs are valid"))
    }

    /// A config file, or a built-in name if no such file exists.
    pub fn load(arg: &str) -> Result<(String, Config), ConfigError> {
        let path = Path::new(arg);
        if path.exists() {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: arg.to_owned(),
                source,
            })?;
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| arg.to_owned());
            return Ok((name.clone(), Config::from_json(&name, &text)?));
        }
        let name = arg.trim_end_matches(".json");
        let name = name.rsplit('/').next().unwrap_or(name);
        match Config::builtin(name) {
            Some(config) => Ok((name.to_owned(), config)),
            None => Err(ConfigError::Read {
                path: arg.to_owned(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file and not a built-in config name",
                ),
            }),
        }
    }

    fn validate(&self) -> Result<(), String> {
        let fraction = |name: &str, x: f64| {
            if (0.0..=1.0).contains(&x) {
                Ok(())
            } else {
                Err(format!("{name} must be within 0..1, is {x}"))
            }
        };
        if self.lifetime < 5.0 || self.lifetime.fract() != 0.0 {
            return Err(format!(
                "lifetime must be a whole number >= 5, is {}",
                self.lifetime
            ));
        }
        if !(3..=21).contains(&self.replicas) {
            return Err(format!("replicas must be 3..21, is {}", self.replicas));
        }
        fraction("mix", self.mix)?;
        fraction("drops", self.drops)?;
        for (name, wait) in [("start_wait", self.start_wait), ("end_wait", self.end_wait)] {
            if !(0.0..=self.lifetime).contains(&wait) {
                return Err(format!("{name} must be within 0..lifetime, is {wait}"));
            }
        }
        if self.max_packets < self.requests as u64 || self.max_packets > 900_000 {
            return Err(format!(
                "max_packets must be within requests..900000, is {}",
                self.max_packets
            ));
        }
        for event in &self.events {
            if !(0.0..=self.lifetime).contains(&event.time) {
                return Err(format!(
                    "event {:?} at {} s is outside 0..lifetime",
                    event.kind, event.time
                ));
            }
        }
        let t = &self.tests;
        fraction("maximum_get_fail_fraction", t.maximum_get_fail_fraction)?;
        fraction("maximum_put_fail_fraction", t.maximum_put_fail_fraction)?;
        fraction(
            "maximum_get_generation_fail_fraction",
            t.maximum_get_generation_fail_fraction,
        )?;
        fraction(
            "maximum_appends_batched_fraction",
            t.maximum_appends_batched_fraction,
        )?;
        Ok(())
    }

    /// When the first request may go out, from the start of the run.
    pub fn t0(&self) -> Duration {
        Duration::from_secs_f64(self.start_wait)
    }

    /// When the run ends, from its start.
    pub fn end(&self) -> Duration {
        Duration::from_secs_f64(self.start_wait + self.lifetime + self.end_wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_builtin_configs_parse_with_the_spec_values() {
        for (name, _) in BUILTIN {
            let config = Config::builtin(name).expect("exists");
            assert_eq!(config.replicas, 5, "{name}");
            assert_eq!(config.lifetime, 30.0, "{name}");
            assert!(!config.description.is_empty(), "{name}");
        }
        let a3 = Config::builtin("advanced-3").expect("exists");
        assert_eq!((a3.requests, a3.drops, a3.end_wait), (200, 0.3, 10.0));
        // The top-level override is ignored: the default bound applies.
        assert_eq!(a3.tests.maximum_get_generation_fail_fraction, 0.1);
        assert_eq!(a3.tests.benchmarks.median_latency, [0.0002, 0.005, 0.1]);
    }

    #[test]
    fn invalid_configs_are_refused_with_a_reason() {
        let bad = r#"{"lifetime": 3, "replicas": 5, "requests": 10,
            "tests": {"benchmarks": {"total_msgs": [1,2,3], "failures": [1,2,3],
            "duplicates": [1,2,3], "median_latency": [1,2,3]}}}"#;
        let err = Config::from_json("bad", bad).expect_err("lifetime < 5");
        assert!(err.to_string().contains("lifetime"), "{err}");
        assert!(Config::from_json("x", "{}").is_err());
    }
}
