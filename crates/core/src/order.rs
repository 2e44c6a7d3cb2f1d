//! Orders (carts holding seats until paid) and bookings (what a paid order becomes).

use crate::catalog::{PartnerId, SeatKey, SessionId, VenueId};
use crate::clock::Millis;
use serde::{Deserialize, Serialize};

/// Database id of an order.
pub type OrderId = i64;
/// Database id of a booking.
pub type BookingId = i64;

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Seats held; may be changed, paid, cancelled, or expire.
    InProgress,
    /// The partner is collecting money; no changes, no silent expiry.
    PaymentStarted,
    /// Paid: a booking exists.
    Completed,
    /// A completion attempt failed for good; nothing is held.
    Failed,
    /// Cancelled by the partner; nothing is held.
    Cancelled,
    /// The hold ran out; nothing is held.
    Expired,
}

impl OrderState {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::InProgress => "in_progress",
            OrderState::PaymentStarted => "payment_started",
            OrderState::Completed => "completed",
            OrderState::Failed => "failed",
            OrderState::Cancelled => "cancelled",
            OrderState::Expired => "expired",
        }
    }
    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<OrderState> {
        Some(match s {
            "in_progress" => OrderState::InProgress,
            "payment_started" => OrderState::PaymentStarted,
            "completed" => OrderState::Completed,
            "failed" => OrderState::Failed,
            "cancelled" => OrderState::Cancelled,
            "expired" => OrderState::Expired,
            _ => return None,
        })
    }
    /// Whether the order still holds inventory.
    pub fn is_open(self) -> bool {
        matches!(self, OrderState::InProgress | OrderState::PaymentStarted)
    }
}

/// Who, behind the partner, placed the order (terminal, app, sub-client). Free text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRef {
    /// Client class, e.g. `"RSP"`.
    pub class: String,
    /// Client id, e.g. `"111.111.111.111"`.
    pub id: String,
    /// Client name, e.g. `"3rdParty"`.
    pub name: String,
}

/// One ticket in an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTicket {
    /// 1-based sequence within the order.
    pub seq: i32,
    /// Session.
    pub session_id: SessionId,
    /// Ticket type code.
    pub ticket_type: String,
    /// Area category the price applies to.
    pub area_category: String,
    /// Price in fen.
    pub price: i64,
    /// The seat, for reserved seating.
    pub seat: Option<SeatKey>,
    /// Physical row name printed on the ticket.
    pub row_name: String,
    /// Seat name printed on the ticket.
    pub seat_name: String,
}

/// A line of goods in an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    /// 1-based sequence within the order.
    pub seq: i32,
    /// Goods code.
    pub code: String,
    /// Name at the time of sale.
    pub name: String,
    /// Units.
    pub count: i64,
    /// Price per unit in fen.
    pub unit_price: i64,
    /// A package (combo).
    pub is_package: bool,
}

/// A cart: tickets held for a partner until paid, cancelled or expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Database id.
    pub id: OrderId,
    /// Partner that owns it.
    pub partner_id: PartnerId,
    /// The partner's own key for the order (unique per partner).
    pub external_ref: String,
    /// Venue.
    pub venue_id: VenueId,
    /// State.
    pub state: OrderState,
    /// Sub-client.
    pub client: ClientRef,
    /// Tickets, in sequence.
    pub tickets: Vec<OrderTicket>,
    /// Goods lines, in sequence.
    pub items: Vec<OrderItem>,
    /// Booking fee for the whole order, in fen.
    pub booking_fee: i64,
    /// Tickets plus booking fee, in fen.
    pub total: i64,
    /// Created.
    pub created_ms: Millis,
    /// Last changed.
    pub updated_ms: Millis,
    /// When the hold ends (open orders).
    pub expires_ms: Option<Millis>,
    /// When the partner first asked to complete it (successfully or not).
    pub first_attempt_ms: Option<Millis>,
}

impl Order {
    /// Sum of ticket prices.
    pub fn ticket_total(&self) -> i64 {
        self.tickets.iter().map(|t| t.price).sum()
    }
    /// Sum of goods lines.
    pub fn goods_total(&self) -> i64 {
        self.items.iter().map(|i| i.count * i.unit_price).sum()
    }
}

/// Where a booking is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    /// Paid and valid.
    Paid,
    /// Refunded: seats back on sale.
    Refunded,
}

impl BookingState {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            BookingState::Paid => "paid",
            BookingState::Refunded => "refunded",
        }
    }
    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<BookingState> {
        match s {
            "paid" => Some(BookingState::Paid),
            "refunded" => Some(BookingState::Refunded),
            _ => None,
        }
    }
}

/// How a payment line was settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// 1-based sequence.
    pub seq: i32,
    /// Card or account number, masked (never the full number unless it is a member card).
    pub card_masked: String,
    /// Card type, e.g. `"CreditCard"`, `"ALIPAY"`.
    pub card_type: String,
    /// Tender category.
    pub tender_category: String,
    /// Amount in fen.
    pub value: i64,
}

/// What a partner declared it sold one ticket for (its own price and fee), kept for
/// reconciliation; the venue's price is the order ticket's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSale {
    /// The order ticket's sequence.
    pub seq: i32,
    /// Price charged, in fen.
    pub price: i64,
    /// Fee charged, in fen.
    pub fee: i64,
}

/// The buyer's contact details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// E-mail.
    pub email: String,
}

/// A paid order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// Database id.
    pub id: BookingId,
    /// The order it came from (tickets are the order's).
    pub order: Order,
    /// Booking number, a per-venue sequence.
    pub number: i64,
    /// Transaction number, a global sequence.
    pub trans_number: i64,
    /// History id, a global sequence.
    pub history_id: i64,
    /// Confirmation code: six upper-case letters and digits, unique.
    pub code: String,
    /// Ticket-collection code: sixteen random digits, unique, unguessable.
    pub pickup_code: String,
    /// Digest of the request that created the booking (for idempotent replays), if given.
    pub fingerprint: Option<String>,
    /// Prices and fees the partner declared per ticket, if it did.
    pub sales: Vec<TicketSale>,
    /// When it was paid.
    pub created_ms: Millis,
    /// State.
    pub state: BookingState,
    /// Tickets collected / printed at the venue.
    pub collected: bool,
    /// Payment lines.
    pub payments: Vec<Payment>,
    /// Buyer.
    pub customer: Customer,
    /// When it was refunded.
    pub refunded_ms: Option<Millis>,
    /// Why it was refunded.
    pub refund_reason: Option<String>,
}

/// Masks a card number: keeps the first 6 and last 4 characters and replaces the middle with
/// `.`; numbers of 10 characters or fewer keep only their last 4, and numbers of 4 or fewer keep
/// nothing (a mask never shows a whole number).
pub fn mask_card(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let n = chars.len();
    if n <= 4 {
        return ".".repeat(n);
    }
    if n <= 10 {
        return std::iter::repeat_n('.', n - 4)
            .chain(chars[n - 4..].iter().copied())
            .collect();
    }
    chars[..6]
        .iter()
        .copied()
        .chain(std::iter::repeat_n('.', n - 10))
        .chain(chars[n - 4..].iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_are_masked_as_documented() {
        assert_eq!(mask_card("4111111111111111"), "411111......1111");
        assert_eq!(mask_card("123456789012"), "123456..9012");
        assert_eq!(mask_card("9999 9999 9999 9999"), "9999 9.........9999");
        assert_eq!(mask_card("12345678"), "....5678");
        assert_eq!(mask_card("123"), "...");
    }

    #[test]
    fn order_states_round_trip() {
        for s in [
            OrderState::InProgress,
            OrderState::PaymentStarted,
            OrderState::Completed,
            OrderState::Failed,
            OrderState::Cancelled,
            OrderState::Expired,
        ] {
            assert_eq!(OrderState::parse(s.as_str()), Some(s));
        }
    }
}

#[cfg(test)]
mod mask_properties {
    use super::*;
    use proptest::prelude::*;

    /// Whether position `i` of an `n`-character number may be shown (Vista §8.4: the first 6 and
    /// last 4 of numbers over 10 characters; the last 4 of numbers of 5 to 10; none below).
    fn visible(i: usize, n: usize) -> bool {
        match n {
            0..=4 => false,
            5..=10 => i >= n - 4,
            _ => i < 6 || i >= n - 4,
        }
    }

    #[test]
    fn the_documented_example() {
        assert_eq!(mask_card("4111111111111111"), "411111......1111");
        assert_eq!(mask_card("1234"), "....");
        assert_eq!(mask_card(""), "");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn masks_keep_the_length_and_show_only_the_documented_characters(
            number in prop_oneof![
                "[0-9]{0,24}",
                "[0-9 ]{0,24}",
                "\\PC{0,24}",
                any::<String>(),
            ]
        ) {
            let masked = mask_card(&number);
            let input: Vec<char> = number.chars().collect();
            let output: Vec<char> = masked.chars().collect();
            let n = input.len();
            prop_assert_eq!(output.len(), n, "{:?} -> {:?}", number, masked);
            for i in 0..n {
                let expected = if visible(i, n) { input[i] } else { '.' };
                prop_assert_eq!(output[i], expected, "{:?} -> {:?} at {}", number, masked, i);
            }
            // Never the whole number: at least one character is hidden.
            if n > 0 {
                prop_assert!((0..n).any(|i| !visible(i, n)));
                if input.iter().all(|c| *c != '.') {
                    prop_assert_ne!(&masked, &number);
                }
            }
        }
    }
}
