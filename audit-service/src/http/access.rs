//! Who may call which route (the authorization matrix of ARCHITECTURE.md). A new route needs
//! its line here.

use shared::auth::{access::allow, Role, Rule};

use Role::{Admin, Auditor};

const AUDITORS: &[Role] = &[Auditor];

pub const ACCESS: &[Rule] = &[
    allow("GET", "/api/audit/trail/{aggregate_id}", AUDITORS),
    allow("GET", "/api/audit/search", AUDITORS),
    allow("GET", "/api/audit/events", AUDITORS),
    allow("GET", "/api/audit/correlation/{correlation_id}", AUDITORS),
    // Whether the chain is intact: an auditor's question, and an operator's health check.
    allow("GET", "/api/audit/verify", &[Auditor, Admin]),
];
