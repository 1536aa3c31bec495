//! The ticket lifecycle, said once: which action is allowed from which
//! state, who may take it, what it asks for, and what it changes. Both
//! stores, the staff app and `desk-admin` use this table; nothing else
//! decides a transition.
//!
//! ```text
//! received → dispatched → scheduled → in progress → done → followed up → closed
//!                 ↘ on hold (挂起) ↗          reopened ↖ (not satisfied)
//! cancelled: a duplicate or withdrawn, from any open state
//! ```

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Serialize;

use crate::ticket::{Actor, Event, FollowUp, MailPurpose, MailState, Status, Ticket};
use crate::time::Clock;

/// Who may take an action on a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    /// The desk and the manager.
    Desk,
    /// Also the department the ticket is with.
    Handler,
    /// The owner, on the status page; never staff.
    Owner,
}

/// What an action's small form asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    Text,
    Textarea,
    /// A local date and time (`datetime-local`), in estate time.
    DateTime,
    /// One of the departments in `departments.yaml`.
    Department,
    /// A staff account's username, or empty.
    Staff,
    /// 1 to 5.
    Rating,
    /// `yes` or `no`.
    YesNo,
    Checkbox,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Input {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: InputKind,
    pub required: bool,
}

const fn input(name: &'static str, label: &'static str, kind: InputKind, required: bool) -> Input {
    Input {
        name,
        label,
        kind,
        required,
    }
}

/// One row of the lifecycle table.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ActionSpec {
    pub id: &'static str,
    /// The button's words.
    pub label: &'static str,
    #[serde(skip)]
    pub from: &'static [Status],
    pub who: Who,
    pub inputs: &'static [Input],
}

use InputKind as K;
use Status as S;

const NOTE: Input = input("note", "说明", K::Textarea, false);

/// The lifecycle table. The order is the order the ticket page offers them.
pub const ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        id: "dispatch",
        label: "派单",
        from: &[
            S::Received,
            S::Reopened,
            S::Dispatched,
            S::Scheduled,
            S::OnHold,
        ],
        who: Who::Desk,
        inputs: &[
            input("department", "派给部门", K::Department, true),
            input("assignee", "指定人员（选填）", K::Staff, false),
            NOTE,
        ],
    },
    ActionSpec {
        id: "schedule",
        label: "预约上门",
        from: &[S::Dispatched, S::Scheduled, S::OnHold],
        who: Who::Handler,
        inputs: &[
            input("visit_at", "与业主约定的上门时间", K::DateTime, true),
            NOTE,
        ],
    },
    ActionSpec {
        id: "start",
        label: "开始处理",
        from: &[S::Dispatched, S::Scheduled, S::OnHold],
        who: Who::Handler,
        inputs: &[NOTE],
    },
    ActionSpec {
        id: "hold",
        label: "挂起",
        from: &[S::Dispatched, S::Scheduled, S::InProgress],
        who: Who::Handler,
        inputs: &[input("reason", "挂起原因（如等待配件）", K::Textarea, true)],
    },
    ActionSpec {
        id: "complete",
        label: "完工，请业主验收",
        from: &[S::Dispatched, S::Scheduled, S::InProgress],
        who: Who::Handler,
        inputs: &[input("note", "处理结果", K::Textarea, true)],
    },
    ActionSpec {
        id: "follow_up",
        label: "记录回访",
        from: &[S::Done],
        who: Who::Desk,
        inputs: &[
            input("reached", "是否联系上业主", K::YesNo, true),
            input("satisfaction", "满意度（1–5）", K::Rating, false),
            input("comment", "业主意见", K::Textarea, false),
            input("reopen", "业主不满意，重新处理", K::Checkbox, false),
        ],
    },
    ActionSpec {
        id: "accept",
        label: "验收评价",
        from: &[S::Done],
        who: Who::Owner,
        inputs: &[
            input("solved", "问题解决了吗", K::YesNo, true),
            input("satisfaction", "您对这次处理满意吗（1–5）", K::Rating, true),
            input("comment", "还想告诉我们的（选填）", K::Textarea, false),
        ],
    },
    ActionSpec {
        id: "close",
        label: "关闭",
        from: &[S::FollowedUp],
        who: Who::Desk,
        inputs: &[NOTE],
    },
    ActionSpec {
        id: "reopen",
        label: "重新处理",
        from: &[S::Done, S::FollowedUp, S::Closed],
        who: Who::Desk,
        inputs: &[input("reason", "原因", K::Textarea, true)],
    },
    ActionSpec {
        id: "cancel",
        label: "取消",
        from: &[
            S::Received,
            S::Dispatched,
            S::Scheduled,
            S::OnHold,
            S::Reopened,
        ],
        who: Who::Desk,
        inputs: &[input(
            "reason",
            "原因（重复提交、业主撤回……）",
            K::Textarea,
            true,
        )],
    },
    ActionSpec {
        id: "mark_serious",
        label: "标记为严重，报物业经理",
        from: &[
            S::Received,
            S::Dispatched,
            S::Scheduled,
            S::InProgress,
            S::OnHold,
            S::Reopened,
            S::Done,
        ],
        who: Who::Handler,
        inputs: &[input("note", "原因", K::Textarea, true)],
    },
    ActionSpec {
        id: "change_due",
        label: "调整时限",
        from: &[
            S::Received,
            S::Dispatched,
            S::Scheduled,
            S::InProgress,
            S::OnHold,
            S::Reopened,
        ],
        who: Who::Desk,
        inputs: &[
            input("due_at", "新的截止时间", K::DateTime, true),
            input("reason", "原因", K::Textarea, true),
        ],
    },
    ActionSpec {
        id: "call",
        label: "记录致电业主",
        from: &Status::ALL,
        who: Who::Handler,
        inputs: &[input("note", "通话内容", K::Textarea, true)],
    },
    ActionSpec {
        id: "note",
        label: "添加备注",
        from: &Status::ALL,
        who: Who::Handler,
        inputs: &[input("note", "备注", K::Textarea, true)],
    },
];

impl ActionSpec {
    /// Whether a staff member with `role` may take it (on a ticket their
    /// role lets them see).
    pub fn for_staff(&self, role: &crate::accounts::Role) -> bool {
        match self.who {
            Who::Handler => true,
            Who::Desk => role.is_desk(),
            Who::Owner => false,
        }
    }
}

pub fn spec(id: &str) -> Option<&'static ActionSpec> {
    ACTIONS.iter().find(|a| a.id == id)
}

/// The actions allowed on a ticket in `status`, in table order.
pub fn allowed(status: Status) -> impl Iterator<Item = &'static ActionSpec> {
    ACTIONS.iter().filter(move |a| a.from.contains(&status))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("there is no action `{0}`")]
    UnknownAction(String),
    /// The action is not allowed from the ticket's state.
    #[error("“{action}”不能用于状态为“{status}”的工单")]
    NotAllowed {
        action: &'static str,
        status: &'static str,
    },
    /// One of the action's inputs is missing or wrong.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

/// An action's inputs as submitted: (name, value) pairs.
pub type Inputs<'a> = &'a [(String, String)];

/// What the checks on the inputs need to know of the estate.
pub struct Context<'a> {
    pub clock: Clock,
    pub departments: &'a dyn Fn(&str) -> Option<String>,
    /// Whether `username` is an active staff account.
    pub staff: &'a dyn Fn(&str) -> bool,
}

/// Applies `action_id` to `ticket` as `actor` at `now`: the changed ticket
/// (its version one more) and the timeline event to append with it.
pub fn apply(
    ticket: &Ticket,
    action_id: &str,
    inputs: Inputs<'_>,
    actor: &Actor,
    context: &Context<'_>,
) -> Result<(Ticket, Event), WorkflowError> {
    let spec = spec(action_id).ok_or_else(|| WorkflowError::UnknownAction(action_id.to_owned()))?;
    if !spec.from.contains(&ticket.status) {
        return Err(WorkflowError::NotAllowed {
            action: spec.label,
            status: ticket.status.staff_label(),
        });
    }
    let values = read_inputs(spec, inputs, context)?;
    let value = |name: &str| {
        values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let now = context.clock.now();
    let mut next = ticket.clone();
    let mut details: Vec<(String, String)> = Vec::new();
    let mut note = value("note").to_owned();
    let to = match spec.id {
        "dispatch" => {
            let department = value("department").to_owned();
            let assignee = Some(value("assignee").to_owned()).filter(|a| !a.is_empty());
            details.push(("department".into(), department.clone()));
            if let Some(a) = &assignee {
                details.push(("assignee".into(), a.clone()));
            }
            next.department = department;
            next.assignee = assignee;
            S::Dispatched
        }
        "schedule" => {
            let visit = parse_local(&context.clock, value("visit_at"), "visit_at")?;
            details.push(("visit_at".into(), crate::store::timestamp(visit)));
            next.visit_at = Some(visit);
            S::Scheduled
        }
        "start" => S::InProgress,
        "hold" => {
            note = value("reason").to_owned();
            S::OnHold
        }
        "complete" => {
            next.done_at = Some(now);
            S::Done
        }
        "follow_up" => {
            let reached = value("reached") == "yes";
            let satisfaction = match value("satisfaction") {
                "" if reached => {
                    return Err(invalid("satisfaction", "联系上业主时，请记录满意度（1–5）"));
                }
                "" => None,
                text => Some(
                    text.parse::<u8>()
                        .ok()
                        .filter(|n| (1..=5).contains(n))
                        .ok_or_else(|| invalid("satisfaction", "满意度请填 1 到 5"))?,
                ),
            };
            let reopen = value("reopen") == "on";
            note = value("comment").to_owned();
            details.push(("reached".into(), if reached { "yes" } else { "no" }.into()));
            if let Some(n) = satisfaction {
                details.push(("satisfaction".into(), n.to_string()));
            }
            next.follow_up = Some(FollowUp {
                at: now,
                reached,
                satisfaction,
                comment: note.clone(),
                reopened: reopen,
            });
            if reopen {
                details.push(("reopen".into(), "yes".into()));
                reopen_for_the_owner(ticket, &mut next, now);
                S::Reopened
            } else if reached {
                S::FollowedUp
            } else {
                // Not reached: the attempt is on the timeline, the ticket
                // still waits for its 回访.
                S::Done
            }
        }
        "accept" => {
            let solved = value("solved") == "yes";
            let satisfaction = value("satisfaction")
                .parse::<u8>()
                .ok()
                .filter(|n| (1..=5).contains(n))
                .ok_or_else(|| invalid("satisfaction", "请选择 1 到 5 分"))?;
            // Not solved, or unhappy with it: back to the desk, and the
            // manager is told.
            let reopen = !solved || satisfaction <= UNHAPPY;
            note = value("comment").to_owned();
            details.push(("solved".into(), if solved { "yes" } else { "no" }.into()));
            details.push(("satisfaction".into(), satisfaction.to_string()));
            next.follow_up = Some(FollowUp {
                at: now,
                reached: true,
                satisfaction: Some(satisfaction),
                comment: note.clone(),
                reopened: reopen,
            });
            if reopen {
                reopen_for_the_owner(ticket, &mut next, now);
                S::Reopened
            } else {
                S::FollowedUp
            }
        }
        "close" => S::Closed,
        "reopen" => {
            note = value("reason").to_owned();
            next.reopen_count += 1;
            S::Reopened
        }
        "cancel" => {
            note = value("reason").to_owned();
            S::Cancelled
        }
        "mark_serious" => {
            if ticket.serious {
                return Err(invalid("note", "这张工单已经标记为严重"));
            }
            next.serious = true;
            // A new ticket's email still owed will name the manager by
            // itself; one already sent needs an alert of its own.
            if ticket.mail.sent {
                next.mail = MailState::owed(now, MailPurpose::Serious);
            }
            ticket.status
        }
        "change_due" => {
            let due = parse_local(&context.clock, value("due_at"), "due_at")?;
            details.push(("due_at".into(), crate::store::timestamp(due)));
            next.due_at = due;
            note = value("reason").to_owned();
            ticket.status
        }
        _ => ticket.status,
    };
    next.status = to;
    next.version = ticket.version + 1;
    next.updated_at = now;
    next.updated_by = actor.name.clone();
    let event = Event {
        seq: ticket.next_seq(),
        at: now,
        actor: actor.clone(),
        action: spec.id.to_owned(),
        from: ticket.status,
        to,
        note,
        details,
    };
    next.timeline.push(event.clone());
    Ok((next, event))
}

/// A rating at or below this reopens the ticket.
pub const UNHAPPY: u8 = 2;

/// The owner is not satisfied: the ticket goes back to the desk's new
/// queue (reopened tickets lead it) and the manager gets an alert.
fn reopen_for_the_owner(ticket: &Ticket, next: &mut Ticket, now: DateTime<Utc>) {
    next.reopen_count += 1;
    // A first email still owed names the ticket's state as it is then.
    if ticket.mail.sent {
        next.mail = MailState::owed(now, MailPurpose::Reopened);
    }
}

fn invalid(field: &'static str, message: &str) -> WorkflowError {
    WorkflowError::Invalid {
        field,
        message: message.to_owned(),
    }
}

/// Checks each input of `spec`: required ones present, each of its kind.
/// Returns them trimmed; anything the action does not ask for is dropped.
fn read_inputs(
    spec: &ActionSpec,
    inputs: Inputs<'_>,
    context: &Context<'_>,
) -> Result<Vec<(&'static str, String)>, WorkflowError> {
    let mut values = Vec::new();
    for field in spec.inputs {
        let raw = inputs
            .iter()
            .find(|(n, _)| n == field.name)
            .map(|(_, v)| v.trim())
            .unwrap_or("");
        if raw.is_empty() {
            if field.required {
                return Err(WorkflowError::Invalid {
                    field: field.name,
                    message: format!("请填写“{}”", field.label),
                });
            }
            values.push((field.name, String::new()));
            continue;
        }
        if raw.chars().count() > 2000 {
            return Err(WorkflowError::Invalid {
                field: field.name,
                message: format!("“{}”最多 2000 个字", field.label),
            });
        }
        let ok = match field.kind {
            K::Department => (context.departments)(raw).is_some(),
            K::Staff => (context.staff)(raw),
            K::YesNo => raw == "yes" || raw == "no",
            K::Checkbox => raw == "on",
            K::Text | K::Textarea | K::DateTime | K::Rating => true,
        };
        if !ok {
            return Err(WorkflowError::Invalid {
                field: field.name,
                message: format!("“{}”的值无效，请重新选择", field.label),
            });
        }
        values.push((field.name, raw.to_owned()));
    }
    Ok(values)
}

/// `2026-11-24T09:30` (a `datetime-local` value) in estate time.
pub fn parse_local(
    clock: &Clock,
    text: &str,
    field: &'static str,
) -> Result<DateTime<Utc>, WorkflowError> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .map_err(|_| invalid(field, "请填写日期和时间，例如 2026-11-24 09:30"))?;
    clock
        .offset()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| invalid(field, "这个时间不存在，请重新填写"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn clock() -> Clock {
        Clock::pinned(
            FixedOffset::east_opt(8 * 3600).unwrap(),
            DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        )
    }

    fn ticket(status: Status) -> Ticket {
        let now = clock().now();
        Ticket {
            reference: "BX-20261123-AAAAAA".into(),
            kind: "repair".into(),
            fields: vec![],
            received_at: now,
            status,
            urgency: "ordinary".into(),
            category: Some("plumbing".into()),
            department: "engineering".into(),
            assignee: None,
            serious: false,
            due_at: now,
            visit_at: None,
            done_at: None,
            follow_up: None,
            reopen_count: 0,
            version: 3,
            updated_at: now,
            updated_by: "系统".into(),
            mail: MailState::owed(now, MailPurpose::New),
            status_keys: vec![],
            snapshot: None,
            timeline: vec![],
        }
    }

    fn run(status: Status, action: &str, inputs: &[(&str, &str)]) -> Result<Ticket, WorkflowError> {
        let pairs: Vec<(String, String)> = inputs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let context = Context {
            clock: clock(),
            departments: &|id| (id == "engineering").then(|| "工程部".to_owned()),
            staff: &|u| u == "li",
        };
        let actor = Actor {
            username: Some("wang".into()),
            name: "王客服".into(),
        };
        apply(&ticket(status), action, &pairs, &actor, &context).map(|(t, _)| t)
    }

    #[test]
    fn every_action_names_states_and_known_inputs() {
        for action in ACTIONS {
            assert!(!action.from.is_empty(), "{}", action.id);
        }
        // The whole road, in order.
        let t = run(
            S::Received,
            "dispatch",
            &[("department", "engineering"), ("assignee", "li")],
        )
        .unwrap();
        assert_eq!(
            (t.status, t.assignee.as_deref(), t.version),
            (S::Dispatched, Some("li"), 4)
        );
        let t = run(
            S::Dispatched,
            "schedule",
            &[("visit_at", "2026-11-24T09:30")],
        )
        .unwrap();
        assert_eq!(
            t.visit_at.map(|v| v.to_rfc3339()),
            Some("2026-11-24T01:30:00+00:00".into())
        );
        assert_eq!(
            run(S::Scheduled, "start", &[]).unwrap().status,
            S::InProgress
        );
        assert_eq!(
            run(S::InProgress, "hold", &[("reason", "等配件")])
                .unwrap()
                .status,
            S::OnHold
        );
        assert_eq!(
            run(S::InProgress, "complete", &[("note", "已更换阀门")])
                .unwrap()
                .status,
            S::Done
        );
        let t = run(
            S::Done,
            "follow_up",
            &[("reached", "yes"), ("satisfaction", "5")],
        )
        .unwrap();
        assert_eq!(
            (t.status, t.follow_up.unwrap().satisfaction),
            (S::FollowedUp, Some(5))
        );
        assert_eq!(run(S::FollowedUp, "close", &[]).unwrap().status, S::Closed);
    }

    #[test]
    fn refusals_say_why() {
        assert!(matches!(
            run(S::Closed, "complete", &[("note", "x")]),
            Err(WorkflowError::NotAllowed { .. })
        ));
        assert!(matches!(
            run(S::Received, "dispatch", &[("department", "nowhere")]),
            Err(WorkflowError::Invalid {
                field: "department",
                ..
            })
        ));
        assert!(matches!(
            run(
                S::Received,
                "dispatch",
                &[("department", "engineering"), ("assignee", "ghost")]
            ),
            Err(WorkflowError::Invalid {
                field: "assignee",
                ..
            })
        ));
        assert!(matches!(
            run(S::InProgress, "hold", &[]),
            Err(WorkflowError::Invalid {
                field: "reason",
                ..
            })
        ));
        assert!(matches!(
            run(
                S::Done,
                "follow_up",
                &[("reached", "yes"), ("satisfaction", "9")]
            ),
            Err(WorkflowError::Invalid {
                field: "satisfaction",
                ..
            })
        ));
    }

    #[test]
    fn the_owners_answer_closes_the_loop_or_reopens_it() {
        let t = run(
            S::Done,
            "accept",
            &[("solved", "yes"), ("satisfaction", "4")],
        )
        .unwrap();
        assert_eq!(t.status, S::FollowedUp);
        assert_eq!(
            t.follow_up.map(|f| (f.reached, f.satisfaction)),
            Some((true, Some(4)))
        );
        for answer in [
            [("solved", "no"), ("satisfaction", "4")],
            [("solved", "yes"), ("satisfaction", "2")],
        ] {
            let t = run(S::Done, "accept", &answer).unwrap();
            assert_eq!((t.status, t.reopen_count), (S::Reopened, 1), "{answer:?}");
        }
        assert!(
            run(
                S::InProgress,
                "accept",
                &[("solved", "yes"), ("satisfaction", "5")]
            )
            .is_err()
        );
        assert!(
            run(S::Done, "accept", &[("solved", "yes")]).is_err(),
            "a rating is needed"
        );
    }

    #[test]
    fn an_unhappy_owner_reopens_and_an_unreached_one_still_waits() {
        let t = run(
            S::Done,
            "follow_up",
            &[("reached", "yes"), ("satisfaction", "2"), ("reopen", "on")],
        )
        .unwrap();
        assert_eq!((t.status, t.reopen_count), (S::Reopened, 1));
        let t = run(S::Done, "follow_up", &[("reached", "no")]).unwrap();
        assert_eq!(t.status, S::Done);
        assert_eq!(t.timeline.len(), 1, "the attempt is on the timeline");
    }
}
