//! Agents: partners with a `ybx` credential (`key` = user name, `secret` = the initial 36-char
//! data key, `options` = provisioning). What changes at run time (key rotation, passwords,
//! switches, callback address) is kept in the partner's runtime settings in the database and
//! overrides the provisioned options; it is cached per process for `agent_cache_ms`.

use crate::PROTOCOL;
use boxoffice_core::catalog::{Credential, Partner, PartnerId};
use boxoffice_core::clock::Millis;
use boxoffice_core::store::StoreError;
use boxoffice_core::Boxoffice;
use parking_lot::Mutex;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// An agent as a page sees it: provisioning overlaid with runtime settings.
#[derive(Clone)]
pub struct Agent {
    /// The partner.
    pub partner: Arc<Partner>,
    /// User name (`user`).
    pub user: String,
    /// The 36-character data key.
    pub data_key: String,
    /// `UPPER(MD5(login password))`.
    pub login_md5: String,
    /// `UPPER(MD5(payment password))`, once set.
    pub pay_md5: Option<String>,
    /// Enabled.
    pub enabled: bool,
    /// Client unit id (`DWID`).
    pub unit_id: String,
    /// Client unit type (`DWSX`, 1–8).
    pub unit_type: String,
    /// Display name (`customername`).
    pub name: String,
    /// Reserved mobile 1.
    pub mobile1: String,
    /// Reserved mobile 2.
    pub mobile2: String,
    /// E-mail.
    pub email: String,
    /// May leave orders to be paid at the counter.
    pub allow_cash: bool,
    /// May pay from the deposit account.
    pub allow_deposit: bool,
    /// May pay from the rebate account.
    pub allow_rebate: bool,
    /// May pay instantly (gateway).
    pub allow_epay: bool,
    /// Most persons per visit date (0: unlimited).
    pub daily_max: i64,
    /// Products it may sell (upper-case ids; `*` = all).
    pub products: Vec<String>,
    /// Its own prices per product id (upper-case) in fen.
    pub prices: HashMap<String, i64>,
    /// Signatures are checked (`sign_check = "strict"`, the default).
    pub sign_strict: bool,
    /// Callback base address (empty: no callbacks).
    pub response_addr: String,
    /// Official notices to visitors are sent.
    pub send_official: bool,
    /// Consecutive wrong payment passwords.
    pub pay_failures: i64,
    /// Payment password locked until (ms).
    pub pay_locked_until: Millis,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("user", &self.user)
            .field("partner", &self.partner.code)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

fn text(opts: &Map<String, Value>, name: &str) -> String {
    match opts.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn flag(opts: &Map<String, Value>, name: &str, default: bool) -> bool {
    match opts.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
        Some(Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
        _ => default,
    }
}

fn int(opts: &Map<String, Value>, name: &str) -> i64 {
    match opts.get(name) {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

impl Agent {
    /// The agent of a partner's credential with runtime settings applied.
    pub fn build(partner: Arc<Partner>, cred: &Credential, runtime: &Map<String, Value>) -> Agent {
        let mut o = cred.options.clone();
        for (k, v) in runtime {
            o.insert(k.clone(), v.clone());
        }
        let key = match o.get("data_key") {
            Some(Value::String(k)) => k.clone(),
            _ => cred.secret.clone().unwrap_or_default(),
        };
        let products = match o.get("products") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str())
                .map(|s| s.to_ascii_uppercase())
                .collect(),
            Some(Value::String(s)) => vec![s.to_ascii_uppercase()],
            _ => vec!["*".to_string()],
        };
        let prices = match o.get("prices") {
            Some(Value::Object(m)) => m
                .iter()
                .filter_map(|(k, v)| v.as_i64().map(|p| (k.to_ascii_uppercase(), p)))
                .collect(),
            _ => HashMap::new(),
        };
        let pay = text(&o, "pay_md5");
        Agent {
            user: cred.key.clone(),
            data_key: key,
            login_md5: text(&o, "login_md5").to_ascii_uppercase(),
            pay_md5: (!pay.is_empty()).then(|| pay.to_ascii_uppercase()),
            enabled: flag(&o, "enabled", true),
            unit_id: {
                let u = text(&o, "unit_id");
                if u.is_empty() {
                    partner.code.clone()
                } else {
                    u
                }
            },
            unit_type: {
                let t = text(&o, "unit_type");
                if t.is_empty() {
                    "1".into()
                } else {
                    t
                }
            },
            name: {
                let n = text(&o, "name");
                if n.is_empty() {
                    partner.name.clone()
                } else {
                    n
                }
            },
            mobile1: text(&o, "mobile1"),
            mobile2: text(&o, "mobile2"),
            email: text(&o, "email"),
            allow_cash: flag(&o, "allow_cash", false),
            allow_deposit: flag(&o, "allow_deposit", false),
            allow_rebate: flag(&o, "allow_rebate", false),
            allow_epay: flag(&o, "allow_epay", false),
            daily_max: int(&o, "daily_max"),
            products,
            prices,
            sign_strict: !text(&o, "sign_check").eq_ignore_ascii_case("off"),
            response_addr: text(&o, "responseaddr"),
            send_official: flag(&o, "sendofficiallysnotify", true),
            pay_failures: int(&o, "pay_failures"),
            pay_locked_until: int(&o, "pay_locked_until"),
            partner,
        }
    }

    /// The partner id.
    pub fn id(&self) -> PartnerId {
        self.partner.id
    }

    /// The 24-character field key (the first 24 characters of the data key).
    pub fn field_key(&self) -> &str {
        &self.data_key
    }

    /// Whether the agent may sell a product.
    pub fn sells(&self, product: &str) -> bool {
        self.products
            .iter()
            .any(|p| p == "*" || p.eq_ignore_ascii_case(product))
    }

    /// The agent's price of a product, else the list price.
    pub fn price(&self, product: &boxoffice_core::scenic::Product) -> i64 {
        self.prices
            .get(&product.id.to_ascii_uppercase())
            .copied()
            .unwrap_or(product.price)
    }
}

/// A cached copy of an agent's runtime settings and when it was read.
type CachedSettings = (Millis, Arc<Map<String, Value>>);

/// Per-process cache of agents' runtime settings.
#[derive(Default)]
pub struct AgentCache {
    entries: Mutex<HashMap<PartnerId, CachedSettings>>,
}

impl AgentCache {
    /// The agent whose user name is `user`, if any.
    pub async fn find(
        &self,
        svc: &Boxoffice,
        user: &str,
        ttl_ms: i64,
    ) -> Result<Option<Agent>, StoreError> {
        let catalog = svc.catalog();
        let Some(partner) = catalog.partner_by_credential(PROTOCOL, user) else {
            return Ok(None);
        };
        let Some(cred) = partner.credential(PROTOCOL) else {
            return Ok(None);
        };
        let now = svc.now_ms();
        let cached = self
            .entries
            .lock()
            .get(&partner.id)
            .filter(|(at, _)| now - *at < ttl_ms && now >= *at)
            .map(|(_, m)| m.clone());
        let runtime = match cached {
            Some(m) => m,
            None => {
                let m = Arc::new(svc.store().partner_settings(partner.id, PROTOCOL).await?);
                self.entries.lock().insert(partner.id, (now, m.clone()));
                m
            }
        };
        Ok(Some(Agent::build(partner.clone(), cred, &runtime)))
    }

    /// Changes an agent's runtime settings and drops the cached copy.
    pub async fn update(
        &self,
        svc: &Boxoffice,
        partner: PartnerId,
        patch: Map<String, Value>,
    ) -> Result<(), StoreError> {
        let doc = svc
            .store()
            .update_partner_settings(partner, PROTOCOL, patch, svc.now_ms())
            .await?;
        self.entries
            .lock()
            .insert(partner, (svc.now_ms(), Arc::new(doc)));
        Ok(())
    }
}
