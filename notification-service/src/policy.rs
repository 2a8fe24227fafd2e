//! Who hears of what: for each complaint event, the notifications to send (step, audience,
//! recipient, rendered message) and, for a compensation, what to withdraw. Pure: the
//! consumer looks up the facts first (the complaint's view, the directory, what was sent)
//! and hands them in.
//!
//! | event                           | step            | audiences                     |
//! |---------------------------------|-----------------|-------------------------------|
//! | COMPLAINT_CREATED               | acknowledgement | complainant                   |
//! | COMPLAINT_ASSIGNED              | assignment      | assignee, complainant         |
//! | COMPLAINT_PROCESSED             | status          | complainant                   |
//! | COMPLAINT_RESOLVED/CLOSED/REOPENED | status       | complainant                   |
//! | COMPLAINT_ESCALATED             | escalation      | supervisors, assignee         |
//! | COMPLAINT_COMPENSATION_REQUIRED | compensation    | whoever the undone step told  |
//! | COMPLAINT_ASSIGNMENT_REVERTED   | status          | complainant                   |
//! | COMPLAINT_PRIORITY_CHANGED      | (none)          |                               |

use crate::{
    agents::Agent,
    model::{Audience, NotificationStatus, Step},
    projection::ComplaintView,
    template::{self, Rendered, TemplateError, Values},
};
use shared::complaint::ComplaintEvent;
use uuid::Uuid;

/// Where a notification goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Address {
        address: String,
        name: String,
    },
    /// An agent the directory does not know, or an inactive one: the notification fails at
    /// once with reason [`UNKNOWN_AGENT`].
    UnknownAgent {
        agent_id: String,
    },
}

/// The failure reason of a notification to an agent who cannot be reached.
pub const UNKNOWN_AGENT: &str = "unknown agent";

/// One notification to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub step: Step,
    pub audience: Audience,
    pub recipient: Recipient,
    /// The agent the notification is about (the assignee), if any.
    pub agent_id: Option<String>,
    pub message: Rendered,
}

/// A notification sent (or about to be) for a step that is being compensated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retractable {
    pub id: Uuid,
    pub status: NotificationStatus,
    pub audience: Audience,
    pub recipient: String,
    pub recipient_name: String,
}

/// What to undo for a COMPLAINT_COMPENSATION_REQUIRED.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compensation {
    /// The step whose notifications are withdrawn.
    pub step: Step,
    pub failed_step: String,
    pub agent_id: String,
    pub reason: String,
    /// Still pending: cancelled, never sent.
    pub cancel: Vec<Uuid>,
    /// Already sent: a retraction goes to each of their recipients.
    pub retract: Vec<Uuid>,
}

/// Everything an event leads to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub notifications: Vec<Planned>,
    pub compensation: Option<Compensation>,
}

/// What the consumer must look up before asking for a plan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Needs {
    /// The directory entry of this agent.
    pub agent: Option<String>,
    pub supervisors: bool,
    /// The notifications of this step about this agent, sent for the latest event of the step.
    pub retractable: Option<(Step, String)>,
}

/// The facts a plan is made from.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The complaint as this event leaves it; `None` if its creation was never seen.
    pub complaint: Option<ComplaintView>,
    /// The directory entry of [`Needs::agent`], if it has one.
    pub agent: Option<Agent>,
    /// The active supervisors, if [`Needs::supervisors`].
    pub supervisors: Vec<Agent>,
    pub retractable: Vec<Retractable>,
}

/// What to look up for `event`, given the complaint as the event leaves it.
pub fn needs(event: &ComplaintEvent, complaint: Option<&ComplaintView>) -> Needs {
    match event {
        ComplaintEvent::Assigned(data) => Needs {
            agent: Some(data.agent_id.to_string()),
            ..Needs::default()
        },
        // For the agent's name in the complainant's message.
        ComplaintEvent::Processed(data) => Needs {
            agent: Some(data.agent_id.to_string()),
            ..Needs::default()
        },
        ComplaintEvent::Escalated(_) => Needs {
            agent: complaint.and_then(|c| c.assignee.clone()),
            supervisors: true,
            ..Needs::default()
        },
        ComplaintEvent::CompensationRequired(data) => Needs {
            retractable: Some((
                Step::undone_by(&data.failed_step),
                data.agent_id.to_string(),
            )),
            ..Needs::default()
        },
        _ => Needs::default(),
    }
}

/// The notifications `event` (of complaint `complaint_id`) leads to, given `facts`.
pub fn plan(
    complaint_id: &str,
    event: &ComplaintEvent,
    facts: &Facts,
) -> Result<Plan, TemplateError> {
    let event_type = event.event_type();
    let compensation = compensation(event, facts);
    let Some(complaint) = &facts.complaint else {
        // Never saw its creation: no one to address, nothing to say. A compensation is still
        // answered, so the saga can finish.
        return Ok(Plan {
            notifications: Vec::new(),
            compensation,
        });
    };
    let values = values(complaint_id, complaint, event, facts.agent.as_ref());
    let mut targets: Vec<(Step, Audience, Recipient, Option<String>)> = Vec::new();
    let complainant = || Recipient::Address {
        address: complaint.customer_email.clone(),
        name: complaint.customer_name.clone(),
    };
    match event {
        ComplaintEvent::Created(_) => {
            targets.push((
                Step::Acknowledgement,
                Audience::Complainant,
                complainant(),
                None,
            ));
        }
        ComplaintEvent::Assigned(data) => {
            let agent_id = data.agent_id.to_string();
            targets.push((
                Step::Assignment,
                Audience::Assignee,
                agent_recipient(&agent_id, facts.agent.as_ref()),
                Some(agent_id.clone()),
            ));
            targets.push((
                Step::Assignment,
                Audience::Complainant,
                complainant(),
                Some(agent_id),
            ));
        }
        ComplaintEvent::Processed(_)
        | ComplaintEvent::Resolved(_)
        | ComplaintEvent::Closed(_)
        | ComplaintEvent::Reopened(_)
        | ComplaintEvent::AssignmentReverted(_) => {
            targets.push((Step::Status, Audience::Complainant, complainant(), None));
        }
        ComplaintEvent::Escalated(_) => {
            let assignee = complaint.assignee.clone();
            for supervisor in facts.supervisors.iter().filter(|s| s.reachable()) {
                targets.push((
                    Step::Escalation,
                    Audience::Supervisor,
                    address_of(supervisor),
                    assignee.clone(),
                ));
            }
            if let Some(agent_id) = assignee {
                targets.push((
                    Step::Escalation,
                    Audience::Assignee,
                    agent_recipient(&agent_id, facts.agent.as_ref()),
                    Some(agent_id),
                ));
            }
        }
        ComplaintEvent::CompensationRequired(data) => {
            let mut told: Vec<(Audience, &str)> = Vec::new();
            for sent in facts
                .retractable
                .iter()
                .filter(|r| r.status == NotificationStatus::Sent)
            {
                if told.contains(&(sent.audience, sent.recipient.as_str())) {
                    continue;
                }
                told.push((sent.audience, sent.recipient.as_str()));
                targets.push((
                    Step::Compensation,
                    sent.audience,
                    Recipient::Address {
                        address: sent.recipient.clone(),
                        name: sent.recipient_name.clone(),
                    },
                    Some(data.agent_id.to_string()),
                ));
            }
        }
        ComplaintEvent::PriorityChanged(_) => {}
    }
    let notifications = targets
        .into_iter()
        .map(|(step, audience, recipient, agent_id)| {
            let mut values = values.clone();
            values.insert("recipientName", recipient_name(&recipient));
            Ok(Planned {
                step,
                audience,
                recipient,
                agent_id,
                message: template::render_for(event_type, audience, &values)?,
            })
        })
        .collect::<Result<_, TemplateError>>()?;
    Ok(Plan {
        notifications,
        compensation,
    })
}

fn compensation(event: &ComplaintEvent, facts: &Facts) -> Option<Compensation> {
    let ComplaintEvent::CompensationRequired(data) = event else {
        return None;
    };
    let with = |status| {
        facts
            .retractable
            .iter()
            .filter(|r| r.status == status)
            .map(|r| r.id)
            .collect()
    };
    Some(Compensation {
        step: Step::undone_by(&data.failed_step),
        failed_step: data.failed_step.clone(),
        agent_id: data.agent_id.to_string(),
        reason: data.reason.to_string(),
        cancel: with(NotificationStatus::Pending),
        retract: with(NotificationStatus::Sent),
    })
}

fn agent_recipient(agent_id: &str, agent: Option<&Agent>) -> Recipient {
    match agent {
        Some(agent) if agent.id == agent_id && agent.reachable() => address_of(agent),
        _ => Recipient::UnknownAgent {
            agent_id: agent_id.to_owned(),
        },
    }
}

fn address_of(agent: &Agent) -> Recipient {
    Recipient::Address {
        address: agent.email.clone(),
        name: agent.name.clone(),
    }
}

fn recipient_name(recipient: &Recipient) -> String {
    match recipient {
        Recipient::Address { name, .. } => name.clone(),
        Recipient::UnknownAgent { agent_id } => agent_id.clone(),
    }
}

/// Every placeholder a template of this event may use.
fn values(
    complaint_id: &str,
    complaint: &ComplaintView,
    event: &ComplaintEvent,
    agent: Option<&Agent>,
) -> Values {
    let mut values = Values::new();
    values.insert("complaintId", complaint_id.to_owned());
    values.insert("complaintTitle", complaint.title.clone());
    values.insert("customerName", complaint.customer_name.clone());
    values.insert("priority", complaint.priority.as_str().to_owned());
    values.insert("status", complaint.status.as_str().to_owned());
    values.insert(
        "deadline",
        complaint.sla_deadline.map_or_else(
            || "not set".to_owned(),
            |d| d.format("%Y-%m-%d %H:%M UTC").to_string(),
        ),
    );
    values.insert("escalationLevel", complaint.escalation_level.to_string());
    let agent_id = match event {
        ComplaintEvent::Assigned(data) => Some(data.agent_id.to_string()),
        ComplaintEvent::CompensationRequired(data) => Some(data.agent_id.to_string()),
        ComplaintEvent::AssignmentReverted(data) => Some(data.agent_id.to_string()),
        _ => complaint.assignee.clone(),
    };
    if let Some(agent_id) = agent_id {
        let name = agent
            .filter(|a| a.id == agent_id)
            .map_or_else(|| agent_id.clone(), |a| a.name.clone());
        values.insert("agentId", agent_id);
        values.insert("agentName", name);
    }
    match event {
        ComplaintEvent::Resolved(data) => {
            values.insert("resolution", data.resolution.to_string());
        }
        ComplaintEvent::Reopened(data) => {
            values.insert("reason", data.reason.to_string());
        }
        ComplaintEvent::Escalated(data) => {
            values.insert("previousPriority", data.from.as_str().to_owned());
        }
        ComplaintEvent::CompensationRequired(data) => {
            values.insert("reason", data.reason.to_string());
        }
        ComplaintEvent::AssignmentReverted(data) => {
            values.insert("reason", data.reason.to_string());
        }
        _ => {}
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{model::Role, projection, test_fixtures as fx};
    use shared::event::EventType;

    /// The event types that can lead to a notification (for the template coverage test).
    const NOTIFYING: &[EventType] = &[
        EventType::ComplaintCreated,
        EventType::ComplaintAssigned,
        EventType::ComplaintProcessed,
        EventType::ComplaintResolved,
        EventType::ComplaintClosed,
        EventType::ComplaintReopened,
        EventType::ComplaintEscalated,
        EventType::ComplaintCompensationRequired,
        EventType::ComplaintAssignmentReverted,
    ];

    fn agent(id: &str, role: Role, active: bool) -> Agent {
        Agent {
            id: id.into(),
            name: format!("Name of {id}"),
            email: format!("{id}@support.example.com"),
            role,
            active,
        }
    }

    /// The view after `events` (versions 1, 2, …).
    fn view_after(events: &[ComplaintEvent]) -> Option<ComplaintView> {
        events.iter().zip(1..).fold(None, |view, (event, version)| {
            projection::apply(view, "c-1", event, version)
        })
    }

    fn facts(events: &[ComplaintEvent]) -> Facts {
        Facts {
            complaint: view_after(events),
            ..Facts::default()
        }
    }

    fn audiences(plan: &Plan) -> Vec<(Step, Audience, Recipient)> {
        plan.notifications
            .iter()
            .map(|n| (n.step, n.audience, n.recipient.clone()))
            .collect()
    }

    fn ada() -> Recipient {
        Recipient::Address {
            address: "ada@example.com".into(),
            name: "Ada Lovelace".into(),
        }
    }

    #[test]
    fn a_new_complaint_is_acknowledged_to_its_complainant() {
        let created = fx::created("ada@example.com");
        let plan = plan("c-1", &created, &facts(std::slice::from_ref(&created))).unwrap();
        assert_eq!(
            audiences(&plan),
            vec![(Step::Acknowledgement, Audience::Complainant, ada())]
        );
        let message = &plan.notifications[0].message;
        assert!(message.subject.contains("Broken invoice"), "{message:?}");
        assert!(message.body.contains("c-1"), "{message:?}");
        assert_eq!(plan.compensation, None);
    }

    #[test]
    fn an_assignment_tells_the_assignee_and_the_complainant() {
        let events = [fx::created("ada@example.com"), fx::assigned("agent-001")];
        let facts = Facts {
            agent: Some(agent("agent-001", Role::Agent, true)),
            ..facts(&events)
        };
        assert_eq!(
            needs(&events[1], facts.complaint.as_ref()).agent.as_deref(),
            Some("agent-001")
        );
        let plan = plan("c-1", &events[1], &facts).unwrap();
        let alice = Recipient::Address {
            address: "agent-001@support.example.com".into(),
            name: "Name of agent-001".into(),
        };
        assert_eq!(
            audiences(&plan),
            vec![
                (Step::Assignment, Audience::Assignee, alice),
                (Step::Assignment, Audience::Complainant, ada()),
            ]
        );
        assert!(plan.notifications[1]
            .message
            .body
            .contains("Name of agent-001"));
    }

    #[test]
    fn an_unknown_or_inactive_assignee_cannot_be_reached() {
        let events = [fx::created("ada@example.com"), fx::assigned("ghost")];
        let unknown = plan("c-1", &events[1], &facts(&events)).unwrap();
        assert_eq!(
            unknown.notifications[0].recipient,
            Recipient::UnknownAgent {
                agent_id: "ghost".into()
            }
        );
        let inactive = Facts {
            agent: Some(agent("ghost", Role::Agent, false)),
            ..facts(&events)
        };
        let inactive = plan("c-1", &events[1], &inactive).unwrap();
        assert!(matches!(
            inactive.notifications[0].recipient,
            Recipient::UnknownAgent { .. }
        ));
    }

    #[test]
    fn an_escalation_tells_the_active_supervisors_and_the_assignee() {
        let events = [
            fx::created("ada@example.com"),
            fx::assigned("agent-001"),
            fx::escalated(),
        ];
        let base = facts(&events);
        let need = needs(&events[2], base.complaint.as_ref());
        assert!(need.supervisors);
        assert_eq!(need.agent.as_deref(), Some("agent-001"));
        let facts = Facts {
            agent: Some(agent("agent-001", Role::Agent, true)),
            supervisors: vec![
                agent("sup-1", Role::Supervisor, true),
                agent("sup-2", Role::Supervisor, false),
            ],
            ..base
        };
        let plan = plan("c-1", &events[2], &facts).unwrap();
        let got: Vec<(Step, Audience)> = plan
            .notifications
            .iter()
            .map(|n| (n.step, n.audience))
            .collect();
        assert_eq!(
            got,
            vec![
                (Step::Escalation, Audience::Supervisor),
                (Step::Escalation, Audience::Assignee)
            ]
        );
        assert!(plan.notifications[0].message.body.contains("HIGH"));
    }

    #[test]
    fn status_changes_go_to_the_complainant_and_priority_changes_to_no_one() {
        let base = [
            fx::created("ada@example.com"),
            fx::assigned("agent-001"),
            fx::processed("agent-001"),
        ];
        for event in [fx::resolved(), fx::closed(), fx::reopened()] {
            let mut events = base.to_vec();
            events.push(event.clone());
            let plan = plan("c-1", &event, &facts(&events)).unwrap();
            assert_eq!(
                audiences(&plan),
                vec![(Step::Status, Audience::Complainant, ada())],
                "{:?}",
                event.event_type()
            );
        }
        let changed = fx::priority_changed();
        let plan = plan("c-1", &changed, &facts(&[base[0].clone(), changed.clone()])).unwrap();
        assert!(plan.notifications.is_empty());
    }

    #[test]
    fn a_compensation_cancels_what_is_pending_and_retracts_what_was_sent() {
        let events = [
            fx::created("ada@example.com"),
            fx::assigned("ghost"),
            fx::compensation_required("ghost"),
        ];
        let sent = Retractable {
            id: Uuid::from_u128(1),
            status: NotificationStatus::Sent,
            audience: Audience::Complainant,
            recipient: "ada@example.com".into(),
            recipient_name: "Ada Lovelace".into(),
        };
        let pending = Retractable {
            id: Uuid::from_u128(2),
            status: NotificationStatus::Pending,
            ..sent.clone()
        };
        let failed = Retractable {
            id: Uuid::from_u128(3),
            status: NotificationStatus::Failed,
            audience: Audience::Assignee,
            recipient: "ghost".into(),
            recipient_name: "ghost".into(),
        };
        let base = facts(&events);
        assert_eq!(
            needs(&events[2], base.complaint.as_ref()).retractable,
            Some((Step::Assignment, "ghost".into()))
        );
        let facts = Facts {
            retractable: vec![sent, pending, failed],
            ..base
        };
        let plan = plan("c-1", &events[2], &facts).unwrap();
        assert_eq!(
            audiences(&plan),
            vec![(Step::Compensation, Audience::Complainant, ada())]
        );
        let compensation = plan.compensation.unwrap();
        assert_eq!(compensation.step, Step::Assignment);
        assert_eq!(compensation.retract, vec![Uuid::from_u128(1)]);
        assert_eq!(compensation.cancel, vec![Uuid::from_u128(2)]);
        assert_eq!(compensation.agent_id, "ghost");
    }

    #[test]
    fn a_compensation_for_an_unknown_complaint_is_still_answered() {
        let event = fx::compensation_required("ghost");
        let plan = plan("c-9", &event, &Facts::default()).unwrap();
        assert!(plan.notifications.is_empty());
        assert!(plan.compensation.is_some());
    }

    /// Every template renders with the values the policy gives its event, so no message
    /// can fail at run time for a missing placeholder.
    #[test]
    fn every_template_renders_with_the_values_of_its_event() {
        let history = [
            fx::created("ada@example.com"),
            fx::assigned("agent-001"),
            fx::processed("agent-001"),
        ];
        let complaint = view_after(&history);
        let directory = agent("agent-001", Role::Agent, true);
        for (event_type, audience, file, _) in template::TEMPLATES {
            let event = fx::of_type(*event_type);
            let values = values("c-1", complaint.as_ref().unwrap(), &event, Some(&directory));
            let mut values = values.clone();
            values.insert("recipientName", "Someone".into());
            template::render_for(*event_type, *audience, &values)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
        }
        for event_type in NOTIFYING {
            assert!(
                template::TEMPLATES
                    .iter()
                    .any(|(e, _, _, _)| e == event_type),
                "{event_type} has no template"
            );
        }
    }
}
