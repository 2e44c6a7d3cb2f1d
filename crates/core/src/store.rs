//! The storage trait: every operation that must be atomic is one call, and every implementation
//! runs it as one database transaction whose claims are conditional statements, so several
//! server processes on one database never sell a seat twice.

use crate::catalog::{Partner, PartnerId, SeatKey, Session, SessionId, Venue, VenueId};
use crate::clock::Millis;
use crate::order::{
    Booking, BookingId, ClientRef, Customer, Order, OrderId, OrderItem, OrderState, OrderTicket,
    Payment, TicketSale,
};
use crate::scenic::{
    AccountBalance, AccountMove, IssueOutcome, LedgerEntry, Message, NewVisitOrder, OutboxRow,
    StoredMessage, VerifyCode, VisitChange, VisitOrder, VisitOrderId, VisitOutcome, VisitPayment,
    VisitTicket,
};
use async_trait::async_trait;

/// A storage failure (connection, constraint, corruption). Business outcomes are not errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(String),
    /// Stored data could not be read back.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// A uniqueness constraint was violated.
    #[error("duplicate: {0}")]
    Duplicate(String),
}

/// Who holds a seat of a session right now (rows only exist for held or sold seats).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatClaim {
    /// The seat.
    pub seat: SeatKey,
    /// The order holding or having bought it.
    pub order_id: OrderId,
    /// Sold (true) or only held (false).
    pub sold: bool,
    /// End of the hold (held seats only); a hold past it no longer counts.
    pub expires_ms: Option<Millis>,
}

impl SeatClaim {
    /// Whether the claim still keeps the seat off sale at `now`.
    pub fn blocks(&self, now: Millis) -> bool {
        self.sold || self.expires_ms.is_some_and(|e| e >= now)
    }
}

/// A request to (re)place tickets of one session in a partner's order and claim their seats.
#[derive(Debug, Clone)]
pub struct NewHold {
    /// Partner.
    pub partner_id: PartnerId,
    /// The partner's key for the order.
    pub external_ref: String,
    /// Venue.
    pub venue_id: VenueId,
    /// Sub-client.
    pub client: ClientRef,
    /// Session whose tickets are replaced.
    pub session_id: SessionId,
    /// New tickets for that session (`seq` is assigned by the store).
    pub tickets: Vec<OrderTicket>,
    /// Booking fee of the whole order.
    pub booking_fee: i64,
    /// Now.
    pub now_ms: Millis,
    /// End of the hold.
    pub expires_ms: Millis,
}

/// Goods lines to add to a partner's order, creating it when the key is new.
#[derive(Debug, Clone)]
pub struct NewItems {
    /// Partner.
    pub partner_id: PartnerId,
    /// The partner's key for the order.
    pub external_ref: String,
    /// Venue.
    pub venue_id: VenueId,
    /// Sub-client.
    pub client: ClientRef,
    /// Lines (`seq` is assigned by the store).
    pub items: Vec<OrderItem>,
    /// Now.
    pub now_ms: Millis,
    /// End of the hold of a new order (an existing order keeps its own).
    pub expires_ms: Millis,
}

/// A counted capacity: units of a product of a venue on a visit date, for the whole day
/// (`segment` 0) or one time segment (1, 2, …). Scenic areas sell against these instead of seats.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct QuotaKey {
    /// Venue.
    pub venue_id: VenueId,
    /// Product code.
    pub product: String,
    /// Visit date, `yyyy-MM-dd`.
    pub date: String,
    /// 0 for the whole day, else the time segment's index.
    pub segment: i32,
}

/// Units to take from a quota whose capacity is `capacity`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QuotaClaim {
    /// The quota.
    pub key: QuotaKey,
    /// Its capacity (from the catalogue; may change between claims).
    pub capacity: i64,
    /// Units wanted.
    pub units: i64,
}

/// What became of a hold request.
#[derive(Debug, Clone)]
pub enum HoldOutcome {
    /// Seats claimed; the order as it now stands.
    Held(Box<Order>),
    /// At least one seat is held or sold by someone else; nothing changed.
    SeatsTaken,
    /// The order was already paid or consumed.
    OrderClosed,
    /// The order is being paid and cannot change.
    OrderLocked,
    /// The order belongs to another venue.
    VenueMismatch,
}

/// What became of a cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// Cancelled now; seats released.
    Cancelled,
    /// Nothing to cancel (unknown, expired, already cancelled or failed).
    NothingToCancel,
    /// Already paid: a booking exists.
    AlreadyCompleted,
}

/// A booking to create from a partner's open order.
#[derive(Debug, Clone)]
pub struct NewBooking {
    /// Partner.
    pub partner_id: PartnerId,
    /// The partner's key for the order.
    pub external_ref: String,
    /// Sum of the payments; the order is only booked if it equals the order total.
    pub paid: i64,
    /// Payment lines.
    pub payments: Vec<Payment>,
    /// Buyer.
    pub customer: Customer,
    /// Digest of the request, kept for idempotent replays.
    pub fingerprint: Option<String>,
    /// Prices and fees the partner declared per ticket.
    pub sales: Vec<TicketSale>,
    /// Now.
    pub now_ms: Millis,
}

/// What became of a completion.
#[derive(Debug, Clone)]
pub enum CompleteOutcome {
    /// Paid: the booking.
    Completed(Box<Booking>),
    /// No open order under that key (unknown, paid, cancelled, expired, lapsed).
    NotOpen,
    /// The order is open but its total is not what was paid; nothing changed.
    TotalMismatch {
        /// The order total in fen.
        expected: i64,
    },
    /// The hold on at least one seat was lost; the order is now failed and released. Carries
    /// the order's sessions.
    HoldLost(Vec<SessionId>),
}

/// What became of a refund.
#[derive(Debug, Clone)]
pub enum RefundOutcome {
    /// Refunded now; seats released.
    Refunded(Box<Booking>),
    /// Refunded before.
    AlreadyRefunded,
    /// Tickets were collected at the venue; only the box office can refund.
    Collected,
}

/// What became of a collection (ticket printing).
#[derive(Debug, Clone)]
pub enum CollectOutcome {
    /// Marked collected (or already was).
    Collected(Box<Booking>),
    /// Refunded: nothing to collect.
    Refunded,
}

/// Which visit orders of a partner to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitOrderRange {
    /// Created within `[from, to]` (milliseconds).
    Created(Millis, Millis),
    /// Visit date within `[from, to]`.
    Visit(chrono::NaiveDate, chrono::NaiveDate),
    /// Delivered within `[from, to]` (milliseconds).
    Delivered(Millis, Millis),
}

/// Persistent storage for the catalogue, inventory, orders and bookings.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Loads the whole catalogue (venues, sessions with ids, partners).
    async fn load_catalog(&self) -> Result<(Vec<Venue>, Vec<Session>, Vec<Partner>), StoreError>;
    /// Inserts or updates venues, sessions (keyed by venue code and session code) and partners;
    /// returns how many documents changed. Unchanged documents are not written.
    async fn apply_catalog(
        &self,
        venues: &[Venue],
        sessions: &[(String, Session)],
        partners: &[Partner],
        now_ms: Millis,
    ) -> Result<usize, StoreError>;
    /// Current claims on a session's seats (expired holds may be included; see [`SeatClaim::blocks`]).
    async fn seat_claims(&self, session: SessionId) -> Result<Vec<SeatClaim>, StoreError>;
    /// Places tickets in an order and claims their seats, all or nothing.
    async fn hold(&self, hold: NewHold) -> Result<HoldOutcome, StoreError>;
    /// Takes units from several quotas at once, all or nothing: each claim is one conditional
    /// statement (`used + units <= capacity`). Returns false (and changes nothing) when any
    /// quota lacks room.
    async fn claim_quotas(&self, claims: &[QuotaClaim]) -> Result<bool, StoreError>;
    /// Gives units back to quotas (never below zero).
    async fn release_quotas(&self, claims: &[QuotaClaim]) -> Result<(), StoreError>;
    /// Units of a quota in use.
    async fn quota_used(&self, key: &QuotaKey) -> Result<i64, StoreError>;
    /// Adds goods lines to a partner's open order, or creates an order holding only them.
    async fn add_items(&self, items: NewItems) -> Result<HoldOutcome, StoreError>;
    /// The id and state of a partner's order by its key (a cheap lookup).
    async fn order_ref(
        &self,
        partner: PartnerId,
        external_ref: &str,
    ) -> Result<Option<(OrderId, OrderState)>, StoreError>;
    /// An order by its id.
    async fn order_by_id(&self, id: OrderId) -> Result<Option<Order>, StoreError>;
    /// A partner's order by its key.
    async fn order(
        &self,
        partner: PartnerId,
        external_ref: &str,
    ) -> Result<Option<Order>, StoreError>;
    /// Records the first completion attempt of an order (later calls keep the first time).
    async fn note_attempt(&self, order: OrderId, now_ms: Millis) -> Result<(), StoreError>;
    /// Marks an open order as being paid: it can no longer change, and its hold lasts until `expires_ms`.
    async fn start_payment(
        &self,
        order: OrderId,
        now_ms: Millis,
        expires_ms: Millis,
    ) -> Result<bool, StoreError>;
    /// Cancels an open order and releases its seats.
    async fn cancel(&self, order: OrderId, now_ms: Millis) -> Result<CancelOutcome, StoreError>;
    /// Marks an open order failed and releases its seats (a non-retryable payment failure).
    async fn fail(&self, order: OrderId, now_ms: Millis) -> Result<bool, StoreError>;
    /// Turns a partner's open order into a booking if the payments equal its total: seats sold,
    /// numbers allocated, payments recorded — one transaction.
    async fn complete(&self, booking: NewBooking) -> Result<CompleteOutcome, StoreError>;
    /// A booking by venue and booking number.
    async fn booking_by_number(
        &self,
        venue: VenueId,
        number: i64,
    ) -> Result<Option<Booking>, StoreError>;
    /// A booking by its ticket-collection code.
    async fn booking_by_pickup_code(&self, code: &str) -> Result<Option<Booking>, StoreError>;
    /// How many bookings with tickets in a session have been refunded, leaving out refunds
    /// made for the reason `except_reason`.
    async fn refunds_in_session(
        &self,
        session: SessionId,
        except_reason: &str,
    ) -> Result<i64, StoreError>;
    /// A booking by its confirmation code.
    async fn booking_by_code(&self, code: &str) -> Result<Option<Booking>, StoreError>;
    /// Bookings made from a partner's orders with this key.
    async fn bookings_by_order_ref(
        &self,
        partner: PartnerId,
        external_ref: &str,
    ) -> Result<Vec<Booking>, StoreError>;
    /// Refunds a paid, uncollected booking and releases its seats.
    async fn refund(
        &self,
        booking: BookingId,
        reason: &str,
        now_ms: Millis,
    ) -> Result<RefundOutcome, StoreError>;
    /// Marks a paid booking's tickets collected.
    async fn collect(
        &self,
        booking: BookingId,
        now_ms: Millis,
    ) -> Result<CollectOutcome, StoreError>;
    /// Expires in-progress orders whose hold ended before `now_ms`, releasing their seats;
    /// returns the sessions whose inventory changed.
    async fn expire_orders(&self, now_ms: Millis) -> Result<Vec<SessionId>, StoreError>;

    /// Units in use of every quota of a venue with a visit date in `[from, to]` (`yyyy-MM-dd`).
    async fn quota_usage(
        &self,
        venue: VenueId,
        from: &str,
        to: &str,
    ) -> Result<Vec<(QuotaKey, i64)>, StoreError>;
    /// Creates a visit order with everything it claims, moves and announces — one transaction.
    /// A partner key used before returns that order unchanged ([`VisitOutcome::Existing`]).
    async fn create_visit_order(&self, order: NewVisitOrder) -> Result<VisitOutcome, StoreError>;
    /// Changes a visit order's state if it is in one of the allowed states, with its effects —
    /// one transaction.
    async fn change_visit_order(&self, change: VisitChange) -> Result<VisitOutcome, StoreError>;
    /// A visit order by id.
    async fn visit_order(&self, id: VisitOrderId) -> Result<Option<VisitOrder>, StoreError>;
    /// A visit order by its number.
    async fn visit_order_by_number(&self, number: &str) -> Result<Option<VisitOrder>, StoreError>;
    /// A partner's visit order by its key.
    async fn visit_order_by_ref(
        &self,
        partner: PartnerId,
        external_ref: &str,
    ) -> Result<Option<VisitOrder>, StoreError>;
    /// A partner's visit orders in a range, newest first.
    async fn visit_orders(
        &self,
        partner: PartnerId,
        range: VisitOrderRange,
    ) -> Result<Vec<VisitOrder>, StoreError>;
    /// Visit orders that lapse by time (booked, authorized or paid and not delivered) whose
    /// expiry is at or before `now_ms` (at most `limit`, earliest first).
    async fn due_visit_orders(
        &self,
        now_ms: Millis,
        limit: i64,
    ) -> Result<Vec<VisitOrder>, StoreError>;
    /// A partner's account balances.
    async fn accounts(&self, partner: PartnerId) -> Result<Vec<AccountBalance>, StoreError>;
    /// Changes a partner's account (creating it at zero first); `None` when the balance or hold
    /// would go negative or the hold exceed the balance (nothing changed).
    async fn move_account(
        &self,
        partner: PartnerId,
        change: AccountMove,
        actor: &str,
        now_ms: Millis,
    ) -> Result<Option<LedgerEntry>, StoreError>;
    /// A partner's ledger rows, oldest first (one account, or all).
    async fn ledger(
        &self,
        partner: PartnerId,
        account: Option<&str>,
    ) -> Result<Vec<LedgerEntry>, StoreError>;
    /// A partner's runtime settings for a protocol (changed after provisioning: keys,
    /// passwords, switches), or an empty map.
    async fn partner_settings(
        &self,
        partner: PartnerId,
        protocol: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, StoreError>;
    /// Merges `patch` into a partner's runtime settings (a `null` value removes a key) and
    /// returns the result — one transaction.
    async fn update_partner_settings(
        &self,
        partner: PartnerId,
        protocol: &str,
        patch: serde_json::Map<String, serde_json::Value>,
        now_ms: Millis,
    ) -> Result<serde_json::Map<String, serde_json::Value>, StoreError>;
    /// Outbox rows of a partner (all, or one visit order's), in delivery order.
    async fn outbox(
        &self,
        partner: Option<PartnerId>,
        order: Option<VisitOrderId>,
    ) -> Result<Vec<OutboxRow>, StoreError>;
    /// Messages kept by the built-in message sink (to a phone, about an order, or all), oldest first.
    async fn messages(
        &self,
        phone: Option<&str>,
        order: Option<VisitOrderId>,
    ) -> Result<Vec<StoredMessage>, StoreError>;
    /// A ticket of a visit order by its code, with its order's id.
    async fn visit_ticket(
        &self,
        code: &str,
    ) -> Result<Option<(VisitOrderId, VisitTicket)>, StoreError>;
    /// Issues a verification code for (partner, purpose, subject), superseding the previous one,
    /// unless the previous was issued less than `min_interval_ms` ago or `max_per_day` codes were
    /// issued for the subject since `day_start_ms`; the message announcing it is written in the
    /// same transaction.
    #[allow(clippy::too_many_arguments)]
    async fn issue_code(
        &self,
        code: VerifyCode,
        min_interval_ms: i64,
        max_per_day: i64,
        day_start_ms: Millis,
        venue: VenueId,
        message: Message,
    ) -> Result<IssueOutcome, StoreError>;
    /// The current verification code of a subject.
    async fn verify_code(
        &self,
        partner: PartnerId,
        purpose: &str,
        subject: &str,
    ) -> Result<Option<VerifyCode>, StoreError>;
    /// Counts a wrong try of a subject's code; after `max_wrong` the code is void. Returns the
    /// tries so far.
    async fn code_wrong_try(
        &self,
        partner: PartnerId,
        purpose: &str,
        subject: &str,
        max_wrong: i64,
    ) -> Result<i64, StoreError>;
    /// Consumes a verification code outside a visit order (payment-password changes): true when
    /// it was the subject's current, unused, unexpired code.
    async fn use_code(
        &self,
        partner: PartnerId,
        code: &crate::scenic::CodeUse,
        now_ms: Millis,
    ) -> Result<bool, StoreError>;
    /// Writes a message outside a visit-order transaction.
    async fn add_message(
        &self,
        venue: VenueId,
        partner: Option<PartnerId>,
        order: Option<VisitOrderId>,
        message: Message,
        now_ms: Millis,
    ) -> Result<(), StoreError>;
    /// Leases up to `limit` due outbox rows of a protocol: for each visit order (or partner
    /// without order) only its oldest pending row, if due (`next_ms <= now`) and not leased by
    /// another worker; the lease lasts until `lease_until`.
    async fn lease_outbox(
        &self,
        protocol: &str,
        now_ms: Millis,
        lease_until: Millis,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError>;
    /// Records a delivery attempt's outcome: `delivered` (or `expired`/`dropped`) ends the row;
    /// `pending` schedules the next attempt at `next_ms`. Clears the lease.
    async fn finish_outbox(
        &self,
        id: i64,
        state: &str,
        next_ms: Millis,
        error: &str,
    ) -> Result<(), StoreError>;
    /// Leases up to `limit` messages not yet passed to a message sink, oldest first, until
    /// `lease_until` (so several processes do not send the same message at once).
    async fn lease_messages(
        &self,
        now_ms: Millis,
        lease_until: Millis,
        limit: i64,
    ) -> Result<Vec<StoredMessage>, StoreError>;
    /// Records that a message sink took a message.
    async fn mark_message_sent(&self, id: i64, now_ms: Millis) -> Result<(), StoreError>;
    /// Records a started instant payment.
    async fn add_visit_payment(&self, payment: VisitPayment) -> Result<(), StoreError>;
    /// An instant payment by its trade number.
    async fn visit_payment(&self, out_trade_no: &str) -> Result<Option<VisitPayment>, StoreError>;
    /// The instant payments of an order, oldest first.
    async fn visit_payments(&self, order: VisitOrderId) -> Result<Vec<VisitPayment>, StoreError>;
    /// Marks a started payment `failed` (or, outside an order change, `succeeded`); false when it
    /// was not `started`.
    async fn settle_visit_payment(
        &self,
        out_trade_no: &str,
        state: &str,
        platform_no: &str,
        now_ms: Millis,
    ) -> Result<bool, StoreError>;
}
