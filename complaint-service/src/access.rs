//! What a caller may do to, and see of, a complaint, given its roles and the complaint
//! itself: the rules of the authorization matrix that depend on the data. Pure; the route
//! table (`http::access`) has already admitted the caller's roles to the route.

use shared::{
    auth::{Principal, Role},
    complaint::{Command, Complaint},
};

/// Why a caller may not run a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Answered as if the complaint did not exist: a customer must not learn which ids are
    /// other customers' complaints.
    Hidden,
    Forbidden(&'static str),
}

/// Whether `actor` may run `command` on `state` (the complaint as its events leave it, or
/// the empty complaint a create is decided against). A complaint that does not exist passes,
/// so that the aggregate answers 404 for it like for anyone else.
pub fn may_run(actor: &Principal, command: &Command, state: &Complaint) -> Result<(), Refusal> {
    let supervisor = actor.has(Role::Supervisor);
    match command {
        Command::Create { customer, .. } => {
            let staff = supervisor || actor.has(Role::Agent);
            if staff || actor.customer_id.as_deref() == Some(customer.id.as_str()) {
                Ok(())
            } else {
                Err(Refusal::Forbidden(
                    "a customer files complaints only for itself (customer.id must be the \
                     token's customerId)",
                ))
            }
        }
        Command::Assign { .. } | Command::Close | Command::ChangePriority { .. } => {
            if supervisor {
                Ok(())
            } else {
                Err(Refusal::Forbidden("only a supervisor may do this"))
            }
        }
        Command::Process | Command::Resolve { .. } => {
            let assigned_to_actor = actor.has(Role::Agent)
                && actor.agent_id.is_some()
                && state.assignee.as_ref().map(|a| a.as_str()) == actor.agent_id.as_deref();
            if supervisor || assigned_to_actor || !state.exists() {
                Ok(())
            } else {
                Err(Refusal::Forbidden(
                    "an agent works only on complaints assigned to it",
                ))
            }
        }
        Command::Reopen { .. } => {
            if supervisor || !state.exists() || owns(actor, state) {
                Ok(())
            } else {
                Err(Refusal::Hidden)
            }
        }
        // The sagas' own commands: no user issues them.
        Command::Escalate
        | Command::RequireCompensation { .. }
        | Command::RevertAssignment { .. } => Err(Refusal::Forbidden(
            "only the suite itself issues this command",
        )),
    }
}

/// What of the complaints a caller may read in complaint-service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadScope {
    /// Every complaint; customers' e-mail addresses only if `emails`.
    All { emails: bool },
    /// The complaints of this customer, in full.
    OwnComplaints(String),
    /// A customer token without a `customerId`: nothing.
    Nothing,
}

/// Supervisors read everything; agents read every complaint (they pick up and hand over
/// work) but not customers' e-mail addresses, which only the notification service needs to
/// write to customers; a customer reads its own.
pub fn read_scope(reader: &Principal) -> ReadScope {
    if reader.has(Role::Supervisor) {
        ReadScope::All { emails: true }
    } else if reader.has(Role::Agent) {
        ReadScope::All { emails: false }
    } else if let (true, Some(id)) = (reader.has(Role::Customer), &reader.customer_id) {
        ReadScope::OwnComplaints(id.clone())
    } else {
        ReadScope::Nothing
    }
}

impl ReadScope {
    /// Whether `complaint` is visible at all (a customer's other complaints are 404).
    pub fn shows(&self, complaint: &Complaint) -> bool {
        match self {
            ReadScope::All { .. } => true,
            ReadScope::OwnComplaints(id) => complaint.customer_id == *id,
            ReadScope::Nothing => false,
        }
    }

    /// `complaint` as this reader may see it.
    pub fn redact(&self, mut complaint: Complaint) -> Complaint {
        if *self == (ReadScope::All { emails: false }) {
            complaint.customer_email = mask_email(&complaint.customer_email);
        }
        complaint
    }
}

impl ReadScope {
    /// An event's data as this reader may see it. COMPLAINT_CREATED carries the customer's
    /// e-mail at `customer.email` in schema version 1 and `customer.contact.email` in version
    /// 2; the timeline shows each event as it was published, so both are masked.
    pub fn redact_data(&self, data: &mut serde_json::Value) {
        if *self != (ReadScope::All { emails: false }) {
            return;
        }
        for at in ["/customer/email", "/customer/contact/email"] {
            if let Some(email) = data.pointer_mut(at) {
                if let Some(text) = email.as_str() {
                    *email = serde_json::Value::String(mask_email(text));
                }
            }
        }
    }
}

fn owns(actor: &Principal, state: &Complaint) -> bool {
    actor.has(Role::Customer) && actor.customer_id.as_deref() == Some(state.customer_id.as_str())
}

/// `ada@example.com` as `a***@example.com`: enough to tell two customers apart on a call,
/// not enough to write to them.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::complaint::{AgentId, Reason};

    fn principal(roles: &[Role], customer: Option<&str>, agent: Option<&str>) -> Principal {
        Principal {
            subject: "someone".into(),
            roles: roles.iter().copied().collect(),
            customer_id: customer.map(str::to_owned),
            agent_id: agent.map(str::to_owned),
        }
    }

    fn complaint(customer: &str, assignee: Option<&str>) -> Complaint {
        Complaint {
            version: 2,
            customer_id: customer.into(),
            customer_email: "ada@example.com".into(),
            assignee: assignee.map(|a| AgentId::parse(a).unwrap()),
            ..Complaint::empty("c")
        }
    }

    #[test]
    fn an_agent_processes_only_what_is_assigned_to_it() {
        let agent = principal(&[Role::Agent], None, Some("agent-1"));
        assert_eq!(
            may_run(
                &agent,
                &Command::Process,
                &complaint("c-1", Some("agent-1"))
            ),
            Ok(())
        );
        assert!(matches!(
            may_run(
                &agent,
                &Command::Process,
                &complaint("c-1", Some("agent-2"))
            ),
            Err(Refusal::Forbidden(_))
        ));
    }

    #[test]
    fn a_customer_reopens_its_own_and_does_not_see_anothers() {
        let customer = principal(&[Role::Customer], Some("c-1"), None);
        let reopen = Command::Reopen {
            reason: Reason::parse("still broken").unwrap(),
        };
        assert_eq!(may_run(&customer, &reopen, &complaint("c-1", None)), Ok(()));
        assert_eq!(
            may_run(&customer, &reopen, &complaint("c-2", None)),
            Err(Refusal::Hidden)
        );
    }

    #[test]
    fn an_agent_reads_everything_but_customers_addresses() {
        let agent = read_scope(&principal(&[Role::Agent], None, Some("a")));
        assert_eq!(
            agent.redact(complaint("c-1", None)).customer_email,
            "a***@example.com"
        );
        let own = read_scope(&principal(&[Role::Customer], Some("c-1"), None));
        assert!(own.shows(&complaint("c-1", None)));
        assert!(!own.shows(&complaint("c-2", None)));
        assert_eq!(
            own.redact(complaint("c-1", None)).customer_email,
            "ada@example.com"
        );
    }

    #[test]
    fn the_address_is_masked_in_both_schema_versions_of_the_created_event() {
        let masked = ReadScope::All { emails: false };
        let mut v1 = serde_json::json!({ "customer": { "id": "c-1", "email": "ada@example.com" } });
        let mut v2 = serde_json::json!({
            "customer": { "id": "c-1", "contact": { "email": "ada@example.com" } }
        });
        masked.redact_data(&mut v1);
        masked.redact_data(&mut v2);
        assert_eq!(v1["customer"]["email"], "a***@example.com");
        assert_eq!(v2["customer"]["contact"]["email"], "a***@example.com");

        let mut shown = v2.clone();
        shown["customer"]["contact"]["email"] = "ada@example.com".into();
        ReadScope::All { emails: true }.redact_data(&mut shown);
        assert_eq!(shown["customer"]["contact"]["email"], "ada@example.com");
    }
}
