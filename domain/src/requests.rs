//! The bodies of the commands, as clients send them: the JSON bodies of complaint-service's
//! REST routes and the `payload` of a command message (`shared::event::command`), one type
//! for both so the two ways in cannot drift apart. Unknown fields are refused; values are
//! parsed into the domain's types by `into_command`, so a bad one is refused naming its field.

use serde::{Deserialize, Serialize};

use super::{
    command::Command,
    priority::Priority,
    values::{
        AgentId, Category, ComplaintTitle, Contact, Customer, CustomerId, CustomerName,
        Description, Email, Reason, Resolution, ValidationError,
    },
};

/// A new complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateComplaintRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = ComplaintTitle))]
    pub title: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Description))]
    pub description: String,
    /// A slug such as `billing`; lower-cased.
    #[cfg_attr(feature = "openapi", schema(value_type = Category))]
    pub category: String,
    /// MEDIUM when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    pub customer: CustomerRequest,
}

/// Who complains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomerRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = CustomerId))]
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = CustomerName))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Email))]
    pub email: String,
}

impl CreateComplaintRequest {
    pub fn into_command(self) -> Result<Command, ValidationError> {
        Ok(Command::Create {
            title: ComplaintTitle::parse(self.title)?,
            description: Description::parse(self.description)?,
            category: Category::parse(self.category)?,
            priority: self.priority.unwrap_or_default(),
            customer: Customer {
                id: CustomerId::parse(self.customer.id)?,
                name: CustomerName::parse(self.customer.name)?,
                contact: Contact {
                    email: Email::parse(self.customer.email)?,
                },
            },
        })
    }
}

/// Assign (or reassign) to an agent. The agent is not checked here: an assignee who cannot
/// be notified is compensated by the assignment saga.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AssignRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = AgentId))]
    pub agent_id: String,
}

impl AssignRequest {
    pub fn into_command(self) -> Result<Command, ValidationError> {
        Ok(Command::Assign {
            agent_id: AgentId::parse(self.agent_id)?,
        })
    }
}

/// No data: the body may be empty or `{}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EmptyRequest {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResolveRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = Resolution))]
    pub resolution: String,
}

impl ResolveRequest {
    pub fn into_command(self) -> Result<Command, ValidationError> {
        Ok(Command::Resolve {
            resolution: Resolution::parse(self.resolution)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReopenRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = Reason))]
    pub reason: String,
}

impl ReopenRequest {
    pub fn into_command(self) -> Result<Command, ValidationError> {
        Ok(Command::Reopen {
            reason: Reason::parse(self.reason)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChangePriorityRequest {
    pub priority: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Reason>))]
    pub reason: Option<String>,
}

impl ChangePriorityRequest {
    pub fn into_command(self) -> Result<Command, ValidationError> {
        Ok(Command::ChangePriority {
            priority: self.priority,
            reason: self.reason.map(Reason::parse).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn create(body: serde_json::Value) -> Result<Command, String> {
        serde_json::from_value::<CreateComplaintRequest>(body)
            .map_err(|e| e.to_string())?
            .into_command()
            .map_err(|e| e.to_string())
    }

    fn valid() -> serde_json::Value {
        json!({
            "title": "Charged twice", "description": "Two debits", "category": "Billing",
            "customer": { "id": "c-1", "name": "Ada", "email": "ada@example.com" }
        })
    }

    #[test]
    fn a_valid_create_becomes_a_command_with_medium_priority() {
        let Command::Create {
            priority, category, ..
        } = create(valid()).unwrap()
        else {
            panic!("not a create");
        };
        assert_eq!(priority, Priority::Medium);
        assert_eq!(category.as_str(), "billing");
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused() {
        let mut body = valid();
        body["colour"] = json!("red");
        assert!(create(body).unwrap_err().contains("unknown field"));
        let mut body = valid();
        body["title"] = json!("ab");
        assert!(create(body).unwrap_err().starts_with("title:"));
        let mut body = valid();
        body["customer"]["email"] = json!("nope");
        assert!(create(body).unwrap_err().starts_with("customer.email:"));
        let mut body = valid();
        body["priority"] = json!("URGENT");
        assert!(create(body).unwrap_err().contains("unknown variant"));
    }
}
