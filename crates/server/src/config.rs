//! Server configuration: a TOML file whose every key can be overridden by a `BOXOFFICE_*`
//! environment variable (`BOXOFFICE_DATABASE`, `BOXOFFICE_LISTEN`, `BOXOFFICE_VISTA_ANONYMOUS_PARTNER`…).
//!
//! Values are checked when the configuration is read (each refusal names its key); what a
//! feature needs to run (its secrets) is checked when the server opens ([`Config::ybx_payments`]).
//! Secrets are [`SecretString`]s: they are never printed (`Debug` shows them redacted).

use boxoffice_ybx::{GatewayKeys, Payments, WeChatMerchant};
use secrecy::SecretString;
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
    /// A key's value is not valid.
    #[error("invalid configuration: {key}: {reason}")]
    Key {
        /// The key (`section.key`).
        key: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// An enabled feature lacks a key it needs (a secret, for instance).
    #[error("invalid configuration: {key} is required when {feature}")]
    Missing {
        /// The missing key (`section.key`).
        key: &'static str,
        /// The feature that needs it.
        feature: &'static str,
    },
}

impl ConfigError {
    fn key(key: &'static str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Key {
            key,
            reason: reason.into(),
        }
    }
}

/// Something in a configuration that is accepted but deserves the operator's attention.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigWarning {
    /// A `BOXOFFICE_*` environment variable that is no configuration key (a typo, probably).
    #[error("environment variable {0} is not a configuration key; it is ignored")]
    UnknownVariable(String),
    /// A key kept for compatibility.
    #[error("{old} is deprecated; use {new}")]
    Deprecated {
        /// The old key.
        old: &'static str,
        /// The key to use instead.
        new: &'static str,
    },
}

/// SQLite `synchronous` level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum SqliteSynchronous {
    /// Survives a process crash.
    #[default]
    #[serde(rename = "NORMAL", alias = "normal")]
    Normal,
    /// Also survives a power loss (slower).
    #[serde(rename = "FULL", alias = "full")]
    Full,
    /// `FULL` plus a sync of the directory after deleting a journal.
    #[serde(rename = "EXTRA", alias = "extra")]
    Extra,
}

impl SqliteSynchronous {
    /// The PRAGMA value.
    pub fn as_str(self) -> &'static str {
        match self {
            SqliteSynchronous::Normal => "NORMAL",
            SqliteSynchronous::Full => "FULL",
            SqliteSynchronous::Extra => "EXTRA",
        }
    }
}

/// An absolute `http`/`https` base URL without query or fragment, kept without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PublicUrl(String);

impl TryFrom<String> for PublicUrl {
    type Error = String;
    fn try_from(text: String) -> Result<PublicUrl, String> {
        let url = reqwest::Url::parse(text.trim())
            .map_err(|e| format!("{text:?} is not an absolute URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!("{text:?} is not an http(s) URL with a host"));
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(format!(
                "{text:?} must be a base URL, without user, query or fragment"
            ));
        }
        Ok(PublicUrl(url.as_str().trim_end_matches('/').to_string()))
    }
}

impl PublicUrl {
    /// The base URL of a listen address (`0.0.0.0`/`[::]` become the loopback address; a
    /// host name is kept).
    pub fn of_listen(listen: &str) -> Result<PublicUrl, ConfigError> {
        let Ok(addr) = listen.parse::<std::net::SocketAddr>() else {
            return PublicUrl::try_from(format!("http://{listen}"))
                .map_err(|reason| ConfigError::key("listen", reason));
        };
        let ip = match addr.ip() {
            std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
            ip => ip,
        };
        PublicUrl::try_from(format!(
            "http://{}",
            std::net::SocketAddr::new(ip, addr.port())
        ))
        .map_err(|reason| ConfigError::key("listen", reason))
    }
    /// The URL, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
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
    /// Sandbox features on: the 游宝星 payment simulator (`/ybx/paysim/*`) and the built-in test
    /// keys. Off unless configured; `boxoffice demo` and the test harness turn it on.
    #[serde(default)]
    pub sandbox: bool,
    /// This server's public base URL (`https://tickets.example.com`): payment links, and where
    /// the payment simulator sends its notifications. Unset: relative payment links, and the
    /// simulator sends to the listen address. Never taken from a request.
    #[serde(default)]
    pub public_url: Option<PublicUrl>,
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
    #[serde(default)]
    pub sqlite_synchronous: SqliteSynchronous,
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

/// Which instant-payment gateway takes 游宝星 payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentGatewayKind {
    /// None: no payment channel is offered and the notification pages refuse everything.
    None,
    /// The built-in payment simulator (a sandbox feature).
    Simulator,
    /// A payment platform outside this server (`payment_url`, `gateway_key`).
    External,
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
    /// The instant-payment gateway; unset: `simulator` in the sandbox, `none` otherwise.
    #[serde(default)]
    pub payment_gateway: Option<PaymentGatewayKind>,
    /// Payment link template of the `external` gateway (`{out_trade_no}`, `{order_id}`,
    /// `{total}`, `{channel}` are replaced).
    #[serde(default)]
    pub payment_url: Option<String>,
    /// Key of the payment gateway's notifications (`notify_url.aspx`); the built-in simulator
    /// signs with it. Required by the `external` gateway; the simulator has a test key.
    #[serde(default)]
    pub gateway_key: Option<SecretString>,
    /// WeChat Pay merchant API key (`WeChatNotify.aspx`); with `wechat_mch_id`.
    #[serde(default)]
    pub wechat_key: Option<SecretString>,
    /// WeChat Pay merchant id; with `wechat_key`.
    #[serde(default)]
    pub wechat_mch_id: Option<String>,
    /// Deprecated alias of the top-level `public_url`.
    #[serde(default)]
    pub public_url: Option<PublicUrl>,
}

impl Default for YbxConfig {
    fn default() -> Self {
        YbxConfig {
            inventory_quantity_convention: default_inventory_convention(),
            outbox_poll_ms: default_outbox_poll_ms(),
            payment_gateway: None,
            payment_url: None,
            gateway_key: None,
            wechat_key: None,
            wechat_mch_id: None,
            public_url: None,
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
    pub token: Option<SecretString>,
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

const SECTIONS: &[&str] = &["vista", "yueke", "ybx", "operator", "messages"];

/// Keys an environment variable may override: `BOXOFFICE_<KEY>` or `BOXOFFICE_<SECTION>_<KEY>`.
/// Other `BOXOFFICE_*` variables (test settings, for instance) are not configuration.
const KEYS: &[&str] = &[
    "database",
    "listen",
    "timezone",
    "sandbox",
    "public_url",
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
    "ybx_payment_gateway",
    "ybx_payment_url",
    "ybx_gateway_key",
    "ybx_wechat_key",
    "ybx_wechat_mch_id",
    "ybx_public_url",
    "operator_token",
    "messages_webhook",
    "messages_poll_ms",
];

/// `BOXOFFICE_*` variables that are not configuration but are known: the test harness's and the
/// benchmark's own settings (`BOXOFFICE_BENCH_*`).
const OTHER_VARIABLES: &[&str] = &["test_store", "test_pg"];
const OTHER_PREFIXES: &[&str] = &["bench_"];

/// What [`Config::parse`] and [`Config::load`] answer: the configuration and the warnings
/// the caller should log.
pub type Loaded = (Config, Vec<ConfigWarning>);

impl Config {
    /// A configuration with defaults for a database.
    pub fn for_database(database: &str) -> Config {
        Config::from_table(toml::Table::from_iter([(
            "database".to_string(),
            toml::Value::String(database.into()),
        )]))
        .map(|(c, _)| c)
        .unwrap_or_else(|_| unreachable!("defaults are valid"))
    }

    /// Loads a file, then applies `BOXOFFICE_*` overrides from `env`.
    pub fn load(
        path: &str,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Loaded, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        Config::parse(&text, env)
    }

    /// Parses TOML text, then applies `BOXOFFICE_*` overrides; answers the configuration and
    /// warnings (unknown `BOXOFFICE_*` variables, deprecated keys) for the caller to log.
    pub fn parse(
        text: &str,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Loaded, ConfigError> {
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let mut warnings = Vec::new();
        for (k, v) in env {
            let Some(name) = k.strip_prefix("BOXOFFICE_") else {
                continue;
            };
            let name = name.to_ascii_lowercase();
            if !KEYS.contains(&name.as_str()) {
                let known = OTHER_VARIABLES.contains(&name.as_str())
                    || OTHER_PREFIXES.iter().any(|p| name.starts_with(p));
                if !known {
                    warnings.push(ConfigWarning::UnknownVariable(k.clone()));
                }
                continue;
            }
            override_key(&mut table, &name, v);
        }
        let (config, more) = Config::from_table(table)?;
        warnings.extend(more);
        Ok((config, warnings))
    }

    fn from_table(table: toml::Table) -> Result<Loaded, ConfigError> {
        let mut c: Config = table.try_into().map_err(|e: toml::de::Error| invalid(&e))?;
        let mut warnings = Vec::new();
        if let Some(old) = c.ybx.public_url.take() {
            warnings.push(ConfigWarning::Deprecated {
                old: "ybx.public_url",
                new: "public_url",
            });
            match &c.public_url {
                Some(new) if *new != old => {
                    return Err(ConfigError::key(
                        "ybx.public_url",
                        "differs from public_url; set public_url only",
                    ))
                }
                _ => c.public_url = Some(old),
            }
        }
        c.validate()?;
        Ok((c, warnings))
    }

    /// Refuses values out of range, naming their key.
    fn validate(&self) -> Result<(), ConfigError> {
        if boxoffice_core::clock::parse_offset(&self.timezone).is_none() {
            return Err(ConfigError::key(
                "timezone",
                format!("{:?} is not an offset like +08:00", self.timezone),
            ));
        }
        let positive: [(&'static str, i128); 10] = [
            ("hold_minutes", self.hold_minutes.into()),
            ("payment_hold_hours", self.payment_hold_hours.into()),
            ("snapshot_ttl_ms", self.snapshot_ttl_ms.into()),
            ("sweep_interval_seconds", self.sweep_interval_seconds.into()),
            ("max_connections", self.max_connections.into()),
            (
                "yueke.timestamp_window_seconds",
                self.yueke.timestamp_window_seconds.into(),
            ),
            ("yueke.lock_minutes", self.yueke.lock_minutes.into()),
            (
                "yueke.max_seats_per_lock",
                i128::try_from(self.yueke.max_seats_per_lock).unwrap_or(i128::MAX),
            ),
            ("ybx.outbox_poll_ms", self.ybx.outbox_poll_ms.into()),
            ("messages.poll_ms", self.messages.poll_ms.into()),
        ];
        if let Some((key, value)) = positive.iter().find(|(_, v)| *v < 1) {
            return Err(ConfigError::key(key, format!("{value} is not positive")));
        }
        if !matches!(
            self.ybx.inventory_quantity_convention.as_str(),
            "v3" | "v4" | "V3" | "V4"
        ) {
            return Err(ConfigError::key(
                "ybx.inventory_quantity_convention",
                format!(
                    "{:?} is neither \"v4\" nor \"v3\"",
                    self.ybx.inventory_quantity_convention
                ),
            ));
        }
        if let Some(url) = &self.ybx.payment_url {
            let example = url
                .replace("{out_trade_no}", "T")
                .replace("{order_id}", "O")
                .replace("{total}", "1.00")
                .replace("{channel}", "01");
            let parsed = reqwest::Url::parse(&example);
            if !parsed.is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                return Err(ConfigError::key(
                    "ybx.payment_url",
                    format!("{url:?} is not an http(s) URL"),
                ));
            }
        }
        Ok(())
    }

    /// How 游宝星 instant payments are taken, or why this configuration cannot start: the
    /// simulator only in the sandbox; an outside gateway only with its key and payment link;
    /// the built-in test keys only in the sandbox.
    pub fn ybx_payments(&self) -> Result<Payments, ConfigError> {
        let y = &self.ybx;
        let kind = y.payment_gateway.unwrap_or(if self.sandbox {
            PaymentGatewayKind::Simulator
        } else {
            PaymentGatewayKind::None
        });
        let wechat = self.wechat_merchant()?;
        match kind {
            PaymentGatewayKind::None => Ok(Payments::Off),
            PaymentGatewayKind::Simulator if !self.sandbox => Err(ConfigError::Missing {
                key: "sandbox",
                feature: "ybx.payment_gateway = \"simulator\" (a sandbox feature)",
            }),
            PaymentGatewayKind::Simulator => {
                let test = GatewayKeys::sandbox();
                let keys = GatewayKeys {
                    gateway_key: y.gateway_key.clone().unwrap_or(test.gateway_key),
                    wechat: wechat.or(test.wechat),
                };
                let notify_base = match &self.public_url {
                    Some(u) => u.clone(),
                    None => PublicUrl::of_listen(&self.listen)?,
                };
                Ok(Payments::Simulator {
                    keys,
                    notify_base: notify_base.0,
                })
            }
            PaymentGatewayKind::External => {
                const FEATURE: &str = "ybx.payment_gateway = \"external\"";
                let gateway_key = y.gateway_key.clone().ok_or(ConfigError::Missing {
                    key: "ybx.gateway_key",
                    feature: FEATURE,
                })?;
                let pay_url = y.payment_url.clone().ok_or(ConfigError::Missing {
                    key: "ybx.payment_url",
                    feature: FEATURE,
                })?;
                Ok(Payments::External {
                    keys: GatewayKeys {
                        gateway_key,
                        wechat,
                    },
                    pay_url,
                })
            }
        }
    }

    /// The configured WeChat Pay merchant: both keys or neither.
    fn wechat_merchant(&self) -> Result<Option<WeChatMerchant>, ConfigError> {
        match (&self.ybx.wechat_key, &self.ybx.wechat_mch_id) {
            (Some(key), Some(mch_id)) => Ok(Some(WeChatMerchant {
                key: key.clone(),
                mch_id: mch_id.clone(),
            })),
            (None, None) => Ok(None),
            (None, Some(_)) => Err(ConfigError::Missing {
                key: "ybx.wechat_key",
                feature: "ybx.wechat_mch_id is set",
            }),
            (Some(_), None) => Err(ConfigError::Missing {
                key: "ybx.wechat_mch_id",
                feature: "ybx.wechat_key is set",
            }),
        }
    }

    /// The payment-link base of the 游宝星 front end (empty: relative links).
    pub fn payment_link_base(&self) -> String {
        self.public_url
            .as_ref()
            .map(|u| u.as_str().to_string())
            .unwrap_or_default()
    }
}

/// A deserialization error on one line, its key first (`ybx.outbox_poll_ms: invalid value…`).
fn invalid(e: &toml::de::Error) -> ConfigError {
    let text = e.to_string();
    let text = text.trim();
    match text.rsplit_once("\nin `") {
        Some((message, key)) => {
            ConfigError::Invalid(format!("{}: {}", key.trim_end_matches('`'), message.trim()))
        }
        None => ConfigError::Invalid(text.to_string()),
    }
}

/// Sets `name` (`key` or `section_key`) in the table from an environment variable's text: a
/// TOML value when it parses as one, else the text as a string.
fn override_key(table: &mut toml::Table, name: &str, v: String) {
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
            table.insert(name.to_string(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn parse(text: &str) -> Result<Loaded, ConfigError> {
        Config::parse(text, std::iter::empty())
    }

    fn env(vars: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// The message of a refused configuration.
    fn refusal(text: &str) -> String {
        match parse(text) {
            Ok((c, _)) => panic!("accepted: {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let vars = env(&[
            ("BOXOFFICE_LISTEN", "0.0.0.0:9000"),
            ("BOXOFFICE_HOLD_MINUTES", "5"),
            ("BOXOFFICE_VISTA_ANONYMOUS_PARTNER", "demo"),
            ("BOXOFFICE_SANDBOX", "true"),
            ("BOXOFFICE_PUBLIC_URL", "https://tickets.example.com/"),
            ("OTHER", "x"),
            ("BOXOFFICE_TEST_STORE", "postgres"),
        ]);
        let (c, warnings) =
            Config::parse("database = \"sqlite://x.db\"\nhold_minutes = 30\n", vars).unwrap();
        assert_eq!(warnings, []);
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.hold_minutes, 5);
        assert_eq!(c.vista.anonymous_partner.as_deref(), Some("demo"));
        assert_eq!(c.timezone, "+08:00");
        assert!(c.sandbox);
        assert_eq!(
            c.public_url.as_ref().map(PublicUrl::as_str),
            Some("https://tickets.example.com")
        );
    }

    #[test]
    fn unknown_boxoffice_variables_are_warned_about_and_test_settings_are_not() {
        let vars = env(&[
            ("BOXOFFICE_HOLD_MINTUES", "5"),
            ("BOXOFFICE_YBX_GATEWAYKEY", "k"),
            ("BOXOFFICE_TEST_STORE", "postgres"),
            ("BOXOFFICE_TEST_PG", "postgres://x/y"),
            ("BOXOFFICE_BENCH_SECONDS", "3"),
            ("BOXOFFICE_DATABASE", "sqlite://y.db"),
            ("PATH", "/bin"),
        ]);
        let (c, warnings) = Config::parse("database = \"sqlite://x.db\"", vars).unwrap();
        assert_eq!(c.database, "sqlite://y.db");
        assert_eq!(c.hold_minutes, 20);
        assert_eq!(
            warnings,
            [
                ConfigWarning::UnknownVariable("BOXOFFICE_HOLD_MINTUES".into()),
                ConfigWarning::UnknownVariable("BOXOFFICE_YBX_GATEWAYKEY".into()),
            ]
        );
        assert_eq!(
            warnings[0].to_string(),
            "environment variable BOXOFFICE_HOLD_MINTUES is not a configuration key; it is ignored"
        );
    }

    #[test]
    fn bad_values_are_refused_with_their_key() {
        let db = "database = \"sqlite://x\"\n";
        assert_eq!(
            refusal("listen = \"x\""),
            "invalid configuration: missing field `database`"
        );
        assert_eq!(
            refusal(&format!("{db}timezone = \"CST\"")),
            "invalid configuration: timezone: \"CST\" is not an offset like +08:00"
        );
        assert!(refusal(&format!("{db}bogus = 1")).contains("bogus"));
        let sync = refusal(&format!("{db}sqlite_synchronous = \"SOMETIMES\""));
        assert!(
            sync.starts_with(
                "invalid configuration: sqlite_synchronous: unknown variant `SOMETIMES`"
            ),
            "{sync}"
        );
        let cases = [
            ("hold_minutes = 0", "hold_minutes: 0 is not positive"),
            ("hold_minutes = -5", "hold_minutes: -5 is not positive"),
            ("payment_hold_hours = 0", "payment_hold_hours: 0 is not positive"),
            ("snapshot_ttl_ms = -1", "snapshot_ttl_ms: -1 is not positive"),
            ("sweep_interval_seconds = 0", "sweep_interval_seconds: 0 is not positive"),
            ("[yueke]\nlock_minutes = 0", "yueke.lock_minutes: 0 is not positive"),
            (
                "[yueke]\ntimestamp_window_seconds = -600",
                "yueke.timestamp_window_seconds: -600 is not positive",
            ),
            ("[ybx]\noutbox_poll_ms = 0", "ybx.outbox_poll_ms: 0 is not positive"),
            ("[messages]\npoll_ms = 0", "messages.poll_ms: 0 is not positive"),
            (
                "[ybx]\noutbox_poll_ms = -1",
                "ybx.outbox_poll_ms: invalid value: integer `-1`, expected u64",
            ),
            (
                "[ybx]\ninventory_quantity_convention = \"v5\"",
                "ybx.inventory_quantity_convention: \"v5\" is neither \"v4\" nor \"v3\"",
            ),
            (
                "public_url = \"tickets.example.com\"",
                "public_url: \"tickets.example.com\" is not an absolute URL (relative URL without a base)",
            ),
            (
                "public_url = \"ftp://tickets.example.com\"",
                "public_url: \"ftp://tickets.example.com\" is not an http(s) URL with a host",
            ),
            (
                "public_url = \"https://tickets.example.com/?a=1\"",
                "public_url: \"https://tickets.example.com/?a=1\" must be a base URL, without user, query or fragment",
            ),
            (
                "[ybx]\npayment_gateway = \"paypal\"",
                "ybx.payment_gateway: unknown variant `paypal`, expected one of `none`, `simulator`, `external`",
            ),
            (
                "[ybx]\npayment_url = \"pay.example.com/{out_trade_no}\"",
                "ybx.payment_url: \"pay.example.com/{out_trade_no}\" is not an http(s) URL",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(
                refusal(&format!("{db}{text}")),
                format!("invalid configuration: {message}"),
                "{text}"
            );
        }
        // The same checks apply to environment overrides.
        let e = Config::parse(db, env(&[("BOXOFFICE_YUEKE_LOCK_MINUTES", "-1")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid configuration: yueke.lock_minutes: -1 is not positive"
        );
    }

    #[test]
    fn synchronous_levels_are_named() {
        let (c, _) = parse("database = \"sqlite://x\"\nsqlite_synchronous = \"FULL\"").unwrap();
        assert_eq!(c.sqlite_synchronous, SqliteSynchronous::Full);
        assert_eq!(c.sqlite_synchronous.as_str(), "FULL");
        let (c, _) = parse("database = \"sqlite://x\"").unwrap();
        assert_eq!(c.sqlite_synchronous, SqliteSynchronous::Normal);
    }

    #[test]
    fn ybx_public_url_is_a_deprecated_alias() {
        let (c, warnings) =
            parse("database = \"sqlite://x\"\n[ybx]\npublic_url = \"https://a.example/\"").unwrap();
        assert_eq!(
            c.public_url.as_ref().map(PublicUrl::as_str),
            Some("https://a.example")
        );
        assert_eq!(c.payment_link_base(), "https://a.example");
        assert_eq!(
            warnings,
            [ConfigWarning::Deprecated {
                old: "ybx.public_url",
                new: "public_url"
            }]
        );
        assert_eq!(
            refusal(
                "database = \"sqlite://x\"\npublic_url = \"https://b.example\"\n\
                 [ybx]\npublic_url = \"https://a.example\""
            ),
            "invalid configuration: ybx.public_url: differs from public_url; set public_url only"
        );
    }

    #[test]
    fn secrets_are_never_printed() {
        let (c, _) = parse(
            "database = \"sqlite://x\"\n[ybx]\ngateway_key = \"GATEWAY-SECRET-1\"\n\
             wechat_key = \"WECHAT-SECRET-2\"\nwechat_mch_id = \"1234\"\n\
             [operator]\ntoken = \"OPERATOR-SECRET-3\"",
        )
        .unwrap();
        let shown = format!("{c:?}");
        for secret in ["GATEWAY-SECRET-1", "WECHAT-SECRET-2", "OPERATOR-SECRET-3"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("1234"), "{shown}");
        let token = c.operator.token.as_ref().map(|t| t.expose_secret());
        assert_eq!(token, Some("OPERATOR-SECRET-3"));
    }

    /// The start-up refusal of a configuration, or its payments.
    fn payments(text: &str) -> Result<Payments, String> {
        let (c, _) = parse(&format!("database = \"sqlite://x\"\n{text}")).unwrap();
        c.ybx_payments().map_err(|e| e.to_string())
    }

    #[test]
    fn payments_are_off_outside_the_sandbox_and_test_keys_only_inside() {
        assert!(matches!(payments(""), Ok(Payments::Off)));
        // Keys alone turn nothing on.
        assert!(matches!(
            payments("[ybx]\ngateway_key = \"k\""),
            Ok(Payments::Off)
        ));
        match payments("sandbox = true\nlisten = \"0.0.0.0:8123\"") {
            Ok(Payments::Simulator { keys, notify_base }) => {
                assert_eq!(notify_base, "http://127.0.0.1:8123");
                assert_eq!(
                    keys.gateway_key.expose_secret(),
                    GatewayKeys::sandbox().gateway_key.expose_secret()
                );
            }
            other => panic!("{other:?}"),
        }
        match payments(
            "sandbox = true\npublic_url = \"https://t.example\"\n[ybx]\ngateway_key = \"mine\"",
        ) {
            Ok(Payments::Simulator { keys, notify_base }) => {
                assert_eq!(notify_base, "https://t.example");
                assert_eq!(keys.gateway_key.expose_secret(), "mine");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            payments("sandbox = true\n[ybx]\npayment_gateway = \"none\""),
            Ok(Payments::Off)
        ));
        let url = |listen: &str| PublicUrl::of_listen(listen).map(|u| u.as_str().to_string());
        assert_eq!(url("[::]:80").ok().as_deref(), Some("http://[::1]"));
        assert_eq!(
            url("10.0.0.5:8080").ok().as_deref(),
            Some("http://10.0.0.5:8080")
        );
        assert_eq!(
            url("localhost:8080").ok().as_deref(),
            Some("http://localhost:8080")
        );
        assert!(url("not an address").is_err());
    }

    #[test]
    fn features_without_their_secret_are_refused() {
        let cases = [
            (
                "[ybx]\npayment_gateway = \"simulator\"",
                "invalid configuration: sandbox is required when ybx.payment_gateway = \"simulator\" (a sandbox feature)",
            ),
            (
                "[ybx]\npayment_gateway = \"external\"\npayment_url = \"https://pay.example/{out_trade_no}\"",
                "invalid configuration: ybx.gateway_key is required when ybx.payment_gateway = \"external\"",
            ),
            (
                "sandbox = true\n[ybx]\npayment_gateway = \"external\"\npayment_url = \"https://pay.example/{out_trade_no}\"",
                "invalid configuration: ybx.gateway_key is required when ybx.payment_gateway = \"external\"",
            ),
            (
                "[ybx]\npayment_gateway = \"external\"\ngateway_key = \"k\"",
                "invalid configuration: ybx.payment_url is required when ybx.payment_gateway = \"external\"",
            ),
            (
                "[ybx]\npayment_gateway = \"external\"\ngateway_key = \"k\"\npayment_url = \"https://p.example/\"\nwechat_mch_id = \"1\"",
                "invalid configuration: ybx.wechat_key is required when ybx.wechat_mch_id is set",
            ),
            (
                "sandbox = true\n[ybx]\nwechat_key = \"w\"",
                "invalid configuration: ybx.wechat_mch_id is required when ybx.wechat_key is set",
            ),
        ];
        for (text, message) in cases {
            match payments(text) {
                Err(e) => assert_eq!(e, message, "{text}"),
                Ok(p) => panic!("{text}: accepted as {p:?}"),
            }
        }
        match payments(
            "[ybx]\npayment_gateway = \"external\"\ngateway_key = \"k\"\n\
             payment_url = \"https://p.example/pay/{out_trade_no}\"",
        ) {
            Ok(Payments::External { keys, pay_url }) => {
                assert_eq!(pay_url, "https://p.example/pay/{out_trade_no}");
                assert_eq!(keys.gateway_key.expose_secret(), "k");
                assert!(keys.wechat.is_none());
            }
            other => panic!("{other:?}"),
        }
    }
}
