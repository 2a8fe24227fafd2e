//! Message templates: one file per event type and audience under `templates/`
//! (`complaint_created.complainant.txt`), embedded at compile time so the binary needs no
//! files at run time. A template's first line is `Subject: …`, the rest is the body;
//! `{{name}}` is replaced by the value of `name`, and a placeholder without a value is an
//! error, never an empty string in a customer's mailbox. Pure.

use crate::model::Audience;
use shared::event::EventType;
use std::collections::BTreeMap;

/// The values a message is rendered with, by placeholder name.
pub type Values = BTreeMap<&'static str, String>;

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("no template for {event_type} and audience {audience}")]
    NoTemplate {
        event_type: EventType,
        audience: Audience,
    },
    #[error("the template's first line must be `Subject: …`")]
    NoSubject,
    #[error("placeholder `{{{{{0}}}}}` has no value")]
    MissingValue(String),
    #[error("a `{{{{` is never closed")]
    Unclosed,
}

macro_rules! registry {
    ($(($event:ident, $audience:ident, $file:literal)),+ $(,)?) => {
        /// Every template: its event type, its audience, its file name and its text.
        pub const TEMPLATES: &[(EventType, Audience, &str, &str)] = &[
            $((EventType::$event, Audience::$audience, $file, include_str!(concat!("../templates/", $file)))),+
        ];
    };
}

registry!(
    (
        ComplaintCreated,
        Complainant,
        "complaint_created.complainant.txt"
    ),
    (
        ComplaintAssigned,
        Assignee,
        "complaint_assigned.assignee.txt"
    ),
    (
        ComplaintAssigned,
        Complainant,
        "complaint_assigned.complainant.txt"
    ),
    (
        ComplaintProcessed,
        Complainant,
        "complaint_processed.complainant.txt"
    ),
    (
        ComplaintResolved,
        Complainant,
        "complaint_resolved.complainant.txt"
    ),
    (
        ComplaintClosed,
        Complainant,
        "complaint_closed.complainant.txt"
    ),
    (
        ComplaintReopened,
        Complainant,
        "complaint_reopened.complainant.txt"
    ),
    (
        ComplaintEscalated,
        Supervisor,
        "complaint_escalated.supervisor.txt"
    ),
    (
        ComplaintEscalated,
        Assignee,
        "complaint_escalated.assignee.txt"
    ),
    (
        ComplaintCompensationRequired,
        Complainant,
        "complaint_compensation_required.complainant.txt"
    ),
    (
        ComplaintCompensationRequired,
        Assignee,
        "complaint_compensation_required.assignee.txt"
    ),
    (
        ComplaintCompensationRequired,
        Supervisor,
        "complaint_compensation_required.supervisor.txt"
    ),
    (
        ComplaintAssignmentReverted,
        Complainant,
        "complaint_assignment_reverted.complainant.txt"
    ),
);

/// The file name a template for `event_type` and `audience` has.
#[cfg(test)]
pub fn file_name(event_type: EventType, audience: Audience) -> String {
    format!(
        "{}.{}.txt",
        event_type.as_str().to_ascii_lowercase(),
        audience.as_str()
    )
}

/// The template text for `event_type` and `audience`.
pub fn template(event_type: EventType, audience: Audience) -> Result<&'static str, TemplateError> {
    TEMPLATES
        .iter()
        .find(|(e, a, _, _)| *e == event_type && *a == audience)
        .map(|(_, _, _, text)| *text)
        .ok_or(TemplateError::NoTemplate {
            event_type,
            audience,
        })
}

/// Renders the template of `event_type` for `audience` with `values`.
pub fn render_for(
    event_type: EventType,
    audience: Audience,
    values: &Values,
) -> Result<Rendered, TemplateError> {
    render(template(event_type, audience)?, values)
}

/// Renders a template text with `values`.
pub fn render(text: &str, values: &Values) -> Result<Rendered, TemplateError> {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let subject = first
        .trim_end_matches('\r')
        .strip_prefix("Subject:")
        .ok_or(TemplateError::NoSubject)?
        .trim();
    // A value must not break the subject into several header lines.
    let subject = substitute(subject, values)?
        .replace(['\r', '\n'], " ")
        .trim()
        .to_owned();
    let body = substitute(rest.trim_start_matches(['\r', '\n']), values)?;
    Ok(Rendered { subject, body })
}

fn substitute(text: &str, values: &Values) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(TemplateError::Unclosed)?;
        let name = after[..end].trim();
        let value = values
            .get(name)
            .ok_or_else(|| TemplateError::MissingValue(name.to_owned()))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&'static str, &str)]) -> Values {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    }

    #[test]
    fn placeholders_are_replaced_in_subject_and_body() {
        let rendered = render(
            "Subject: About {{ title }}\n\nHello {{name}},\nyour {{title}} is in.\n",
            &values(&[("title", "Broken invoice"), ("name", "Ada")]),
        )
        .unwrap();
        assert_eq!(rendered.subject, "About Broken invoice");
        assert_eq!(rendered.body, "Hello Ada,\nyour Broken invoice is in.\n");
    }

    #[test]
    fn a_placeholder_without_a_value_is_an_error() {
        let error = render("Subject: x\n\n{{missing}}", &values(&[])).unwrap_err();
        assert_eq!(error, TemplateError::MissingValue("missing".into()));
        assert_eq!(error.to_string(), "placeholder `{{missing}}` has no value");
    }

    #[test]
    fn a_template_must_start_with_its_subject_and_close_its_braces() {
        assert_eq!(
            render("Hello\n", &values(&[])),
            Err(TemplateError::NoSubject)
        );
        assert_eq!(
            render("Subject: {{oops\n", &values(&[])),
            Err(TemplateError::Unclosed)
        );
    }

    #[test]
    fn a_value_cannot_add_header_lines_to_the_subject() {
        let rendered = render(
            "Subject: {{title}}\nbody",
            &values(&[("title", "a\r\nBcc: x@y.z")]),
        )
        .unwrap();
        assert_eq!(rendered.subject, "a  Bcc: x@y.z");
    }

    #[test]
    fn every_registered_template_is_named_after_its_event_and_audience() {
        for (event_type, audience, file, text) in TEMPLATES {
            assert_eq!(*file, file_name(*event_type, *audience));
            assert!(text.starts_with("Subject: "), "{file}");
        }
    }

    #[test]
    fn every_template_file_is_registered() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut registered: Vec<String> = TEMPLATES
            .iter()
            .map(|(_, _, f, _)| (*f).to_owned())
            .collect();
        registered.sort();
        assert_eq!(files, registered);
    }
}
