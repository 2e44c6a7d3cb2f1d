//! Server configuration: a TOML file whose every key can be overridden by a `BOXOFFICE_*`
//! environment variable (`BOXOFFICE_DATABASE`, `BOXOFFICE_LISTEN`, `BOXOFFICE_VISTA_ANONYMOUS_PARTNER`…).

use serde::Deserialize;

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file or an override is not valid.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub database: String,
    /// Listen address.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Venue-local UTC offset.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Minutes seats stay held without payment.
    #[serde(default = "default_hold_minutes")]
    pub hold_minutes: i64,
    /// Hours a hold lasts once the partner started collecting payment.
    #[serde(default = "default_payment_hold_hours")]
    pub payment_hold_hours: i64,
    /// Milliseconds a seat-map snapshot is served before it is re-read (changes by other
    /// processes show up within this time; changes by this process at once).
    #[serde(default = "default_snapshot_ttl_ms")]
    pub snapshot_ttl_ms: i64,
    /// Seconds between sweeps that expire unpaid holds.
    #[serde(default = "default_sweep_seconds")]
    pub sweep_interval_seconds: u64,
    /// Database connections.
    #[serde(default = "default_connections")]
    pub max_connections: u32,
    /// SQLite `synchronous`: `NORMAL` survives a process crash, `FULL` also a power loss.
    #[serde(default = "default_synchronous")]
    pub sqlite_synchronous: String,
    /// Vista Connect options.
    #[serde(default)]
    pub vista: VistaConfig,
    /// Yueke cloud options.
    #[serde(default)]
    pub yueke: YuekeConfig,
    /// 游宝星 options.
    #[serde(default)]
    pub ybx: YbxConfig,
    /// Operator API options.
    #[serde(default)]
    pub operator: OperatorConfig,
    /// Message sink options.
    #[serde(default)]
    pub messages: MessagesConfig,
}

/// Where stored messages (SMS) go besides the database.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesConfig {
    /// An SMS gateway's HTTP endpoint: every message is POSTed to it as JSON, oldest first, at
    /// least once. Unset: messages are kept in the database only (the built-in sink).
    #[serde(default)]
    pub webhook: Option<String>,
    /// Milliseconds between looks for messages to send.
    #[serde(default = "default_messages_poll_ms")]
    pub poll_ms: u64,
}

impl Default for MessagesConfig {
    fn default() -> Self {
        MessagesConfig {
            webhook: None,
            poll_ms: default_messages_poll_ms(),
        }
    }
}

fn default_messages_poll_ms() -> u64 {
    1000
}

/// 游宝星 e-ticket trading interface options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YbxConfig {
    /// GetProductsInventory quantities: `v4` (0 unlimited, -1 sold out) or `v3` (the reverse).
    #[serde(default = "default_inventory_convention")]
    pub inventory_quantity_convention: String,
    /// Milliseconds between looks at the callback outbox.
    #[serde(default = "default_outbox_poll_ms")]
    pub outbox_poll_ms: u64,
    /// Key of the payment gateway's notifications (`notify_url.aspx`); the built-in simulator
    /// signs with it.
    #[serde(default)]
    pub gateway_key: Option<String>,
    /// WeChat Pay merchant API key (`WeChatNotify.aspx`).
    #[serde(default)]
    pub wechat_key: Option<String>,
    /// WeChat Pay merchant id.
    #[serde(default)]
    pub wechat_mch_id: Option<String>,
    /// Public base URL of this server, used in payment links (`payurl`); empty: relative links.
    #[serde(default)]
    pub public_url: String,
}

impl Default for YbxConfig {
    fn default() -> Self {
        YbxConfig {
            inventory_quantity_convention: default_inventory_convention(),
            outbox_poll_ms: default_outbox_poll_ms(),
            gateway_key: None,
            wechat_key: None,
            wechat_mch_id: None,
            public_url: String::new(),
        }
    }
}

fn default_outbox_poll_ms() -> u64 {
    500
}

/// The operator HTTP API (`/ops/*`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    /// Bearer token of the operator API; unset or empty: the API is off.
    #[serde(default)]
    pub token: Option<String>,
}

fn default_inventory_convention() -> String {
    "v4".into()
}

/// Yueke cloud options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YuekeConfig {
    /// Accepted distance, in seconds, between a request's `timestamp` and the server clock.
    #[serde(default = "default_timestamp_window")]
    pub timestamp_window_seconds: i64,
    /// Minutes a seat lock lasts before its seats return to sale.
    #[serde(default = "default_lock_minutes")]
    pub lock_minutes: i64,
    /// Most seats in one lock.
    #[serde(default = "default_max_seats_per_lock")]
    pub max_seats_per_lock: usize,
}

impl Default for YuekeConfig {
    fn default() -> Self {
        YuekeConfig {
            timestamp_window_seconds: default_timestamp_window(),
            lock_minutes: default_lock_minutes(),
            max_seats_per_lock: default_max_seats_per_lock(),
        }
    }
}

fn default_timestamp_window() -> i64 {
    600
}
fn default_lock_minutes() -> i64 {
    15
}
fn default_max_seats_per_lock() -> usize {
    6
}

/// Vista Connect options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VistaConfig {
    /// Partner code that requests without a `connectapitoken` act as (unset: refuse them).
    #[serde(default)]
    pub anonymous_partner: Option<String>,
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_timezone() -> String {
    "+08:00".into()
}
fn default_hold_minutes() -> i64 {
    20
}
fn default_payment_hold_hours() -> i64 {
    24
}
fn default_snapshot_ttl_ms() -> i64 {
    1000
}
fn default_sweep_seconds() -> u64 {
    5
}
fn default_connections() -> u32 {
    16
}
fn default_synchronous() -> String {
    "NORMAL".into()
}

const SECTIONS: &[&str] = &["vista", "yueke", "ybx", "operator", "messages"];

/// Keys an environment variable may override: `BOXOFFICE_<KEY>` or `BOXOFFICE_<SECTION>_<KEY>`.
/// Other `BOXOFFICE_*` variables (test settings, for instance) are not configuration.
const KEYS: &[&str] = &[
    "database",
    "listen",
    "timezone",
    "hold_minutes",
    "payment_hold_hours",
    "snapshot_ttl_ms",
    "sweep_interval_seconds",
    "max_connections",
    "sqlite_synchronous",
    "vista_anonymous_partner",
    "yueke_timestamp_window_seconds",
    "yueke_lock_minutes",
    "yueke_max_seats_per_lock",
    "ybx_inventory_quantity_convention",
    "ybx_outbox_poll_ms",
    "ybx_gateway_key",
    "ybx_wechat_key",
    "ybx_wechat_mch_id",
    "ybx_public_url",
    "operator_token",
    "messages_webhook",
    "messages_poll_ms",
];

impl Config {
    /// A configuration with defaults for a database.
    pub fn for_database(database: &str) -> Config {
        Config::from_table(toml::Table::from_iter([(
            "database".to_string(),
            toml::Value::String(database.into()),
        )]))
        .unwrap_or_else(|_| unreachable!("defaults are valid"))
    }

    /// Loads a file, then applies `BOXOFFICE_*` overrides from `env`.
    pub fn load(
        path: &str,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        Config::parse(&text, env)
    }

    /// Parses TOML text, then applies `BOXOFFICE_*` overrides.
    pub fn parse(
        text: &str,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        for (k, v) in env {
            let Some(name) = k.strip_prefix("BOXOFFICE_") else {
                continue;
            };
            let name = name.to_ascii_lowercase();
            if !KEYS.contains(&name.as_str()) {
                continue;
            }
            let value = toml::from_str::<toml::Table>(&format!("v = {v}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(v));
            match SECTIONS.iter().find(|s| name.starts_with(&format!("{s}_"))) {
                Some(section) => {
                    let key = name[section.len() + 1..].to_string();
                    let entry = table
                        .entry(section.to_string())
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                    if let toml::Value::Table(t) = entry {
                        t.insert(key, value);
                    }
                }
                None => {
                    table.insert(name, value);
                }
            }
        }
        Config::from_table(table)
    }

    fn from_table(table: toml::Table) -> Result<Config, ConfigError> {
        let c: Config = table
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
        if boxoffice_core::clock::parse_offset(&c.timezone).is_none() {
            return Err(ConfigError::Invalid(format!(
                "timezone {:?} is not an offset like +08:00",
                c.timezone
            )));
        }
        if c.hold_minutes < 1 {
            return Err(ConfigError::Invalid(
                "hold_minutes must be at least 1".into(),
            ));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_the_file() {
        let env = vec![
            ("BOXOFFICE_LISTEN".to_string(), "0.0.0.0:9000".to_string()),
            ("BOXOFFICE_HOLD_MINUTES".to_string(), "5".to_string()),
            (
                "BOXOFFICE_VISTA_ANONYMOUS_PARTNER".to_string(),
                "demo".to_string(),
            ),
            ("OTHER".to_string(), "x".to_string()),
            ("BOXOFFICE_TEST_STORE".to_string(), "postgres".to_string()),
        ];
        let c = Config::parse(
            "database = \"sqlite://x.db\"\nhold_minutes = 30\n",
            env.into_iter(),
        )
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.hold_minutes, 5);
        assert_eq!(c.vista.anonymous_partner.as_deref(), Some("demo"));
        assert_eq!(c.timezone, "+08:00");
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(
            Config::parse("listen = \"x\"", std::iter::empty()).is_err(),
            "database is required"
        );
        assert!(Config::parse(
            "database = \"sqlite://x\"\ntimezone = \"CST\"",
            std::iter::empty()
        )
        .is_err());
        assert!(Config::parse("database = \"sqlite://x\"\nbogus = 1", std::iter::empty()).is_err());
    }
}
