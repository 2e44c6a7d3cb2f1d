//! Instant payment: GetPayChannel (4.2.6), BeginToPay (4.2.7) and the payment platforms'
//! notifications (4.2.22: `notify_url.aspx`, `notify_Payback_url.aspx`, `WeChatNotify.aspx`).

use crate::codes;
use crate::route::Ctx;
use crate::xml::Answer;
use crate::Ybx;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// `GetPayChannel.aspx`.
pub async fn get_pay_channel(_cx: &Ctx) -> Answer {
    Answer::err(-1, codes::OTHER_ERROR)
}

/// `BeginToPay.aspx`.
pub async fn begin_to_pay(_cx: &Ctx) -> Answer {
    Answer::err(-1, codes::OTHER_ERROR)
}

/// A payment platform's notification.
pub async fn notification(_ybx: &Ybx, _page: &str, _query: &str, _body: &[u8]) -> Response {
    (StatusCode::OK, "fail").into_response()
}
