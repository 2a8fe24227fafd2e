//! Who may call which route (the authorization matrix of ARCHITECTURE.md). A new route needs
//! its line here; the finer rules that depend on the complaint (a customer's own, an agent's
//! assigned ones) are in `crate::access`.

use shared::auth::{access::allow, Role, Rule};

use Role::{Admin, Agent, Customer, Supervisor};

const READERS: &[Role] = &[Customer, Agent, Supervisor];
const STAFF: &[Role] = &[Agent, Supervisor];
const SUPERVISORS: &[Role] = &[Supervisor];
const OPERATORS: &[Role] = &[Supervisor, Admin];
const ADMINS: &[Role] = &[Admin];

pub const ACCESS: &[Rule] = &[
    // A customer only for itself (the body's customer.id is the token's customerId).
    allow("POST", "/api/complaints", READERS),
    // A customer's list holds only its own complaints.
    allow("GET", "/api/complaints", READERS),
    allow("GET", "/api/complaints/statistics", STAFF),
    // Another customer's complaint is 404 to a customer.
    allow("GET", "/api/complaints/{id}", READERS),
    allow("PUT PATCH", "/api/complaints/{id}/assign", SUPERVISORS),
    // An agent only on a complaint assigned to it (else 403).
    allow("PUT PATCH", "/api/complaints/{id}/process", STAFF),
    allow("PUT PATCH", "/api/complaints/{id}/resolve", STAFF),
    allow("PUT PATCH", "/api/complaints/{id}/close", SUPERVISORS),
    // A customer only its own (else 404).
    allow(
        "PUT PATCH",
        "/api/complaints/{id}/reopen",
        &[Customer, Supervisor],
    ),
    allow("PUT PATCH", "/api/complaints/{id}/priority", SUPERVISORS),
    allow("GET", "/api/complaints/{id}/sagas", OPERATORS),
    allow("GET", "/api/sagas", OPERATORS),
    allow("GET", "/api/sagas/{saga_id}", OPERATORS),
    allow("POST", "/api/sagas/{saga_id}/retry", OPERATORS),
    allow("POST", "/api/sagas/{saga_id}/abandon", OPERATORS),
    allow("GET", "/api/admin/projections", ADMINS),
    allow("POST", "/api/admin/projections/rebuild", ADMINS),
];
