//! Scenic areas: products sold by visit date against day quotas and time segments (lines), the
//! supplier's rules (fees, activation, payment timeouts), and visit orders with their persons,
//! tickets, account movements, callbacks (outbox events) and messages.
//!
//! Everything here is protocol-neutral: a front end maps its own state codes and field names onto
//! these types. Changes are described as data ([`VisitEffects`]) and applied by the store in one
//! transaction, so quotas, identity numbers and balances are claimed by conditional statements
//! in the database, never by a read followed by a write.

use crate::catalog::{PartnerId, VenueId};
use crate::clock::Millis;
use crate::store::QuotaClaim;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The scenic-area rules of a venue (a supplier).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScenicSettings {
    /// Products are sold per time segment of a line (分时段).
    #[serde(default)]
    pub segmented: bool,
    /// Breach fees apply.
    #[serde(default)]
    pub fees_enabled: bool,
    /// Breach-fee rules.
    #[serde(default)]
    pub fees: Vec<FeeRule>,
    /// Remote activation: 0 not allowed, 1 allowed, 2 forced (activation on authorization).
    #[serde(default = "one")]
    pub remote_activation: i32,
    /// Default gate medium: 1 ID card, 2 QR code, 3 ID card when every unit names a person, else QR.
    #[serde(default = "three")]
    pub gate_medium: i32,
    /// Authorization also activates (delivers) unless the caller says otherwise.
    #[serde(default = "yes")]
    pub activate_on_payment: bool,
    /// Activated tickets may still be refunded.
    #[serde(default)]
    pub refund_after_activation: bool,
    /// Minutes an unpaid order of an agent without pay-at-counter rights stays open.
    #[serde(default = "thirty")]
    pub pay_timeout_minutes: i64,
    /// Most persons per visit date over all products and agents (0: unlimited).
    #[serde(default)]
    pub daily_max: i64,
    /// Instant-payment channels offered (`01` Alipay, `02` WeChat Pay, `03` UnionPay).
    #[serde(default)]
    pub epay_channels: Vec<String>,
    /// Instant payments wait for the supplier's approval.
    #[serde(default)]
    pub epay_manual_approval: bool,
    /// One product per order.
    #[serde(default)]
    pub single_product_per_order: bool,
    /// A person may hold only one live ticket at a time.
    #[serde(default)]
    pub no_repeat_purchase: bool,
    /// The selling station reported on tickets.
    #[serde(default = "station_id")]
    pub station_id: String,
    /// Its name.
    #[serde(default = "station_name")]
    pub station_name: String,
}

fn one() -> i32 {
    1
}
fn three() -> i32 {
    3
}
fn yes() -> bool {
    true
}
fn thirty() -> i64 {
    30
}
fn station_id() -> String {
    "99".into()
}
fn station_name() -> String {
    "互联网售票".into()
}

impl Default for ScenicSettings {
    fn default() -> Self {
        ScenicSettings {
            segmented: false,
            fees_enabled: false,
            fees: Vec::new(),
            remote_activation: 1,
            gate_medium: 3,
            activate_on_payment: true,
            refund_after_activation: false,
            pay_timeout_minutes: 30,
            daily_max: 0,
            epay_channels: Vec::new(),
            epay_manual_approval: false,
            single_product_per_order: false,
            no_repeat_purchase: false,
            station_id: station_id(),
            station_name: station_name(),
        }
    }
}

/// A breach-fee rule: when a breach happens `unit_count` or more units (days) before the visit
/// date, this rule's fee applies (the rule with the largest `unit_count` not above the lead wins).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FeeRule {
    /// Product id, or `*` for every product.
    #[serde(default = "star")]
    pub product: String,
    /// Lead in units before the reference time (signed: -1 = on the day or later).
    pub unit_count: i64,
    /// `D` days (scenic) or `H` hours (theatre).
    #[serde(default = "day_unit")]
    pub unit: String,
    /// Percentage of the breached item's price (mode A), when set.
    #[serde(default)]
    pub percent: Option<i64>,
    /// Fixed amount per breached unit in fen (mode B), when set.
    #[serde(default)]
    pub amount: Option<i64>,
}

fn star() -> String {
    "*".into()
}
fn day_unit() -> String {
    "D".into()
}

impl ScenicSettings {
    /// The breach fee for every paid unit of an order's lines, breached `lead` whole days before
    /// the visit date.
    pub fn items_fee(&self, items: &[VisitItem], lead: i64) -> i64 {
        items
            .iter()
            .map(|i| self.fee(&i.product, i.unit_price, i.count - i.free, lead))
            .sum()
    }

    /// The breach fee for `count` units of `product` priced `price` fen each, breached `lead`
    /// whole days before the visit date (negative: on or after it). 0 when fees are off or no
    /// rule covers the product.
    pub fn fee(&self, product: &str, price: i64, count: i64, lead: i64) -> i64 {
        if !self.fees_enabled || count <= 0 {
            return 0;
        }
        let rules: Vec<&FeeRule> = self
            .fees
            .iter()
            .filter(|r| r.product == "*" || r.product.eq_ignore_ascii_case(product))
            .collect();
        let rule = rules
            .iter()
            .filter(|r| r.unit_count <= lead)
            .max_by_key(|r| r.unit_count)
            .or_else(|| rules.iter().min_by_key(|r| r.unit_count));
        let Some(rule) = rule else { return 0 };
        match (rule.amount, rule.percent) {
            (Some(a), _) => a.saturating_mul(count),
            // Half-up to the fen: price × percent / 100 per unit, rounded once over all units.
            (None, Some(p)) => (price.saturating_mul(p).saturating_mul(count) + 50) / 100,
            (None, None) => 0,
        }
    }
}

/// Whole days from `now_ms` to 00:00 (venue time) of `visit` — negative on or after that day —
/// as breach fees count them (catalogue §1.9).
pub fn lead_days(visit: NaiveDate, now_ms: Millis, offset: chrono::FixedOffset) -> i64 {
    let start = crate::clock::from_local(visit.and_time(chrono::NaiveTime::MIN), offset);
    (crate::clock::to_millis(start) - now_ms).div_euclid(86_400_000)
}

/// When an order for a visit on `visit` stops being valid: midnight (venue time) after its last
/// valid day, counting the smallest order validity (`order_validity_days`, at least 1) of its
/// products.
pub fn validity_end<'a>(
    visit: NaiveDate,
    products: impl IntoIterator<Item = &'a Product>,
    offset: chrono::FixedOffset,
) -> Millis {
    let days = products
        .into_iter()
        .map(|p| p.order_validity_days.max(1))
        .min()
        .unwrap_or(1);
    let end = (visit + chrono::Duration::days(days)).and_time(chrono::NaiveTime::MIN);
    crate::clock::to_millis(crate::clock::from_local(end, offset))
}

/// How a product's units become tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Ticketing {
    /// One ticket per person (一人一票).
    OnePerson,
    /// One ticket for the whole quantity (多人一票).
    #[default]
    ManyPeople,
    /// One per person when every unit names a person, else one for all.
    Buyer,
}

/// N free for every X bought (现返): `free` units per `per` units, on visit dates in a window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FreeScheme {
    /// Units that earn the free units.
    pub per: i64,
    /// Free units per `per` units.
    pub free: i64,
    /// First visit date.
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Last visit date.
    #[serde(default)]
    pub to: Option<NaiveDate>,
}

impl FreeScheme {
    /// Free units among `count` units on `date`.
    pub fn free_units(&self, count: i64, date: NaiveDate) -> i64 {
        let in_window = self.from.is_none_or(|f| f <= date) && self.to.is_none_or(|t| date <= t);
        if !in_window || self.per <= 0 {
            return 0;
        }
        (count / self.per) * self.free
    }
}

/// A product (ticket type) of a scenic area, sold by visit date.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Id (a GUID; compared case-insensitively).
    pub id: String,
    /// Name.
    pub name: String,
    /// 0 tangible, 1 virtual.
    #[serde(default = "virtual_class")]
    pub class: i32,
    /// Unit, e.g. `张`.
    #[serde(default = "unit")]
    pub unit: String,
    /// List price in fen (agents may have their own).
    pub price: i64,
    /// First visit date it may be sold for.
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    /// Last visit date it may be sold for.
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    /// Conditions of sale (text).
    #[serde(default)]
    pub conditions: String,
    /// Least units per order.
    #[serde(default = "one_i64")]
    pub min_per_order: i64,
    /// Most units per order.
    #[serde(default = "max_units")]
    pub max_per_order: i64,
    /// Most units per identity number and visit date (0: no limit).
    #[serde(default)]
    pub per_id_daily_max: i64,
    /// `A`: valid from the visit date; `B`: valid from first use or delivery.
    #[serde(default = "effect_a")]
    pub effect_mode: String,
    /// Days an order stays valid from its visit date.
    #[serde(default = "one_i64")]
    pub order_validity_days: i64,
    /// Days a ticket stays valid.
    #[serde(default = "one_i64")]
    pub validity_days: i64,
    /// Start of the effective period (`yyyyMMdd`, empty: none).
    #[serde(default)]
    pub effect_from: String,
    /// End of the effective period.
    #[serde(default)]
    pub effect_to: String,
    /// The product is effective outside the period instead of inside.
    #[serde(default)]
    pub effect_negated: bool,
    /// Days ahead a visit must be booked.
    #[serde(default)]
    pub lead_days: i64,
    /// Days after the visit date delivery is allowed.
    #[serde(default)]
    pub delivery_days: i64,
    /// Every unit must name a person.
    #[serde(default)]
    pub real_name: bool,
    /// How units become tickets.
    #[serde(default)]
    pub ticketing: Ticketing,
    /// Sold against a day quota.
    #[serde(default)]
    pub inventory: bool,
    /// The day quota (units per visit date; with `inventory`, required).
    #[serde(default)]
    pub daily_max: Option<i64>,
    /// Lines (service items) it is sold on.
    #[serde(default)]
    pub lines: Vec<String>,
    /// N free for X.
    #[serde(default)]
    pub free: Option<FreeScheme>,
    /// On sale.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn virtual_class() -> i32 {
    1
}
fn unit() -> String {
    "张".into()
}
fn one_i64() -> i64 {
    1
}
fn max_units() -> i64 {
    99
}
fn effect_a() -> String {
    "A".into()
}

impl Product {
    /// Whether it may be sold for a visit on `date` (validity window and effective period).
    pub fn sells_on(&self, date: NaiveDate) -> bool {
        if self.valid_from.is_some_and(|f| date < f) || self.valid_to.is_some_and(|t| date > t) {
            return false;
        }
        let ymd = date.format("%Y%m%d").to_string();
        let from = (!self.effect_from.is_empty()).then_some(self.effect_from.as_str());
        let to = (!self.effect_to.is_empty()).then_some(self.effect_to.as_str());
        if from.is_none() && to.is_none() {
            return true;
        }
        let inside = from.is_none_or(|f| f <= ymd.as_str()) && to.is_none_or(|t| ymd.as_str() <= t);
        inside != self.effect_negated
    }
}

/// A line (service item) with its time segments.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// Code, e.g. `01`.
    pub code: String,
    /// Name.
    pub name: String,
    /// Segments in index order.
    #[serde(default, alias = "segment")]
    pub segments: Vec<Segment>,
}

/// A time segment of a line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// Index (1-based).
    pub index: i32,
    /// Start, `HH:MM`.
    pub start: String,
    /// End, `HH:MM`.
    pub end: String,
    /// Units sold to partners per visit date.
    pub capacity: i64,
    /// Units kept for the desk.
    #[serde(default)]
    pub desk_capacity: i64,
}

/// Database id of a visit order.
pub type VisitOrderId = i64;

/// Where a visit order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum VisitState {
    /// Booked, not paid.
    Booked,
    /// Deposit authorized (held or debited), not delivered.
    DepositAuthorized,
    /// Delivered (tickets issued) after a deposit or instant payment.
    Delivered,
    /// Closed (cancelled or expired).
    Closed,
    /// Paid by an instant payment, awaiting the supplier's approval.
    PaidUnapproved,
    /// Paid by an instant payment.
    Paid,
    /// Refund applied for.
    RefundRequested,
    /// Refund approved.
    RefundApproved,
    /// Payment rejected by the supplier.
    PaymentRejected,
    /// Refund rejected.
    RefundRejected,
    /// Refunded.
    Refunded,
    /// Rebate balance authorized, not delivered.
    RebateAuthorized,
    /// Delivered after a rebate authorization.
    DeliveredRebate,
    /// Delivered at the counter (paid there).
    DeliveredCounter,
}

impl VisitState {
    /// Every state.
    pub const ALL: [VisitState; 14] = [
        VisitState::Booked,
        VisitState::DepositAuthorized,
        VisitState::Delivered,
        VisitState::Closed,
        VisitState::PaidUnapproved,
        VisitState::Paid,
        VisitState::RefundRequested,
        VisitState::RefundApproved,
        VisitState::PaymentRejected,
        VisitState::RefundRejected,
        VisitState::Refunded,
        VisitState::RebateAuthorized,
        VisitState::DeliveredRebate,
        VisitState::DeliveredCounter,
    ];
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            VisitState::Booked => "booked",
            VisitState::DepositAuthorized => "deposit_authorized",
            VisitState::Delivered => "delivered",
            VisitState::Closed => "closed",
            VisitState::PaidUnapproved => "paid_unapproved",
            VisitState::Paid => "paid",
            VisitState::RefundRequested => "refund_requested",
            VisitState::RefundApproved => "refund_approved",
            VisitState::PaymentRejected => "payment_rejected",
            VisitState::RefundRejected => "refund_rejected",
            VisitState::Refunded => "refunded",
            VisitState::RebateAuthorized => "rebate_authorized",
            VisitState::DeliveredRebate => "delivered_rebate",
            VisitState::DeliveredCounter => "delivered_counter",
        }
    }
    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<VisitState> {
        VisitState::ALL.into_iter().find(|v| v.as_str() == s)
    }
    /// Whether the order still counts as live (its identity numbers stay claimed).
    pub fn is_live(self) -> bool {
        matches!(
            self,
            VisitState::Booked
                | VisitState::DepositAuthorized
                | VisitState::PaidUnapproved
                | VisitState::Paid
                | VisitState::RebateAuthorized
        )
    }
}

/// How an order was (or is being) paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayMethod {
    /// At the counter on the day.
    Counter,
    /// From the agent's deposit account.
    Deposit,
    /// From the agent's rebate account.
    Rebate,
    /// Instant payment through a gateway.
    Instant,
}

/// A product line of a visit order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VisitItem {
    /// Product id.
    pub product: String,
    /// Product name at booking time.
    pub name: String,
    /// Unit at booking time.
    #[serde(default)]
    pub unit: String,
    /// Units.
    pub count: i64,
    /// Free units among them (现返).
    #[serde(default)]
    pub free: i64,
    /// Price per unit in fen.
    pub unit_price: i64,
}

impl VisitItem {
    /// Amount charged for the line: paid units × price.
    pub fn amount(&self) -> i64 {
        (self.count - self.free)
            .max(0)
            .saturating_mul(self.unit_price)
    }
}

/// A named visitor (real-name registration).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Person {
    /// Identity document number.
    pub id_number: String,
    /// Name.
    pub name: String,
    /// Mobile.
    #[serde(default)]
    pub mobile: String,
    /// Index of the order line (0-based) the person is counted in.
    pub item: usize,
    /// Document type (1 ID card, 2–4 other documents).
    #[serde(default = "one")]
    pub id_type: i32,
}

/// A ticket of a delivered visit order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VisitTicket {
    /// Ticket code (20 digits, unique).
    pub code: String,
    /// Position within the order (1-based).
    pub seq: i64,
    /// Product id.
    pub product: String,
    /// Persons admitted.
    pub person_count: i64,
    /// Free persons among them.
    pub free_count: i64,
    /// Price charged in fen.
    pub price: i64,
    /// Visit date.
    pub date: NaiveDate,
    /// Gate medium: 1 ID card, 2 QR code.
    pub medium: i32,
    /// 1 valid, 2 refunded, 3 printed, 4 used.
    pub status: i32,
    /// Visitor's name (real-name tickets).
    #[serde(default)]
    pub name: String,
    /// Visitor's identity number.
    #[serde(default)]
    pub id_number: String,
}

/// Everything about a visit order that is not a queried column.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct VisitDetail {
    /// Product lines.
    pub items: Vec<VisitItem>,
    /// Named visitors.
    #[serde(default)]
    pub persons: Vec<Person>,
    /// Buyer's mobile.
    #[serde(default)]
    pub mobile: String,
    /// Buyer's identity number (ticket collection).
    #[serde(default)]
    pub id_number: String,
    /// Invoice wanted.
    #[serde(default)]
    pub invoice: bool,
    /// Invoice title.
    #[serde(default)]
    pub invoice_title: String,
    /// The agent's own reference (for callbacks).
    #[serde(default)]
    pub sender_ref: String,
    /// How it is paid.
    #[serde(default)]
    pub pay_method: Option<PayMethod>,
    /// Instant-payment channel.
    #[serde(default)]
    pub pay_channel: String,
    /// Amount paid or authorized in fen.
    #[serde(default)]
    pub paid: i64,
    /// Amount held on the agent's account (authorized, not yet debited).
    #[serde(default)]
    pub held: i64,
    /// Breach fees charged in fen.
    #[serde(default)]
    pub fees: i64,
    /// Quota units claimed (released when the order closes).
    #[serde(default)]
    pub claims: Vec<QuotaClaim>,
    /// Identity numbers claimed as live (released when the order closes).
    #[serde(default)]
    pub live_ids: Vec<String>,
    /// Official notices to visitors are sent.
    #[serde(default = "yes")]
    pub notify_visitors: bool,
    /// When delivered.
    #[serde(default)]
    pub delivered_ms: Option<Millis>,
    /// Sale bill number of the delivery.
    #[serde(default)]
    pub sale_bill: String,
    /// When closed.
    #[serde(default)]
    pub closed_ms: Option<Millis>,
    /// The protocol the order was placed through (its events are delivered by that front end).
    #[serde(default)]
    pub protocol: String,
    /// Protocol-specific extras (opaque to the core).
    #[serde(default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A visit order: products for a visit date, with the state of its payment and delivery.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VisitOrder {
    /// Database id.
    pub id: VisitOrderId,
    /// Order number (`yyyyMMdd` + id in 10 digits).
    pub number: String,
    /// Venue.
    pub venue_id: VenueId,
    /// Partner (agent).
    pub partner_id: PartnerId,
    /// The partner's idempotency key.
    pub external_ref: String,
    /// State.
    pub state: VisitState,
    /// Visit date.
    pub visit_date: NaiveDate,
    /// Line of the booked time segment.
    pub line: Option<String>,
    /// Booked time segment.
    pub segment: Option<i32>,
    /// Amount due in fen.
    pub total: i64,
    /// Created.
    pub created_ms: Millis,
    /// Last changed.
    pub updated_ms: Millis,
    /// When an open order closes by itself.
    pub expires_ms: Option<Millis>,
    /// Incremented by every change (optimistic concurrency for read-decide-write callers).
    #[serde(default)]
    pub version: i64,
    /// Details.
    pub detail: VisitDetail,
    /// Tickets (delivered orders).
    pub tickets: Vec<VisitTicket>,
}

impl VisitOrder {
    /// Units over all lines.
    pub fn units(&self) -> i64 {
        self.detail.items.iter().map(|i| i.count).sum()
    }
}

/// A change to one of a partner's accounts (`deposit`, `rebate`), applied by one conditional
/// statement: the new balance and hold must stay ≥ 0 and the hold ≤ the balance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccountMove {
    /// Account name.
    pub account: String,
    /// Change of the balance in fen (negative: debit).
    pub balance_delta: i64,
    /// Change of the held amount in fen.
    pub held_delta: i64,
    /// Kind written to the ledger (`topup`, `debit`, `hold`, `release`, `deliver`, `fee`, `refund`, …).
    pub kind: String,
    /// Note.
    #[serde(default)]
    pub note: String,
}

/// A partner account's balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountBalance {
    /// Account name.
    pub account: String,
    /// Balance in fen.
    pub balance: i64,
    /// Amount held (authorized, not yet debited) in fen.
    pub held: i64,
}

/// A ledger row: one per account change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Id (increasing).
    pub id: i64,
    /// Partner.
    pub partner_id: PartnerId,
    /// Account.
    pub account: String,
    /// Kind.
    pub kind: String,
    /// Change of the balance in fen.
    pub amount: i64,
    /// Change of the held amount in fen.
    pub held_delta: i64,
    /// Balance after.
    pub balance_after: i64,
    /// Held after.
    pub held_after: i64,
    /// Visit order concerned.
    pub order_id: Option<VisitOrderId>,
    /// Note.
    pub note: String,
    /// Who did it (`system`, an operator, or the partner).
    pub actor: String,
    /// When.
    pub created_ms: Millis,
}

/// A change announced to a partner, delivered later from the durable outbox in the order it was
/// written (per visit order) by the front end of `protocol`, which renders it in its own terms.
///
/// Kinds and payloads (protocol-neutral):
/// - `order_changed`: `{"state": <VisitState stored form>}`;
/// - `ticket_refunded`: `{"ticket": code, "fee": fen, "amount": fen, "refunded_ms": ms, "mode": 1|2}`;
/// - `ticket_checked`: `{"ticket": code, "checked_ms": ms, "station": text, "gate": text}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutboxEvent {
    /// The protocol front end that delivers it.
    pub protocol: String,
    /// What it announces.
    pub kind: String,
    /// Event fields.
    pub payload: serde_json::Value,
}

impl OutboxEvent {
    /// An `order_changed` event for a state reached.
    pub fn order_changed(protocol: &str, state: VisitState) -> OutboxEvent {
        OutboxEvent {
            protocol: protocol.to_string(),
            kind: "order_changed".into(),
            payload: serde_json::json!({ "state": state.as_str() }),
        }
    }
}

/// An instant payment of a visit order through a payment gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitPayment {
    /// Merchant trade number sent to the platform (unique).
    pub out_trade_no: String,
    /// The order.
    pub order_id: VisitOrderId,
    /// Channel (`01` Alipay, `02` WeChat Pay, `03` UnionPay).
    pub channel: String,
    /// Amount in fen.
    pub amount: i64,
    /// `started`, `succeeded` or `failed`.
    pub state: String,
    /// The platform's transaction number, once known.
    pub platform_no: String,
    /// Where the caller wants the result announced (optional).
    pub notify_url: String,
    /// Started.
    pub created_ms: Millis,
    /// Settled.
    pub settled_ms: Option<Millis>,
}

/// Starts instant payments. The built-in implementation is a local simulator of the platforms
/// (a page where the payer confirms or declines, which then sends the platform's signed
/// notification); real gateways implement the same trait.
pub trait PaymentGateway: Send + Sync + 'static {
    /// The URL the payer is sent to for a started payment.
    fn pay_url(&self, payment: &VisitPayment, order_number: &str) -> String;
}

/// A single-use verification code (SMS) to consume inside a visit-order transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeUse {
    /// What it authorizes (`deposit`, `rebate`, `paypwd`).
    pub purpose: String,
    /// What it was issued for (an order number, a payment-password request id).
    pub subject: String,
    /// The code given.
    pub code: String,
}

/// A verification code as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyCode {
    /// Partner.
    pub partner_id: PartnerId,
    /// Purpose.
    pub purpose: String,
    /// Subject.
    pub subject: String,
    /// The code.
    pub code: String,
    /// Which reserved phone it went to (0 or 1).
    pub phone_index: i64,
    /// Issued.
    pub issued_ms: Millis,
    /// Valid until.
    pub expires_ms: Millis,
    /// Sends of this subject on the issue day.
    pub sends_today: i64,
    /// Wrong tries.
    pub wrong: i64,
    /// Consumed.
    pub used: bool,
}

/// What became of a request for a new verification code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueOutcome {
    /// Issued (superseding an earlier code of the subject).
    Issued,
    /// The previous code of the subject is too recent.
    TooSoon,
    /// Too many codes for the subject today.
    TooMany,
}

/// A stored outbox row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutboxRow {
    /// Id (the order events were written in).
    pub id: i64,
    /// Partner to notify.
    pub partner_id: PartnerId,
    /// Visit order concerned.
    pub order_id: Option<VisitOrderId>,
    /// The event.
    pub event: OutboxEvent,
    /// Written.
    pub created_ms: Millis,
    /// Next attempt due.
    pub next_ms: Millis,
    /// Attempts so far.
    pub attempts: i64,
    /// `pending`, `delivered` or `expired`.
    pub state: String,
    /// Last failure.
    pub last_error: String,
}

/// A message to a phone (SMS), kept by the built-in message sink.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Message {
    /// Kind (`code`, `booking`, `delivery`, `credential`, …).
    pub kind: String,
    /// Phone number.
    pub phone: String,
    /// Text.
    pub text: String,
}

/// A stored message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredMessage {
    /// Id.
    pub id: i64,
    /// Venue.
    pub venue_id: VenueId,
    /// Partner.
    pub partner_id: Option<PartnerId>,
    /// Visit order.
    pub order_id: Option<VisitOrderId>,
    /// The message.
    pub message: Message,
    /// When.
    pub created_ms: Millis,
    /// When a message sink took it (`None`: kept in the database only, or not yet passed on).
    #[serde(default)]
    pub sent_ms: Option<Millis>,
}

/// Where messages go after they are stored: the built-in sink keeps them in the database
/// (readable through the operator API); an SMS gateway implements this trait and is fed, in
/// order and at least once, by the message worker.
#[async_trait::async_trait]
pub trait MessageSink: Send + Sync + 'static {
    /// Passes a stored message on; an error leaves it to be retried.
    async fn send(&self, message: &StoredMessage) -> Result<(), String>;
}

/// What a visit-order change claims, releases, moves and announces — all in its transaction.
#[derive(Debug, Clone, Default)]
pub struct VisitEffects {
    /// Quota units to claim (all or nothing).
    pub quotas: Vec<QuotaClaim>,
    /// Alternative time segments `(segment, claims)`: the first whose claims all fit is taken.
    pub segment_options: Vec<(i32, Vec<QuotaClaim>)>,
    /// Identity numbers to claim as live at the venue.
    pub live_ids: Vec<String>,
    /// Give back the order's claimed quota units and live identity numbers.
    pub release: bool,
    /// Account changes of the order's partner.
    pub accounts: Vec<AccountMove>,
    /// Tickets to issue.
    pub tickets: Vec<VisitTicket>,
    /// Ticket status changes, each made only from the statuses it expects (refused with
    /// [`VisitRefusal::TicketState`] otherwise), so a ticket is passed or refunded once.
    pub ticket_status: Vec<TicketStatusChange>,
    /// Callbacks to queue.
    pub events: Vec<OutboxEvent>,
    /// Messages to send (`{number}` in a text stands for the order number).
    pub messages: Vec<Message>,
    /// A verification code to consume (refused with [`VisitRefusal::CodeRejected`] when it is
    /// not the current, unused, unexpired code of its subject).
    pub use_code: Option<CodeUse>,
    /// An instant payment to mark succeeded `(out_trade_no, platform number)`: only a payment
    /// still `started` (refused with [`VisitRefusal::PaymentSettled`] otherwise).
    pub settle_payment: Option<(String, String)>,
}

/// A change of one ticket's status (1 valid, 2 refunded, 3 printed, 4 used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketStatusChange {
    /// Ticket code.
    pub code: String,
    /// Statuses it may have now.
    pub from: Vec<i32>,
    /// Status after.
    pub to: i32,
}

/// A visit order to create.
#[derive(Debug, Clone)]
pub struct NewVisitOrder {
    /// Venue.
    pub venue_id: VenueId,
    /// Partner.
    pub partner_id: PartnerId,
    /// The partner's idempotency key (unique per partner).
    pub external_ref: String,
    /// Initial state.
    pub state: VisitState,
    /// Visit date.
    pub visit_date: NaiveDate,
    /// Line (segment-sold orders).
    pub line: Option<String>,
    /// Segment, unless chosen from `effects.segment_options`.
    pub segment: Option<i32>,
    /// Amount due.
    pub total: i64,
    /// Prefix of the order number (`yyyyMMdd`).
    pub number_prefix: String,
    /// Details (`claims` and `live_ids` are filled in by the store).
    pub detail: VisitDetail,
    /// Now.
    pub now_ms: Millis,
    /// When it closes by itself.
    pub expires_ms: Option<Millis>,
    /// What the creation claims and announces.
    pub effects: VisitEffects,
}

/// A change of a visit order's state, made only if the order is in one of `from`.
#[derive(Debug, Clone)]
pub struct VisitChange {
    /// The order.
    pub order_id: VisitOrderId,
    /// States it may be in.
    pub from: Vec<VisitState>,
    /// State after.
    pub to: VisitState,
    /// New details (replacing the stored ones), if they change.
    pub detail: Option<VisitDetail>,
    /// New expiry (`Some(None)` clears it).
    pub expires_ms: Option<Option<Millis>>,
    /// Segment chosen (activation of an order booked without one).
    pub segment: Option<i32>,
    /// Now.
    pub now_ms: Millis,
    /// Who made it (ledger actor).
    pub actor: String,
    /// The order's version the change was decided on: when set and the order changed since,
    /// the change is refused ([`VisitRefusal::Stale`]) and the caller decides again.
    pub version: Option<i64>,
    /// What the change claims, releases and announces.
    pub effects: VisitEffects,
}

/// Why a visit-order operation changed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisitRefusal {
    /// A quota lacks room (the first that did).
    QuotaFull(crate::store::QuotaKey),
    /// No segment option had room.
    NoSegment,
    /// An identity number is already on a live order at the venue.
    IdTaken(String),
    /// An account lacks funds (its name).
    Insufficient(String),
    /// The order is not in an allowed state (its state, or `None` when unknown).
    WrongState(Option<VisitState>),
    /// The verification code was wrong, used or expired.
    CodeRejected,
    /// The payment was settled before (a repeated notification).
    PaymentSettled,
    /// A ticket was not in an expected status (its code).
    TicketState(String),
    /// The order changed since the version the change was decided on.
    Stale,
}

/// What became of a visit-order creation or change.
#[derive(Debug, Clone)]
pub enum VisitOutcome {
    /// Done: the order as it now stands.
    Done(Box<VisitOrder>),
    /// The partner's key was used before: that order, unchanged.
    Existing(Box<VisitOrder>),
    /// Refused; nothing changed.
    Refused(VisitRefusal),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> ScenicSettings {
        let rule = |unit_count, amount| FeeRule {
            product: "*".into(),
            unit_count,
            unit: "D".into(),
            percent: None,
            amount: Some(amount),
        };
        ScenicSettings {
            fees_enabled: true,
            fees: vec![rule(2, 0), rule(1, 1000), rule(0, 2000), rule(-1, 5000)],
            ..ScenicSettings::default()
        }
    }

    #[test]
    fn fees_follow_the_worked_example() {
        let s = example();
        assert_eq!(s.fee("P", 10000, 1, 3), 0);
        assert_eq!(s.fee("P", 10000, 1, 2), 0);
        assert_eq!(s.fee("P", 10000, 2, 1), 2000);
        assert_eq!(s.fee("P", 10000, 1, 0), 2000);
        assert_eq!(s.fee("P", 10000, 1, -1), 5000);
        assert_eq!(s.fee("P", 10000, 1, -3), 5000);
        let off = ScenicSettings::default();
        assert_eq!(off.fee("P", 10000, 1, -1), 0);
    }

    #[test]
    fn percentage_fees_round_half_up() {
        let s = ScenicSettings {
            fees_enabled: true,
            fees: vec![FeeRule {
                product: "*".into(),
                unit_count: 0,
                unit: "D".into(),
                percent: Some(15),
                amount: None,
            }],
            ..ScenicSettings::default()
        };
        // 0.15 × 33.33 yuan = 4.9995 → 5.00 yuan.
        assert_eq!(s.fee("P", 3333, 1, 0), 500);
    }

    #[test]
    fn free_units_count_whole_groups_in_the_window() {
        let f = FreeScheme {
            per: 10,
            free: 1,
            from: NaiveDate::from_ymd_opt(2026, 1, 1),
            to: NaiveDate::from_ymd_opt(2026, 12, 31),
        };
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default();
        assert_eq!(f.free_units(9, d), 0);
        assert_eq!(f.free_units(25, d), 2);
        let late = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap_or_default();
        assert_eq!(f.free_units(25, late), 0);
    }

    #[test]
    fn effective_periods_can_be_negated() {
        let mut p = Product {
            id: "A".into(),
            name: "n".into(),
            class: 1,
            unit: "张".into(),
            price: 100,
            valid_from: None,
            valid_to: None,
            conditions: String::new(),
            min_per_order: 1,
            max_per_order: 9,
            per_id_daily_max: 0,
            effect_mode: "A".into(),
            order_validity_days: 1,
            validity_days: 1,
            effect_from: "20261201".into(),
            effect_to: "20261231".into(),
            effect_negated: false,
            lead_days: 0,
            delivery_days: 0,
            real_name: false,
            ticketing: Ticketing::ManyPeople,
            inventory: false,
            daily_max: None,
            lines: vec![],
            free: None,
            enabled: true,
        };
        let nov = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default();
        let dec = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
        assert!(!p.sells_on(nov));
        assert!(p.sells_on(dec));
        p.effect_negated = true;
        assert!(p.sells_on(nov));
        assert!(!p.sells_on(dec));
    }
}
