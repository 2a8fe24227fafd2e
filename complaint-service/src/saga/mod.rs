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
//! fails the saga with SAGA_FAILED and ERROR_MANUAL_INTERVENTION_REQUIRED.

pub mod consumer;
mod metrics;
pub mod model;
pub mod policy;
pub mod store;
pub mod timers;
