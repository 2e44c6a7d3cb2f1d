//! The 游宝星 e-ticket trading interface front end: `GET /ybx/<Page>.aspx` and
//! `POST /ybx/POST/<Page>.aspx`, UTF-8 XML answers `<root><retcode/><retmsg/><sign/>…</root>`.
//!
//! Every page is found by its wire name in [`route::PAGES`] and the `dispatch` match of
//! `route.rs`. Decisions where the document is silent are in `docs/protocols/youbaoxing.md`.

mod agent;
pub mod booking;
pub mod callbacks;
pub mod codes;
pub mod crypto;
pub mod epay;
mod payment;
mod products;
mod query;
pub mod route;
mod tickets;
pub mod xml;

pub use agent::Agent;

use axum::routing::any;
use axum::Router;
use boxoffice_core::Boxoffice;
use secrecy::SecretString;
use std::sync::Arc;

/// The protocol name under which agents' credentials (user, data key, options) are stored.
pub const PROTOCOL: &str = "ybx";

/// Front-end options.
#[derive(Debug, Clone)]
pub struct YbxOptions {
    /// `v4`: GetProductsInventory reports 0 for unlimited and -1 for sold out; `v3`: the reverse.
    pub inventory_v3: bool,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// How long agents' runtime settings may be served from memory (default 1 second).
    pub agent_cache_ms: i64,
    /// Most days between the first and last date of an inventory or time-segment query.
    pub max_query_days: i64,
    /// How instant payments are taken (default: not at all).
    pub payments: Payments,
    /// Public base URL of this server for payment pages (`payurl`); empty: relative URLs.
    pub public_url: String,
}

impl Default for YbxOptions {
    fn default() -> Self {
        YbxOptions {
            inventory_v3: false,
            max_body_bytes: 64 * 1024,
            agent_cache_ms: 1000,
            max_query_days: 7,
            payments: Payments::Off,
            public_url: String::new(),
        }
    }
}

/// How instant payments (GetPayChannel, BeginToPay, the platforms' notifications) are taken.
#[derive(Debug, Clone, Default)]
pub enum Payments {
    /// No payment gateway: GetPayChannel offers no channel, BeginToPay answers `-2001`, and the
    /// notification pages refuse everything.
    #[default]
    Off,
    /// The built-in payment simulator, a sandbox feature: payment links lead to
    /// `/ybx/paysim/{trade}`, whose answer sends the platform's signed notification to
    /// `notify_base` (this server's own base URL, from configuration — never from a request).
    Simulator {
        /// The keys the simulated platform signs with.
        keys: GatewayKeys,
        /// Base URL the notifications are sent to (`…/ybx/POST/notify_url.aspx`).
        notify_base: String,
    },
    /// A payment platform outside this server: payment links are `pay_url` with `{out_trade_no}`,
    /// `{order_id}`, `{total}` and `{channel}` replaced; its notifications are checked with `keys`.
    External {
        /// The keys the platform signs with.
        keys: GatewayKeys,
        /// The payment link template.
        pay_url: String,
    },
}

impl Payments {
    /// The keys notifications are checked with; `None` when no gateway is configured.
    pub fn keys(&self) -> Option<&GatewayKeys> {
        match self {
            Payments::Off => None,
            Payments::Simulator { keys, .. } | Payments::External { keys, .. } => Some(keys),
        }
    }
    /// Whether the built-in simulator is on.
    pub fn simulator(&self) -> bool {
        matches!(self, Payments::Simulator { .. })
    }
}

/// The payment platforms' signing keys.
#[derive(Debug, Clone)]
pub struct GatewayKeys {
    /// Key of the payment gateway's `notify_url.aspx` notifications (TripleDes fields and MD5
    /// `Sign`).
    pub gateway_key: SecretString,
    /// The WeChat Pay merchant whose `WeChatNotify.aspx` notifications are accepted (`None`:
    /// WeChat notifications are refused).
    pub wechat: Option<WeChatMerchant>,
}

/// A WeChat Pay merchant: API key and merchant id.
#[derive(Debug, Clone)]
pub struct WeChatMerchant {
    /// Merchant API key (v2 MD5 signatures).
    pub key: SecretString,
    /// Merchant id expected in notifications (`mch_id`).
    pub mch_id: String,
}

impl GatewayKeys {
    /// The simulator's built-in test keys. They are public (they are in the source), so they
    /// are only ever used in the sandbox.
    pub fn sandbox() -> GatewayKeys {
        GatewayKeys {
            gateway_key: SecretString::from("YBX-SIMULATED-GATEWAY-KEY-0000000000"),
            wechat: Some(WeChatMerchant {
                key: SecretString::from("YBXSIMULATEDWECHATPAYAPIKEY00000"),
                mch_id: "1900000109".into(),
            }),
        }
    }
}

/// Shared state of the 游宝星 front end.
pub struct Ybx {
    svc: Arc<Boxoffice>,
    opts: YbxOptions,
    agents: agent::AgentCache,
    /// The payment gateway; `None` when instant payment is off.
    gateway: Option<Arc<dyn boxoffice_core::scenic::PaymentGateway>>,
    /// Callback deliveries in flight (at most `callbacks::BATCH`).
    deliveries: Arc<tokio::sync::Semaphore>,
    /// Rounds of the callback worker that found nothing due and nothing in flight.
    idle_rounds: std::sync::atomic::AtomicU64,
}

impl Ybx {
    /// A front end over the service.
    pub fn new(svc: Arc<Boxoffice>, opts: YbxOptions) -> Arc<Ybx> {
        let gateway: Option<Arc<dyn boxoffice_core::scenic::PaymentGateway>> = match &opts.payments
        {
            Payments::Off => None,
            Payments::Simulator { .. } => Some(Arc::new(epay::SimulatorGateway {
                base: opts.public_url.clone(),
            })),
            Payments::External { pay_url, .. } => Some(Arc::new(epay::ExternalGateway {
                template: pay_url.clone(),
            })),
        };
        Arc::new(Ybx {
            svc,
            opts,
            agents: agent::AgentCache::default(),
            gateway,
            deliveries: Arc::new(tokio::sync::Semaphore::new(callbacks::BATCH as usize)),
            idle_rounds: Default::default(),
        })
    }
    /// How many rounds of the callback worker ended with no event due and no delivery in
    /// flight: after such a round every event due at its clock had been attempted and its
    /// outcome recorded. Tests wait for it to advance instead of sleeping.
    pub fn idle_rounds(&self) -> u64 {
        self.idle_rounds.load(std::sync::atomic::Ordering::SeqCst)
    }
    /// The options.
    pub fn options(&self) -> &YbxOptions {
        &self.opts
    }
    /// The service.
    pub fn service(&self) -> &Arc<Boxoffice> {
        &self.svc
    }
    /// An agent by user name, with its runtime settings (cached for `agent_cache_ms`).
    pub async fn agent(
        &self,
        user: &str,
    ) -> Result<Option<Agent>, boxoffice_core::store::StoreError> {
        self.agents
            .find(&self.svc, user, self.opts.agent_cache_ms)
            .await
    }
    /// Whether an order's changes are announced to its agent now: the order carries the agent's
    /// own reference and the agent has a callback address.
    pub async fn announces(&self, order: &boxoffice_core::scenic::VisitOrder) -> bool {
        if order.detail.sender_ref.is_empty() {
            return false;
        }
        let catalog = self.svc.catalog();
        let Some(user) = catalog
            .partners
            .iter()
            .find(|p| p.id == order.partner_id)
            .and_then(|p| p.credential(PROTOCOL))
            .map(|c| c.key.clone())
        else {
            return false;
        };
        matches!(self.agent(&user).await, Ok(Some(a)) if !a.response_addr.is_empty())
    }
    /// Changes an agent's runtime settings (`null` removes a key, restoring the provisioned
    /// value) and drops this process's cached copy. Keys: `data_key`, `login_md5`, `pay_md5`,
    /// `enabled`, `allow_cash`, `allow_deposit`, `allow_rebate`, `allow_epay`, `daily_max`,
    /// `products`, `prices`, `mobile1`, `mobile2`, `email`, `responseaddr`,
    /// `sendofficiallysnotify`, `sign_check`, `pay_failures`, `pay_locked_until`.
    pub async fn update_agent(
        &self,
        partner: boxoffice_core::catalog::PartnerId,
        patch: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), boxoffice_core::store::StoreError> {
        self.agents.update(&self.svc, partner, patch).await
    }
}

/// The routes: `/ybx/<Page>.aspx` and `/ybx/POST/<Page>.aspx` (any case), and the payment
/// simulator's `/ybx/paysim/{trade}` when it is on (sandbox).
pub fn router(ybx: Arc<Ybx>) -> Router {
    let mut router = Router::new();
    if ybx.opts.payments.simulator() {
        router = router.route(
            "/ybx/paysim/{trade}",
            axum::routing::get(epay::simulator_page).post(epay::simulator_answer),
        );
    }
    router
        .route("/ybx/{*page}", any(route::page))
        .route("/YBX/{*page}", any(route::page))
        .route("/Ybx/{*page}", any(route::page))
        .with_state(ybx)
}
