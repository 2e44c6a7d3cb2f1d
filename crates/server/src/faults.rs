//! Fault injection for tests: a [`Store`] that delegates to another and fails the calls it is
//! told to fail with a database error, so storage failures are tested on SQLite and PostgreSQL
//! alike (`TestServer::start_with_faults`).

use async_trait::async_trait;
use boxoffice_core::catalog::{Partner, PartnerId, Session, SessionId, Venue, VenueId};
use boxoffice_core::clock::Millis;
use boxoffice_core::order::{Booking, BookingId, Order, OrderId, OrderState};
use boxoffice_core::scenic::{
    AccountBalance, AccountMove, CodeUse, IssueOutcome, LedgerEntry, Message, NewVisitOrder,
    OutboxRow, StoredMessage, VerifyCode, VisitChange, VisitOrder, VisitOrderId, VisitOutcome,
    VisitPayment, VisitTicket,
};
use boxoffice_core::store::{
    CancelOutcome, CollectOutcome, CompleteOutcome, HoldOutcome, NewBooking, NewHold, NewItems,
    QuotaClaim, QuotaKey, RefundOutcome, SeatClaim, Store, StoreError, VisitOrderRange,
};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The message of an injected failure. It reads like a real driver's error (a table name, an
/// SQLSTATE, a host) so that a test can check that none of it reaches a partner.
pub const INJECTED_ERROR: &str =
    "error returned from database: relation \"visit_orders\" does not exist (SQLSTATE 42P01) \
     at 10.0.0.5:5432 (injected fault)";

/// Which store calls fail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Selection {
    /// None: every call reaches the inner store.
    #[default]
    Healthy,
    /// Every call.
    All,
    /// Calls of these methods (by their `Store` method name).
    Methods(BTreeSet<&'static str>),
}

/// The switch of a [`FaultyStore`], shared with the test that holds it.
#[derive(Debug, Default)]
pub struct Faults {
    selection: Mutex<Selection>,
    injected: AtomicU64,
}

impl Faults {
    /// Makes every store call fail.
    pub fn fail_all(&self) {
        self.set(Selection::All);
    }
    /// Makes calls of the named `Store` methods fail (e.g. `"visit_order_by_ref"`).
    pub fn fail_methods(&self, methods: &[&'static str]) {
        self.set(Selection::Methods(methods.iter().copied().collect()));
    }
    /// Lets every call through again.
    pub fn heal(&self) {
        self.set(Selection::Healthy);
    }
    /// How many calls have been failed so far (a test's positive control: the fault was hit).
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::SeqCst)
    }
    fn set(&self, selection: Selection) {
        *self.selection.lock().unwrap_or_else(|p| p.into_inner()) = selection;
    }
    /// An injected database error if calls of `method` fail now.
    fn check(&self, method: &'static str) -> Result<(), StoreError> {
        let fails = match &*self.selection.lock().unwrap_or_else(|p| p.into_inner()) {
            Selection::Healthy => false,
            Selection::All => true,
            Selection::Methods(m) => m.contains(method),
        };
        if fails {
            self.injected.fetch_add(1, Ordering::SeqCst);
            return Err(StoreError::Database(INJECTED_ERROR.to_string()));
        }
        Ok(())
    }
}

/// A store that delegates every call to `inner` unless its [`Faults`] switch fails it.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    faults: Arc<Faults>,
}

impl FaultyStore {
    /// Wraps a store; returns it with its switch (initially healthy).
    pub fn wrap(inner: Arc<dyn Store>) -> (Arc<dyn Store>, Arc<Faults>) {
        let faults = Arc::new(Faults::default());
        let store = FaultyStore {
            inner,
            faults: faults.clone(),
        };
        (Arc::new(store), faults)
    }
}

/// Implements every `Store` method as "check the switch, then delegate".
macro_rules! delegate {
    ($(fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        #[async_trait]
        impl Store for FaultyStore {
            $(
                async fn $name(&self, $($arg: $ty),*) -> Result<$ret, StoreError> {
                    self.faults.check(stringify!($name))?;
                    self.inner.$name($($arg),*).await
                }
            )*
        }
    };
}

delegate! {
    fn load_catalog() -> (Vec<Venue>, Vec<Session>, Vec<Partner>);
    fn apply_catalog(venues: &[Venue], sessions: &[(String, Session)], partners: &[Partner], now_ms: Millis) -> usize;
    fn seat_claims(session: SessionId) -> Vec<SeatClaim>;
    fn hold(hold: NewHold) -> HoldOutcome;
    fn claim_quotas(claims: &[QuotaClaim]) -> bool;
    fn release_quotas(claims: &[QuotaClaim]) -> ();
    fn quota_used(key: &QuotaKey) -> i64;
    fn add_items(items: NewItems) -> HoldOutcome;
    fn order_ref(partner: PartnerId, external_ref: &str) -> Option<(OrderId, OrderState)>;
    fn order_by_id(id: OrderId) -> Option<Order>;
    fn order(partner: PartnerId, external_ref: &str) -> Option<Order>;
    fn note_attempt(order: OrderId, now_ms: Millis) -> ();
    fn start_payment(order: OrderId, now_ms: Millis, expires_ms: Millis) -> bool;
    fn cancel(order: OrderId, now_ms: Millis) -> CancelOutcome;
    fn fail(order: OrderId, now_ms: Millis) -> bool;
    fn complete(booking: NewBooking) -> CompleteOutcome;
    fn booking_by_number(venue: VenueId, number: i64) -> Option<Booking>;
    fn booking_by_pickup_code(code: &str) -> Option<Booking>;
    fn refunds_in_session(session: SessionId, except_reason: &str) -> i64;
    fn booking_by_code(code: &str) -> Option<Booking>;
    fn bookings_by_order_ref(partner: PartnerId, external_ref: &str) -> Vec<Booking>;
    fn refund(booking: BookingId, reason: &str, now_ms: Millis) -> RefundOutcome;
    fn collect(booking: BookingId, now_ms: Millis) -> CollectOutcome;
    fn expire_orders(now_ms: Millis) -> Vec<SessionId>;
    fn quota_usage(venue: VenueId, from: &str, to: &str) -> Vec<(QuotaKey, i64)>;
    fn create_visit_order(order: NewVisitOrder) -> VisitOutcome;
    fn change_visit_order(change: VisitChange) -> VisitOutcome;
    fn visit_order(id: VisitOrderId) -> Option<VisitOrder>;
    fn visit_order_by_number(number: &str) -> Option<VisitOrder>;
    fn visit_order_by_ref(partner: PartnerId, external_ref: &str) -> Option<VisitOrder>;
    fn visit_orders(partner: PartnerId, range: VisitOrderRange) -> Vec<VisitOrder>;
    fn due_visit_orders(now_ms: Millis, limit: i64) -> Vec<VisitOrder>;
    fn accounts(partner: PartnerId) -> Vec<AccountBalance>;
    fn move_account(partner: PartnerId, change: AccountMove, actor: &str, now_ms: Millis) -> Option<LedgerEntry>;
    fn ledger(partner: PartnerId, account: Option<&str>) -> Vec<LedgerEntry>;
    fn partner_settings(partner: PartnerId, protocol: &str) -> serde_json::Map<String, serde_json::Value>;
    fn update_partner_settings(partner: PartnerId, protocol: &str, patch: serde_json::Map<String, serde_json::Value>, now_ms: Millis) -> serde_json::Map<String, serde_json::Value>;
    fn outbox(partner: Option<PartnerId>, order: Option<VisitOrderId>) -> Vec<OutboxRow>;
    fn messages(phone: Option<&str>, order: Option<VisitOrderId>) -> Vec<StoredMessage>;
    fn visit_ticket(code: &str) -> Option<(VisitOrderId, VisitTicket)>;
    fn issue_code(code: VerifyCode, min_interval_ms: i64, max_per_day: i64, day_start_ms: Millis, venue: VenueId, message: Message) -> IssueOutcome;
    fn verify_code(partner: PartnerId, purpose: &str, subject: &str) -> Option<VerifyCode>;
    fn code_wrong_try(partner: PartnerId, purpose: &str, subject: &str, max_wrong: i64) -> i64;
    fn use_code(partner: PartnerId, code: &CodeUse, now_ms: Millis) -> bool;
    fn add_message(venue: VenueId, partner: Option<PartnerId>, order: Option<VisitOrderId>, message: Message, now_ms: Millis) -> ();
    fn lease_outbox(protocol: &str, now_ms: Millis, lease_until: Millis, limit: i64) -> Vec<OutboxRow>;
    fn finish_outbox(id: i64, state: &str, next_ms: Millis, error: &str) -> ();
    fn lease_messages(now_ms: Millis, lease_until: Millis, limit: i64) -> Vec<StoredMessage>;
    fn mark_message_sent(id: i64, now_ms: Millis) -> ();
    fn add_visit_payment(payment: VisitPayment) -> ();
    fn visit_payment(out_trade_no: &str) -> Option<VisitPayment>;
    fn visit_payments(order: VisitOrderId) -> Vec<VisitPayment>;
    fn settle_visit_payment(out_trade_no: &str, state: &str, platform_no: &str, now_ms: Millis) -> bool;
}
