//! boxoffice core: the domain (venues, seat layouts, sessions, prices, orders, bookings), the
//! rules that apply to them whatever protocol a partner speaks, the storage trait and the clock.
//!
//! The core knows nothing of any wire format: protocol adapters parse requests, call
//! [`service::Boxoffice`] and render its answers.

pub mod catalog;
pub mod clock;
pub mod money;
pub mod order;
pub mod scenic;
pub mod service;
pub mod store;
pub mod telemetry;

pub use service::Boxoffice;
