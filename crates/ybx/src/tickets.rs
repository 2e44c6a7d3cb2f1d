//! Activation and tickets: ActivateTicket (4.2.41), GetTicketList (4.2.42), GetTicketContext
//! (4.2.43, with the e-ticket image), ReMakeTicket (4.2.11).

use crate::codes;
use crate::route::Ctx;
use crate::xml::Answer;

/// `ActivateTicket.aspx`: remote activation (electronic pick-up).
pub async fn activate_ticket(_cx: &Ctx) -> Answer {
    Answer::err(-1, codes::OTHER_ERROR)
}

/// `GetTicketList.aspx`: the tickets of a delivered order.
pub async fn get_ticket_list(_cx: &Ctx) -> Answer {
    Answer::err(-1, codes::OTHER_ERROR)
}

/// `GetTicketContext.aspx`: one ticket with its e-ticket image.
pub async fn get_ticket_context(_cx: &Ctx) -> Answer {
    Answer::err(-1, codes::OTHER_ERROR)
}

/// `ReMakeTicket.aspx`: resends the pick-up credential.
pub async fn remake_ticket(_cx: &Ctx) -> Answer {
    Answer::err(-1, codes::OTHER_ERROR)
}
