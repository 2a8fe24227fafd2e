//! The choreographed sagas of DESIGN.md. No orchestrator tells the other services what to do:
//! they react to complaint events, and complaint-service keeps each saga's state by watching
//! their replies. [`model`] is what is stored, [`policy`] how a saga moves (pure), [`consumer`]
//! and [`timers`] the IO around it, [`store`] the SQL.
//!
//! - Acknowledgement: COMPLAINT_CREATED → NOTIFICATION_SENT (complainant) completes it.
//! - Assignment: COMPLAINT_ASSIGNED → NOTIFICATION_SENT (assignee) completes it;
//!   NOTIFICATION_FAILED (assignee) compensates: COMPLAINT_COMPENSATION_REQUIRED and
//!   COMPLAINT_ASSIGNMENT_REVERTED here, NOTIFICATION_COMPENSATION and AUDIT_COMPENSATION from
//!   the others; both heard, the saga is COMPENSATED.
//! - Escalation: an SLA timer fires → COMPLAINT_ESCALATED → NOTIFICATION_SENT (supervisor).
//!
//! A reply names what it answers by its causation id. A step with no answer by its deadline
//! is resumed (SAGA_RETRIED) while the saga has automatic resumes left (`saga.auto_resumes`),
//! then fails the saga with SAGA_FAILED and ERROR_MANUAL_INTERVENTION_REQUIRED.
//!
//! Recovery ([`recovery`]): an operator lists sagas, retries a FAILED one at its failed step
//! (same saga id, next attempt; answers that came after it failed are applied at once), or
//! abandons one with a reason (SAGA_ABANDONED).

pub mod consumer;
mod metrics;
pub mod model;
pub mod policy;
pub mod recovery;
pub mod store;
pub mod timers;
mod working_set;
