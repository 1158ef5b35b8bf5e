//! SPEC §3.8, new-order alerts for sellers (page: `www/sell/list.html`): a
//! shop's backend creates an order over plain HTTP, and every seller's open
//! order list hears of it at once over a WebSocket, where the page pops up
//! an alert and beeps. It shows a server push started by an HTTP request on
//! another connection, and a JSON request body read with serde_json.
//!
//! - `GET /sell/webSocket` (WebSocket): "a seller's order list page". The
//!   server sends nothing on open (the page loads the list itself) and
//!   ignores what a seller sends.
//! - `POST /sell/orders` JSON `{"buyerName":"…","amount":12.5}`: "creates an
//!   order (`orderId` unique), answers `201` with the order JSON, and pushes
//!   to every seller `{"type":"new-order","orderId":"…","buyerName":"…",
//!   "amount":12.5}`". The order JSON is `{"orderId":"…","buyerName":"…",
//!   "amount":12.5}`, the push the same fields after `"type":"new-order"`.
//!   "Invalid JSON or missing fields: `400` with a clear message", as JSON
//!   `{"error":"…"}`: serde_json's reason, line and column for bad JSON; for a
//!   body that is not an object, or a field that is missing, repeated, or of
//!   the wrong kind, the field by name. `buyerName` must be a string that is
//!   not blank, of at most [`MAX_BUYER_NAME`] characters (kept as sent);
//!   `amount` a number ≥ 0 (JSON has no NaN or infinity, and serde_json
//!   refuses numbers beyond `f64`). Other fields are ignored. The body's
//!   `Content-Type` is not checked (curl's `-d` says form-urlencoded).
//! - `GET /sell/orders`: "the orders created so far, JSON": an array of
//!   order objects, oldest first, the newest [`MAX_ORDERS`] only.
//!
//! `orderId` is a string: the Unix time in milliseconds when the order was
//! made, a dash, and a sequence number counting orders since the server
//! started (`1714550400123-1`). The sequence makes it unique within a
//! process; the time keeps ids from a restarted server apart from earlier
//! ones (unless its clock went back).
//!
//! `amount` is written as JavaScript writes numbers for every amount a shop
//! sees ([`amount_number`]): `12.5` stays `12.5`, but `30.0` and `12.50` come
//! back as `30` and `12.5` (the value is kept, not the spelling). An amount is an `f64`, fine for a
//! demo and wrong for real money (use integer cents).
//!
//! Does not: authenticate sellers or order-makers (anyone may create orders;
//! a cross-site form could too), persist orders across restarts, tell a
//! seller which orders it missed while disconnected (the page reloads the
//! list when it reconnects), or share orders between workers.

use std::collections::{HashSet, VecDeque};
use std::rc::Rc;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Serialize;
use serde_json::error::Category;
use serde_json::{Number, Value};

use super::{Action, Context, End, Head, Out, Reply, Scenario};
use crate::http::request::{Method, Request};
use crate::http::response::Response;
use crate::http::route::{Methods, Params};
use crate::key::ConnKey;
use crate::ws::{self, Accepted};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    /// `GET /sell/webSocket`: a seller's order list page.
    Sellers,
    /// `POST /sell/orders` creates one; `GET` lists them.
    Orders,
}

/// Orders kept for `GET /sell/orders`: a seller's page shows the recent
/// ones; older ones fall out so a test loop or a flood of posts cannot grow
/// the server without bound (with [`MAX_BUYER_NAME`], under 100 KiB).
pub const MAX_ORDERS: usize = 100;
/// Longest `buyerName`, in characters: longer than any real name, and it
/// bounds what each kept order costs.
pub const MAX_BUYER_NAME: usize = 200;

#[derive(Default)]
pub struct Orders {
    /// Open `/sell/webSocket` sockets.
    sellers: HashSet<ConnKey>,
    /// Each order as its JSON object text, oldest first.
    orders: VecDeque<Rc<str>>,
    /// Orders created so far; the last one's sequence number.
    created: u64,
}

impl Scenario for Orders {
    type Route = Route;

    fn routes(&self) -> Vec<(Methods, &'static str, Route)> {
        vec![
            (Methods::GET, "/sell/webSocket", Route::Sellers),
            (Methods::GET.or(Methods::POST), "/sell/orders", Route::Orders),
        ]
    }

    fn handle(
        &mut self,
        route: Route,
        req: &Request<'_>,
        _params: &Params<'_>,
        upgrade: Option<Accepted>,
        cx: &Context<'_>,
        out: &mut Out<'_>,
    ) -> Reply {
        match (route, req.method) {
            (Route::Sellers, _) => {
                // Only a real upgrade is a seller.
                let Some(accept) = upgrade else { return Reply::Respond(ws::Refusal::NotUpgrade.response()) };
                self.sellers.insert(cx.key);
                log::info!("conn={} seller connected; sellers: {}", cx.key, self.sellers.len());
                Reply::Upgrade { accept, first: Vec::new() }
            }
            (Route::Orders, Method::Post) => Reply::Respond(self.create(&req.body, cx, out)),
            (Route::Orders, _) => Reply::Respond(self.list()),
        }
    }

    fn head(&self, route: Route, _req: &Request<'_>, _params: &Params<'_>, _cx: &Context<'_>) -> Head {
        match route {
            Route::Sellers => Head::Upgrade,
            Route::Orders => Head::Respond(self.list()),
        }
    }

    fn on_end(&mut self, cx: &Context<'_>, why: End, _out: &mut Out<'_>) {
        if self.sellers.remove(&cx.key) {
            log::info!("conn={} seller left ({why:?}); sellers: {}", cx.key, self.sellers.len());
        }
    }
}

impl Orders {
    fn create(&mut self, body: &[u8], cx: &Context<'_>, out: &mut Vec<Action>) -> Response {
        let (buyer, amount) = match order_fields(body) {
            Ok(fields) => fields,
            Err(why) => {
                return Response::json(400, serde_json::json!({ "error": why }).to_string());
            }
        };
        self.created += 1;
        let id = format!("{}-{}", cx.unix_ms, self.created);
        let order = Order { order_id: &id, buyer_name: &buyer, amount: amount_number(amount) };
        // Strings and numbers only: serialising cannot fail.
        let order = serde_json::to_string(&order).unwrap_or_default();

        // `{"type":"new-order",` then the order's own fields: one frame,
        // shared by every seller.
        let push = format!("{{\"type\":\"new-order\",{}", &order[1..]);
        let mut frame = Vec::with_capacity(push.len() + ws::frame::MAX_HEADER);
        ws::encode(ws::OpCode::Text, push.as_bytes(), &mut frame);
        let frame: Rc<[u8]> = frame.into();
        for &to in &self.sellers {
            out.push(Action::Send { to, bytes: frame.clone() });
        }
        log::info!("order {id} created; pushed to {} sellers", self.sellers.len());

        if self.orders.len() == MAX_ORDERS {
            self.orders.pop_front();
        }
        self.orders.push_back(order.as_str().into());
        Response::json(201, order)
    }

    fn list(&self) -> Response {
        let mut body = String::with_capacity(2 + self.orders.iter().map(|o| o.len() + 1).sum::<usize>());
        body.push('[');
        for (i, order) in self.orders.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(order);
        }
        body.push(']');
        Response::json(200, body)
    }
}

/// An example body, for error messages.
const EXAMPLE: &str = r#"{"buyerName":"Alice","amount":12.5}"#;

/// An order as answered, kept and pushed: `{"orderId":…,"buyerName":…,"amount":…}`,
/// in that order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Order<'a> {
    order_id: &'a str,
    buyer_name: &'a str,
    amount: Number,
}

/// The two fields of a request body, each as written, whatever its kind:
/// the kinds are checked afterwards, so that each message can name the
/// field and what it got. Read by hand (not derived) to refuse a repeated
/// field, which RFC 8259 §4 leaves unpredictable ("names within an object
/// SHOULD be unique"), and to word every refusal.
#[derive(Default)]
struct Body {
    buyer_name: Option<Value>,
    amount: Option<Value>,
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BodyVisitor)
    }
}

struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = Body;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a JSON object such as {EXAMPLE}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Body, A::Error> {
        let mut body = Body::default();
        while let Some(name) = members.next_key::<String>()? {
            let slot = match name.as_str() {
                "buyerName" => &mut body.buyer_name,
                "amount" => &mut body.amount,
                _ => {
                    members.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if slot.is_some() {
                return Err(de::Error::custom(format!("field \"{name}\" appears more than once")));
            }
            *slot = Some(members.next_value()?);
        }
        Ok(body)
    }
}

/// What kind of value `v` is, for error messages ("not a string").
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `buyerName` and `amount` from a request body, or what is wrong with it.
fn order_fields(body: &[u8]) -> Result<(String, f64), String> {
    let text = std::str::from_utf8(body)
        .map_err(|e| format!("the body is not UTF-8 (bad byte at offset {})", e.valid_up_to()))?;
    if text.trim_ascii().is_empty() {
        return Err(format!("the body is empty; send a JSON object such as {EXAMPLE}"));
    }
    let body: Body = serde_json::from_str(text).map_err(|e| match e.classify() {
        Category::Syntax | Category::Eof => format!("invalid JSON: {e}"),
        // Not an object, or a repeated field: the message says which.
        Category::Data | Category::Io => e.to_string(),
    })?;
    let missing = |name: &str| format!("missing field \"{name}\"; send a JSON object such as {EXAMPLE}");
    let buyer = match body.buyer_name.ok_or_else(|| missing("buyerName"))? {
        Value::String(s) if s.trim().is_empty() => return Err("\"buyerName\" must not be blank".into()),
        Value::String(s) if s.chars().count() > MAX_BUYER_NAME => {
            return Err(format!("\"buyerName\" is too long (at most {MAX_BUYER_NAME} characters)"))
        }
        Value::String(s) => s,
        other => return Err(format!("\"buyerName\" must be a string, not {}", kind(&other))),
    };
    // serde_json refuses numbers beyond f64 (`1e999`), and JSON has no NaN
    // or infinity, so every number here is finite.
    let amount = match body.amount.ok_or_else(|| missing("amount"))? {
        Value::Number(n) => match n.as_f64() {
            Some(n) if n >= 0.0 => n,
            _ => return Err("\"amount\" must not be negative".into()),
        },
        other => return Err(format!("\"amount\" must be a number, not {}", kind(&other))),
    };
    Ok((buyer, amount))
}

/// `amount` as JSON: a whole number without a fraction (`30.0` is `30`, as
/// JavaScript's `JSON.stringify` writes it), any other as serde_json writes
/// an `f64` (the shortest digits that read back the same: `12.5`, `0.1`).
fn amount_number(n: f64) -> Number {
    // 2^53: every whole number up to it is exactly an f64 and a u64.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if n.fract() == 0.0 && (0.0..=EXACT).contains(&n) {
        // In range and whole: the cast is exact.
        Number::from(n as u64)
    } else {
        Number::from_f64(n).unwrap_or_else(|| Number::from(0u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Owner, ScenarioId};
    use crate::stats::Stats;

    const OWNER: Owner = Owner::Scenario(ScenarioId::Orders);
    use httparse::Header;

    fn key(index: u32) -> ConnKey {
        ConnKey { index, gen: 1 }
    }

    const UPGRADE: &[Header<'static>] = &[Header { name: "Upgrade", value: b"websocket" }];

    fn run(orders: &mut Orders, route: Route, method: Method, body: &str, index: u32) -> (Reply, Vec<Action>) {
        let stats = Stats::default();
        let cx = Context { key: key(index), now: 0, unix_ms: 1_714_550_400_123, stats: &stats };
        let req = Request {
            method,
            method_token: "GET",
            path: "/",
            query: "",
            minor: 1,
            headers: if route == Route::Sellers { UPGRADE } else { &[] },
            body: body.as_bytes().to_vec().into(),
            keep_alive: true,
        };
        let mut out = Vec::new();
        if method == Method::Head {
            return (Reply::Respond(match orders.head(route, &req, &Params::default(), &cx) {
                Head::Respond(r) => r,
                other => panic!("{other:?}"),
            }), out);
        }
        let upgrade = ws::is_upgrade(&req).then(crate::app::tests::accepted);
        let reply = orders.handle(route, &req, &Params::default(), upgrade, &cx, &mut Out::new(&mut out, OWNER));
        (reply, out)
    }

    fn answer(reply: Reply) -> (u16, String) {
        match reply {
            Reply::Respond(r) => (r.status, String::from_utf8_lossy(r.body.as_bytes()).into_owned()),
            other => panic!("not a response: {other:?}"),
        }
    }

    #[test]
    fn an_order_is_answered_kept_and_pushed_once_encoded() {
        let mut orders = Orders::default();
        run(&mut orders, Route::Sellers, Method::Get, "", 1);
        run(&mut orders, Route::Sellers, Method::Get, "", 2);
        let (reply, out) =
            run(&mut orders, Route::Orders, Method::Post, r#"{"amount":12.5,"buyerName":"Alice","x":[1]}"#, 3);
        let want = r#"{"orderId":"1714550400123-1","buyerName":"Alice","amount":12.5}"#;
        assert_eq!(answer(reply), (201, want.to_string()));
        let push = r#"{"type":"new-order","orderId":"1714550400123-1","buyerName":"Alice","amount":12.5}"#;
        let mut frame = Vec::new();
        ws::encode(ws::OpCode::Text, push.as_bytes(), &mut frame);
        let mut to = Vec::new();
        let mut shared = None;
        for action in &out {
            let Action::Send { to: k, bytes } = action else { panic!("{action:?}") };
            assert_eq!(&bytes[..], &frame[..]);
            assert!(shared.get_or_insert(bytes.as_ptr()) == &bytes.as_ptr(), "one encoding, shared");
            to.push(k.index);
        }
        to.sort();
        assert_eq!(to, [1, 2]);
        let (_, _) = run(&mut orders, Route::Orders, Method::Post, r#"{"buyerName":"Bo \"B\"","amount":30.0}"#, 3);
        let list = format!(r#"[{want},{{"orderId":"1714550400123-2","buyerName":"Bo \"B\"","amount":30}}]"#);
        assert_eq!(answer(run(&mut orders, Route::Orders, Method::Get, "", 3).0), (200, list.clone()));
        assert_eq!(answer(run(&mut orders, Route::Orders, Method::Head, "", 3).0), (200, list));
    }

    #[test]
    fn bad_bodies_are_400_with_the_problem_named() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "the body is empty"),
            (b"  \n", "the body is empty"),
            (b"\xff{}", "not UTF-8"),
            (b"{\"buyerName\":\"A\",", "invalid JSON: EOF while parsing a value at line 1 column 17"),
            (b"{'buyerName':'A'}", "invalid JSON: key must be a string"),
            (b"{\"buyerName\":\"A\",\"amount\":NaN}", "invalid JSON: expected value"),
            (b"{\"buyerName\":\"A\",\"amount\":1e999}", "invalid JSON: number out of range"),
            (b"{\"buyerName\":\"A\",\"amount\":01}", "invalid JSON: invalid number"),
            (b"[]", "invalid type: sequence, expected a JSON object such as"),
            (b"\"Alice\"", "invalid type: string \"Alice\", expected a JSON object"),
            (b"{\"amount\":1}", "missing field \"buyerName\""),
            (b"{\"buyerName\":\"A\"}", "missing field \"amount\""),
            (b"{\"buyerName\":\"A\",\"amount\":1,\"amount\":2}", "field \"amount\" appears more than once"),
            (b"{\"buyerName\":\"\",\"amount\":1}", "\"buyerName\" must not be blank"),
            (b"{\"buyerName\":\" \\t\",\"amount\":1}", "\"buyerName\" must not be blank"),
            (b"{\"buyerName\":7,\"amount\":1}", "\"buyerName\" must be a string, not a number"),
            (b"{\"buyerName\":null,\"amount\":1}", "\"buyerName\" must be a string, not null"),
            (b"{\"buyerName\":\"A\",\"amount\":\"12.5\"}", "\"amount\" must be a number, not a string"),
            (b"{\"buyerName\":\"A\",\"amount\":true}", "\"amount\" must be a number, not a boolean"),
            (b"{\"buyerName\":\"A\",\"amount\":-0.01}", "\"amount\" must not be negative"),
        ];
        for (body, want) in cases {
            let got = order_fields(body).expect_err(&String::from_utf8_lossy(body));
            assert!(got.contains(want), "{:?}: {got}", String::from_utf8_lossy(body));
        }
        let long = format!("{{\"buyerName\":\"{}\",\"amount\":1}}", "é".repeat(MAX_BUYER_NAME + 1));
        assert!(order_fields(long.as_bytes()).is_err_and(|e| e.contains("too long")));
        let longest = format!("{{\"buyerName\":\"{}\",\"amount\":0}}", "é".repeat(MAX_BUYER_NAME));
        assert!(order_fields(longest.as_bytes()).is_ok());

        let mut orders = Orders::default();
        run(&mut orders, Route::Sellers, Method::Get, "", 1);
        let (reply, out) = run(&mut orders, Route::Orders, Method::Post, "{\"amount\":1}", 3);
        let (status, body) = answer(reply);
        assert_eq!(status, 400);
        assert!(serde_json::from_str::<Value>(&body).is_ok_and(|v| v["error"].is_string()), "{body}");
        assert!(out.is_empty() && orders.orders.is_empty() && orders.created == 0);
    }

    #[test]
    fn amounts_are_written_as_javascript_writes_them() {
        let cases: &[(f64, &str)] = &[
            (12.5, "12.5"),
            (30.0, "30"),
            (0.0, "0"),
            (-0.0, "0"),
            (0.1, "0.1"),
            (1e15, "1000000000000000"),
            (9_007_199_254_740_992.0, "9007199254740992"),
        ];
        for (n, want) in cases {
            assert_eq!(amount_number(*n).to_string(), *want, "{n}");
        }
    }

    #[test]
    fn only_the_newest_orders_are_kept() {
        let mut orders = Orders::default();
        for i in 0..MAX_ORDERS + 5 {
            let body = format!("{{\"buyerName\":\"b{i}\",\"amount\":{i}}}");
            assert_eq!(answer(run(&mut orders, Route::Orders, Method::Post, &body, 3).0).0, 201);
        }
        let (_, list) = answer(run(&mut orders, Route::Orders, Method::Get, "", 3).0);
        let Ok(Value::Array(items)) = serde_json::from_str(&list) else { panic!("{list}") };
        assert_eq!(items.len(), MAX_ORDERS);
        assert_eq!(items[0]["buyerName"], "b5");
        assert_eq!(items[0]["orderId"], "1714550400123-6");
    }

    #[test]
    fn sellers_are_forgotten() {
        let stats = Stats::default();
        let mut orders = Orders::default();
        run(&mut orders, Route::Sellers, Method::Get, "", 2);
        let cx = Context { key: key(2), now: 0, unix_ms: 0, stats: &stats };
        orders.on_end(&cx, End::Gone, &mut Out::new(&mut Vec::new(), OWNER));
        assert!(orders.sellers.is_empty());
        let (_, out) = run(&mut orders, Route::Orders, Method::Post, r#"{"buyerName":"A","amount":0}"#, 3);
        assert!(out.is_empty());
    }
}
