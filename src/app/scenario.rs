//! The interface of a demo scenario (SPEC §3), and the one list that mounts
//! them all ([`scenarios!`], invoked in `app/mod.rs`).
//!
//! A scenario names its routes with an enum of its own ([`Scenario::Route`]);
//! the app routes a request to it with that value, so no number stands
//! for a route. What the scenario starts (a stream, a socket) is recorded
//! as its own ([`super::owner`]), so its hooks hear only of its
//! connections, and its timers come back only to it.

use std::fmt;
use std::ops::{Deref, DerefMut};

use super::owner::{Owner, TimerToken};
use super::{Action, Context, End, Message, Reply};
use crate::http::request::Request;
use crate::http::response::Response;
use crate::http::route::{Methods, Params};
use crate::ws::Accepted;

/// What a GET of a route would answer, for a HEAD of it (RFC 9110 §9.3.2:
/// "The HEAD method is identical to GET except that the server MUST NOT send
/// content in the response").
#[derive(Debug)]
pub enum Head {
    /// GET would get this response (its head is sent, its body is not).
    Respond(Response),
    /// GET would start an event stream: HEAD gets the stream's head.
    Stream,
    /// GET would open a WebSocket, if its handshake passes: HEAD gets what
    /// the handshake check answers a GET with these header fields, and when
    /// that GET would switch protocols, the refusal for a method other than
    /// GET (RFC 6455 §4.1: the handshake "MUST be a valid HTTP request";
    /// §4.2.1 item 1: "An HTTP/1.1 or higher GET request").
    Upgrade,
}

impl Head {
    /// For a route without GET, which the router never sends a HEAD (it
    /// answers `405` itself): the same `405`, so `head` stays total.
    pub fn not_allowed(allowed: Methods) -> Head {
        Head::Respond(Response::text(405, "HEAD is not allowed here").header("Allow", allowed.allow_header()))
    }
}

/// A demo application of SPEC §3: its routes, what each answers, and how it
/// reacts to its streams' messages, timeouts and ends and to its timers.
/// Every hook is called only for connections this scenario started and
/// timers it set.
pub trait Scenario {
    /// The scenario's routes, one variant each.
    type Route: Copy + fmt::Debug;
    /// `(methods, pattern, route)`, in the order the router tries them.
    fn routes(&self) -> Vec<(Methods, &'static str, Self::Route)>;
    /// Answers a request other than HEAD. `upgrade` is the request's
    /// WebSocket handshake when it asked for one and passed the checks
    /// (RFC 6455 §4.2.1, `--allowed-origins`); one that failed them was
    /// refused before this is called. A [`Reply::Upgrade`] needs it, so a
    /// scenario cannot open a socket that was not asked for properly.
    fn handle(
        &mut self,
        route: Self::Route,
        req: &Request<'_>,
        params: &Params<'_>,
        upgrade: Option<Accepted>,
        cx: &Context<'_>,
        out: &mut Out<'_>,
    ) -> Reply;
    /// Answers HEAD: what [`Scenario::handle`] would answer a GET of the
    /// same request, found without doing any of it (`&self`: nothing can
    /// change, and there is no `out`). Called only for routes that allow GET.
    fn head(&self, route: Self::Route, req: &Request<'_>, params: &Params<'_>, cx: &Context<'_>) -> Head;
    /// The idle timeout of one of this scenario's streams passed; it ends
    /// right after, with `on_end(.., End::Timeout, ..)`.
    fn on_timeout(&mut self, _cx: &Context<'_>, _out: &mut Out<'_>) {}
    /// One of this scenario's streams or sockets is over (once each).
    fn on_end(&mut self, _cx: &Context<'_>, _why: End, _out: &mut Out<'_>) {}
    /// A client of one of this scenario's sockets sent a message.
    fn on_message(&mut self, _cx: &Context<'_>, _msg: Message<'_>, _out: &mut Out<'_>) {}
    /// A timer this scenario set with [`Out::timer`] fired; `id` is the one
    /// it gave.
    fn on_timer(&mut self, _id: u64, _cx: &Context<'_>, _out: &mut Out<'_>) {}
    /// One of this scenario's streams that asked for it ([`Action::Pull`])
    /// has `queued` bytes queued, at most half of `--max-queue`. Whether it
    /// still wants to be asked.
    fn on_writable(&mut self, _cx: &Context<'_>, _queued: usize, _out: &mut Out<'_>) -> bool {
        false
    }
}

/// Where a handler's [`Action`]s go: the app's list (it derefs to it), and
/// [`Out::timer`], which marks a timer with its setter's id.
pub struct Out<'a> {
    actions: &'a mut Vec<Action>,
    owner: Owner,
}

impl<'a> Out<'a> {
    pub(super) fn new(actions: &'a mut Vec<Action>, owner: Owner) -> Out<'a> {
        Out { actions, owner }
    }

    /// Calls the owner's `on_timer` with `id` at `at` (ms, loop clock).
    pub fn timer(&mut self, at: u64, id: u64) {
        self.actions.push(Action::Timer { at, token: TimerToken::new(self.owner, id) });
    }
}

impl Deref for Out<'_> {
    type Target = Vec<Action>;
    fn deref(&self) -> &Vec<Action> {
        self.actions
    }
}

impl DerefMut for Out<'_> {
    fn deref_mut(&mut self) -> &mut Vec<Action> {
        self.actions
    }
}

/// A scenario's hooks without its route type, so the app can reach any
/// scenario by its [`super::ScenarioId`].
pub(super) trait Hooks {
    fn on_timeout(&mut self, cx: &Context<'_>, out: &mut Out<'_>);
    fn on_end(&mut self, cx: &Context<'_>, why: End, out: &mut Out<'_>);
    fn on_message(&mut self, cx: &Context<'_>, msg: Message<'_>, out: &mut Out<'_>);
    fn on_timer(&mut self, id: u64, cx: &Context<'_>, out: &mut Out<'_>);
    fn on_writable(&mut self, cx: &Context<'_>, queued: usize, out: &mut Out<'_>) -> bool;
}

impl<S: Scenario> Hooks for S {
    fn on_timeout(&mut self, cx: &Context<'_>, out: &mut Out<'_>) {
        Scenario::on_timeout(self, cx, out)
    }
    fn on_end(&mut self, cx: &Context<'_>, why: End, out: &mut Out<'_>) {
        Scenario::on_end(self, cx, why, out)
    }
    fn on_message(&mut self, cx: &Context<'_>, msg: Message<'_>, out: &mut Out<'_>) {
        Scenario::on_message(self, cx, msg, out)
    }
    fn on_timer(&mut self, id: u64, cx: &Context<'_>, out: &mut Out<'_>) {
        Scenario::on_timer(self, id, cx, out)
    }
    fn on_writable(&mut self, cx: &Context<'_>, queued: usize, out: &mut Out<'_>) -> bool {
        Scenario::on_writable(self, cx, queued, out)
    }
}

/// The list of scenarios: `Id => module::Type`, one line each. It declares
/// each module and makes
/// - `ScenarioId`, one variant per scenario (timer tokens and connection
///   owners carry it);
/// - `ScenarioRoute`, a route of any scenario: its id and its own route
///   value, which is what the app's router holds;
/// - `Scenarios`, every scenario as a field, with the dispatch from a
///   `ScenarioRoute` or a `ScenarioId` to the one it names.
macro_rules! scenarios {
    ($($id:ident => $module:ident :: $ty:ident),* $(,)?) => {
        $(mod $module;)*

        /// One of the scenarios of SPEC §3.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub enum ScenarioId {
            $($id,)*
        }

        /// A route of one scenario, in that scenario's own terms.
        #[derive(Clone, Copy, Debug)]
        enum ScenarioRoute {
            $($id(<$module::$ty as Scenario>::Route),)*
        }

        impl ScenarioRoute {
            fn scenario(self) -> ScenarioId {
                match self {
                    $(ScenarioRoute::$id(_) => ScenarioId::$id,)*
                }
            }
        }

        #[derive(Default)]
        struct Scenarios {
            $($module: $module::$ty,)*
        }

        impl Scenarios {
            fn routes(&self) -> Vec<(Methods, &'static str, ScenarioRoute)> {
                let mut all = Vec::new();
                $(all.extend(
                    self.$module.routes().into_iter().map(|(m, p, r)| (m, p, ScenarioRoute::$id(r))),
                );)*
                all
            }

            fn handle(
                &mut self,
                route: ScenarioRoute,
                req: &Request<'_>,
                params: &Params<'_>,
                upgrade: Option<ws::Accepted>,
                cx: &Context<'_>,
                out: &mut Out<'_>,
            ) -> Reply {
                match route {
                    $(ScenarioRoute::$id(r) => self.$module.handle(r, req, params, upgrade, cx, out),)*
                }
            }

            fn head(&self, route: ScenarioRoute, req: &Request<'_>, params: &Params<'_>, cx: &Context<'_>) -> Head {
                match route {
                    $(ScenarioRoute::$id(r) => self.$module.head(r, req, params, cx),)*
                }
            }

            fn get(&mut self, id: ScenarioId) -> &mut dyn scenario::Hooks {
                match id {
                    $(ScenarioId::$id => &mut self.$module,)*
                }
            }
        }
    };
}

pub(super) use scenarios;
