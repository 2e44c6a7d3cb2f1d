//! Callbacks to agents: SetAgentParameters (4.2.44) and the delivery of outbox events as
//! Notify_OrderChanged, Notify_Refund, Notify_Refund_FK and Notify_Checked (4.2.45).

use crate::codes;
use crate::route::Ctx;
use crate::xml::Answer;
use crate::Ybx;

/// `SetAgentParameters.aspx`: the callback address and official-notification switch.
pub async fn set_agent_parameters(_cx: &Ctx) -> Answer {
    Answer::err(-1, codes::OTHER_ERROR)
}

/// Delivers due outbox events of this protocol once; returns how many were attempted.
pub async fn deliver_due(_ybx: &Ybx) -> usize {
    0
}
