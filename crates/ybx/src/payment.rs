//! Deposit and rebate authorization pages and the payment password: ReadyToPay (4.2.13),
//! UseAccountToPay (4.2.14), UseAccountToPayByPwd (4.2.27), ReadyToPayByFK (4.2.23),
//! UseAccountToPayByFK (4.2.24), UseAccountToPayByFKWithPwd (4.2.50, alias
//! UseFKAccountToPayByPwd), GetVerificationCode (4.2.25), ChangePayPwd (4.2.26).
//!
//! An authorization moves a booked order (state 0) of the caller in ONE store transaction:
//! with activation (supplier forces it, `activate=1`, or by default `payandactive`) the total is
//! debited and tickets are issued (0 → 2 → 3 / 0 → C → D); without, the total is held on the
//! account (0 → 2 / 0 → C). The SMS code is checked before and consumed in that transaction.
//!
//! Verification codes (catalogue §8.4, `docs/protocols/youbaoxing.md` "Message sink"): 6 random
//! digits per (agent, purpose, subject) — purpose `deposit` / `rebate` with the order number as
//! subject, purpose `paypwd` with one subject per agent (so resends are throttled per agent; the
//! `ZFDH` bill number handed out is derived from the current code's issue time and identifies
//! it). TTL 360 s (deposit) / 600 s (rebate, payment password); resends ≥ 60 s apart; ≤ 50 per
//! subject per local day; a new code supersedes the old; 5 wrong tries void it.

use crate::booking::{issue_tickets, state_code, Account};
use crate::codes;
use crate::route::{failure, Ctx};
use crate::xml::{money, Answer, Xml};
use crate::PROTOCOL;
use boxoffice_core::clock::{from_local, from_millis, local, to_millis};
use boxoffice_core::scenic::{
    AccountMove, CodeUse, IssueOutcome, Message, OutboxEvent, PayMethod, Product, VerifyCode,
    VisitChange, VisitEffects, VisitItem, VisitOrder, VisitOutcome, VisitRefusal, VisitState,
};
use chrono::NaiveTime;
use rand::Rng;

/// `-1` ReadyToPay: deposit not enabled.
const RTP_DEPOSIT_OFF: &str = "不支持预付金支付功能，请与景区管理员联系，开通此功能；";
/// `-1` ReadyToPay: deposit not supported (short form; official channels).
const RTP_DEPOSIT_OFF_SHORT: &str = "不支持预付金支付功能。";
/// `-1` ReadyToPay: resend within a minute.
const RTP_TOO_SOON: &str = "重发太频繁，请稍候再试；";
/// `-3` ReadyToPay: too many resends.
const RTP_TOO_MANY: &str = "重发的次数太多了，不允许再重发（暂定不超过50次重发）";
/// `-2002` ReadyToPay: order not (or no longer) in state 0.
const RTP_NOT_BOOKED: &str = "定单已经不是预定中的状态了，不需要再设置";
/// `-1`: no reserved mobile for the chosen index.
const NO_PHONE: &str = "代理商处预留的手机号码为空，不能完成操作。";
/// `0` ReadyToPayByFK / UseAccountToPayByFK.
const CALL_OK: &str = "调用成功";
/// `-1` ReadyToPayByFK / UseAccountToPayByFK: rebate not enabled.
const FK_REBATE_OFF: &str = "不支持返款余额支付功能，请与景区管理员联系，开通此功能；";
/// `-1` ReadyToPayByFK: too many resends.
const FK_TOO_MANY: &str = "调用失败，失败原因：重发次数太多，不允许此操作，请与管理员联系；";
/// `-1` ReadyToPayByFK: resend within a minute.
const FK_TOO_SOON: &str = "调用失败，失败原因：重发太频繁，请稍候再试。";
/// `-2002` ReadyToPayByFK: order not (or no longer) in state 0.
const FK_NOT_BOOKED: &str = "定单已经不是预定中的状态了，不能再下发验证码；";
/// `-1` UseAccountToPay / UseAccountToPayByPwd: deposit not supported (official channels).
const USE_DEPOSIT_OFF: &str = "不支持预付金支付功能，请与景区管理员联系，开通此功能。";
/// `-2092`.
const CODE_WRONG: &str = "验证码错误。";
/// `-2093`.
const CODE_EXPIRED: &str = "验证码已过期。";
/// `-2095` / `-2195`.
const ORDER_NOT_PAYABLE: &str = "指定的订单不存在、订单状态不为'预订中'或订单不属于当前代理商。";
/// `-1` activation: the requested gate medium is not allowed by the supplier.
const MEDIUM_NOT_ALLOWED: &str = "当前电子门票系统不允许按指定的模式执行远程激活，激活失败。";
/// `-1` GetVerificationCode: neither deposit nor rebate enabled.
const PWD_NOT_ALLOWED: &str = "未开通预付金支付或返款支付功能的代理商不允许更改支付密码；";
/// `-1` GetVerificationCode: DWID / DWSX do not match the account.
const UNIT_MISMATCH: &str = "传入的单位ID或单位属性ID不正确；";
/// `-1` GetVerificationCode: resend within a minute.
const PWD_TOO_SOON: &str = "调用失败，失败原因：重发太频繁；";
/// `-3` GetVerificationCode: too many resends.
const PWD_TOO_MANY: &str = "调用失败，失败原因：重发次数太多，不允许此操作；";
/// `-2431` ChangePayPwd.
const PWD_CODE_WRONG: &str = "验证码错误。";
/// `-2432` ChangePayPwd.
const PWD_BAD_NEW: &str = "新密码错误、两次输入密码不相符或密钥不符合规则。";
/// `-2433` ChangePayPwd.
const PWD_CODE_EXPIRED: &str = "验证码已过期或不正确。";

/// The unit id of official channels (catalogue §1.5): deposit and rebate are never theirs.
const OFFICIAL_UNIT: &str = "00000000-0000-0000-0000-000000000000";
/// `UPPER(MD5(""))`: an empty payment password.
const EMPTY_MD5: &str = "D41D8CD98F00B204E9800998ECF8427E";
/// Purpose and subject of payment-password codes (one per agent).
const PAYPWD: &str = "paypwd";

/// Resends at least this far apart.
const RESEND_MS: i64 = 60_000;
/// Codes per subject and day.
const MAX_PER_DAY: i64 = 50;
/// Wrong tries that void a code.
const MAX_WRONG: i64 = 5;
/// Lifetime of a deposit-authorization code.
const DEPOSIT_TTL_MS: i64 = 360_000;
/// Lifetime of rebate-authorization and payment-password codes.
const LONG_TTL_MS: i64 = 600_000;

fn purpose(account: Account) -> &'static str {
    match account {
        Account::Deposit => "deposit",
        Account::Rebate => "rebate",
    }
}

fn ttl(account: Account) -> i64 {
    match account {
        Account::Deposit => DEPOSIT_TTL_MS,
        Account::Rebate => LONG_TTL_MS,
    }
}

fn allowed(cx: &Ctx, account: Account) -> bool {
    match account {
        Account::Deposit => cx.agent.allow_deposit,
        Account::Rebate => cx.agent.allow_rebate,
    }
}

fn official(cx: &Ctx) -> bool {
    cx.agent.unit_id.eq_ignore_ascii_case(OFFICIAL_UNIT)
}

/// Six random digits.
fn new_code() -> String {
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32))
}

/// 00:00 today at the venue, in ms (codes per day are counted from it).
fn day_start_ms(cx: &Ctx) -> i64 {
    to_millis(from_local(
        cx.today().and_time(NaiveTime::MIN),
        cx.ybx.svc.settings().offset,
    ))
}

/// The reserved mobile chosen by `NumIndex` (`0`/absent: mobile 1, `1`: mobile 2), with its
/// index; `Err` for another value.
fn phone(cx: &Ctx) -> Result<(i64, String), Answer> {
    match cx.params.text("numindex") {
        "" | "0" => Ok((0, cx.agent.mobile1.trim().to_string())),
        "1" => Ok((1, cx.agent.mobile2.trim().to_string())),
        _ => Err(Answer::err(-1, codes::OTHER_ERROR)),
    }
}

/// The caller's order by number, if it is in state 0 and not past its payment time limit.
async fn booked_order(cx: &Ctx, number: &str) -> Result<Option<VisitOrder>, Answer> {
    if number.is_empty() {
        return Ok(None);
    }
    match cx.ybx.svc.store().visit_order_by_number(number).await {
        // An unpaid order past its payment time limit is closed (or about to be by the sweeper).
        Ok(Some(o))
            if o.partner_id == cx.agent.id()
                && o.state == VisitState::Booked
                && o.expires_ms.is_none_or(|e| e > cx.now_ms) =>
        {
            Ok(Some(o))
        }
        Ok(_) => Ok(None),
        Err(e) => Err(failure(&e)),
    }
}

/// `ReadyToPay.aspx` / `ReadyToPayByFK.aspx`: sends an SMS code for authorizing an order.
pub async fn ready_to_pay(cx: &Ctx, account: Account) -> Answer {
    if !allowed(cx, account) || official(cx) {
        return match account {
            Account::Deposit if official(cx) => Answer::err(-1, RTP_DEPOSIT_OFF_SHORT),
            Account::Deposit => Answer::err(-1, RTP_DEPOSIT_OFF),
            Account::Rebate => Answer::err(-1, FK_REBATE_OFF),
        };
    }
    let (index, phone) = match phone(cx) {
        Ok(p) => p,
        Err(a) => return a,
    };
    let order = match booked_order(cx, cx.params.text("order_id")).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            return Answer::err(
                -2002,
                match account {
                    Account::Deposit => RTP_NOT_BOOKED,
                    Account::Rebate => FK_NOT_BOOKED,
                },
            )
        }
        Err(a) => return a,
    };
    if phone.is_empty() {
        return Answer::err(-1, NO_PHONE);
    }
    let code = new_code();
    let (what, minutes) = match account {
        Account::Deposit => ("预订金支付授权", 6),
        Account::Rebate => ("返款余额支付授权", 10),
    };
    let text = format!(
        "【{}】您正在为订单{}办理{}，金额{}元，验证码{}，{}分钟内有效。",
        cx.venue.name,
        order.number,
        what,
        money(order.total),
        code,
        minutes
    );
    let issued = cx
        .ybx
        .svc
        .store()
        .issue_code(
            VerifyCode {
                partner_id: cx.agent.id(),
                purpose: purpose(account).into(),
                subject: order.number.clone(),
                code,
                phone_index: index,
                issued_ms: cx.now_ms,
                expires_ms: cx.now_ms + ttl(account),
                sends_today: 0,
                wrong: 0,
                used: false,
            },
            RESEND_MS,
            MAX_PER_DAY,
            day_start_ms(cx),
            cx.venue.id,
            Message {
                kind: "code".into(),
                phone,
                text,
            },
        )
        .await;
    match (issued, account) {
        (Ok(IssueOutcome::Issued), Account::Deposit) => Answer::ok("", String::new()),
        (Ok(IssueOutcome::Issued), Account::Rebate) => Answer::ok(CALL_OK, String::new()),
        (Ok(IssueOutcome::TooSoon), Account::Deposit) => Answer::err(-1, RTP_TOO_SOON),
        (Ok(IssueOutcome::TooSoon), Account::Rebate) => Answer::err(-1, FK_TOO_SOON),
        (Ok(IssueOutcome::TooMany), Account::Deposit) => Answer::err(-3, RTP_TOO_MANY),
        (Ok(IssueOutcome::TooMany), Account::Rebate) => Answer::err(-1, FK_TOO_MANY),
        (Err(e), _) => failure(&e),
    }
}

/// How an authorization is proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proof {
    /// The SMS code of ReadyToPay / ReadyToPayByFK (`SmsCode`, plain).
    Code,
    /// The payment password (`SmsCode`, TripleDes of UPPER(MD5(pw))).
    Password,
}

/// `UseAccountToPay.aspx` / `UseAccountToPayByFK.aspx`: authorizes with the SMS code.
pub async fn use_account_by_code(cx: &Ctx, account: Account) -> Answer {
    authorize(cx, account, Proof::Code).await
}

/// `UseAccountToPayByPwd.aspx` / `UseAccountToPayByFKWithPwd.aspx`: authorizes with the
/// payment password.
pub async fn use_account_by_password(cx: &Ctx, account: Account) -> Answer {
    authorize(cx, account, Proof::Password).await
}

/// Validated parameters of an authorization.
struct Request {
    amount: i64,
    sms_model: Option<String>,
    activate: Option<bool>,
    ticket_type: Option<i32>,
    notify: bool,
}

fn param_error() -> Answer {
    Answer::err(-1901, codes::PAY_PARAM)
}

fn request(cx: &Ctx, account: Account, proof: Proof) -> Result<Request, Answer> {
    let p = &cx.params;
    // UseAccountToPay (deposit, SMS code) is the one page without `smsModel`.
    let model_required = !(account == Account::Deposit && proof == Proof::Code);
    if !p.has("order_id") || !p.has("money") || !p.has("smscode") {
        return Err(param_error());
    }
    if model_required && !p.has("smsmodel") {
        return Err(param_error());
    }
    let sms_model = match p.text("smsmodel").to_ascii_uppercase() {
        m if m.is_empty() => None,
        m if ["0", "1", "2", "A"].contains(&m.as_str()) => Some(m),
        _ => return Err(param_error()),
    };
    let amount = crate::booking::parse_money(p.text("money")).ok_or_else(param_error)?;
    let activate = match p.text("activate") {
        "" => None,
        "0" => Some(false),
        "1" => Some(true),
        _ => return Err(param_error()),
    };
    let ticket_type = match p.text("tickettype") {
        "" => None,
        "1" => Some(1),
        "2" => Some(2),
        _ => return Err(param_error()),
    };
    // "tickettype: required when activate has a value" (4.2.14).
    if activate.is_some() && ticket_type.is_none() {
        return Err(param_error());
    }
    let notify = match p.text("sendnotification") {
        "" | "1" => true,
        "0" => false,
        _ => return Err(param_error()),
    };
    Ok(Request {
        amount,
        sms_model,
        activate,
        ticket_type,
        notify,
    })
}

/// The refusal when the agent may not use the account.
fn not_allowed(cx: &Ctx, account: Account, proof: Proof) -> Option<Answer> {
    if allowed(cx, account) && !official(cx) {
        return None;
    }
    Some(match (account, proof, official(cx)) {
        (Account::Deposit, _, true) => Answer::err(-1, USE_DEPOSIT_OFF),
        (Account::Deposit, _, false) => Answer::err(-2094, codes::DEPOSIT_NOT_ALLOWED),
        (Account::Rebate, Proof::Code, true) => Answer::err(-1, FK_REBATE_OFF),
        // 4.2.24 sends the [A] text of -2194 as printed ("预定金", sic).
        (Account::Rebate, Proof::Code, false) => Answer::err(-2194, codes::DEPOSIT_NOT_ALLOWED),
        (Account::Rebate, Proof::Password, _) => Answer::err(-2194, codes::REBATE_NOT_ALLOWED),
    })
}

fn wrong_state(account: Account) -> Answer {
    match account {
        Account::Deposit => Answer::err(-2095, ORDER_NOT_PAYABLE),
        Account::Rebate => Answer::err(-2195, ORDER_NOT_PAYABLE),
    }
}

/// Checks the SMS code of an order without consuming it: wrong, used or voided → `-2092`
/// (counting a wrong try), expired → `-2093`.
async fn check_code(cx: &Ctx, account: Account, order: &VisitOrder) -> Result<CodeUse, Answer> {
    let given = cx.params.text("smscode");
    let store = cx.ybx.svc.store();
    let current = store
        .verify_code(cx.agent.id(), purpose(account), &order.number)
        .await
        .map_err(|e| failure(&e))?;
    let Some(current) = current.filter(|c| !c.used) else {
        return Err(Answer::err(-2092, CODE_WRONG));
    };
    if !crate::crypto::secret_eq(&current.code, given) {
        store
            .code_wrong_try(cx.agent.id(), purpose(account), &order.number, MAX_WRONG)
            .await
            .map_err(|e| failure(&e))?;
        return Err(Answer::err(-2092, CODE_WRONG));
    }
    if current.expires_ms < cx.now_ms {
        return Err(Answer::err(-2093, CODE_EXPIRED));
    }
    Ok(CodeUse {
        purpose: purpose(account).into(),
        subject: order.number.clone(),
        code: current.code,
    })
}

/// The products of an order's lines (as the supplier sells them now).
fn products_of(cx: &Ctx, items: &[VisitItem]) -> Vec<Product> {
    items
        .iter()
        .filter_map(|i| cx.venue.product(&i.product).cloned())
        .collect()
}

/// The gate medium of an activation: `tickettype` 1 (ID card) / 2 (QR) if the supplier allows
/// it, else the supplier's default (3: ID card when every unit names a type-1 ID, else QR).
fn gate_medium(cx: &Ctx, order: &VisitOrder, asked: Option<i32>) -> Result<i32, Answer> {
    let supplier = cx.venue.scenic.as_ref().map_or(3, |s| s.gate_medium);
    let short = order.detail.items.iter().enumerate().find(|(index, item)| {
        let ids = order
            .detail
            .persons
            .iter()
            .filter(|x| x.item == *index && x.id_type == 1)
            .count() as i64;
        ids != item.count
    });
    match asked {
        Some(m) if (supplier == 1 || supplier == 2) && m != supplier => Err(Answer::err(-1, MEDIUM_NOT_ALLOWED)),
        Some(1) => match short {
            Some((_, item)) => Err(Answer::err(
                -1,
                format!(
                    "当前系统要求使用二代身份证远程激活，但订单中，{}对应的预订单中的实名信息数量与要求激活的数量不一致，激活失败。",
                    item.name
                ),
            )),
            None => Ok(1),
        },
        Some(m) => Ok(m),
        None => Ok(if supplier != 2 && short.is_none() { 1 } else { 2 }),
    }
}

/// End of an order's validity: midnight after the last valid visit day.
fn validity_end(cx: &Ctx, order: &VisitOrder, products: &[Product]) -> i64 {
    boxoffice_core::scenic::validity_end(order.visit_date, products, cx.ybx.svc.settings().offset)
}

/// The four UseAccountToPay* pages: parameters, permission, order, proof, amount, then one
/// transaction that debits (with activation) or holds the total, consumes the SMS code, issues
/// tickets and queues the callbacks and official notices.
async fn authorize(cx: &Ctx, account: Account, proof: Proof) -> Answer {
    let req = match request(cx, account, proof) {
        Ok(r) => r,
        Err(a) => return a,
    };
    if let Some(a) = not_allowed(cx, account, proof) {
        return a;
    }
    let order = match booked_order(cx, cx.params.text("order_id")).await {
        Ok(Some(o)) => o,
        Ok(None) => return wrong_state(account),
        Err(a) => return a,
    };
    let code_use = match proof {
        Proof::Code => match check_code(cx, account, &order).await {
            Ok(c) => Some(c),
            Err(a) => return a,
        },
        Proof::Password => match crate::booking::check_pay_password(cx).await {
            Ok(()) => None,
            Err(a) => return a,
        },
    };
    if req.amount != order.total {
        return match account {
            Account::Deposit => Answer::err(-2096, codes::WRONG_AMOUNT),
            Account::Rebate => Answer::err(-2196, codes::WRONG_AMOUNT),
        };
    }
    let scenic = cx.venue.scenic.clone().unwrap_or_default();
    let activate = scenic.remote_activation == 2
        || (scenic.remote_activation == 1 && req.activate.unwrap_or(scenic.activate_on_payment));
    let products = products_of(cx, &order.detail.items);
    let medium = if activate {
        match gate_medium(cx, &order, req.ticket_type) {
            Ok(m) => Some(m),
            Err(a) => return a,
        }
    } else {
        None
    };
    let (authorized, delivered, method) = match account {
        Account::Deposit => (
            VisitState::DepositAuthorized,
            VisitState::Delivered,
            PayMethod::Deposit,
        ),
        Account::Rebate => (
            VisitState::RebateAuthorized,
            VisitState::DeliveredRebate,
            PayMethod::Rebate,
        ),
    };
    let total = order.total;
    let mut detail = order.detail.clone();
    detail.pay_method = Some(method);
    detail.paid = total;
    detail.notify_visitors =
        req.notify && cx.agent.send_official && req.sms_model.as_deref() != Some("A");
    if let Some(m) = &req.sms_model {
        detail.extra.insert("sms_model".into(), m.clone().into());
    }
    let mut effects = VisitEffects {
        use_code: code_use,
        ..VisitEffects::default()
    };
    let account_name = purpose(account);
    if let Some(medium) = medium {
        effects.accounts.push(AccountMove {
            account: account_name.into(),
            balance_delta: -total,
            held_delta: 0,
            kind: "debit".into(),
            note: format!("authorized and delivered {}", order.number),
        });
        detail.held = 0;
        detail.delivered_ms = Some(cx.now_ms);
        detail.extra.insert("medium".into(), medium.into());
        effects.tickets = issue_tickets(
            &detail.items,
            &products,
            &detail.persons,
            order.visit_date,
            medium,
        );
    } else {
        effects.accounts.push(AccountMove {
            account: account_name.into(),
            balance_delta: 0,
            held_delta: total,
            kind: "hold".into(),
            note: format!("authorized {}", order.number),
        });
        detail.held = total;
    }
    if crate::booking::announces(cx, &detail.sender_ref) {
        effects
            .events
            .push(OutboxEvent::order_changed(PROTOCOL, authorized));
        if activate {
            effects
                .events
                .push(OutboxEvent::order_changed(PROTOCOL, delivered));
        }
    }
    if detail.notify_visitors && !detail.mobile.is_empty() {
        let date = order.visit_date.format("%Y-%m-%d");
        effects.messages.push(match medium {
            Some(m) => Message {
                kind: "delivery".into(),
                phone: detail.mobile.clone(),
                text: format!(
                    "【{}】您预订的{}入园门票已出票（{}），订单号{{number}}，请凭{}入园。",
                    cx.venue.name,
                    date,
                    crate::booking::item_summary(&detail.items),
                    if m == 1 { "身份证" } else { "二维码" }
                ),
            },
            None => Message {
                kind: "payment".into(),
                phone: detail.mobile.clone(),
                text: format!(
                    "【{}】您预订的{}入园的{}已完成支付授权，订单号{{number}}。",
                    cx.venue.name,
                    date,
                    crate::booking::item_summary(&detail.items)
                ),
            },
        });
    }
    let change = VisitChange {
        order_id: order.id,
        from: vec![VisitState::Booked],
        to: if activate { delivered } else { authorized },
        detail: Some(detail),
        expires_ms: Some(if activate {
            None
        } else {
            Some(validity_end(cx, &order, &products))
        }),
        segment: None,
        now_ms: cx.now_ms,
        actor: cx.agent.user.clone(),
        version: None,
        effects,
    };
    match cx.ybx.svc.change_visit_order(change).await {
        Ok(VisitOutcome::Done(o)) | Ok(VisitOutcome::Existing(o)) => {
            tracing::debug!(order = %o.number, state = state_code(o.state), "authorized");
            match (account, proof) {
                (Account::Rebate, Proof::Code) => Answer::ok(CALL_OK, String::new()),
                _ => Answer::ok("", String::new()),
            }
        }
        Ok(VisitOutcome::Refused(VisitRefusal::Insufficient(_))) => match account {
            Account::Deposit => Answer::err(-2097, codes::DEPOSIT_SHORT),
            Account::Rebate => Answer::err(-2197, codes::REBATE_SHORT),
        },
        Ok(VisitOutcome::Refused(VisitRefusal::CodeRejected)) => Answer::err(-2092, CODE_WRONG),
        Ok(VisitOutcome::Refused(VisitRefusal::WrongState(_))) => wrong_state(account),
        Ok(VisitOutcome::Refused(r)) => crate::booking::refusal_answer(&r, true, Some(account)),
        Err(e) => failure(&e),
    }
}

/// The `ZFDH` bill number of a payment-password code: `ZF` + its local issue time to the
/// millisecond (a newer code has another number, so an old one no longer matches).
fn bill_number(cx: &Ctx, issued_ms: i64) -> String {
    let t = local(from_millis(issued_ms), cx.ybx.svc.settings().offset);
    format!("ZF{}", t.format("%Y%m%d%H%M%S%3f"))
}

/// `GetVerificationCode.aspx`: an SMS code for changing the payment password.
pub async fn get_verification_code(cx: &Ctx) -> Answer {
    if !cx.agent.allow_deposit && !cx.agent.allow_rebate {
        return Answer::err(-1, PWD_NOT_ALLOWED);
    }
    // DWSX plain (one character) or TripleDes; DWID TripleDes.
    let unit_type = match cx.params.text("dwsx") {
        "" => String::new(),
        t if t.chars().count() == 1 => t.to_string(),
        _ => match cx.decrypt("dwsx") {
            Ok(v) => v.unwrap_or_default().trim().to_string(),
            Err(a) => return a,
        },
    };
    let unit_id = match cx.decrypt("dwid") {
        Ok(v) => v.unwrap_or_default().trim().to_string(),
        Err(a) => return a,
    };
    if unit_type.is_empty()
        || unit_id.is_empty()
        || unit_type != cx.agent.unit_type.trim()
        || !unit_id.eq_ignore_ascii_case(cx.agent.unit_id.trim())
    {
        return Answer::err(-1, UNIT_MISMATCH);
    }
    let (index, phone) = match phone(cx) {
        Ok(p) => p,
        Err(a) => return a,
    };
    if phone.is_empty() {
        return Answer::err(-1, NO_PHONE);
    }
    let code = new_code();
    let zfdh = bill_number(cx, cx.now_ms);
    let text = format!(
        "【{}】您正在设置支付密码，业务单号{}，验证码{}，10分钟内有效。",
        cx.venue.name, zfdh, code
    );
    let issued = cx
        .ybx
        .svc
        .store()
        .issue_code(
            VerifyCode {
                partner_id: cx.agent.id(),
                purpose: PAYPWD.into(),
                subject: PAYPWD.into(),
                code,
                phone_index: index,
                issued_ms: cx.now_ms,
                expires_ms: cx.now_ms + LONG_TTL_MS,
                sends_today: 0,
                wrong: 0,
                used: false,
            },
            RESEND_MS,
            MAX_PER_DAY,
            day_start_ms(cx),
            cx.venue.id,
            Message {
                kind: "code".into(),
                phone,
                text,
            },
        )
        .await;
    match issued {
        Ok(IssueOutcome::Issued) => {
            let mut x = Xml::new();
            x.open("item")
                .leaf("order_id", &zfdh)
                .leaf("status", 0)
                .close("item");
            Answer::ok("", x.finish())
        }
        Ok(IssueOutcome::TooSoon) => Answer::err(-1, PWD_TOO_SOON),
        Ok(IssueOutcome::TooMany) => Answer::err(-3, PWD_TOO_MANY),
        Err(e) => failure(&e),
    }
}

/// A new payment password field: the decrypted `UPPER(MD5(pw))` if it is 32 hex digits and not
/// the hash of the empty password.
fn new_password(cx: &Ctx, name: &str) -> Result<Option<String>, Answer> {
    let v = cx
        .decrypt(name)?
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase();
    let ok = v.len() == 32 && v.chars().all(|c| c.is_ascii_hexdigit()) && v != EMPTY_MD5;
    Ok(ok.then_some(v))
}

/// `ChangePayPwd.aspx`: sets or changes the payment password.
pub async fn change_pay_pwd(cx: &Ctx) -> Answer {
    let p = &cx.params;
    if !p.has("yzm") || !p.has("zfdh") || !p.has("newpwd") || !p.has("newpwd2") {
        return param_error();
    }
    let (first, second) = match (new_password(cx, "newpwd"), new_password(cx, "newpwd2")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(a), _) | (_, Err(a)) => return a,
    };
    let email = match cx.decrypt("email") {
        Ok(v) => v.unwrap_or_default().trim().to_string(),
        Err(a) => return a,
    };
    let store = cx.ybx.svc.store();
    let current = match store.verify_code(cx.agent.id(), PAYPWD, PAYPWD).await {
        Ok(c) => c,
        Err(e) => return failure(&e),
    };
    let Some(current) = current
        .filter(|c| !c.used && bill_number(cx, c.issued_ms).eq_ignore_ascii_case(p.text("zfdh")))
    else {
        return Answer::err(-2433, PWD_CODE_EXPIRED);
    };
    if !crate::crypto::secret_eq(&current.code, p.text("yzm")) {
        if let Err(e) = store
            .code_wrong_try(cx.agent.id(), PAYPWD, PAYPWD, MAX_WRONG)
            .await
        {
            return failure(&e);
        }
        return Answer::err(-2431, PWD_CODE_WRONG);
    }
    if current.expires_ms < cx.now_ms {
        return Answer::err(-2433, PWD_CODE_EXPIRED);
    }
    let email_ok = email.is_empty()
        || cx.agent.email.trim().is_empty()
        || email.eq_ignore_ascii_case(cx.agent.email.trim());
    let hash = match (first, second) {
        (Some(a), Some(b)) if a == b && email_ok => a,
        _ => return Answer::err(-2432, PWD_BAD_NEW),
    };
    let use_code = CodeUse {
        purpose: PAYPWD.into(),
        subject: PAYPWD.into(),
        code: current.code,
    };
    match store.use_code(cx.agent.id(), &use_code, cx.now_ms).await {
        Ok(true) => {}
        Ok(false) => return Answer::err(-2433, PWD_CODE_EXPIRED),
        Err(e) => return failure(&e),
    }
    let mut patch = serde_json::Map::new();
    patch.insert("pay_md5".into(), hash.into());
    patch.insert("pay_failures".into(), 0.into());
    patch.insert("pay_locked_until".into(), 0.into());
    match cx.ybx.update_agent(cx.agent.id(), patch).await {
        Ok(()) => Answer::ok("", String::new()),
        Err(e) => failure(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..100 {
            let c = new_code();
            assert_eq!(c.len(), 6);
            assert!(c.chars().all(|d| d.is_ascii_digit()));
        }
    }
}
