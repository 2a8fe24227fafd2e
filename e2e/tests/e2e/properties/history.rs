//! The histories the property test generates: complaints filed, then commands on them in a
//! random order, whether the complaint's status allows them or not, some sent two at a time.
//! Nothing here predicts the outcome: a saga may change a complaint between two steps (an
//! assignment to an unknown agent is reverted), so the services' answers are recorded and the
//! views are compared afterwards.

use proptest::prelude::*;
use std::fmt;

/// At most this many complaints in one history (a step names one by its number, modulo the
/// complaints filed so far).
pub const MAX_COMPLAINTS: usize = 3;

/// At most this many steps after the first create.
const MAX_STEPS: usize = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Low,
    Medium,
    High,
    Critical,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
            Self::Critical => "CRITICAL",
        }
    }
}

/// Who an assignment names: one of notification-service's active agents (by position in its
/// directory), or an id it does not know, which the assignment saga compensates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    Known(usize),
    Unknown,
}

/// A command on an existing complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The step of the lifecycle that follows the status the client last saw (assign,
    /// process, resolve, close, reopen): random commands alone seldom take a complaint far.
    Next,
    Assign(Agent),
    Process,
    Resolve,
    Close,
    Reopen,
    ChangePriority(Priority),
}

impl Action {
    /// The command itself: [`Action::Next`] becomes the step that follows `status` (the
    /// status the client last saw).
    pub fn chosen(self, status: &str) -> Action {
        match (self, status) {
            (Self::Next, "OPEN") => Self::Assign(Agent::Known(0)),
            (Self::Next, "ASSIGNED") => Self::Process,
            (Self::Next, "IN_PROGRESS") => Self::Resolve,
            (Self::Next, "RESOLVED") => Self::Close,
            (Self::Next, _) => Self::Reopen,
            (action, _) => action,
        }
    }

    /// The last segment of `PUT /api/complaints/{id}/…`.
    pub fn route(self) -> &'static str {
        match self {
            Self::Next => unreachable!("the next step is chosen before it is sent"),
            Self::Assign(_) => "assign",
            Self::Process => "process",
            Self::Resolve => "resolve",
            Self::Close => "close",
            Self::Reopen => "reopen",
            Self::ChangePriority(_) => "priority",
        }
    }

    /// The event the command records when it is accepted.
    pub fn event_type(self) -> &'static str {
        match self {
            Self::Next => unreachable!("the next step is chosen before it is sent"),
            Self::Assign(_) => "COMPLAINT_ASSIGNED",
            Self::Process => "COMPLAINT_PROCESSED",
            Self::Resolve => "COMPLAINT_RESOLVED",
            Self::Close => "COMPLAINT_CLOSED",
            Self::Reopen => "COMPLAINT_REOPENED",
            Self::ChangePriority(_) => "COMPLAINT_PRIORITY_CHANGED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// File a new complaint.
    Create(Priority),
    /// One command on complaint number `complaint`.
    Command { complaint: usize, action: Action },
    /// Two commands on one complaint sent at once, with `If-Match` naming the version the
    /// client last saw (then at most one may win) or without it.
    Race {
        complaint: usize,
        first: Action,
        second: Action,
        if_match: bool,
    },
}

/// A history: its first step files a complaint, so every later step has one to name.
#[derive(Clone, PartialEq, Eq)]
pub struct History {
    pub first: Priority,
    pub steps: Vec<Step>,
}

/// One step per line, so a failing history reads as a script.
impl fmt::Debug for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "History [")?;
        writeln!(f, "    {:?},", Step::Create(self.first))?;
        for step in &self.steps {
            writeln!(f, "    {step:?},")?;
        }
        write!(f, "]")
    }
}

pub fn histories() -> impl Strategy<Value = History> {
    (priority(), prop::collection::vec(step(), 1..=MAX_STEPS))
        .prop_map(|(first, steps)| History { first, steps })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => priority().prop_map(Step::Create),
        6 => (0..MAX_COMPLAINTS, action())
            .prop_map(|(complaint, action)| Step::Command { complaint, action }),
        2 => (0..MAX_COMPLAINTS, action(), action(), any::<bool>()).prop_map(
            |(complaint, first, second, if_match)| Step::Race { complaint, first, second, if_match }
        ),
    ]
}

/// Every command, whatever the status (many are refused, which the views must not show
/// either), and often the next step of the lifecycle.
fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => Just(Action::Next),
        3 => agent().prop_map(Action::Assign),
        2 => Just(Action::Process),
        2 => Just(Action::Resolve),
        2 => Just(Action::Close),
        1 => Just(Action::Reopen),
        2 => priority().prop_map(Action::ChangePriority),
    ]
}

fn agent() -> impl Strategy<Value = Agent> {
    prop_oneof![3 => (0..2usize).prop_map(Agent::Known), 1 => Just(Agent::Unknown)]
}

fn priority() -> impl Strategy<Value = Priority> {
    prop_oneof![
        Just(Priority::Low),
        Just(Priority::Medium),
        Just(Priority::High),
        Just(Priority::Critical),
    ]
}
