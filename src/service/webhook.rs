//! Webhooks: where budget alerts are delivered, signed per the Standard
//! Webhooks convention (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
//! with a `whsec_` secret). Deliveries come from the outbox in the ledger
//! (`store::webhooks`): any running `serve`, or `gencost webhook deliver`,
//! sends what is due, at least once, retrying with growing pauses for 24 h.

use crate::error::{Error, Result};
use crate::store::{message_id, Attempt, Delivery, DeliveryCounts, Store, Webhook};
use crate::timestamp::Timestamp;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

/// How long a claimed delivery is left to its sender before another may
/// send it (a sender killed mid-delivery): 30 s, or
/// `GENCOST_WEBHOOK_LEASE_SECONDS` (tests shorten it).
pub fn lease() -> Duration {
    let seconds = std::env::var("GENCOST_WEBHOOK_LEASE_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(30);
    Duration::from_secs(seconds)
}

/// How long a delivery is retried before it is given up.
pub const RETRY_FOR: Duration = Duration::from_secs(24 * 3600);

/// How long the secret before a rotation still signs.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);

/// Time allowed for one delivery, connection included.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Deliveries claimed at a time.
const CLAIM_BATCH: i64 = 20;

/// The pause after the `n`th failed attempt: 5 s, 30 s, 2 min, 10 min,
/// 30 min, then hourly up to 8 h between attempts.
pub fn backoff(attempts: i64) -> Duration {
    const STEPS: [u64; 9] = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800];
    let at = usize::try_from(attempts.max(1) - 1).unwrap_or(usize::MAX);
    Duration::from_secs(STEPS[at.min(STEPS.len() - 1)])
}

/// A new `whsec_` secret: 24 random bytes, base64.
pub fn new_secret() -> Result<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Io(format!("cannot draw a random secret: {e}")))?;
    Ok(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// `v1,<signature>` of one message under one secret.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|e| Error::Io(format!("the webhook secret is not base64: {e}")))?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key)
        .map_err(|e| Error::Io(format!("cannot use the webhook secret: {e}")))?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    Ok(format!("v1,{signature}"))
}

/// The `webhook-signature` header: the secret's signature, and the
/// previous secret's while a rotation overlaps.
pub fn signatures(
    hook: &Webhook,
    id: &str,
    timestamp: i64,
    body: &str,
    now: Timestamp,
) -> Result<String> {
    let mut all = vec![sign(&hook.secret, id, timestamp, body)?];
    if let (Some(previous), Some(until)) = (&hook.previous_secret, hook.previous_until) {
        if now < until {
            all.push(sign(previous, id, timestamp, body)?);
        }
    }
    Ok(all.join(" "))
}

/// Checks a URL a webhook is to be sent to: http(s) only, with a host.
/// Returns a warning for plain http beyond this machine.
pub fn check_url(url: &str) -> Result<Option<String>> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| Error::field("url", format!("'{url}' is not a URL: {e}")))?;
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Error::field("url", format!("'{url}' names no host")))?;
    match parsed.scheme() {
        "https" => Ok(None),
        "http" => {
            let loopback = host == "localhost"
                || host
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            Ok((!loopback).then(|| {
                format!(
                    "{url} is plain http beyond this machine: deliveries (and their signatures) \
                     travel unencrypted; prefer https"
                )
            }))
        }
        other => Err(Error::field(
            "url",
            format!("'{url}': only http and https URLs take webhooks, not {other}"),
        )),
    }
}

/// Event types a webhook may ask for: `budget.threshold_crossed`,
/// `budget.*`, or `*`.
fn check_events(events: &[String]) -> Result<()> {
    for pattern in events {
        let known = ["*", "budget.*", "budget.threshold_crossed"];
        if !known.contains(&pattern.as_str()) {
            return Err(Error::field(
                "events",
                format!(
                    "'{pattern}' is not an event type: use budget.threshold_crossed, budget.* or *"
                ),
            ));
        }
    }
    Ok(())
}

/// A webhook as listed: never its secret.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WebhookJson {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: String,
    pub delivered: i64,
    pub pending: i64,
    /// Deliveries given up after 24 h of failed attempts.
    pub failed: i64,
    pub last_error: Option<String>,
}

fn json(hook: &Webhook, counts: &DeliveryCounts) -> WebhookJson {
    WebhookJson {
        id: hook.id.clone(),
        url: hook.url.clone(),
        events: hook.events.clone(),
        created_at: hook.created_at.to_string(),
        delivered: counts.delivered,
        pending: counts.pending,
        failed: counts.failed,
        last_error: counts.last_error.clone(),
    }
}

/// A webhook made: its secret is shown this once.
pub struct Added {
    pub webhook: Webhook,
    pub warning: Option<String>,
}

pub async fn add<S: Store>(store: &S, url: &str, events: Vec<String>) -> Result<Added> {
    let warning = check_url(url)?;
    let events = if events.is_empty() {
        vec!["budget.*".to_string()]
    } else {
        events
    };
    check_events(&events)?;
    let webhook = Webhook {
        id: format!("wh_{}", &uuid::Uuid::now_v7().simple().to_string()[20..]),
        url: url.trim().to_string(),
        events,
        secret: new_secret()?,
        previous_secret: None,
        previous_until: None,
        created_at: Timestamp::now(),
    };
    store.add_webhook(&webhook).await?;
    Ok(Added { webhook, warning })
}

pub async fn list<S: Store>(store: &S) -> Result<Vec<WebhookJson>> {
    Ok(store
        .webhooks()
        .await?
        .iter()
        .map(|(hook, counts)| json(hook, counts))
        .collect())
}

pub async fn remove<S: Store>(store: &S, id: &str) -> Result<()> {
    if !store.remove_webhook(id).await? {
        return Err(Error::NotFound(format!("no webhook with id {id}")));
    }
    Ok(())
}

/// A new secret (shown once); the old one signs too for 24 h.
pub async fn rotate<S: Store>(store: &S, id: &str) -> Result<String> {
    let secret = new_secret()?;
    let until = Timestamp::now().plus(ROTATION_OVERLAP);
    if !store.rotate_webhook(id, &secret, until).await? {
        return Err(Error::NotFound(format!("no webhook with id {id}")));
    }
    Ok(secret)
}

/// Sends a `webhook.test` message to one webhook now (not through the
/// outbox) and says what its receiver answered.
pub async fn test<S: Store>(store: &S, id: &str) -> Result<String> {
    let hook = store
        .webhooks()
        .await?
        .into_iter()
        .map(|(hook, _)| hook)
        .find(|h| h.id == id)
        .ok_or_else(|| Error::NotFound(format!("no webhook with id {id}")))?;
    let message = message_id();
    let body = serde_json::json!({ "type": "webhook.test", "id": message, "webhook": hook.id })
        .to_string();
    let delivery = Delivery {
        id: message,
        event_type: "webhook.test".into(),
        body,
        attempts: 0,
        created_at: Timestamp::now(),
        webhook: hook,
        lease_until: Timestamp::now(),
    };
    match send(&client()?, &delivery).await {
        Ok(status) => Ok(format!("{} answered HTTP {status}", delivery.webhook.url)),
        Err(why) => Err(Error::Io(format!("{}: {why}", delivery.webhook.url))),
    }
}

fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("gencost/", env!("CARGO_PKG_VERSION")))
        .timeout(DELIVERY_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .tls_backend_preconfigured(crate::http::tls_config()?)
        .build()
        .map_err(|e| Error::Io(format!("cannot set up the HTTP client: {e}")))
}

/// One attempt: the receiver's status when it is 2xx, else why not.
async fn send(client: &reqwest::Client, delivery: &Delivery) -> std::result::Result<u16, String> {
    let now = Timestamp::now();
    let timestamp = now.0.div_euclid(1_000_000);
    let signature = signatures(
        &delivery.webhook,
        &delivery.id,
        timestamp,
        &delivery.body,
        now,
    )
    .map_err(|e| e.to_string())?;
    let answer = client
        .post(&delivery.webhook.url)
        .header("content-type", "application/json")
        .header("webhook-id", &delivery.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.body.clone())
        .send()
        .await
        .map_err(crate::http::describe)?;
    let status = answer.status();
    if status.is_success() {
        Ok(status.as_u16())
    } else {
        Err(format!("the receiver answered HTTP {status}"))
    }
}

/// What one round of deliveries did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Delivered {
    pub delivered: i64,
    pub retrying: i64,
    pub given_up: i64,
}

/// Sends every delivery due now, claiming them a batch at a time, until
/// none is left due.
pub async fn deliver_due<S: Store>(store: &S) -> Result<Delivered> {
    let client = client()?;
    let mut done = Delivered::default();
    loop {
        let now = Timestamp::now();
        let claimed = store
            .claim_deliveries(now, now.plus(lease()), CLAIM_BATCH)
            .await?;
        if claimed.is_empty() {
            return Ok(done);
        }
        let sends = claimed.iter().map(|d| send(&client, d));
        let results = futures_util::future::join_all(sends).await;
        for (delivery, result) in claimed.iter().zip(results) {
            let now = Timestamp::now();
            let attempt = match result {
                Ok(_) => {
                    done.delivered += 1;
                    Attempt::Delivered
                }
                Err(error) => {
                    let next = now.plus(backoff(delivery.attempts + 1));
                    let give_up = next.0 - delivery.created_at.0 > RETRY_FOR.as_micros() as i64;
                    if give_up {
                        done.given_up += 1;
                    } else {
                        done.retrying += 1;
                    }
                    Attempt::Failed {
                        error,
                        retry_at: (!give_up).then_some(next),
                    }
                }
            };
            store.finish_delivery(delivery, &attempt, now).await?;
        }
    }
}

/// Delivers what is due every second, for as long as the server runs.
pub async fn run_deliveries<S: Store + 'static>(store: std::sync::Arc<S>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = deliver_due(&*store).await {
            eprintln!("gencost: webhook deliveries: {e}");
        }
    }
}
