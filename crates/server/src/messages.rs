//! Message sinks: where stored messages (SMS codes, booking and delivery notices, credentials)
//! go. The built-in sink keeps them in the database only (readable through the operator API);
//! with `[messages] webhook` set, the message worker passes every stored message, oldest first
//! and at least once, to an SMS gateway's HTTP endpoint.

use async_trait::async_trait;
use boxoffice_core::scenic::{MessageSink, StoredMessage};
use boxoffice_core::Boxoffice;
use std::time::Duration;

/// How long a message handed to a sink stays reserved for that process.
pub const LEASE_MS: i64 = 60_000;
/// Messages taken per round.
pub const BATCH: i64 = 50;

/// A sink that POSTs each message as JSON to a URL; any 2xx answer takes it.
pub struct WebhookSink {
    url: String,
    client: reqwest::Client,
}

impl WebhookSink {
    /// A sink posting to `url`.
    pub fn new(url: &str) -> anyhow::Result<WebhookSink> {
        Ok(WebhookSink {
            url: url.to_string(),
            client: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(10))
                .build()?,
        })
    }
}

#[async_trait]
impl MessageSink for WebhookSink {
    async fn send(&self, m: &StoredMessage) -> Result<(), String> {
        let body = serde_json::json!({
            "id": m.id,
            "kind": m.message.kind,
            "phone": m.message.phone,
            "text": m.message.text,
            "venue_id": m.venue_id,
            "partner_id": m.partner_id,
            "order_id": m.order_id,
            "created_ms": m.created_ms,
        });
        let r = self
            .client
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("message sink unreachable: {e}"))?;
        if r.status().is_success() {
            Ok(())
        } else {
            Err(format!(
                "message sink answered HTTP {}",
                r.status().as_u16()
            ))
        }
    }
}

/// One round of the message worker: leases the oldest messages not yet sent and passes them
/// on in order; the first failure ends the round (the rest are retried when their lease
/// lapses). Returns how many were sent.
pub async fn deliver_messages(svc: &Boxoffice, sink: &dyn MessageSink) -> usize {
    let now = svc.now_ms();
    let leased = match svc.store().lease_messages(now, now + LEASE_MS, BATCH).await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "message lease failed");
            return 0;
        }
    };
    let mut sent = 0;
    for m in leased {
        match sink.send(&m).await {
            Ok(()) => {
                if let Err(e) = svc.store().mark_message_sent(m.id, svc.now_ms()).await {
                    tracing::warn!(error = %e, message = m.id, "could not record a sent message");
                    break;
                }
                sent += 1;
            }
            Err(e) => {
                // The phone number and text stay out of the log.
                tracing::warn!(message = m.id, error = %e, "message sink refused a message");
                break;
            }
        }
    }
    sent
}
