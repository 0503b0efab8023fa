//! `webhook add|list|rm|test|rotate|deliver`: where budget alerts are
//! delivered, signed per Standard Webhooks (see `service::webhook`).

use super::{write_json, write_text, Exit, Out};
use crate::error::Result;
use crate::service::webhook as service;
use crate::store::Store;
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum WebhookCommand {
    /// Deliver alerts to a URL; prints its signing secret (shown once)
    Add(AddArgs),
    /// Every webhook, with its delivered, pending and failed deliveries
    List(JsonArgs),
    /// Remove a webhook and what it is still owed
    Rm(IdArgs),
    /// Send a signed test message now and show what the receiver answered
    Test(IdArgs),
    /// A new signing secret (shown once); the old one signs too for 24 h
    Rotate(IdArgs),
    /// Send the deliveries due now (for a ledger no `gencost serve` runs on)
    Deliver(JsonArgs),
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// An http(s) URL
    url: String,
    /// Event types: budget.threshold_crossed, budget.* or * (repeat or
    /// separate with commas) [default: budget.*]
    #[arg(long, value_delimiter = ',')]
    events: Vec<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct JsonArgs {
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct IdArgs {
    /// The webhook's id (wh_…, from webhook list)
    id: String,
    #[arg(long)]
    json: bool,
}

pub async fn run<S: Store>(store: &S, command: WebhookCommand, out: Out<'_>) -> Result<Exit> {
    match command {
        WebhookCommand::Add(args) => {
            let added = service::add(store, &args.url, args.events).await?;
            if let Some(warning) = &added.warning {
                eprintln!("warning: {warning}");
            }
            eprintln!(
                "the secret is shown this once; it is kept in the ledger (so backups and db copy carry it)"
            );
            let hook = &added.webhook;
            if args.json {
                return write_json(
                    out,
                    &serde_json::json!({
                        "id": hook.id, "url": hook.url, "events": hook.events, "secret": hook.secret,
                    }),
                );
            }
            write_text(
                out,
                &format!(
                    "webhook {}\nurl      {}\nevents   {}\nsecret   {}\n",
                    hook.id,
                    hook.url,
                    hook.events.join(", "),
                    hook.secret
                ),
            )
        }
        WebhookCommand::List(args) => {
            let hooks = service::list(store).await?;
            if args.json {
                return write_json(out, &hooks);
            }
            if hooks.is_empty() {
                return write_text(out, "no webhooks; add one with gencost webhook add URL\n");
            }
            let text: String = hooks
                .iter()
                .map(|h| {
                    let error = h
                        .last_error
                        .as_ref()
                        .map(|e| format!("\n    last error: {e}"))
                        .unwrap_or_default();
                    format!(
                        "{}  {}  {}: {} delivered, {} pending, {} failed{}\n",
                        h.id,
                        h.url,
                        h.events.join(","),
                        h.delivered,
                        h.pending,
                        h.failed,
                        error
                    )
                })
                .collect();
            write_text(out, &text)
        }
        WebhookCommand::Rm(args) => {
            service::remove(store, &args.id).await?;
            if args.json {
                return write_json(out, &serde_json::json!({ "removed": args.id }));
            }
            write_text(out, &format!("removed webhook {}\n", args.id))
        }
        WebhookCommand::Test(args) => {
            let answer = service::test(store, &args.id).await?;
            if args.json {
                return write_json(out, &serde_json::json!({ "answer": answer }));
            }
            write_text(out, &format!("{answer}\n"))
        }
        WebhookCommand::Rotate(args) => {
            let secret = service::rotate(store, &args.id).await?;
            eprintln!("the new secret is shown this once; the old one also signs for 24 h");
            if args.json {
                return write_json(out, &serde_json::json!({ "id": args.id, "secret": secret }));
            }
            write_text(out, &format!("{secret}\n"))
        }
        WebhookCommand::Deliver(args) => {
            let done = service::deliver_due(store).await?;
            if args.json {
                return write_json(out, &done);
            }
            write_text(
                out,
                &format!(
                    "{} delivered, {} to be retried, {} given up\n",
                    done.delivered, done.retrying, done.given_up
                ),
            )
        }
    }
}
