//! The OpenAPI 3.1 document, built from the route table (so it lists exactly the routes the
//! router serves), with the shared shapes as components.

use serde_json::{Map, Value, json};

use super::routes::{RouteSpec, table};

/// The document served at `/openapi.json`.
pub fn document(test_clock: bool) -> Value {
    let mut paths = Map::new();
    for spec in table(test_clock) {
        let entry = paths
            .entry(spec.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(methods) = entry {
            methods.insert(spec.method.as_str().to_lowercase(), operation(&spec));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "purse",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Prepaid credit wallets with reserve-and-settle and cost tickets. \
                Amounts are credits: inputs take a JSON number or a decimal string, outputs are \
                decimal strings. Errors: {\"error\": {\"code\", \"message\", \"details\"}}."
        },
        "components": components(),
        "paths": Value::Object(paths),
    })
}

fn operation(spec: &RouteSpec) -> Value {
    let mut parameters: Vec<Value> = path_parameters(spec.path)
        .into_iter()
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    if spec.idempotent {
        parameters.push(json!({
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "description": "Same key and body replays the first answer (with Idempotent-Replayed: true); another body is 422.",
            "schema": {"type": "string", "maxLength": 255}
        }));
    }
    let mut responses = Map::new();
    responses.insert(
        spec.success_status.to_string(),
        json!({"description": "success"}),
    );
    responses.insert(
        "default".to_owned(),
        json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
    );
    let mut operation = json!({
        "operationId": operation_id(spec),
        "summary": spec.summary,
        "description": format!("Who may call it: {}.", spec.roles),
        "tags": [spec.tag],
        "parameters": parameters,
        "responses": Value::Object(responses),
    });
    if spec.auth
        && let Value::Object(fields) = &mut operation
    {
        fields.insert("security".to_owned(), json!([{"bearer": []}]));
    }
    operation
}

fn operation_id(spec: &RouteSpec) -> String {
    let path: String = spec
        .path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!(
        "{}{}",
        spec.method.as_str().to_lowercase(),
        path.trim_end_matches('_')
    )
}

/// The `{name}` segments of a path.
pub fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

fn components() -> Value {
    let credits =
        json!({"type": "string", "description": "credits, decimal string, up to 9 places"});
    json!({
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {"error": {"type": "object", "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}
                }}, "cost_ticket": {"$ref": "#/components/schemas/CostTicket"}}
            },
            "Wallet": {"type": "object", "properties": {
                "id": {"type": "string"}, "org_id": {"type": "string"},
                "owner_type": {"enum": ["user", "team", "organization"]}, "owner_id": {"type": "string"},
                "name": {"type": ["string", "null"]}, "status": {"enum": ["PENDING", "ACTIVE", "TERMINATED"]},
                "health": {"enum": ["healthy", "low", "depleted"]}, "currency": {"type": "string"},
                "rate_amount": credits, "paid_credits": credits, "granted_credits": credits,
                "held_credits": credits, "available_credits": credits, "balance_credits": credits,
                "debt_credits": credits, "total_allocated": credits, "total_spent": credits,
                "expiration_at": {"type": ["string", "null"], "format": "date-time"},
                "activates_at": {"type": ["string", "null"], "format": "date-time"},
                "priority": {"type": "integer"},
                "applies_to": {"type": "object", "properties": {"fee_types": {"type": "array", "items": {"enum": ["SUBSCRIPTION", "COMMITMENT", "CHARGE"]}}}},
                "recurring_transaction_rules": {"type": "array", "items": {"$ref": "#/components/schemas/TopupRule"}},
                "created_at": {"type": "string", "format": "date-time"},
                "updated_at": {"type": "string", "format": "date-time"}
            }},
            "TopupRule": {"type": "object", "properties": {
                "id": {"type": "string"}, "method": {"enum": ["FIXED", "TARGET"]},
                "trigger": {"enum": ["INTERVAL", "THRESHOLD"]},
                "interval": {"enum": ["weekly", "monthly", "quarterly", "yearly", null]},
                "threshold_credits": credits, "target_ongoing_balance": credits,
                "paid_credits": credits, "granted_credits": credits,
                "credit_type": {"enum": ["paid", "granted", null]},
                "payment_method_id": {"type": ["string", "null"]},
                "started_at": {"type": ["string", "null"], "format": "date-time"},
                "max_paid_credits_per_month": credits,
                "state": {"type": "object", "readOnly": true, "properties": {
                    "pending_session_id": {"type": ["string", "null"]},
                    "consecutive_declines": {"type": "integer"},
                    "backoff_until": {"type": ["string", "null"], "format": "date-time"},
                    "paused": {"type": "boolean"}, "paused_reason": {"type": ["string", "null"]},
                    "month": {"type": ["string", "null"]}, "month_paid_credits": credits,
                    "last_run": {"type": ["object", "null"]}
                }}
            }},
            "Reservation": {"type": "object", "properties": {
                "id": {"type": "string"}, "status": {"enum": ["held", "settled", "released", "expired"]},
                "wallet_id": {"type": "string"}, "wallet_owner_type": {"type": "string"},
                "wallet_owner_id": {"type": "string"}, "amount": credits,
                "expires_at": {"type": "string", "format": "date-time"}
            }},
            "CostTicket": {"type": "object", "properties": {
                "id": {"type": "string"}, "org_id": {"type": "string"}, "user_id": {"type": ["string", "null"]},
                "team_id": {"type": ["string", "null"]}, "currency": {"type": "string"},
                "required_amount": credits, "best_available_amount": credits, "shortfall_amount": credits,
                "fee_type": {"type": "string"}, "status": {"enum": ["open", "resolved", "expired", "canceled"]},
                "reservation_id": {"type": ["string", "null"]},
                "created_at": {"type": "string", "format": "date-time"},
                "resolved_at": {"type": ["string", "null"], "format": "date-time"},
                "expires_at": {"type": "string", "format": "date-time"}
            }}
        }
    })
}
