//! Who may call which route (the authorization matrix of ARCHITECTURE.md). A new route needs
//! its line here.

use shared::auth::{access::allow, Role, Rule};

use Role::{Admin, Auditor};

const AUDITORS: &[Role] = &[Auditor];
const ADMINS: &[Role] = &[Admin];

pub const ACCESS: &[Rule] = &[
    allow("GET", "/api/events/stream/{stream_id}", AUDITORS),
    allow("GET", "/api/events/all", AUDITORS),
    allow("GET", "/api/events/state/{aggregate_id}", AUDITORS),
    allow("GET", "/api/events/statistics", &[Auditor, Admin]),
    allow("POST", "/api/events/replay/{stream_id}", ADMINS),
    allow(
        "PUT",
        "/api/events/redis-streams/{stream}/groups/{group}",
        ADMINS,
    ),
    allow(
        "GET",
        "/api/events/redis-streams/{stream}/groups/{group}/read",
        ADMINS,
    ),
    allow(
        "POST",
        "/api/events/redis-streams/{stream}/groups/{group}/ack",
        ADMINS,
    ),
    allow(
        "POST",
        "/api/events/redis-streams/{stream}/groups/{group}/claim",
        ADMINS,
    ),
    allow(
        "GET",
        "/api/events/redis-streams/{stream}/groups/{group}/pending",
        ADMINS,
    ),
];
