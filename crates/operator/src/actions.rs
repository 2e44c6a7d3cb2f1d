//! The operator actions, one plain function each, shared by the HTTP API (`/ops/*`) and the
//! `boxoffice` command line. Every action either does all it says (one store transaction) or
//! nothing, and reports why with an [`OpError`].

use crate::error::OpError;
use boxoffice_core::scenic::{
    AccountMove, LedgerEntry, Message, OutboxEvent, OutboxRow, PayMethod, Product, StoredMessage,
    TicketStatusChange, VisitChange, VisitDetail, VisitEffects, VisitOrder, VisitOutcome,
    VisitRefusal, VisitState, VisitTicket,
};
use boxoffice_core::store::StoreError;
use boxoffice_core::Boxoffice;
use boxoffice_ybx::booking::{issue_tickets, state_code};
use boxoffice_ybx::{Agent, Ybx, PROTOCOL};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Who the ledger and order changes name as the actor of operator actions.
pub const ACTOR: &str = "operator";

/// How often a desk action decides again when its order changed meanwhile (another process
/// or request acted on it first).
const RETRIES: usize = 8;

// ---------------------------------------------------------------------------------------------
// Agents
// ---------------------------------------------------------------------------------------------

/// Which data key an agent signs with (never the key itself).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyInfo {
    /// 1 for the provisioned key, +1 per rotation.
    pub version: i64,
    /// `catalogue` (the provisioned key) or `rotated` (set by the operator).
    pub source: String,
    /// When it was last rotated (ms), if ever.
    pub rotated_ms: Option<i64>,
}

/// An agent as the operator sees it: provisioning with runtime settings applied. Carries no
/// data key and no password hashes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AgentView {
    /// User name (`user`).
    pub user: String,
    /// Partner code.
    pub partner: String,
    /// Partner id.
    pub partner_id: i64,
    /// Display name (`customername`).
    pub name: String,
    /// Client unit id (`DWID`).
    pub unit_id: String,
    /// Client unit type (`DWSX`).
    pub unit_type: String,
    /// Enabled.
    pub enabled: bool,
    /// May leave orders to be paid at the counter.
    pub allow_cash: bool,
    /// May pay from the deposit account.
    pub allow_deposit: bool,
    /// May pay from the rebate account.
    pub allow_rebate: bool,
    /// May pay instantly.
    pub allow_epay: bool,
    /// Most persons per visit date (0: unlimited).
    pub daily_max: i64,
    /// Products it may sell (`*` = all).
    pub products: Vec<String>,
    /// Its own prices per product in fen.
    pub prices: BTreeMap<String, i64>,
    /// Reserved mobile 1.
    pub mobile1: String,
    /// Reserved mobile 2.
    pub mobile2: String,
    /// E-mail.
    pub email: String,
    /// Callback base address (empty: no callbacks).
    pub responseaddr: String,
    /// Official notices to visitors are sent.
    pub send_official: bool,
    /// `strict` or `off`.
    pub sign_check: String,
    /// A payment password is set.
    pub pay_password_set: bool,
    /// The payment password is locked until (ms), when locked.
    pub pay_locked_until_ms: Option<i64>,
    /// Data key version.
    pub key: KeyInfo,
}

/// Changes to an agent's runtime settings; absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AgentPatch {
    /// Enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// May leave orders to be paid at the counter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_cash: Option<bool>,
    /// May pay from the deposit account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_deposit: Option<bool>,
    /// May pay from the rebate account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_rebate: Option<bool>,
    /// May pay instantly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_epay: Option<bool>,
    /// Most persons per visit date (0: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_max: Option<i64>,
    /// Products it may sell: `["*"]` or product ids of its venues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<String>>,
    /// Reserved mobile 1 (digits, empty to clear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile1: Option<String>,
    /// Reserved mobile 2 (digits, empty to clear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile2: Option<String>,
    /// E-mail (empty to clear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `strict` or `off`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_check: Option<String>,
}

/// A freshly rotated data key, shown once.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RotatedKey {
    /// User name.
    pub user: String,
    /// The new 36-character data key (uppercase GUID form).
    pub key: String,
    /// Its version.
    pub version: i64,
    /// When it was set (ms).
    pub rotated_ms: i64,
}

async fn find_agent(ybx: &Ybx, user: &str) -> Result<Agent, OpError> {
    if user.is_empty() || user.chars().count() > 64 {
        return Err(OpError::not_found(format!("no 游宝星 agent {user:?}")));
    }
    ybx.agent(user)
        .await?
        .ok_or_else(|| OpError::not_found(format!("no 游宝星 agent {user:?}")))
}

fn key_info(runtime: &Map<String, Value>) -> KeyInfo {
    let rotated = matches!(runtime.get("data_key"), Some(Value::String(_)));
    KeyInfo {
        version: runtime
            .get("key_version")
            .and_then(Value::as_i64)
            .unwrap_or(if rotated { 2 } else { 1 }),
        source: if rotated { "rotated" } else { "catalogue" }.into(),
        rotated_ms: runtime.get("key_rotated_ms").and_then(Value::as_i64),
    }
}

fn view_of(agent: &Agent, runtime: &Map<String, Value>, now_ms: i64) -> AgentView {
    AgentView {
        user: agent.user.clone(),
        partner: agent.partner.code.clone(),
        partner_id: agent.partner.id,
        name: agent.name.clone(),
        unit_id: agent.unit_id.clone(),
        unit_type: agent.unit_type.clone(),
        enabled: agent.enabled,
        allow_cash: agent.allow_cash,
        allow_deposit: agent.allow_deposit,
        allow_rebate: agent.allow_rebate,
        allow_epay: agent.allow_epay,
        daily_max: agent.daily_max,
        products: agent.products.clone(),
        prices: agent.prices.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        mobile1: agent.mobile1.clone(),
        mobile2: agent.mobile2.clone(),
        email: agent.email.clone(),
        responseaddr: agent.response_addr.clone(),
        send_official: agent.send_official,
        sign_check: if agent.sign_strict { "strict" } else { "off" }.into(),
        pay_password_set: agent.pay_md5.is_some(),
        pay_locked_until_ms: (agent.pay_locked_until > now_ms).then_some(agent.pay_locked_until),
        key: key_info(runtime),
    }
}

/// `GET /ops/ybx/agents/{user}`: an agent's settings (no key, no password hashes).
pub async fn show_agent(svc: &Boxoffice, ybx: &Ybx, user: &str) -> Result<AgentView, OpError> {
    let agent = find_agent(ybx, user).await?;
    let runtime = svc.store().partner_settings(agent.id(), PROTOCOL).await?;
    Ok(view_of(&agent, &runtime, svc.now_ms()))
}

fn mobile_ok(m: &str) -> bool {
    m.is_empty() || (m.len() <= 20 && m.chars().all(|c| c.is_ascii_digit()))
}

/// `PATCH /ops/ybx/agents/{user}`: changes an agent's runtime settings (validated first; an
/// invalid field changes nothing) and answers the agent as it now stands.
pub async fn update_agent(
    svc: &Boxoffice,
    ybx: &Ybx,
    user: &str,
    patch: &AgentPatch,
) -> Result<AgentView, OpError> {
    let agent = find_agent(ybx, user).await?;
    let mut m = Map::new();
    let flags = [
        ("enabled", patch.enabled),
        ("allow_cash", patch.allow_cash),
        ("allow_deposit", patch.allow_deposit),
        ("allow_rebate", patch.allow_rebate),
        ("allow_epay", patch.allow_epay),
    ];
    for (name, value) in flags {
        if let Some(v) = value {
            m.insert(name.into(), v.into());
        }
    }
    if let Some(n) = patch.daily_max {
        if !(0..=1_000_000).contains(&n) {
            return Err(OpError::bad("daily_max must be between 0 and 1000000"));
        }
        m.insert("daily_max".into(), n.into());
    }
    if let Some(list) = &patch.products {
        if list.is_empty() {
            return Err(OpError::bad(
                "products must name at least one product, or \"*\"",
            ));
        }
        let catalog = svc.catalog();
        let mut ids: Vec<String> = Vec::new();
        for id in list {
            let id = id.trim();
            let known = id == "*"
                || catalog
                    .venues_for(&agent.partner, boxoffice_core::catalog::Protocol::Ybx)
                    .any(|v| v.product(id).is_some());
            if !known {
                return Err(OpError::bad(format!(
                    "unknown product {id:?} (not sold at the agent's venues)"
                )));
            }
            let id = id.to_ascii_uppercase();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        m.insert(
            "products".into(),
            Value::Array(ids.into_iter().map(Value::String).collect()),
        );
    }
    for (name, value) in [("mobile1", &patch.mobile1), ("mobile2", &patch.mobile2)] {
        if let Some(v) = value {
            let v = v.trim();
            if !mobile_ok(v) {
                return Err(OpError::bad(format!(
                    "{name} must be up to 20 digits (empty to clear)"
                )));
            }
            m.insert(name.into(), v.into());
        }
    }
    if let Some(e) = &patch.email {
        let e = e.trim();
        if !e.is_empty()
            && (e.chars().count() > 100 || !e.contains('@') || e.contains(char::is_whitespace))
        {
            return Err(OpError::bad(
                "email must be an address of up to 100 characters (empty to clear)",
            ));
        }
        m.insert("email".into(), e.into());
    }
    if let Some(s) = &patch.sign_check {
        let s = s.trim().to_ascii_lowercase();
        if s != "strict" && s != "off" {
            return Err(OpError::bad("sign_check must be \"strict\" or \"off\""));
        }
        m.insert("sign_check".into(), s.into());
    }
    if !m.is_empty() {
        ybx.update_agent(agent.id(), m).await?;
    }
    show_agent(svc, ybx, user).await
}

/// A new data key: a random (version 4) GUID in uppercase, `8-4-4-4-12` hex digits.
pub fn new_data_key() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `POST /ops/ybx/agents/{user}/key`: gives the agent a new data key (its version + 1). The old
/// key stops working at once in this process (other server processes within their agent cache
/// time, 1 second by default). The key is answered here and never shown again.
pub async fn rotate_key(svc: &Boxoffice, ybx: &Ybx, user: &str) -> Result<RotatedKey, OpError> {
    let agent = find_agent(ybx, user).await?;
    let runtime = svc.store().partner_settings(agent.id(), PROTOCOL).await?;
    let version = key_info(&runtime).version + 1;
    let key = new_data_key();
    let now = svc.now_ms();
    let mut m = Map::new();
    m.insert("data_key".into(), key.clone().into());
    m.insert("key_version".into(), version.into());
    m.insert("key_rotated_ms".into(), now.into());
    ybx.update_agent(agent.id(), m).await?;
    tracing::info!(user = %agent.user, version, "游宝星 data key rotated");
    Ok(RotatedKey {
        user: agent.user,
        key,
        version,
        rotated_ms: now,
    })
}

// ---------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------

/// An account's balance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Balance {
    /// `deposit` or `rebate`.
    pub account: String,
    /// Balance in fen.
    pub balance: i64,
    /// Held (authorized, not yet debited) in fen.
    pub held: i64,
    /// Balance − held: what may be spent or debited.
    pub available: i64,
}

/// An agent's balances.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccountsView {
    /// User name.
    pub user: String,
    /// Every account the agent has (in name order).
    pub accounts: Vec<Balance>,
}

/// What a recharge or debit did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Recharged {
    /// User name.
    pub user: String,
    /// The ledger row written.
    pub entry: LedgerEntry,
    /// The account after it.
    pub balance: Balance,
}

/// An agent's ledger.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LedgerView {
    /// User name.
    pub user: String,
    /// The account listed (`None`: all).
    pub account: Option<String>,
    /// Rows, oldest first.
    pub entries: Vec<LedgerEntry>,
}

/// The account name if it is one of the agents' accounts (`deposit`, `rebate`).
pub fn account_name(name: &str) -> Result<&'static str, OpError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "deposit" => Ok("deposit"),
        "rebate" => Ok("rebate"),
        _ => Err(OpError::bad(format!(
            "account must be \"deposit\" or \"rebate\", not {name:?}"
        ))),
    }
}

/// `POST /ops/ybx/agents/{user}/accounts/{account}`: recharges (`amount` > 0, ledger kind
/// `topup`) or debits (`amount` < 0, kind `debit`) an agent's account by one conditional
/// update; a debit beyond the available balance (balance − held) changes nothing (409).
pub async fn recharge(
    svc: &Boxoffice,
    ybx: &Ybx,
    user: &str,
    account: &str,
    amount: i64,
    note: &str,
) -> Result<Recharged, OpError> {
    let account = account_name(account)?;
    let agent = find_agent(ybx, user).await?;
    if amount == 0 {
        return Err(OpError::bad(
            "amount must not be 0 (fen; positive recharges, negative debits)",
        ));
    }
    if amount.unsigned_abs() > 100_000_000_000 {
        return Err(OpError::bad("amount is out of range"));
    }
    let note = note.trim();
    if note.chars().count() > 200 {
        return Err(OpError::bad("note must be at most 200 characters"));
    }
    let kind = if amount > 0 { "topup" } else { "debit" };
    let change = AccountMove {
        account: account.into(),
        balance_delta: amount,
        held_delta: 0,
        kind: kind.into(),
        note: if note.is_empty() {
            format!("operator {}", if amount > 0 { "recharge" } else { "debit" })
        } else {
            note.to_string()
        },
    };
    let Some(entry) = svc
        .store()
        .move_account(agent.id(), change, ACTOR, svc.now_ms())
        .await?
    else {
        let available = balances(svc, agent.id())
            .await?
            .into_iter()
            .find(|b| b.account == account)
            .map_or(0, |b| b.available);
        return Err(OpError::conflict(format!(
            "insufficient {account} balance: {available} fen available, {} fen asked",
            -amount
        )));
    };
    let balance = Balance {
        account: account.into(),
        balance: entry.balance_after,
        held: entry.held_after,
        available: entry.balance_after - entry.held_after,
    };
    Ok(Recharged {
        user: agent.user,
        entry,
        balance,
    })
}

async fn balances(svc: &Boxoffice, partner: i64) -> Result<Vec<Balance>, StoreError> {
    let mut list: Vec<Balance> = svc
        .store()
        .accounts(partner)
        .await?
        .into_iter()
        .map(|a| Balance {
            available: a.balance - a.held,
            account: a.account,
            balance: a.balance,
            held: a.held,
        })
        .collect();
    list.sort_by(|a, b| a.account.cmp(&b.account));
    Ok(list)
}

/// `GET /ops/ybx/agents/{user}/accounts`: an agent's balances.
pub async fn accounts(svc: &Boxoffice, ybx: &Ybx, user: &str) -> Result<AccountsView, OpError> {
    let agent = find_agent(ybx, user).await?;
    Ok(AccountsView {
        accounts: balances(svc, agent.id()).await?,
        user: agent.user,
    })
}

/// `GET /ops/ybx/agents/{user}/ledger?account=`: an agent's ledger rows, oldest first.
pub async fn ledger(
    svc: &Boxoffice,
    ybx: &Ybx,
    user: &str,
    account: Option<&str>,
) -> Result<LedgerView, OpError> {
    let account = account
        .filter(|a| !a.trim().is_empty())
        .map(account_name)
        .transpose()?;
    let agent = find_agent(ybx, user).await?;
    let entries = svc.store().ledger(agent.id(), account).await?;
    Ok(LedgerView {
        user: agent.user,
        account: account.map(str::to_string),
        entries,
    })
}

// ---------------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------------

/// A visit order with its wire state code.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OrderView {
    /// The 游宝星 state code (`0`, `2`, `3`, …, `X`).
    pub status: String,
    /// The order.
    #[serde(flatten)]
    pub order: VisitOrder,
}

impl OrderView {
    fn of(order: VisitOrder) -> OrderView {
        OrderView {
            status: state_code(order.state).into(),
            order,
        }
    }
}

async fn find_order(svc: &Boxoffice, number: &str) -> Result<VisitOrder, OpError> {
    let number = number.trim();
    if number.is_empty() || number.len() > 32 {
        return Err(OpError::not_found(format!("no order {number:?}")));
    }
    svc.store()
        .visit_order_by_number(number)
        .await?
        .ok_or_else(|| OpError::not_found(format!("no order {number:?}")))
}

/// What the supplier does with an order's payment or refund application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentAction {
    /// Record a payment received outside the gateway (0 → 5/6, then delivery).
    Receipt,
    /// Approve an instant payment (5 → 6, then delivery).
    ApprovePayment,
    /// Reject an instant payment (5 → 9).
    RejectPayment,
    /// Approve a refund application (7 → 8).
    ApproveRefund,
    /// Reject a refund application (7 → A).
    RejectRefund,
    /// The approved refund was paid out (8 → B).
    CompleteRefund,
}

impl PaymentAction {
    /// The action named in a path (`receipt`, `approve-payment`, …).
    pub fn parse(name: &str) -> Option<PaymentAction> {
        Some(match name {
            "receipt" => PaymentAction::Receipt,
            "approve-payment" => PaymentAction::ApprovePayment,
            "reject-payment" => PaymentAction::RejectPayment,
            "approve-refund" => PaymentAction::ApproveRefund,
            "reject-refund" => PaymentAction::RejectRefund,
            "complete-refund" => PaymentAction::CompleteRefund,
            _ => return None,
        })
    }
}

/// `POST /ops/ybx/orders/{number}/{receipt|approve-payment|reject-payment|approve-refund|
/// reject-refund|complete-refund}`: the supplier's payment and refund decisions; `channel`
/// (`01`, `02`, `03`, default `01`) names how a manual receipt was paid.
pub async fn payment_action(
    ybx: &Ybx,
    number: &str,
    action: PaymentAction,
    channel: Option<&str>,
) -> Result<OrderView, OpError> {
    use boxoffice_ybx::epay::{self, PaymentActionError as E};
    let done = match action {
        PaymentAction::Receipt => epay::manual_receipt(ybx, number, channel.unwrap_or("01")).await,
        PaymentAction::ApprovePayment => epay::approve_payment(ybx, number).await,
        PaymentAction::RejectPayment => epay::reject_payment(ybx, number).await,
        PaymentAction::ApproveRefund => epay::decide_refund(ybx, number, true).await,
        PaymentAction::RejectRefund => epay::decide_refund(ybx, number, false).await,
        PaymentAction::CompleteRefund => epay::complete_refund(ybx, number).await,
    };
    match done {
        Ok(o) => Ok(OrderView::of(o)),
        Err(E::NotFound(n)) => Err(OpError::not_found(format!("no order {n:?}"))),
        Err(e @ E::WrongState(..)) => Err(OpError::conflict(e.to_string())),
        Err(e @ E::Channel(_)) => Err(OpError::bad(e.to_string())),
        Err(E::Store(e)) => Err(e.into()),
    }
}

/// `GET /ops/ybx/orders/{number}`: a visit order.
pub async fn order(svc: &Boxoffice, number: &str) -> Result<OrderView, OpError> {
    Ok(OrderView::of(find_order(svc, number).await?))
}

fn describe(s: VisitState) -> String {
    format!("{} ({})", state_code(s), s.as_str())
}

fn refused(r: VisitRefusal, order: &VisitOrder) -> OpError {
    match r {
        VisitRefusal::WrongState(Some(s)) => OpError::conflict(format!(
            "order {} changed meanwhile: it is now in state {}",
            order.number,
            describe(s)
        )),
        VisitRefusal::WrongState(None) => {
            OpError::not_found(format!("no order {:?}", order.number))
        }
        VisitRefusal::Insufficient(a) => {
            OpError::conflict(format!("the {a} account of the order's agent lacks funds"))
        }
        other => OpError::conflict(format!("refused: {other:?}")),
    }
}

fn protocol_of(order: &VisitOrder) -> String {
    if order.detail.protocol.is_empty() {
        PROTOCOL.into()
    } else {
        order.detail.protocol.clone()
    }
}

fn venue_name(svc: &Boxoffice, order: &VisitOrder) -> String {
    svc.catalog()
        .venue_by_id(order.venue_id)
        .map(|v| v.name.clone())
        .unwrap_or_default()
}

/// `POST /ops/ybx/orders/{number}/counter-sale`: the visitor pays at the counter. A booked
/// order (state `0`) becomes delivered at the counter (`X`) with tickets (QR medium), pay method
/// `counter`, paid in full; an `order_changed` event is queued when the order carries the agent's
/// own reference.
pub async fn counter_sale(svc: &Boxoffice, number: &str) -> Result<OrderView, OpError> {
    let order = find_order(svc, number).await?;
    let now = svc.now_ms();
    if order.state != VisitState::Booked {
        return Err(OpError::conflict(format!(
            "order {} is in state {}; only booked orders (0) are sold at the counter",
            order.number,
            describe(order.state)
        )));
    }
    if order.expires_ms.is_some_and(|e| e <= now) {
        return Err(OpError::conflict(format!(
            "order {} has expired",
            order.number
        )));
    }
    let catalog = svc.catalog();
    let venue = catalog
        .venue_by_id(order.venue_id)
        .ok_or_else(|| OpError::conflict("the order's venue is no longer in the catalogue"))?;
    let products: Vec<Product> = order
        .detail
        .items
        .iter()
        .filter_map(|i| venue.product(&i.product).cloned())
        .collect();
    let medium = 2;
    let mut detail = order.detail.clone();
    detail.pay_method = Some(PayMethod::Counter);
    detail.paid = order.total;
    detail.held = 0;
    detail.delivered_ms = Some(now);
    detail.extra.insert("medium".into(), medium.into());
    let mut events = Vec::new();
    if !detail.sender_ref.is_empty() {
        events.push(OutboxEvent::order_changed(
            &protocol_of(&order),
            VisitState::DeliveredCounter,
        ));
    }
    let mut messages = Vec::new();
    if detail.notify_visitors && !detail.mobile.is_empty() {
        messages.push(Message {
            kind: "delivery".into(),
            phone: detail.mobile.clone(),
            text: format!(
                "【{}】您预订的{}入园门票已在售票窗口付款出票，订单号{{number}}，请凭二维码入园。",
                venue.name,
                order.visit_date.format("%Y-%m-%d")
            ),
        });
    }
    // Ticket codes are random; a collision with an existing code is retried with new ones.
    let mut attempt = 0;
    loop {
        attempt += 1;
        let change = VisitChange {
            order_id: order.id,
            from: vec![VisitState::Booked],
            to: VisitState::DeliveredCounter,
            detail: Some(detail.clone()),
            expires_ms: Some(None),
            segment: None,
            now_ms: now,
            actor: ACTOR.into(),
            version: None,
            effects: VisitEffects {
                tickets: issue_tickets(
                    &order.detail.items,
                    &products,
                    &order.detail.persons,
                    order.visit_date,
                    medium,
                ),
                events: events.clone(),
                messages: messages.clone(),
                ..VisitEffects::default()
            },
        };
        match svc.change_visit_order(change).await {
            Ok(VisitOutcome::Done(o)) | Ok(VisitOutcome::Existing(o)) => {
                return Ok(OrderView::of(*o))
            }
            Ok(VisitOutcome::Refused(r)) => return Err(refused(r, &order)),
            Err(StoreError::Duplicate(_)) if attempt < 3 => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tickets
// ---------------------------------------------------------------------------------------------

/// A desk refund's money.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RefundInfo {
    /// Breach fee kept in fen.
    pub fee: i64,
    /// Amount given back in fen (price − fee).
    pub amount: i64,
    /// 1 cash (counter orders), 2 original path.
    pub mode: i32,
    /// The account credited (deposit / rebate orders).
    pub account: Option<String>,
    /// When (ms).
    pub refunded_ms: i64,
    /// Every ticket of the order is now refunded (the order became `B`).
    pub order_refunded: bool,
}

/// A ticket after an operator action.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TicketOutcome {
    /// Order number.
    pub order: String,
    /// The order's state code after the action.
    pub order_status: String,
    /// Whether the action changed anything (false: already printed / already passed).
    pub changed: bool,
    /// The ticket as it now stands.
    pub ticket: VisitTicket,
    /// Money of a refund.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<RefundInfo>,
}

/// Gate passage details (`POST /ops/tickets/{code}/check` body).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Passage {
    /// Gate number (up to 32 characters).
    #[serde(default)]
    pub gate: String,
    /// Checking station name (default: the venue's station name).
    #[serde(default)]
    pub station: Option<String>,
}

async fn find_ticket(svc: &Boxoffice, code: &str) -> Result<(VisitOrder, VisitTicket), OpError> {
    let code = code.trim();
    let missing = || OpError::not_found(format!("no ticket {code:?}"));
    if code.is_empty() || code.len() > 64 {
        return Err(missing());
    }
    let Some((order_id, _)) = svc.store().visit_ticket(code).await? else {
        return Err(missing());
    };
    let order = svc
        .store()
        .visit_order(order_id)
        .await?
        .ok_or_else(missing)?;
    let ticket = order
        .tickets
        .iter()
        .find(|t| t.code == code)
        .cloned()
        .ok_or_else(missing)?;
    Ok((order, ticket))
}

fn outcome(
    order: &VisitOrder,
    code: &str,
    changed: bool,
    refund: Option<RefundInfo>,
) -> TicketOutcome {
    TicketOutcome {
        order: order.number.clone(),
        order_status: state_code(order.state).into(),
        changed,
        ticket: order
            .tickets
            .iter()
            .find(|t| t.code == code)
            .cloned()
            .unwrap_or_else(|| VisitTicket {
                code: code.into(),
                seq: 0,
                product: String::new(),
                person_count: 0,
                free_count: 0,
                price: 0,
                date: order.visit_date,
                medium: 0,
                status: 0,
                name: String::new(),
                id_number: String::new(),
            }),
        refund,
    }
}

fn status_conflict(t: &VisitTicket, action: &str) -> OpError {
    let what = match t.status {
        2 => "is refunded",
        3 => "is printed",
        4 => "was used at the gate",
        1 => "is valid",
        _ => "has an unknown status",
    };
    OpError::conflict(format!(
        "ticket {} {what} (status {}); it cannot be {action}",
        t.code, t.status
    ))
}

/// A change of the order's tickets that keeps its state (`from` = `to` = the state read),
/// made only if the order is still at the version read.
fn same_state(
    order: &VisitOrder,
    now: i64,
    detail: Option<VisitDetail>,
    effects: VisitEffects,
) -> VisitChange {
    VisitChange {
        order_id: order.id,
        from: vec![order.state],
        to: order.state,
        detail,
        expires_ms: None,
        segment: None,
        now_ms: now,
        actor: ACTOR.into(),
        version: Some(order.version),
        effects,
    }
}

/// `POST /ops/tickets/{code}/print`: a valid ticket (status 1) becomes printed (3). Printing a
/// printed ticket again (a reprint) changes nothing; refunded or used tickets → 409.
pub async fn print_ticket(svc: &Boxoffice, code: &str) -> Result<TicketOutcome, OpError> {
    for _ in 0..RETRIES {
        let (order, ticket) = find_ticket(svc, code).await?;
        match ticket.status {
            3 => return Ok(outcome(&order, &ticket.code, false, None)),
            1 => {}
            _ => return Err(status_conflict(&ticket, "printed")),
        }
        let effects = VisitEffects {
            ticket_status: vec![TicketStatusChange {
                code: ticket.code.clone(),
                from: vec![1],
                to: 3,
            }],
            ..VisitEffects::default()
        };
        match svc
            .change_visit_order(same_state(&order, svc.now_ms(), None, effects))
            .await?
        {
            VisitOutcome::Done(o) | VisitOutcome::Existing(o) => {
                return Ok(outcome(&o, &ticket.code, true, None))
            }
            VisitOutcome::Refused(VisitRefusal::Stale | VisitRefusal::TicketState(_)) => {}
            VisitOutcome::Refused(r) => return Err(refused(r, &order)),
        }
    }
    Err(busy())
}

fn busy() -> OpError {
    OpError::conflict("the order kept changing meanwhile; try again")
}

/// `POST /ops/tickets/{code}/check`: a gate passage. A valid or printed ticket (1, 3) becomes
/// used (4) and, on this first passage only, a `ticket_checked` event is queued (orders with the
/// agent's own reference). Later passages change nothing; a refunded ticket → 409.
pub async fn check_ticket(
    svc: &Boxoffice,
    code: &str,
    passage: &Passage,
) -> Result<TicketOutcome, OpError> {
    let gate = passage.gate.trim();
    if gate.chars().count() > 32 {
        return Err(OpError::bad("gate must be at most 32 characters"));
    }
    let station_given = passage.station.as_deref().map(str::trim);
    if station_given.is_some_and(|s| s.chars().count() > 64) {
        return Err(OpError::bad("station must be at most 64 characters"));
    }
    for _ in 0..RETRIES {
        let (order, ticket) = find_ticket(svc, code).await?;
        match ticket.status {
            4 => return Ok(outcome(&order, &ticket.code, false, None)),
            1 | 3 => {}
            _ => return Err(status_conflict(&ticket, "checked")),
        }
        let now = svc.now_ms();
        let station = match station_given.filter(|s| !s.is_empty()) {
            Some(s) => s.to_string(),
            None => svc
                .catalog()
                .venue_by_id(order.venue_id)
                .and_then(|v| v.scenic.as_ref().map(|s| s.station_name.clone()))
                .unwrap_or_default(),
        };
        let mut detail = order.detail.clone();
        let checks = detail
            .extra
            .entry("ticket_checks")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = checks {
            m.insert(
                ticket.code.clone(),
                serde_json::json!({ "checked_ms": now, "station": station, "gate": gate }),
            );
        }
        let mut effects = VisitEffects {
            ticket_status: vec![TicketStatusChange {
                code: ticket.code.clone(),
                from: vec![1, 3],
                to: 4,
            }],
            ..VisitEffects::default()
        };
        if !order.detail.sender_ref.is_empty() {
            effects.events.push(OutboxEvent {
                protocol: protocol_of(&order),
                kind: "ticket_checked".into(),
                payload: serde_json::json!({
                    "ticket": ticket.code,
                    "checked_ms": now,
                    "station": station,
                    "gate": gate,
                }),
            });
        }
        match svc
            .change_visit_order(same_state(&order, now, Some(detail), effects))
            .await?
        {
            VisitOutcome::Done(o) | VisitOutcome::Existing(o) => {
                return Ok(outcome(&o, &ticket.code, true, None))
            }
            // Another request passed or refunded it, or changed the order: decide again.
            VisitOutcome::Refused(VisitRefusal::Stale | VisitRefusal::TicketState(_)) => {}
            VisitOutcome::Refused(r) => return Err(refused(r, &order)),
        }
    }
    Err(busy())
}

/// `POST /ops/tickets/{code}/refund`: a desk refund. A valid or printed ticket (1, 3) becomes
/// refunded (2); the breach fee follows the venue's fee rules at the lead to the visit date;
/// deposit and rebate orders get price − fee back on that account (ledger kind `refund`);
/// a `ticket_refunded` event is queued (mode 1 for counter orders, 2 otherwise). When every
/// ticket of the order is refunded the order becomes refunded (`B`) and its quota units and
/// identity numbers are released. Used tickets → 409.
pub async fn refund_ticket(svc: &Boxoffice, code: &str) -> Result<TicketOutcome, OpError> {
    for _ in 0..RETRIES {
        let (order, ticket) = find_ticket(svc, code).await?;
        if !matches!(ticket.status, 1 | 3) {
            return Err(status_conflict(&ticket, "refunded"));
        }
        let now = svc.now_ms();
        let scenic = svc
            .catalog()
            .venue_by_id(order.venue_id)
            .and_then(|v| v.scenic.clone())
            .unwrap_or_default();
        let unit_price = order
            .detail
            .items
            .iter()
            .find(|i| i.product.eq_ignore_ascii_case(&ticket.product))
            .map_or(ticket.price, |i| i.unit_price);
        let paid_units = (ticket.person_count - ticket.free_count).max(0);
        let lead = boxoffice_core::scenic::lead_days(order.visit_date, now, svc.settings().offset);
        let fee = scenic
            .fee(&ticket.product, unit_price, paid_units, lead)
            .clamp(0, ticket.price.max(0));
        let amount = ticket.price.max(0) - fee;
        let counter = order.detail.pay_method == Some(PayMethod::Counter);
        let mode = if counter { 1 } else { 2 };
        let account = match order.detail.pay_method {
            Some(PayMethod::Deposit) => Some("deposit"),
            Some(PayMethod::Rebate) => Some("rebate"),
            _ => None,
        };
        let all_refunded = order
            .tickets
            .iter()
            .all(|t| t.code == ticket.code || t.status == 2);
        let to = if all_refunded {
            VisitState::Refunded
        } else {
            order.state
        };
        let mut detail = order.detail.clone();
        detail.fees = detail.fees.saturating_add(fee);
        let refunds = detail
            .extra
            .entry("ticket_refunds")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = refunds {
            m.insert(
            ticket.code.clone(),
            serde_json::json!({ "fee": fee, "amount": amount, "refunded_ms": now, "mode": mode }),
        );
        }
        let mut effects = VisitEffects {
            release: all_refunded,
            ticket_status: vec![TicketStatusChange {
                code: ticket.code.clone(),
                from: vec![1, 3],
                to: 2,
            }],
            ..VisitEffects::default()
        };
        if let Some(acc) = account.filter(|_| amount > 0) {
            effects.accounts.push(AccountMove {
                account: acc.into(),
                balance_delta: amount,
                held_delta: 0,
                kind: "refund".into(),
                note: format!(
                    "desk refund of ticket {} of order {} (fee {fee})",
                    ticket.code, order.number
                ),
            });
        }
        if !order.detail.sender_ref.is_empty() {
            let protocol = protocol_of(&order);
            // The state change first, then the ticket event (catalogue §4.2.45).
            if all_refunded {
                effects
                    .events
                    .push(OutboxEvent::order_changed(&protocol, VisitState::Refunded));
            }
            effects.events.push(OutboxEvent {
                protocol: protocol.clone(),
                kind: "ticket_refunded".into(),
                payload: serde_json::json!({
                    "ticket": ticket.code,
                    "fee": fee,
                    "amount": amount,
                    "refunded_ms": now,
                    "mode": mode,
                }),
            });
        }
        if order.detail.notify_visitors && !order.detail.mobile.is_empty() {
            effects.messages.push(Message {
                kind: "refund".into(),
                phone: order.detail.mobile.clone(),
                text: format!(
                    "【{}】订单{{number}}的门票{}已退票，退款{}元，手续费{}元。",
                    venue_name(svc, &order),
                    ticket.code,
                    boxoffice_ybx::xml::money(amount),
                    boxoffice_ybx::xml::money(fee)
                ),
            });
        }
        let change = VisitChange {
            to,
            ..same_state(&order, now, Some(detail), effects)
        };
        match svc.change_visit_order(change).await? {
            VisitOutcome::Done(o) | VisitOutcome::Existing(o) => {
                return Ok(outcome(
                    &o,
                    &ticket.code,
                    true,
                    Some(RefundInfo {
                        fee,
                        amount,
                        mode,
                        account: account.filter(|_| amount > 0).map(str::to_string),
                        refunded_ms: now,
                        order_refunded: all_refunded,
                    }),
                ))
            }
            VisitOutcome::Refused(VisitRefusal::Stale | VisitRefusal::TicketState(_)) => {}
            VisitOutcome::Refused(r) => return Err(refused(r, &order)),
        }
    }
    Err(busy())
}

/// `GET /ops/tickets/{code}`: a ticket with its order's number and state.
pub async fn ticket(svc: &Boxoffice, code: &str) -> Result<TicketOutcome, OpError> {
    let (order, ticket) = find_ticket(svc, code).await?;
    Ok(outcome(&order, &ticket.code, false, None))
}

// ---------------------------------------------------------------------------------------------
// Messages and callbacks
// ---------------------------------------------------------------------------------------------

/// `GET /ops/messages?phone=&order=`: messages kept by the built-in sink, oldest first
/// (`order` is an order number).
pub async fn messages(
    svc: &Boxoffice,
    phone: Option<&str>,
    order: Option<&str>,
) -> Result<Vec<StoredMessage>, OpError> {
    let phone = phone.map(str::trim).filter(|p| !p.is_empty());
    if phone.is_some_and(|p| p.len() > 32) {
        return Err(OpError::bad("phone must be at most 32 characters"));
    }
    let order_id = match order.map(str::trim).filter(|o| !o.is_empty()) {
        Some(number) => Some(find_order(svc, number).await?.id),
        None => None,
    };
    Ok(svc.store().messages(phone, order_id).await?)
}

/// `GET /ops/ybx/outbox?order=&user=`: 游宝星 callbacks with their delivery state, in delivery
/// order (one order's by number, one agent's, or all).
pub async fn outbox(
    svc: &Boxoffice,
    ybx: &Ybx,
    order: Option<&str>,
    user: Option<&str>,
) -> Result<Vec<OutboxRow>, OpError> {
    let order_id = match order.map(str::trim).filter(|o| !o.is_empty()) {
        Some(number) => Some(find_order(svc, number).await?.id),
        None => None,
    };
    let partner = match user.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => Some(find_agent(ybx, u).await?.id()),
        None => None,
    };
    Ok(svc
        .store()
        .outbox(partner, order_id)
        .await?
        .into_iter()
        .filter(|r| r.event.protocol == PROTOCOL)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_keys_are_uppercase_guids() {
        let k = new_data_key();
        assert_eq!(k.len(), 36);
        let groups: Vec<usize> = k.split('-').map(str::len).collect();
        assert_eq!(groups, vec![8, 4, 4, 4, 12]);
        assert!(k
            .chars()
            .all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase()));
        assert_ne!(k, new_data_key());
    }

    #[test]
    fn accounts_are_deposit_or_rebate() {
        assert_eq!(account_name("Deposit").ok(), Some("deposit"));
        assert_eq!(account_name("rebate").ok(), Some("rebate"));
        assert!(account_name("cash").is_err());
    }

    #[test]
    fn key_versions_start_at_one() {
        assert_eq!(key_info(&Map::new()).version, 1);
        let mut m = Map::new();
        m.insert("data_key".into(), "K".into());
        assert_eq!(key_info(&m).version, 2);
        m.insert("key_version".into(), 5.into());
        assert_eq!(key_info(&m).version, 5);
        assert_eq!(key_info(&m).source, "rotated");
    }
}
