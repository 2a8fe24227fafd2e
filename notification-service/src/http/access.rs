//! Who may call which route (the authorization matrix of ARCHITECTURE.md). A new route needs
//! its line here.

use shared::auth::{access::allow, Role, Rule};

use Role::{Admin, Customer, Supervisor};

pub const ACCESS: &[Rule] = &[
    // A customer only those of its own complaints (another's is 404); the notifications
    // carry recipients' e-mail addresses, so agents and auditors do not read them here.
    allow("GET", "/api/notifications", &[Customer, Supervisor]),
    allow("GET", "/api/notifications/{id}", &[Customer, Supervisor]),
    // The staff directory (names, e-mail addresses): who assigns, and who operates it.
    allow("GET", "/api/agents", &[Supervisor, Admin]),
    allow("GET", "/api/agents/{id}", &[Supervisor, Admin]),
];
