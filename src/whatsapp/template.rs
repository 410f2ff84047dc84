//! Builds the Cloud API template message (SPEC §5.2) from a template and a call's variables.

use serde_json::{Value, json};

use crate::db::templates::Template;
use crate::domain::TemplateType;

/// Every variable a template may name.
pub const VARIABLES: [&str; 7] = [
    "customer_name",
    "restaurant_name",
    "reservation_date",
    "reservation_time",
    "party_size",
    "booking_link",
    "booking_token",
];

/// Variables that only a call with a reservation can fill.
const RESERVATION_VARIABLES: [&str; 3] = ["reservation_date", "reservation_time", "party_size"];

/// Checks that `variable` exists and can be filled for this template type.
pub fn check_variable(template_type: TemplateType, variable: &str) -> Result<(), String> {
    if !VARIABLES.contains(&variable) {
        return Err(format!(
            "unknown template variable {variable:?} (known: {})",
            VARIABLES.join(", ")
        ));
    }
    if template_type == TemplateType::MissedCall && RESERVATION_VARIABLES.contains(&variable) {
        return Err(format!(
            "{variable} is only known for MISSED_CALL_WITH_RESERVATION templates"
        ));
    }
    Ok(())
}

/// The values of one call.
#[derive(Debug, Clone)]
pub struct Variables {
    pub customer_name: Option<String>,
    pub restaurant_name: String,
    /// `(YYYY-MM-DD, HH:MM, party size)` in the restaurant's zone.
    pub reservation: Option<(String, String, i64)>,
    pub booking_link: String,
    pub booking_token: String,
}

impl Variables {
    fn value(&self, template: &Template, variable: &str) -> String {
        let reservation = self.reservation.as_ref();
        match variable {
            "customer_name" => self
                .customer_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| template.name_fallback.clone()),
            "restaurant_name" => self.restaurant_name.clone(),
            "reservation_date" => reservation.map(|r| r.0.clone()).unwrap_or_default(),
            "reservation_time" => reservation.map(|r| r.1.clone()).unwrap_or_default(),
            "party_size" => reservation.map(|r| r.2.to_string()).unwrap_or_default(),
            "booking_link" => self.booking_link.clone(),
            "booking_token" => self.booking_token.clone(),
            _ => String::new(),
        }
    }
}

fn text(value: String) -> Value {
    json!({"type": "text", "text": value})
}

/// What a message is sent with, as the ledger keeps it for the console (SPEC §9): the template,
/// its language, every parameter value in the order sent (the body's, then the button's), and
/// the booking link.
pub fn sent_with(template: &Template, vars: &Variables) -> String {
    let parameters: Vec<String> = template
        .body_params
        .iter()
        .chain(&template.button_param)
        .map(|v| vars.value(template, v))
        .collect();
    json!({
        "template": template.name,
        "language": template.language,
        "parameters": parameters,
        "booking_link": vars.booking_link,
    })
    .to_string()
}

/// The request body of `POST /{phone_number_id}/messages` (SPEC §5.2).
pub fn build_payload(template: &Template, vars: &Variables, to: &str, call_id: &str) -> Value {
    let mut components = Vec::new();
    if !template.body_params.is_empty() {
        let parameters: Vec<Value> = template
            .body_params
            .iter()
            .map(|v| text(vars.value(template, v)))
            .collect();
        components.push(json!({"type": "body", "parameters": parameters}));
    }
    if let Some(button) = &template.button_param {
        components.push(json!({
            "type": "button", "sub_type": "url", "index": "0",
            "parameters": [text(vars.value(template, button))]
        }));
    }
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "biz_opaque_callback_data": call_id,
        "template": {
            "name": template.name,
            "language": {"policy": "deterministic", "code": template.language},
            "components": components,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(body: &[&str], button: Option<&str>) -> Template {
        Template {
            restaurant_id: "rst_1".into(),
            template_type: TemplateType::MissedCallWithReservation,
            name: "missed_call_booking".into(),
            language: "fr".into(),
            status: "APPROVED".into(),
            body_params: body.iter().map(|s| s.to_string()).collect(),
            button_param: button.map(str::to_string),
            name_fallback: "there".into(),
            active: true,
            updated_at: 0,
        }
    }

    fn vars() -> Variables {
        Variables {
            customer_name: None,
            restaurant_name: "Chez Nous".into(),
            reservation: Some(("2026-05-10".into(), "20:30".into(), 4)),
            booking_link: "https://book.example/chez".into(),
            booking_token: "call_1".into(),
        }
    }

    #[test]
    fn body_and_button_parameters_follow_the_template_order() {
        let p = build_payload(
            &template(
                &["customer_name", "reservation_time", "party_size"],
                Some("booking_token"),
            ),
            &vars(),
            "+33612345678",
            "call_1",
        );
        assert_eq!(
            p["template"]["components"][0]["parameters"][0]["text"],
            "there"
        );
        assert_eq!(
            p["template"]["components"][0]["parameters"][1]["text"],
            "20:30"
        );
        assert_eq!(p["template"]["components"][0]["parameters"][2]["text"], "4");
        assert_eq!(p["template"]["components"][1]["sub_type"], "url");
        assert_eq!(
            p["template"]["components"][1]["parameters"][0]["text"],
            "call_1"
        );
        assert_eq!(p["biz_opaque_callback_data"], "call_1");
        assert_eq!(p["template"]["language"]["policy"], "deterministic");
    }

    #[test]
    fn components_without_parameters_are_omitted() {
        let p = build_payload(&template(&[], None), &vars(), "+33612345678", "call_1");
        assert_eq!(p["template"]["components"], json!([]));
    }

    #[test]
    fn reservation_variables_are_refused_for_a_plain_missed_call_template() {
        assert!(check_variable(TemplateType::MissedCall, "party_size").is_err());
        assert!(check_variable(TemplateType::MissedCall, "booking_link").is_ok());
        assert!(check_variable(TemplateType::MissedCall, "nope").is_err());
    }
}
