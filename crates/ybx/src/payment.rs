//! Deposit and rebate authorization pages and the payment password: ReadyToPay (4.2.13),
//! UseAccountToPay (4.2.14), UseAccountToPayByPwd (4.2.27), ReadyToPayByFK (4.2.23),
//! UseAccountToPayByFK (4.2.24), UseAccountToPayByFKWithPwd (4.2.50, alias
//! UseFKAccountToPayByPwd), GetVerificationCode (4.2.25), ChangePayPwd (4.2.26).

use crate::booking::Account;
use crate::codes;
use crate::route::Ctx;
use crate::xml::Answer;

/// `ReadyToPay.aspx` / `ReadyToPayByFK.aspx`: sends an SMS code for authorizing an order.
pub async fn ready_to_pay(_cx: &Ctx, _account: Account) -> Answer {
    Answer::err(-1, codes::OTHER_ERROR)
}

/// `UseAccountToPay.aspx` / `UseAccountToPayByFK.aspx`: authorizes with the SMS code.
pub async fn use_account_by_code(_cx: &Ctx, _account: Account) -> Answer {
    Answer::err(-1, codes::OTHER_ERROR)
}

/// `UseAccountToPayByPwd.aspx` / `UseAccountToPayByFKWithPwd.aspx`: authorizes with the
/// payment password.
pub async fn use_account_by_password(_cx: &Ctx, _account: Account) -> Answer {
    Answer::err(-1, codes::OTHER_ERROR)
}

/// `GetVerificationCode.aspx`: an SMS code for changing the payment password.
pub async fn get_verification_code(_cx: &Ctx) -> Answer {
    Answer::err(-1, codes::OTHER_ERROR)
}

/// `ChangePayPwd.aspx`: sets or changes the payment password.
pub async fn change_pay_pwd(_cx: &Ctx) -> Answer {
    Answer::err(-1, codes::OTHER_ERROR)
}
