//! The classic group APIs, routed to [`crate::group::GroupCoordinator`] after checking that this
//! broker coordinates the group (NOT_COORDINATOR otherwise).
//!
//! Not wired yet: until the coordinator lands, group APIs are not advertised and not served.

use kafka_protocol::messages::RequestHeader;
use kafka_protocol::{ErrorCode, RequestBody, ResponseBody};

use super::Reply;
use crate::connection::Ctx;

pub(crate) async fn dispatch(
    _ctx: &Ctx,
    _header: &RequestHeader,
    _body: RequestBody,
    _version: i16,
) -> Reply {
    Reply::Unsupported
}

pub(crate) fn error_response(
    _body: &RequestBody,
    _version: i16,
    _code: ErrorCode,
) -> Option<ResponseBody> {
    None
}
