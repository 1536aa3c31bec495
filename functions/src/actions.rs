//! Taking an action on a ticket: staff through the staff app, the owner
//! through the status page. The lifecycle table in [`crate::workflow`]
//! decides what may happen; here it is checked against who is asking and
//! the version they saw, and written with its timeline event.

use crate::accounts::Staff;
use crate::desk::Desk;
use crate::outgoing::{self, Outgoing};
use crate::store::{Change, StoreError};
use crate::ticket::{self, Ticket};
use crate::workflow::{self, Who, WorkflowError};

/// Why an action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    /// No such ticket, or none this account may see: the same answer.
    #[error("there is no such ticket")]
    NotFound,
    #[error("{0}")]
    NotAllowed(String),
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// Someone changed the ticket since this person read it.
    #[error("这张工单已被{by}于{at}修改，请刷新后再操作")]
    Conflict {
        by: String,
        at: String,
        version: u64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How the owner appears on a ticket's timeline.
pub const OWNER: &str = "业主（在线）";

/// A write that lost a race shows the ticket as it is now.
enum Race {
    Changed(Box<Ticket>),
    Other(ActError),
}

impl Desk {
    /// A ticket as `staff` may see it, with its timeline.
    pub async fn ticket_for(&self, staff: &Staff, reference: &str) -> Result<Ticket, ActError> {
        match self.store.get(reference).await? {
            Some(ticket) if staff.role.may_see(&ticket) => Ok(ticket),
            _ => Err(ActError::NotFound),
        }
    }

    /// Takes `action` on a ticket for `staff`, who saw it at `seen_version`.
    pub async fn act(
        &self,
        staff: &Staff,
        reference: &str,
        action: &str,
        inputs: &[(String, String)],
        seen_version: u64,
    ) -> Result<Ticket, ActError> {
        let ticket = self.ticket_for(staff, reference).await?;
        let spec = workflow::spec(action).ok_or(ActError::NotFound)?;
        if !spec.for_staff(&staff.role) {
            return Err(ActError::NotAllowed(match spec.who {
                Who::Owner => format!("“{}”只能由业主在状态页上提交", spec.label),
                _ => format!("“{}”由客服中心办理，请联系客服中心", spec.label),
            }));
        }
        if ticket.version != seen_version {
            return Err(self.conflict(&ticket));
        }
        let accounts = if spec
            .inputs
            .iter()
            .any(|i| i.kind == workflow::InputKind::Staff)
        {
            self.store.list_staff().await?
        } else {
            Vec::new()
        };
        let actor = ticket::Actor {
            username: Some(staff.username.clone()),
            name: staff.name.clone(),
        };
        self.apply_and_record(&ticket, action, inputs, &actor, &accounts)
            .await
            .map_err(|e| match e {
                Race::Changed(now) => self.conflict(&now),
                Race::Other(e) => e,
            })
    }

    /// The owner's answer on the status page: accepted and rated, or not
    /// solved. `key` is the one in the page's address.
    pub async fn accept(
        &self,
        kind: &str,
        reference: &str,
        key: &str,
        inputs: &[(String, String)],
        seen_version: u64,
    ) -> Result<Ticket, ActError> {
        // Owners are never told who changed a ticket, only that it did.
        let stale = || {
            ActError::NotAllowed("这个页面已经过期：请刷新页面，看看最新进度后再提交。".to_owned())
        };
        let owner = ticket::Actor {
            username: None,
            name: OWNER.to_owned(),
        };
        let ticket = match self.store.get(reference).await? {
            Some(ticket) if ticket.kind == kind && ticket.opens_with(key) => ticket,
            Some(_) => return Err(ActError::NotFound),
            // A honeypot's decoy is refused as the new ticket it stands
            // for would be; nothing is stored either way.
            None => {
                let decoy = match self.forms.get(kind) {
                    Some(form) => crate::decoy::open(self, form, reference, key).await,
                    None => None,
                };
                let Some((decoy, _)) = decoy else {
                    return Err(ActError::NotFound);
                };
                if decoy.version != seen_version {
                    return Err(stale());
                }
                return self
                    .apply(&decoy, "accept", inputs, &owner, &[])
                    .map(|_| decoy);
            }
        };
        if ticket.version != seen_version {
            return Err(stale());
        }
        self.apply_and_record(&ticket, "accept", inputs, &owner, &[])
            .await
            .map_err(|e| match e {
                Race::Changed(_) => stale(),
                Race::Other(e) => e,
            })
    }

    /// Applies an action by the table and writes it, conditional on the
    /// version it was taken on.
    async fn apply_and_record(
        &self,
        ticket: &Ticket,
        action: &str,
        inputs: &[(String, String)],
        actor: &ticket::Actor,
        accounts: &[Staff],
    ) -> Result<Ticket, Race> {
        let (next, event) = self
            .apply(ticket, action, inputs, actor, accounts)
            .map_err(Race::Other)?;
        let owes_mail = next.mail != ticket.mail;
        let owed = self
            .owners_email(action, &next)
            .await
            .map_err(|e| Race::Other(e.into()))?;
        let change = Change {
            ticket: next,
            event,
            owes_mail,
            owed,
        };
        match self.store.record(&change).await {
            Ok(()) => {
                if (owes_mail || !change.owed.is_empty())
                    && let Some(stored) = &self.stored
                {
                    stored.notify_one();
                }
                Ok(change.ticket)
            }
            Err(StoreError::Conflict(_)) => match self.store.get(&ticket.reference).await {
                Ok(Some(now)) => Err(Race::Changed(Box::new(now))),
                Ok(None) => Err(Race::Other(ActError::NotFound)),
                Err(e) => Err(Race::Other(e.into())),
            },
            Err(StoreError::NotFound(_)) => Err(Race::Other(ActError::NotFound)),
            Err(e) => Err(Race::Other(e.into())),
        }
    }

    /// The ticket and event an action makes, by the workflow's table;
    /// nothing is written.
    fn apply(
        &self,
        ticket: &Ticket,
        action: &str,
        inputs: &[(String, String)],
        actor: &ticket::Actor,
        accounts: &[Staff],
    ) -> Result<(Ticket, ticket::Event), ActError> {
        let departments = |id: &str| self.forms.department(id).map(|d| d.name.clone());
        let known_staff = |username: &str| {
            accounts
                .iter()
                .any(|a| a.username == username && !a.disabled)
        };
        let context = workflow::Context {
            clock: self.clock,
            departments: &departments,
            staff: &known_staff,
        };
        workflow::apply(ticket, action, inputs, actor, &context).map_err(|e| match e {
            WorkflowError::NotAllowed { .. } => ActError::NotAllowed(e.to_string()),
            WorkflowError::Invalid { field, message } => ActError::Invalid { field, message },
            WorkflowError::UnknownAction(_) => ActError::NotFound,
        })
    }

    /// The owner's email an action owes (a booked visit, done work), with
    /// the hash of its link's key added first: if the change then loses a
    /// race, an unused hash is all that is left.
    async fn owners_email(
        &self,
        action: &str,
        after: &Ticket,
    ) -> Result<Vec<Outgoing>, StoreError> {
        let (key, hash) = Desk::new_status_key()?;
        let form = after.form(&self.forms);
        let Some(message) = outgoing::for_action(&form, after, action, self.clock.now(), &key)
        else {
            return Ok(Vec::new());
        };
        self.store.add_status_key(&after.reference, &hash).await?;
        Ok(vec![message])
    }

    fn conflict(&self, ticket: &Ticket) -> ActError {
        ActError::Conflict {
            by: ticket.updated_by.clone(),
            at: self.clock.display(ticket.updated_at),
            version: ticket.version,
        }
    }
}
