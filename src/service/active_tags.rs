//! Active tags: the client, project and deliverable that logging applies
//! when a log names none. They belong to one user on one machine (the
//! config directory), not to a shared ledger: each editor works on their
//! own project.

use super::limits;
use crate::config;
use crate::error::Result;
use crate::ledger::tags::{fold, normalize};
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

/// The tags a log is made with: a field the log leaves out comes from the
/// active tags, but only within the same context: a log that names
/// another client takes no active project or deliverable (that project
/// belongs to the other client), and one that names another project takes
/// no active deliverable.
pub fn for_log(given: Tags) -> Result<Tags> {
    Ok(fill_from(given, config::load_active_tags()?))
}

fn fill_from(given: Tags, active: Tags) -> Tags {
    let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => fold(a) == fold(b),
        _ => true,
    };
    let same_client = same(&given.client, &active.client);
    let same_project = same_client && same(&given.project, &active.project);
    Tags {
        client: given.client.or(active.client),
        project: given.project.or(active.project.filter(|_| same_client)),
        deliverable: given
            .deliverable
            .or(active.deliverable.filter(|_| same_project)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(client: Option<&str>, project: Option<&str>, deliverable: Option<&str>) -> Tags {
        Tags {
            client: client.map(String::from),
            project: project.map(String::from),
            deliverable: deliverable.map(String::from),
        }
    }

    #[test]
    fn active_tags_fill_only_the_same_context() {
        let active = tags(Some("Acme"), Some("Summer Spot"), Some("Hero Film"));
        let filled = |given| fill_from(given, active.clone());
        assert_eq!(filled(tags(None, None, None)), active);
        assert_eq!(
            filled(tags(Some("acme"), None, None)),
            tags(Some("acme"), Some("Summer Spot"), Some("Hero Film"))
        );
        assert_eq!(
            filled(tags(Some("Globex"), None, None)),
            tags(Some("Globex"), None, None)
        );
        assert_eq!(
            filled(tags(None, Some("Winter"), None)),
            tags(Some("Acme"), Some("Winter"), None)
        );
        assert_eq!(
            filled(tags(None, None, Some("Teaser"))),
            tags(Some("Acme"), Some("Summer Spot"), Some("Teaser"))
        );
    }
}
