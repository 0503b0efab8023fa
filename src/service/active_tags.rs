//! Active tags: the client, project and deliverable that logging applies
//! when a log names none. They belong to one user on one machine (the
//! config directory), not to a shared ledger: each editor works on their
//! own project.

use super::limits;
use crate::config;
use crate::error::Result;
use crate::ledger::tags::normalize;
use crate::ledger::Tags;

/// A change to the active tags: each `Some` sets its field (an empty or
/// blank value clears it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagChange {
    pub client: Option<String>,
    pub project: Option<String>,
    pub deliverable: Option<String>,
}

pub fn active() -> Result<Tags> {
    config::load_active_tags()
}

/// Applies a change. A new client starts a new context: project and
/// deliverable are cleared unless the change gives them, so the next logs
/// never bill one client for another's project; a new project likewise
/// clears the deliverable.
pub fn change(change: TagChange) -> Result<Tags> {
    let mut tags = config::load_active_tags()?;
    let TagChange {
        client,
        project,
        deliverable,
    } = change;
    for (field, value) in [
        ("client", &client),
        ("project", &project),
        ("deliverable", &deliverable),
    ] {
        if let Some(value) = value {
            limits::name(field, value)?;
        }
    }
    if let Some(client) = client {
        let client = normalize(&client);
        if client != tags.client {
            tags.project = None;
            tags.deliverable = None;
        }
        tags.client = client;
    }
    if let Some(project) = project {
        let project = normalize(&project);
        if project != tags.project {
            tags.deliverable = None;
        }
        tags.project = project;
    }
    if let Some(deliverable) = deliverable {
        tags.deliverable = normalize(&deliverable);
    }
    config::save_active_tags(&tags)?;
    Ok(tags)
}

pub fn clear() -> Result<Tags> {
    let tags = Tags::default();
    config::save_active_tags(&tags)?;
    Ok(tags)
}

/// The tags a log is made with: each tag the log gives overrides only its
/// own field; the others come from the active tags.
pub fn for_log(given: Tags) -> Result<Tags> {
    let active = config::load_active_tags()?;
    Ok(Tags {
        client: given.client.or(active.client),
        project: given.project.or(active.project),
        deliverable: given.deliverable.or(active.deliverable),
    })
}
