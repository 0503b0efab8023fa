//! Webhooks and their outbox: reference data, like synced prices, not
//! chain events. A delivery is owed from the transaction that records the
//! alert; senders claim due deliveries for a while (a lease), so several
//! servers on one ledger send each once per attempt, and a sender that
//! dies leaves its claim to expire and the delivery to be sent again.

use super::error::StoreError;
use super::session::Session;
use super::value::{Row, Value};
use crate::ledger::budget::BudgetAlert;
use crate::timestamp::Timestamp;
use uuid::Uuid;

/// A webhook as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    /// Event types it wants: exact, or a prefix ending in `*` (`budget.*`).
    pub events: Vec<String>,
    pub secret: String,
    /// The secret before the last rotation, signing too until `previous_until`.
    pub previous_secret: Option<String>,
    pub previous_until: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl Webhook {
    pub fn wants(&self, event_type: &str) -> bool {
        self.events
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => event_type.starts_with(prefix),
                None => pattern == event_type,
            })
    }
}

/// How a webhook's deliveries stand.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryCounts {
    pub delivered: i64,
    pub pending: i64,
    pub failed: i64,
    /// The latest failed attempt's error, if the latest attempt failed.
    pub last_error: Option<String>,
}

/// A delivery claimed for sending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The message id (`msg_…`), the same on every attempt.
    pub id: String,
    pub event_type: String,
    pub body: String,
    pub attempts: i64,
    pub created_at: Timestamp,
    pub webhook: Webhook,
    /// The claim this sender holds: its attempt is recorded only while it
    /// still holds it (a sender slower than its lease records nothing).
    pub lease_until: Timestamp,
}

/// What became of an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    Delivered,
    /// Failed; tried again at `retry_at`, or given up when `None`.
    Failed {
        error: String,
        retry_at: Option<Timestamp>,
    },
}

const WEBHOOK_LIST: &str = "id, url, events, secret, previous_secret, previous_until, created_at";

fn webhook_from_row(row: &mut Row) -> Result<Webhook, StoreError> {
    Ok(Webhook {
        id: row.text("id")?,
        url: row.text("url")?,
        events: row.text("events")?.split(',').map(str::to_string).collect(),
        secret: row.text("secret")?,
        previous_secret: row.opt_text("previous_secret")?,
        previous_until: row.opt_int("previous_until")?.map(Timestamp),
        created_at: Timestamp(row.int("created_at")?),
    })
}

pub async fn add(tx: &mut Session, webhook: &Webhook) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO webhooks (id, url, events, secret, previous_secret, previous_until, created_at) \
         VALUES ($1, $2, $3, $4, NULL, NULL, $5)",
        &[
            Value::Text(webhook.id.clone()),
            Value::Text(webhook.url.clone()),
            Value::Text(webhook.events.join(",")),
            Value::Text(webhook.secret.clone()),
            Value::Int(webhook.created_at.0),
        ],
    )
    .await?;
    Ok(())
}

pub async fn all(session: &mut Session) -> Result<Vec<Webhook>, StoreError> {
    session
        .query_map(
            &format!("SELECT {WEBHOOK_LIST} FROM webhooks ORDER BY created_at, id"),
            &[],
            |mut row| webhook_from_row(&mut row),
        )
        .await
}

/// Each webhook with how its deliveries stand.
pub async fn with_counts(
    session: &mut Session,
) -> Result<Vec<(Webhook, DeliveryCounts)>, StoreError> {
    let hooks = all(session).await?;
    let mut out = Vec::with_capacity(hooks.len());
    for hook in hooks {
        let id = Value::Text(hook.id.clone());
        let row = session
            .query_one(
                "SELECT \
                 SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END) AS delivered, \
                 SUM(CASE WHEN delivered_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END) AS pending, \
                 SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END) AS failed \
                 FROM webhook_deliveries WHERE webhook = $1",
                std::slice::from_ref(&id),
            )
            .await?;
        let mut last = session
            .query(
                "SELECT last_error FROM webhook_deliveries WHERE webhook = $1 \
                 AND delivered_at IS NULL AND last_error IS NOT NULL \
                 ORDER BY created_at DESC LIMIT 1",
                &[id],
            )
            .await?;
        let last_error = match last.first_mut() {
            Some(row) => row.opt_text("last_error")?,
            None => None,
        };
        let counts = DeliveryCounts {
            delivered: row.opt_int("delivered")?.unwrap_or(0),
            pending: row.opt_int("pending")?.unwrap_or(0),
            failed: row.opt_int("failed")?.unwrap_or(0),
            last_error,
        };
        out.push((hook, counts));
    }
    Ok(out)
}

/// Removes a webhook and the deliveries it is still owed.
pub async fn remove(tx: &mut Session, id: &str) -> Result<bool, StoreError> {
    let removed = tx
        .execute(
            "DELETE FROM webhooks WHERE id = $1",
            &[Value::Text(id.to_string())],
        )
        .await?;
    tx.execute(
        "DELETE FROM webhook_deliveries WHERE webhook = $1 AND delivered_at IS NULL",
        &[Value::Text(id.to_string())],
    )
    .await?;
    Ok(removed == 1)
}

/// Gives a webhook a new secret; the old one signs too until `until`.
pub async fn rotate(
    tx: &mut Session,
    id: &str,
    secret: &str,
    until: Timestamp,
) -> Result<bool, StoreError> {
    let changed = tx
        .execute(
            "UPDATE webhooks SET previous_secret = secret, previous_until = $1, secret = $2 \
             WHERE id = $3",
            &[
                Value::Int(until.0),
                Value::Text(secret.to_string()),
                Value::Text(id.to_string()),
            ],
        )
        .await?;
    Ok(changed == 1)
}

/// A new message id: `msg_` and a time-ordered UUID.
pub fn message_id() -> String {
    format!("msg_{}", Uuid::now_v7().simple())
}

/// Owes `body` to one webhook.
pub async fn enqueue(
    tx: &mut Session,
    webhook: &str,
    id: &str,
    event_type: &str,
    body: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO webhook_deliveries (id, webhook, event_type, body, created_at, attempts, \
         next_attempt_at, claimed_until, delivered_at, failed_at, last_error) \
         VALUES ($1, $2, $3, $4, $5, 0, $5, NULL, NULL, NULL, NULL)",
        &[
            Value::Text(id.to_string()),
            Value::Text(webhook.to_string()),
            Value::Text(event_type.to_string()),
            Value::Text(body.to_string()),
            Value::Int(at.0),
        ],
    )
    .await?;
    Ok(())
}

/// The event type of a threshold crossed.
pub const THRESHOLD_CROSSED: &str = "budget.threshold_crossed";

/// Owes each alert to every webhook that wants it (one message per pair,
/// each with its own id).
pub async fn enqueue_alerts(
    tx: &mut Session,
    alerts: &[BudgetAlert],
    at: Timestamp,
) -> Result<(), StoreError> {
    let hooks = all(tx).await?;
    for hook in hooks.iter().filter(|h| h.wants(THRESHOLD_CROSSED)) {
        for alert in alerts {
            let id = message_id();
            let body = alert.webhook_body(&id).to_string();
            enqueue(tx, &hook.id, &id, THRESHOLD_CROSSED, &body, at).await?;
        }
    }
    Ok(())
}

/// Claims up to `limit` due deliveries until `lease_until`. One statement,
/// so two senders never claim the same delivery: PostgreSQL re-checks the
/// claim on a row another sender changed meanwhile, SQLite writes one at a
/// time.
pub async fn claim(
    tx: &mut Session,
    now: Timestamp,
    lease_until: Timestamp,
    limit: i64,
) -> Result<Vec<Delivery>, StoreError> {
    let skip_locked = if matches!(tx, Session::Sqlite(_)) {
        ""
    } else {
        " FOR UPDATE SKIP LOCKED"
    };
    let sql = format!(
        "UPDATE webhook_deliveries SET claimed_until = $1 \
         WHERE id IN (SELECT id FROM webhook_deliveries \
             WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 \
             AND (claimed_until IS NULL OR claimed_until < $2) \
             ORDER BY next_attempt_at, id LIMIT $3{skip_locked}) \
         AND delivered_at IS NULL AND failed_at IS NULL \
         AND (claimed_until IS NULL OR claimed_until < $2) \
         RETURNING id, webhook, event_type, body, attempts, created_at"
    );
    let claimed = tx
        .query_map(
            &sql,
            &[
                Value::Int(lease_until.0),
                Value::Int(now.0),
                Value::Int(limit),
            ],
            |mut row| {
                Ok((
                    row.text("id")?,
                    row.text("webhook")?,
                    row.text("event_type")?,
                    row.text("body")?,
                    row.int("attempts")?,
                    Timestamp(row.int("created_at")?),
                ))
            },
        )
        .await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let hooks = all(tx).await?;
    let mut deliveries = Vec::with_capacity(claimed.len());
    for (id, webhook, event_type, body, attempts, created_at) in claimed {
        // A webhook removed meanwhile: its delivery is dropped with it.
        let Some(hook) = hooks.iter().find(|h| h.id == webhook) else {
            continue;
        };
        deliveries.push(Delivery {
            id,
            event_type,
            body,
            attempts,
            created_at,
            webhook: hook.clone(),
            lease_until,
        });
    }
    Ok(deliveries)
}

/// Records what an attempt did, if its sender still holds the claim.
pub async fn finish(
    tx: &mut Session,
    delivery: &Delivery,
    attempt: &Attempt,
    at: Timestamp,
) -> Result<(), StoreError> {
    let id = Value::Text(delivery.id.clone());
    let lease = Value::Int(delivery.lease_until.0);
    match attempt {
        Attempt::Delivered => {
            tx.execute(
                "UPDATE webhook_deliveries SET delivered_at = $1, attempts = attempts + 1, \
                 claimed_until = NULL, last_error = NULL WHERE id = $2 AND claimed_until = $3",
                &[Value::Int(at.0), id, lease],
            )
            .await?;
        }
        Attempt::Failed { error, retry_at } => {
            let (next, failed) = match retry_at {
                Some(next) => (Value::Int(next.0), Value::NullInt),
                None => (Value::Int(at.0), Value::Int(at.0)),
            };
            tx.execute(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, claimed_until = NULL, \
                 next_attempt_at = $1, failed_at = $2, last_error = $3 \
                 WHERE id = $4 AND claimed_until = $5",
                &[next, failed, Value::Text(error.clone()), id, lease],
            )
            .await?;
        }
    }
    Ok(())
}
