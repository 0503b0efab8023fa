//! The API's one error shape, `{"error":{"code","message","field"}}`, and
//! how every service error maps to a status and a code.

use crate::error::Error;
use crate::ledger::LedgerError;
use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// A refused request: the status, a stable code, what went wrong and, when
/// one input is at fault, its name.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// For `budget_exceeded`: the budget and its figures (boxed: every
    /// other error goes without).
    pub budget: Option<Box<BudgetRefusalJson>>,
}

/// The budget a hold would take over, and its figures, in its currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BudgetRefusalJson {
    pub name: String,
    pub amount: String,
    pub currency: String,
    pub period: String,
    pub spent: String,
    pub held: String,
    /// The run's estimate; null when the run's model has no price.
    pub estimate: Option<String>,
}

impl BudgetRefusalJson {
    pub fn of(refusal: &crate::ledger::budget::BudgetRefusal) -> BudgetRefusalJson {
        use crate::money::decimal_string;
        BudgetRefusalJson {
            name: refusal.budget.clone(),
            amount: decimal_string(refusal.amount_micros),
            currency: refusal.currency.code().to_string(),
            period: refusal.period.clone(),
            spent: decimal_string(refusal.spent_micros),
            held: decimal_string(refusal.held_micros),
            estimate: refusal.estimate_micros.map(decimal_string),
        }
    }
}

/// The body of every 4xx and 5xx answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// invalid_input, confirm_large (an amount typed by hand that needs
    /// `"confirm_large": true`), not_found, conflict, locked (the entry is
    /// billed on the invoice the message names), unauthorized,
    /// forbidden, too_large, busy, budget_exceeded (a hard budget would go
    /// over; `budget` holds its figures) or internal.
    pub code: String,
    pub message: String,
    /// The input at fault (a body field, a query parameter), when one is.
    pub field: Option<String>,
    /// For budget_exceeded: the budget, its amount, spent, held and the
    /// run's estimate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetRefusalJson>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            budget: None,
        }
    }

    /// Bad input in `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.to_string()),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message)
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this server needs a token: send Authorization: Bearer TOKEN",
        )
    }

    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is larger than the {limit} bytes allowed"),
        )
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        let e = match e {
            Error::Field { field, message } => {
                return ApiError::invalid(field, format!("{field}: {message}"))
            }
            Error::Unconfirmed { field, message } => {
                return ApiError {
                    field: Some(field.to_string()),
                    ..ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "confirm_large",
                        format!("{field}: {message}; send \"confirm_large\": true to confirm it"),
                    )
                }
            }
            other => other,
        };
        let message = e.to_string();
        // Service messages name their input first ("--since: ...",
        // "amount: ..."); the API calls it by its bare name.
        let message = message.strip_prefix("--").unwrap_or(&message).to_string();
        let field = message
            .split_once(": ")
            .map(|(name, _)| name)
            .filter(|name| {
                !name.is_empty()
                    && name.len() <= 40
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c == ' ')
            })
            .map(|name| name.replace(' ', "_"));
        let (status, code) = match &e {
            Error::Input(_) | Error::Rate(_) => (StatusCode::BAD_REQUEST, "invalid_input"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::Store(StoreError::Refused(
                LedgerError::NoSuchEntry(_)
                | LedgerError::NoSuchBatch(_)
                | LedgerError::NoSuchInvoice(_)
                | LedgerError::NoSuchBudget(_),
            )) => (StatusCode::NOT_FOUND, "not_found"),
            Error::Store(StoreError::Refused(LedgerError::BudgetExceeded(_))) => {
                (StatusCode::CONFLICT, "budget_exceeded")
            }
            Error::Store(StoreError::Refused(
                LedgerError::Locked { .. } | LedgerError::BatchLocked { .. },
            )) => (StatusCode::CONFLICT, "locked"),
            Error::Store(StoreError::Refused(LedgerError::MissingReason)) => {
                (StatusCode::BAD_REQUEST, "invalid_input")
            }
            Error::Store(StoreError::Refused(_)) => (StatusCode::CONFLICT, "conflict"),
            Error::Store(StoreError::Busy { .. }) => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            Error::Store(StoreError::Conflict(_)) => (StatusCode::CONFLICT, "conflict"),
            Error::Store(StoreError::Unreachable(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            Error::Store(StoreError::Full) => (StatusCode::INSUFFICIENT_STORAGE, "disk_full"),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let field = (status == StatusCode::BAD_REQUEST)
            .then_some(field)
            .flatten();
        let budget = match &e {
            Error::Store(StoreError::Refused(LedgerError::BudgetExceeded(refusal))) => {
                Some(Box::new(BudgetRefusalJson::of(refusal)))
            }
            _ => None,
        };
        ApiError {
            status,
            code,
            message,
            field,
            budget,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::from(Error::Store(e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                field: self.field,
                budget: self.budget.map(|b| *b),
            },
        };
        (self.status, axum::Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_errors_name_their_field_and_status() {
        let e = ApiError::from(Error::input("--since: 'x' is not a date"));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.field.as_deref(), Some("since"));
        assert_eq!(e.message, "since: 'x' is not a date");
        let e = ApiError::from(Error::input("request id: 300 characters"));
        assert_eq!(e.field.as_deref(), Some("request_id"));
        let e = ApiError::from(Error::input("a generation cost cannot be negative"));
        assert_eq!(e.field, None);
        // A field the service names is taken as named, whatever the words.
        let e = ApiError::from(Error::field("duration_ms", "-1 is negative"));
        assert_eq!(
            (e.status, e.code, e.field.as_deref()),
            (
                StatusCode::BAD_REQUEST,
                "invalid_input",
                Some("duration_ms")
            )
        );
        assert_eq!(e.message, "duration_ms: -1 is negative");
        let e = ApiError::from(Error::Unconfirmed {
            field: "cost",
            message: "$20,000.00 is $10,000 or more; check the figure".into(),
        });
        assert_eq!(
            (e.status, e.code, e.field.as_deref()),
            (StatusCode::BAD_REQUEST, "confirm_large", Some("cost"))
        );
        assert!(e
            .message
            .ends_with("send \"confirm_large\": true to confirm it"));
        let id = uuid::Uuid::nil();
        let e = ApiError::from(Error::Store(StoreError::Refused(LedgerError::EntryIsVoid(
            id,
        ))));
        assert_eq!((e.status, e.code), (StatusCode::CONFLICT, "conflict"));
        let e = ApiError::from(Error::Store(StoreError::Refused(LedgerError::Locked {
            entry: id,
            invoice: "INV-2026-0001".into(),
        })));
        assert_eq!((e.status, e.code), (StatusCode::CONFLICT, "locked"));
        assert!(e.message.contains("INV-2026-0001"));
        let e = ApiError::from(Error::Store(StoreError::Refused(LedgerError::NoSuchEntry(
            id,
        ))));
        assert_eq!((e.status, e.code), (StatusCode::NOT_FOUND, "not_found"));
    }
}
