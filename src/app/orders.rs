//! (being written)

use super::{Action, Context, Reply, Scenario};
use crate::http::request::Request;
use crate::http::route::{Methods, Params};

#[derive(Default)]
pub struct Orders {}

impl Scenario for Orders {
    fn routes(&self) -> Vec<(Methods, &'static str, u8)> {
        Vec::new()
    }

    fn handle(&mut self, _route: u8, _req: &Request<'_>, _params: &Params<'_>, _cx: &Context<'_>, _out: &mut Vec<Action>) -> Reply {
        Reply::Respond(crate::http::Response::text(404, "no such route"))
    }
}
