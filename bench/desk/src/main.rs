//! The request desk's staff app on a large SQLite store: queue pages,
//! a ticket page with a long timeline, and the monthly and yearly reports,
//! timed through the real router as a signed-in browser calls it.
//!
//! Run through `bench/desk.sh` (release build). It prints figures, their
//! targets and whether each was met; it never fails on a missed target.
//! See bench/README.md.
//!
//! The store is filled through the real code paths: each ticket is
//! validated against its form and filed with `Desk::file`, then worked
//! with `workflow::apply` and written with `store.record`, one change at a
//! time, each at its own time in the past (a pinned clock). The fill runs
//! on tmpfs (`/dev/shm`) when there is one, where a commit's fsync costs
//! nothing; the finished file is then copied to an ordinary temporary
//! folder and everything is measured there. A small sample is also filled
//! on disk to give the on-disk rate.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Datelike, Duration, FixedOffset, Utc};
use desk::accounts::{self, Role, Session, Staff};
use desk::desk::Desk;
use desk::report::{self, Month};
use desk::store::{Change, Created, Filters, ListQuery, SqliteStore, TicketStore, View};
use desk::ticket::{Actor, Status, Ticket};
use desk::time::Clock;
use desk::workflow;
use http_body_util::BodyExt;
use tower::ServiceExt;

// ---------------------------------------------------------------- options

struct Options {
    tickets: usize,
    year_tickets: usize,
    requests: usize,
    disk_sample: usize,
    fill_dir: Option<PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        tickets: 10_000,
        year_tickets: 1_500,
        requests: 50,
        disk_sample: 100,
        fill_dir: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    let usage = || -> ! {
        eprintln!(
            "usage: desk-bench [--tickets N] [--year-tickets N] [--requests N] [--disk-sample N] [--fill-dir DIR]"
        );
        std::process::exit(2)
    };
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_else(|| usage());
        let number = || value.parse::<usize>().unwrap_or_else(|_| usage());
        match args[i].as_str() {
            "--tickets" => o.tickets = number(),
            "--year-tickets" => o.year_tickets = number(),
            "--requests" => o.requests = number().max(1),
            "--disk-sample" => o.disk_sample = number(),
            "--fill-dir" => o.fill_dir = Some(PathBuf::from(&value)),
            _ => usage(),
        }
        i += 2;
    }
    o
}

// ------------------------------------------------------------- randomness

/// splitmix64: a fixed seed gives the same mix of tickets every run (the
/// references are random, as the desk makes them).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo).max(1) as u64)) as i64
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
    fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut n = (self.next() % u64::from(total)) as u32;
        for (item, w) in items {
            if n < *w {
                return item;
            }
            n -= w;
        }
        &items[0].0
    }
    fn minutes(&mut self, lo: i64, hi: i64) -> Duration {
        Duration::minutes(self.range(lo, hi))
    }
}

// ------------------------------------------------------- what owners send

const NAMES: &[&str] = &[
    "王女士",
    "李先生",
    "张阿姨",
    "刘先生",
    "陈女士",
    "杨先生",
    "赵女士",
    "黄先生",
    "周阿姨",
    "吴先生",
];

const REPAIR_CATEGORIES: &[(&str, u32)] = &[
    ("plumbing", 30),
    ("electrical", 15),
    ("lift", 6),
    ("smart-home", 6),
    ("building", 8),
    ("doors-windows", 12),
    ("cleaning", 8),
    ("greening", 4),
    ("security", 5),
    ("other", 6),
];
const COMPLAINT_CATEGORIES: &[(&str, u32)] = &[
    ("service", 20),
    ("staff", 5),
    ("security", 15),
    ("environment", 15),
    ("repairs", 20),
    ("building", 8),
    ("smart-home", 5),
    ("fees", 7),
    ("other", 5),
];
const FEEDBACK_TOPICS: &[(&str, u32)] = &[
    ("management", 25),
    ("security", 20),
    ("environment", 20),
    ("facilities", 20),
    ("community", 10),
    ("other", 5),
];
const REPAIR_TEXT: &[&str] = &[
    "厨房水槽下面的水管接头漏水，地上一直有水。",
    "卫生间地漏堵塞，洗澡时水排不下去。",
    "客厅插座没电，跳闸后合不上。",
    "入户门门锁转不动，钥匙插进去很紧。",
    "阳台推拉窗滑轮坏了，推不动。",
    "楼道声控灯不亮已经三天了。",
    "电梯按钮失灵，按了没有反应。",
    "门禁对讲机没有声音，访客按门铃听不到。",
    "次卧墙面开裂，裂缝越来越长，怀疑是房屋质量问题。",
    "单元门口的垃圾没有及时清运，有异味。",
];
const COMPLAINT_TEXT: &[&str] = &[
    "上周报修的漏水到现在还没有人来处理，打电话也没有回复。",
    "地下车库晚上经常有外来车辆停在业主车位上，门岗不管。",
    "楼下邻居装修每天早上七点就开始电钻，多次反映没有效果。",
    "物业费账单上多收了一个月的费用，前台说不清楚原因。",
    "保安在门岗对来访的老人态度很差，语气不耐烦。",
    "小区绿化带的草已经很久没有修剪，蚊虫很多。",
];
const FEEDBACK_TEXT: &[&str] = &[
    "建议在儿童游乐区增加遮阳棚。",
    "希望周末多组织一些社区活动。",
    "建议在每栋楼下增加快递柜。",
    "地下车库的指示牌不清楚，建议更换。",
    "建议延长客服前台周末的服务时间。",
];

fn unit(rng: &mut Rng) -> String {
    format!(
        "{}-{}-{}{:02}",
        rng.range(1, 13),
        rng.range(1, 4),
        rng.range(1, 31),
        rng.range(1, 5)
    )
}

fn phone(rng: &mut Rng) -> String {
    format!(
        "1{} {:04} {:04}",
        rng.range(30, 90),
        rng.range(0, 10_000),
        rng.range(0, 10_000)
    )
}

/// What an owner fills in, as the browser sends it.
fn submission(rng: &mut Rng) -> (&'static str, Vec<(String, String)>) {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    let kind = *rng.weighted(&[("repair", 70), ("complaint", 12), ("feedback", 18)]);
    match kind {
        "repair" => {
            let urgency = if rng.chance(0.08) {
                "emergency"
            } else {
                "ordinary"
            };
            pairs.extend([
                ("unit", unit(rng)),
                ("name", rng.pick(NAMES).to_string()),
                ("phone", phone(rng)),
                (
                    "email",
                    if rng.chance(0.3) {
                        "owner@example.org".into()
                    } else {
                        String::new()
                    },
                ),
                ("urgency", urgency.into()),
                ("category", rng.weighted(REPAIR_CATEGORIES).to_string()),
                ("description", rng.pick(REPAIR_TEXT).to_string()),
                (
                    "visit_time",
                    rng.pick(&["morning", "afternoon", "evening", "any"])
                        .to_string(),
                ),
                ("consent", "on".into()),
            ]);
        }
        "complaint" => {
            pairs.extend([
                ("unit", unit(rng)),
                ("name", rng.pick(NAMES).to_string()),
                ("phone", phone(rng)),
                ("category", rng.weighted(COMPLAINT_CATEGORIES).to_string()),
                ("description", rng.pick(COMPLAINT_TEXT).to_string()),
                (
                    "expectation",
                    if rng.chance(0.5) {
                        "希望尽快处理并给我答复。".into()
                    } else {
                        String::new()
                    },
                ),
                ("consent", "on".into()),
            ]);
        }
        _ => {
            pairs.extend([
                ("topic", rng.weighted(FEEDBACK_TOPICS).to_string()),
                ("suggestion", rng.pick(FEEDBACK_TEXT).to_string()),
                (
                    "unit",
                    if rng.chance(0.7) {
                        unit(rng)
                    } else {
                        String::new()
                    },
                ),
                (
                    "name",
                    if rng.chance(0.6) {
                        rng.pick(NAMES).to_string()
                    } else {
                        String::new()
                    },
                ),
                (
                    "phone",
                    if rng.chance(0.5) {
                        phone(rng)
                    } else {
                        String::new()
                    },
                ),
                ("consent", "on".into()),
            ]);
        }
    }
    (
        kind,
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    )
}

// ---------------------------------------------------------------- staff

const STAFF: &[(&str, &str, &str)] = &[
    ("wang", "王芳", "desk"),
    ("li", "李师傅", "department:engineering"),
    ("zhao", "赵师傅", "department:engineering"),
    ("sun", "孙主管", "department:environment"),
    ("zhou", "周队长", "department:security"),
    ("chen", "陈经理", "manager"),
];

fn actor(username: &str) -> Actor {
    let name = STAFF
        .iter()
        .find(|(u, _, _)| *u == username)
        .map_or(username, |(_, n, _)| n);
    Actor {
        username: Some(username.to_owned()),
        name: name.to_owned(),
    }
}

/// Who works a department's tickets.
fn handler(department: &str) -> &'static str {
    match department {
        "engineering" => "li",
        "environment" => "sun",
        "security" => "zhou",
        "manager" => "chen",
        _ => "wang",
    }
}

// ---------------------------------------------------------------- stories

/// One step of a ticket's life: an action, its inputs, who and when.
struct Step {
    at: DateTime<Utc>,
    action: &'static str,
    inputs: Vec<(String, String)>,
    by: &'static str,
}

fn local_input(offset: FixedOffset, t: DateTime<Utc>) -> String {
    t.with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// The whole life a ticket would have; cut at "now" it leaves recent
/// tickets open and old ones mostly closed, with some stalled, some on
/// hold for weeks, some done and never followed up.
fn story(rng: &mut Rng, ticket: &Ticket, auto_dispatch: bool, offset: FixedOffset) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut t = ticket.received_at;
    let i = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let mut department = ticket.department.clone();
    if ticket.kind == "repair" && ticket.category.as_deref() == Some("other") && rng.chance(0.7) {
        department = "engineering".into();
    }
    let assignee = match department.as_str() {
        "engineering" if rng.chance(0.2) => Some("li"),
        "engineering" if rng.chance(0.1) => Some("zhao"),
        "environment" if rng.chance(0.15) => Some("sun"),
        "security" if rng.chance(0.15) => Some("zhou"),
        "desk" if rng.chance(0.25) => Some("wang"),
        _ => None,
    };
    let by = handler(&department);
    let dispatch = |department: &str, assignee: Option<&str>| {
        let mut inputs = vec![("department".to_owned(), department.to_owned())];
        if let Some(a) = assignee {
            inputs.push(("assignee".to_owned(), a.to_owned()));
        }
        inputs
    };
    if !auto_dispatch && rng.chance(0.005) {
        // Never judged: it sits in the desk's new queue, overdue.
        return steps;
    }
    if !auto_dispatch || assignee.is_some() {
        t += match rng.unit() {
            u if u < 0.03 => Duration::days(rng.range(3, 20)),
            u if u < 0.11 => rng.minutes(12 * 60, 3 * 24 * 60),
            _ => rng.minutes(5, 240),
        };
        steps.push(Step {
            at: t,
            action: "dispatch",
            inputs: dispatch(&department, assignee),
            by: "wang",
        });
    }
    if rng.chance(0.04) {
        t += rng.minutes(10, 2 * 24 * 60);
        steps.push(Step {
            at: t,
            action: "cancel",
            inputs: i(&[("reason", "业主重复提交")]),
            by: "wang",
        });
        return steps;
    }
    if rng.chance(0.03) {
        // Forgotten: stays dispatched, overdue, for weeks or months.
        t += Duration::days(rng.range(20, 200));
    }
    if rng.chance(0.2) {
        t += rng.minutes(10, 300);
        steps.push(Step {
            at: t,
            action: "call",
            inputs: i(&[("note", "已电话联系业主，确认问题和上门时间。")]),
            by,
        });
    }
    if ticket.kind == "repair" && ticket.urgency != "emergency" {
        t += rng.minutes(30, 360);
        let visit = t + rng.minutes(4 * 60, 48 * 60);
        steps.push(Step {
            at: t,
            action: "schedule",
            inputs: i(&[("visit_at", &local_input(offset, visit))]),
            by,
        });
        t = visit;
    } else {
        t += if ticket.urgency == "emergency" {
            rng.minutes(5, 60)
        } else {
            rng.minutes(30, 24 * 60)
        };
    }
    steps.push(Step {
        at: t,
        action: "start",
        inputs: Vec::new(),
        by,
    });
    if ticket.kind == "repair" && rng.chance(0.10) {
        t += rng.minutes(30, 240);
        steps.push(Step {
            at: t,
            action: "hold",
            inputs: i(&[("reason", "等待配件到货")]),
            by,
        });
        t += Duration::days(if rng.chance(0.3) {
            rng.range(10, 60)
        } else {
            rng.range(1, 7)
        });
        steps.push(Step {
            at: t,
            action: "start",
            inputs: Vec::new(),
            by,
        });
    }
    if rng.chance(0.1) {
        t += rng.minutes(10, 120);
        steps.push(Step {
            at: t,
            action: "note",
            inputs: i(&[("note", "已更换配件，待观察。")]),
            by,
        });
    }
    t += if rng.chance(0.1) {
        rng.minutes(24 * 60, 5 * 24 * 60)
    } else {
        rng.minutes(20, 300)
    };
    steps.push(Step {
        at: t,
        action: "complete",
        inputs: i(&[("note", "已处理完毕，业主现场确认。")]),
        by,
    });
    // 回访
    t += if rng.chance(0.08) {
        Duration::days(rng.range(5, 30))
    } else {
        rng.minutes(4 * 60, 96 * 60)
    };
    if rng.chance(0.15) {
        steps.push(Step {
            at: t,
            action: "follow_up",
            inputs: i(&[("reached", "no")]),
            by: "wang",
        });
        t += rng.minutes(12 * 60, 72 * 60);
    }
    if rng.chance(0.05) {
        steps.push(Step {
            at: t,
            action: "follow_up",
            inputs: i(&[
                ("reached", "yes"),
                ("satisfaction", "2"),
                ("comment", "问题又出现了"),
                ("reopen", "on"),
            ]),
            by: "wang",
        });
        t += if rng.chance(0.3) {
            rng.minutes(24 * 60, 5 * 24 * 60)
        } else {
            rng.minutes(10, 240)
        };
        steps.push(Step {
            at: t,
            action: "dispatch",
            inputs: dispatch(&department, assignee),
            by: "wang",
        });
        t += rng.minutes(60, 48 * 60);
        steps.push(Step {
            at: t,
            action: "start",
            inputs: Vec::new(),
            by,
        });
        t += rng.minutes(20, 300);
        steps.push(Step {
            at: t,
            action: "complete",
            inputs: i(&[("note", "返修完成。")]),
            by,
        });
        t += rng.minutes(4 * 60, 72 * 60);
    }
    let score = *rng.weighted(&[("5", 50), ("4", 30), ("3", 15), ("2", 5)]);
    steps.push(Step {
        at: t,
        action: "follow_up",
        inputs: i(&[
            ("reached", "yes"),
            ("satisfaction", score),
            ("comment", "业主表示满意"),
        ]),
        by: "wang",
    });
    t += if rng.chance(0.1) {
        Duration::days(rng.range(5, 40))
    } else {
        rng.minutes(0, 48 * 60)
    };
    steps.push(Step {
        at: t,
        action: "close",
        inputs: Vec::new(),
        by: "wang",
    });
    steps
}

/// A repair with a long timeline, every step in the past: the ticket page
/// is measured on it.
fn long_story(ticket: &Ticket, offset: FixedOffset) -> Vec<Step> {
    let mut t = ticket.received_at;
    let mut at = |minutes: i64| {
        t += Duration::minutes(minutes);
        t
    };
    let i = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let visit = local_input(offset, ticket.received_at + Duration::minutes(24 * 60));
    vec![
        Step {
            at: at(30),
            action: "dispatch",
            inputs: i(&[("department", "engineering"), ("assignee", "li")]),
            by: "wang",
        },
        Step {
            at: at(20),
            action: "call",
            inputs: i(&[("note", "已联系业主，约定明天上午上门。")]),
            by: "li",
        },
        Step {
            at: at(10),
            action: "schedule",
            inputs: i(&[("visit_at", &visit)]),
            by: "li",
        },
        Step {
            at: at(24 * 60 - 60),
            action: "start",
            inputs: Vec::new(),
            by: "li",
        },
        Step {
            at: at(90),
            action: "hold",
            inputs: i(&[("reason", "阀门型号特殊，等待配件到货")]),
            by: "li",
        },
        Step {
            at: at(2 * 24 * 60),
            action: "note",
            inputs: i(&[("note", "配件已到，明天上门更换。")]),
            by: "li",
        },
        Step {
            at: at(18 * 60),
            action: "start",
            inputs: Vec::new(),
            by: "li",
        },
        Step {
            at: at(120),
            action: "complete",
            inputs: i(&[("note", "已更换进水阀。")]),
            by: "li",
        },
        Step {
            at: at(24 * 60),
            action: "follow_up",
            inputs: i(&[("reached", "no")]),
            by: "wang",
        },
        Step {
            at: at(24 * 60),
            action: "follow_up",
            inputs: i(&[
                ("reached", "yes"),
                ("satisfaction", "2"),
                ("comment", "又开始渗水"),
                ("reopen", "on"),
            ]),
            by: "wang",
        },
        Step {
            at: at(30),
            action: "dispatch",
            inputs: i(&[("department", "engineering"), ("assignee", "zhao")]),
            by: "wang",
        },
        Step {
            at: at(5 * 60),
            action: "start",
            inputs: Vec::new(),
            by: "zhao",
        },
        Step {
            at: at(150),
            action: "complete",
            inputs: i(&[("note", "重新密封接口，试水两小时无渗漏。")]),
            by: "zhao",
        },
        Step {
            at: at(2 * 24 * 60),
            action: "follow_up",
            inputs: i(&[
                ("reached", "yes"),
                ("satisfaction", "4"),
                ("comment", "这次修好了"),
            ]),
            by: "wang",
        },
        Step {
            at: at(60),
            action: "close",
            inputs: i(&[("note", "回访满意，关闭。")]),
            by: "wang",
        },
    ]
}

// -------------------------------------------------------------------- fill

struct Filled {
    long_reference: String,
    /// `desk_session=…` for each account asked for, signed in at the end.
    cookies: Vec<String>,
    creates: usize,
    records: usize,
    mails: usize,
    seconds: f64,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("bench/desk is two levels inside the workspace")
        .to_owned()
}

fn load_desk(store: Arc<dyn TicketStore>) -> Desk {
    let root = workspace_root();
    let config = config::Config::from_root(&root).expect("the site's config.yaml loads");
    Desk::load(&root, config, store).expect("the desk loads the site")
}

/// Fills a store at `path` with `count` tickets received over the `days`
/// before `now`, plus the long-timeline ticket; staff accounts too.
async fn fill(
    path: &Path,
    count: usize,
    days: i64,
    now: DateTime<Utc>,
    seed: u64,
    sign_ins: &[&str],
) -> Filled {
    let store: Arc<dyn TicketStore> = Arc::new(SqliteStore::open(path).expect("the store opens"));
    let mut desk = load_desk(Arc::clone(&store));
    let offset = desk.clock.offset();
    let started = Instant::now();
    let password_hash = accounts::hash_password("bench-password-not-used").expect("a hash");
    for (username, name, role) in STAFF {
        let staff = Staff {
            username: (*username).into(),
            name: (*name).into(),
            role: Role::parse(role).expect("a role"),
            password_hash: password_hash.clone(),
            disabled: false,
            session_epoch: 0,
            created_at: now - Duration::days(days + 30),
        };
        store
            .put_staff(&staff, true)
            .await
            .expect("an account is written");
    }
    let mut rng = Rng(seed);
    let mut received: Vec<DateTime<Utc>> = (0..count)
        .map(|_| now - Duration::seconds(rng.range(60, days * 24 * 3600)))
        .collect();
    received.sort();
    let mut filled = Filled {
        long_reference: String::new(),
        cookies: Vec::new(),
        creates: 0,
        records: 0,
        mails: 0,
        seconds: 0.0,
    };
    let long_at = now - Duration::days(40);
    let mut jobs: Vec<(bool, DateTime<Utc>)> = received.into_iter().map(|t| (false, t)).collect();
    let long_index = jobs.partition_point(|(_, t)| *t < long_at);
    jobs.insert(long_index, (true, long_at));
    let forms = desk.forms.clone();
    let departments = |id: &str| forms.department(id).map(|d| d.name.clone());
    let known_staff = |u: &str| STAFF.iter().any(|(s, _, _)| *s == u);
    for (n, (long, at)) in jobs.into_iter().enumerate() {
        let (kind, pairs) = if long {
            (
                "repair",
                [
                    ("unit", "3-2-1502"),
                    ("name", "王女士"),
                    ("phone", "138 0013 8000"),
                    ("email", "owner@example.org"),
                    ("urgency", "ordinary"),
                    ("category", "plumbing"),
                    ("description", "卫生间进水阀漏水，关闭后仍有渗水。"),
                    ("visit_time", "any"),
                    ("consent", "on"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            )
        } else {
            submission(&mut rng)
        };
        // Filed at its own time: the desk reads its clock for that.
        desk.clock = Clock::pinned(offset, at);
        let form = desk.forms.get(kind).expect("the form exists");
        let valid = form
            .validate(&forms::Submission::from_pairs(pairs))
            .unwrap_or_else(|e| panic!("a generated {kind} is invalid: {:?}", e.errors));
        let auto_dispatch = valid.auto_dispatch;
        let token = format!("bench-{seed}-{n}");
        let mut ticket = match desk
            .file(form, valid, Some(&token), None)
            .await
            .expect("a ticket is filed")
            .created()
        {
            Created::New(t) => t,
            Created::Existing(t) => panic!("{} filed twice", t.reference),
        };
        filled.creates += 1;
        // The notifier sends the desk email within seconds.
        if at < now - Duration::minutes(10) {
            store
                .mail_sent(&ticket.reference)
                .await
                .expect("mail recorded");
            ticket.mail.sent = true;
            filled.mails += 1;
        }
        let steps = if long {
            filled.long_reference = ticket.reference.clone();
            long_story(&ticket, offset)
        } else {
            story(&mut rng, &ticket, auto_dispatch, offset)
        };
        for step in steps.into_iter().take_while(|s| s.at <= now) {
            let context = workflow::Context {
                clock: Clock::pinned(offset, step.at),
                departments: &departments,
                staff: &known_staff,
            };
            let (next, event) = workflow::apply(
                &ticket,
                step.action,
                &step.inputs,
                &actor(step.by),
                &context,
            )
            .unwrap_or_else(|e| panic!("{} on a {:?} ticket: {e}", step.action, ticket.status));
            let change = Change {
                owes_mail: next.mail != ticket.mail,
                owed: Vec::new(),
                ticket: next,
                event,
            };
            store.record(&change).await.expect("a change is recorded");
            filled.records += 1;
            ticket = change.ticket;
        }
    }
    filled.seconds = started.elapsed().as_secs_f64();
    for username in sign_ins {
        filled.cookies.push(sign_in(store.as_ref(), username).await);
    }
    filled
}

/// What `Desk::file` answers: the ticket, or the ticket and the key of the
/// owner's status page (the desk's newer signature); either works here.
trait Filed {
    fn created(self) -> Created;
}

impl Filed for Created {
    fn created(self) -> Created {
        self
    }
}

impl<K> Filed for (Created, K) {
    fn created(self) -> Created {
        self.0
    }
}

/// A live session for `username`: the cookie a browser signed in as them sends.
async fn sign_in(store: &dyn TicketStore, username: &str) -> String {
    let token = accounts::random_token().expect("randomness");
    let now = Utc::now();
    store
        .put_session(&Session {
            id_hash: accounts::hash_token(&token),
            username: username.into(),
            epoch: 0,
            csrf: accounts::random_token().expect("randomness"),
            created_at: now,
            last_seen: now,
        })
        .await
        .expect("a session is written");
    format!("{}={token}", desk::http::SESSION_COOKIE)
}

/// Drops the file's pages from the page cache (GNU dd), so the next read
/// comes from disk; best effort.
fn drop_cache(path: &Path) -> bool {
    // Dirty pages cannot be dropped: write them out first.
    if std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .is_err()
    {
        return false;
    }
    std::process::Command::new("dd")
        .arg(format!("if={}", path.display()))
        .args(["iflag=nocache", "count=0", "status=none"])
        .status()
        .is_ok_and(|s| s.success())
}

// ----------------------------------------------------------------- timing

struct Answer {
    status: StatusCode,
    body: Vec<u8>,
}

async fn get(router: &Router, path: &str, cookie: &str, json: bool) -> Answer {
    let accept = if json {
        "application/json"
    } else {
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    };
    let mut request = Request::get(path)
        .header("cookie", cookie)
        .header("accept", accept)
        .header("user-agent", "Mozilla/5.0 (desk-bench)")
        .body(Body::empty())
        .expect("a request");
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes()
        .to_vec();
    Answer { status, body }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

struct Figures {
    misses: Vec<String>,
    met: usize,
}

impl Figures {
    fn header() {
        println!(
            "{:<44} {:>4} {:>9} {:>9} {:>9} {:>8}  verdict (on p95)",
            "what", "n", "median", "p95", "max", "target"
        );
    }

    /// One row: the samples' median, p95 and max against `target` ms.
    fn row(&mut self, what: &str, samples: &mut [f64], target: Option<f64>, note: &str) {
        samples.sort_by(|a, b| a.total_cmp(b));
        let n = samples.len();
        let median = if n % 2 == 1 {
            samples[n / 2]
        } else {
            (samples[n / 2 - 1] + samples[n / 2]) / 2.0
        };
        let p95 = samples[((n as f64 * 0.95).ceil() as usize).clamp(1, n) - 1];
        let max = samples[n - 1];
        let (target_text, verdict) = match target {
            Some(t) if p95 < t => (format!("<{t:.0}ms"), "met".to_owned()),
            Some(t) if median < t => (
                format!("<{t:.0}ms"),
                "MISSED at p95 (median met)".to_owned(),
            ),
            Some(t) => (format!("<{t:.0}ms"), "MISSED".to_owned()),
            None => ("-".to_owned(), String::new()),
        };
        if target.is_some() {
            if verdict == "met" {
                self.met += 1;
            } else {
                self.misses.push(format!(
                    "{what}: median {median:.1} ms, p95 {p95:.1} ms, target {target_text}"
                ));
            }
        }
        println!(
            "{:<44} {:>4} {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>8}  {verdict}{}",
            what,
            n,
            median,
            p95,
            max,
            target_text,
            if note.is_empty() {
                String::new()
            } else {
                format!("  [{note}]")
            }
        );
    }
}

/// Times `requests` GETs of `path` after a few unmeasured ones.
async fn measure(
    figures: &mut Figures,
    router: &Router,
    what: &str,
    path: &str,
    cookie: &str,
    json: bool,
    requests: usize,
    target: f64,
) {
    let first = get(router, path, cookie, json).await;
    assert_eq!(
        first.status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&first.body)
    );
    let note = if json {
        let value: serde_json::Value = serde_json::from_slice(&first.body).expect("JSON");
        match value.get("queue") {
            Some(q) => format!(
                "{} rows{}, {} KB",
                q["count"],
                if q["truncated"] == true {
                    " (page full)"
                } else {
                    ""
                },
                first.body.len() / 1000
            ),
            None => format!(
                "{} events, {} KB",
                value["timeline"].as_array().map_or(0, Vec::len),
                first.body.len() / 1000
            ),
        }
    } else {
        format!("{} KB", first.body.len() / 1000)
    };
    for _ in 0..2 {
        get(router, path, cookie, json).await;
    }
    let mut samples = Vec::with_capacity(requests);
    for _ in 0..requests {
        let start = Instant::now();
        let answer = get(router, path, cookie, json).await;
        samples.push(ms(start));
        assert_eq!(answer.status, StatusCode::OK, "{path}");
    }
    figures.row(what, &mut samples, Some(target), &note);
}

/// The last whole month before `now`, and the twelve whole months before it.
fn months(now: DateTime<Utc>, offset: FixedOffset) -> (String, Vec<String>, Month) {
    let local = now.with_timezone(&offset);
    let mut year = local.year();
    let mut month = local.month();
    let mut names = Vec::new();
    for _ in 0..12 {
        if month == 1 {
            year -= 1;
            month = 12;
        } else {
            month -= 1;
        }
        names.push(format!("{year:04}-{month:02}"));
    }
    names.reverse();
    let first = Month::parse(&names[0], offset).expect("a month");
    let last = Month::parse(&names[11], offset).expect("a month");
    let year_span = Month {
        name: format!("{}..{}", names[0], names[11]),
        from: first.from,
        to: last.to,
    };
    (names[11].clone(), names, year_span)
}

async fn reports(
    figures: &mut Figures,
    desk: &Desk,
    label: &str,
    runs: usize,
    router: &Router,
    manager: &str,
) {
    let store = desk.store.as_ref();
    let (last, twelve, year) = months(Utc::now(), desk.clock.offset());
    let in_last = report::monthly(store, &desk.forms, &desk.clock, &last)
        .await
        .expect("a report");
    let year_tickets = report::received_between(store, &desk.clock, year.from, year.to)
        .await
        .expect("a listing")
        .expect("under the cap")
        .len();
    let mut samples = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        report::monthly(store, &desk.forms, &desk.clock, &last)
            .await
            .expect("a report");
        samples.push(ms(start));
    }
    figures.row(
        &format!("{label}: report::monthly, one month"),
        &mut samples,
        Some(200.0),
        &format!("{last}, {} tickets", in_last.totals.received),
    );
    let mut samples = Vec::new();
    for _ in 0..runs.div_ceil(4).max(3) {
        let start = Instant::now();
        for month in &twelve {
            report::monthly(store, &desk.forms, &desk.clock, month)
                .await
                .expect("a report");
        }
        samples.push(ms(start));
    }
    figures.row(
        &format!("{label}: 12 × report::monthly"),
        &mut samples,
        Some(200.0),
        &format!("{}, {year_tickets} tickets", year.name),
    );
    let mut samples = Vec::new();
    for _ in 0..runs.div_ceil(4).max(3) {
        let start = Instant::now();
        let tickets = report::received_between(store, &desk.clock, year.from, year.to)
            .await
            .expect("a listing")
            .expect("under the cap");
        let summary = report::summarize(&tickets, &desk.forms, &year);
        samples.push(ms(start));
        assert_eq!(summary.totals.received as usize, year_tickets);
    }
    figures.row(
        &format!("{label}: a year in one summarize"),
        &mut samples,
        Some(200.0),
        "received_between + summarize",
    );
    let path = format!("/desk/reports?month={last}");
    measure(
        figures,
        router,
        &format!("{label}: GET {path} HTML"),
        &path,
        manager,
        false,
        runs,
        200.0,
    )
    .await;
}

/// How the store's tickets are spread: statuses, overdue, assigned.
async fn mix(store: &dyn TicketStore, now: DateTime<Utc>) -> String {
    let all = store
        .list(&ListQuery {
            view: View::All,
            filters: Filters::default(),
            now,
            limit: usize::MAX,
        })
        .await
        .expect("a listing");
    let mut out = format!("{} tickets:", all.len());
    for s in Status::ALL {
        out.push_str(&format!(
            " {} {},",
            s.as_str(),
            all.iter().filter(|t| t.status == s).count()
        ));
    }
    let kinds = ["repair", "complaint", "feedback"]
        .map(|k| format!("{k} {}", all.iter().filter(|t| t.kind == k).count()))
        .join(", ");
    out.push_str(&format!(
        "\n    {kinds}; overdue (open, past due) {}; assigned to a named person {}; with follow-up {}; reopened once or more {}",
        all.iter().filter(|t| t.is_overdue(now)).count(),
        all.iter().filter(|t| t.assignee.is_some()).count(),
        all.iter().filter(|t| t.follow_up.is_some()).count(),
        all.iter().filter(|t| t.reopen_count > 0).count(),
    ));
    let oldest = all.iter().map(|t| t.received_at).min();
    if let Some(oldest) = oldest {
        out.push_str(&format!(
            "; oldest received {} days ago",
            (now - oldest).num_days()
        ));
    }
    out
}

// ------------------------------------------------------ where time goes

/// The store's columns, as `SqliteStore` reads them.
const COLUMNS: &str = "reference, kind, fields, received_at, status, urgency, department, due_at, version, mail_sent, \
     mail_attempts, mail_error, mail_next_at, category, assignee, serious, visit_at, done_at, follow_up, reopen_count, \
     updated_at, updated_by, mail_purpose";

fn time_n(runs: usize, mut work: impl FnMut()) -> Vec<f64> {
    work();
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            ms(start)
        })
        .collect()
}

/// The big queues taken apart: the store's `list` alone (what the page
/// costs before rendering), and the raw SQL under it, all rows and with
/// the order and limit pushed into SQL.
async fn pieces(figures: &mut Figures, store: &dyn TicketStore, path: &Path, runs: usize) {
    let now = Utc::now();
    let listing = |filters: Filters| ListQuery {
        view: View::All,
        filters,
        now,
        limit: 201,
    };
    let cases = [
        ("store.list(All), limit 201", Filters::default()),
        (
            "store.list(All, kind+category), limit 201",
            Filters {
                kind: Some("repair".into()),
                category: Some("plumbing".into()),
                ..Filters::default()
            },
        ),
        (
            "store.list(All, unit=3-2), limit 201",
            Filters {
                unit: Some("3-2".into()),
                ..Filters::default()
            },
        ),
    ];
    for (what, filters) in cases {
        let query = listing(filters);
        store.list(&query).await.expect("a listing");
        let mut samples = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            store.list(&query).await.expect("a listing");
            samples.push(ms(start));
        }
        figures.row(what, &mut samples, None, "");
    }
    // A scratch copy, so an index can be tried without touching the store.
    let scratch = path.with_file_name("scratch.sqlite3");
    std::fs::copy(path, &scratch).expect("a scratch copy");
    let conn = rusqlite::Connection::open(&scratch).expect("the scratch copy opens");
    let read = |sql: &str| {
        let mut statement = conn.prepare_cached(sql).expect("a statement");
        let mut rows = statement.query([]).expect("a query");
        let mut n = 0usize;
        while let Some(row) = rows.next().expect("a row") {
            for i in 0..23 {
                let _: rusqlite::types::Value = row.get(i).expect("a value");
            }
            n += 1;
        }
        n
    };
    // The same rows decoded roughly as the store's `ticket_from_row` does:
    // the fields' JSON, the timestamps, the follow-up's JSON.
    let decode = |sql: &str| {
        let mut statement = conn.prepare_cached(sql).expect("a statement");
        let mut rows = statement.query([]).expect("a query");
        let mut n = 0usize;
        let time =
            |text: Option<String>| text.map(|t| DateTime::parse_from_rfc3339(&t).expect("a time"));
        while let Some(row) = rows.next().expect("a row") {
            let fields: Vec<(String, String)> =
                serde_json::from_str(&row.get::<_, String>(2).expect("fields"))
                    .expect("fields JSON");
            let follow_up: Option<serde_json::Value> = row
                .get::<_, Option<String>>(18)
                .expect("follow-up")
                .map(|f| serde_json::from_str(&f).expect("follow-up JSON"));
            let times = [3, 7, 12, 16, 17, 20].map(|i| time(row.get(i).expect("a time")));
            let strings = [0, 1, 4, 5, 6, 13, 14, 21, 22]
                .map(|i| row.get::<_, Option<String>>(i).expect("text"));
            std::hint::black_box((fields, follow_up, times, strings));
            n += 1;
        }
        n
    };
    let plan = |sql: &str| -> String {
        let mut statement = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("a plan");
        statement
            .query_map([], |r| r.get::<_, String>(3))
            .expect("a plan")
            .filter_map(Result::ok)
            .collect::<Vec<_>>()
            .join("; ")
    };
    let statuses = Status::ALL.map(|s| format!("'{}'", s.as_str())).join(", ");
    let (last, _, _) = months(now, FixedOffset::east_opt(8 * 3600).expect("+08:00"));
    let month =
        Month::parse(&last, FixedOffset::east_opt(8 * 3600).expect("+08:00")).expect("a month");
    let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (from, to) = (stamp(month.from), stamp(month.to));
    let mut sqls = vec![
        (
            "raw SQL: the all view's query (no LIMIT)",
            format!("SELECT {COLUMNS} FROM tickets WHERE status IN ({statuses})"),
        ),
        (
            "raw SQL: every row, no WHERE (table scan)",
            format!("SELECT {COLUMNS} FROM tickets"),
        ),
        (
            "raw SQL: + ORDER BY due_at, reference LIMIT 201",
            format!(
                "SELECT {COLUMNS} FROM tickets WHERE status IN ({statuses}) ORDER BY due_at, reference LIMIT 201"
            ),
        ),
        (
            "raw SQL: a month for the report (as listed)",
            format!(
                "SELECT {COLUMNS} FROM tickets WHERE status IN ({statuses}) AND received_at >= '{from}' AND received_at < '{to}'"
            ),
        ),
        (
            "raw SQL: a month, without status IN",
            format!(
                "SELECT {COLUMNS} FROM tickets WHERE received_at >= '{from}' AND received_at < '{to}'"
            ),
        ),
    ];
    for (what, sql) in &sqls {
        let rows = read(sql);
        let mut samples = time_n(runs, || {
            read(sql);
        });
        figures.row(
            what,
            &mut samples,
            None,
            &format!("{rows} rows; plan: {}", plan(sql)),
        );
    }
    let all = format!("SELECT {COLUMNS} FROM tickets WHERE status IN ({statuses})");
    decode(&all);
    let mut samples = time_n(runs, || {
        decode(&all);
    });
    figures.row(
        "raw SQL + decode every row (fields JSON, times)",
        &mut samples,
        None,
        "the all view's query",
    );
    // What an index on the all view's order would do (the scratch copy only).
    conn.execute_batch("CREATE INDEX bench_by_due ON tickets (due_at, reference)")
        .expect("an index on the copy");
    sqls.clear();
    sqls.push((
        "raw SQL, with index (due_at, reference): all view, LIMIT 201",
        format!("SELECT {COLUMNS} FROM tickets ORDER BY due_at, reference LIMIT 201"),
    ));
    for (what, sql) in &sqls {
        let rows = read(sql);
        let mut samples = time_n(runs, || {
            read(sql);
        });
        figures.row(
            what,
            &mut samples,
            None,
            &format!("{rows} rows; plan: {}", plan(sql)),
        );
    }
    drop(conn);
    let _ = std::fs::remove_file(&scratch);
}

// -------------------------------------------------------------------- main

/// The 1, 5 and 15 minute load averages: other work on the machine
/// inflates every figure.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn fill_dir(requested: Option<PathBuf>) -> tempfile::TempDir {
    let base = requested.unwrap_or_else(|| {
        let shm = PathBuf::from("/dev/shm");
        if shm.is_dir() {
            shm
        } else {
            std::env::temp_dir()
        }
    });
    tempfile::Builder::new()
        .prefix("desk-bench-fill.")
        .tempdir_in(&base)
        .or_else(|_| {
            tempfile::Builder::new()
                .prefix("desk-bench-fill.")
                .tempdir()
        })
        .expect("a folder to fill the store in")
}

#[tokio::main]
async fn main() {
    let o = options();
    let now = Utc::now();
    let disk = tempfile::Builder::new()
        .prefix("desk-bench.")
        .tempdir()
        .expect("a temporary folder");
    let fill_at = fill_dir(o.fill_dir.clone());
    let mut figures = Figures {
        misses: Vec::new(),
        met: 0,
    };
    println!(
        "== desk bench: {} tickets over 13 months, {} over 12 months; {} requests a figure",
        o.tickets, o.year_tickets, o.requests
    );
    println!(
        "   filled in {} (copied to {} to measure)",
        fill_at.path().display(),
        disk.path().display()
    );
    println!("   load average at the start: {}", load_average());

    // --- fill
    let big_fill = fill_at.path().join("tickets.sqlite3");
    let big = fill(&big_fill, o.tickets, 396, now, 1, &["wang", "chen"]).await;
    println!(
        "fill {} tickets: {:.1} s ({} Desk::file, {} store.record through workflow::apply, {} mail_sent; {:.0} store writes/s)",
        big.creates,
        big.seconds,
        big.creates,
        big.records,
        big.mails,
        (big.creates + big.records + big.mails) as f64 / big.seconds
    );
    let year_fill = fill_at.path().join("year.sqlite3");
    let year = fill(&year_fill, o.year_tickets, 365, now, 2, &["wang", "chen"]).await;
    println!(
        "fill {} tickets: {:.1} s ({} store.record)",
        year.creates, year.seconds, year.records
    );
    if o.disk_sample > 0 {
        let sample = fill(
            &disk.path().join("sample.sqlite3"),
            o.disk_sample,
            396,
            now,
            3,
            &[],
        )
        .await;
        let per_ticket = sample.seconds / sample.creates as f64;
        println!(
            "fill on disk (synchronous=FULL), sample of {}: {:.2} ms a ticket ({:.1} writes each) → about {:.0} s for {} tickets",
            sample.creates,
            per_ticket * 1000.0,
            (sample.creates + sample.records + sample.mails) as f64 / sample.creates as f64,
            per_ticket * o.tickets as f64,
            o.tickets
        );
    }
    // The connections are closed (the WAL checkpointed into the file), so
    // the file alone is the whole store.
    let big_path = disk.path().join("tickets.sqlite3");
    let year_path = disk.path().join("year.sqlite3");
    std::fs::copy(&big_fill, &big_path).expect("the store is copied");
    std::fs::copy(&year_fill, &year_path).expect("the store is copied");
    drop(fill_at);
    println!(
        "store files: {:.1} MB ({} tickets), {:.1} MB ({} tickets)",
        std::fs::metadata(&big_path).map_or(0, |m| m.len()) as f64 / 1e6,
        big.creates,
        std::fs::metadata(&year_path).map_or(0, |m| m.len()) as f64 / 1e6,
        year.creates
    );

    // --- cold start: open the file fresh, load the desk, first request;
    // once for the default queue, once for the biggest one.
    let mut cold = Vec::new();
    for path in ["/desk/", "/desk/?view=all"] {
        let dropped = drop_cache(&big_path);
        let start = Instant::now();
        let store: Arc<dyn TicketStore> =
            Arc::new(SqliteStore::open(&big_path).expect("the store opens"));
        let open_ms = ms(start);
        let start = Instant::now();
        let desk = Arc::new(load_desk(Arc::clone(&store)));
        let load_ms = ms(start);
        let router = desk::http::router(Arc::clone(&desk));
        let cookie = &big.cookies[0];
        let start = Instant::now();
        let first = get(&router, path, cookie, false).await;
        let first_ms = ms(start);
        assert_eq!(
            first.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&first.body)
        );
        let start = Instant::now();
        get(&router, path, cookie, false).await;
        let second_ms = ms(start);
        cold.push((path, dropped, open_ms, load_ms, first_ms, second_ms));
    }
    let store: Arc<dyn TicketStore> =
        Arc::new(SqliteStore::open(&big_path).expect("the store opens"));
    let desk = Arc::new(load_desk(Arc::clone(&store)));
    let router = desk::http::router(Arc::clone(&desk));
    let (desk_cookie, manager_cookie) = (big.cookies[0].clone(), big.cookies[1].clone());
    println!("mix: {}", mix(store.as_ref(), Utc::now()).await);
    println!();
    println!(
        "== cold start ({} tickets): open the file fresh, Desk::load, first request",
        big.creates
    );
    Figures::header();
    for (path, dropped, open_ms, load_ms, first_ms, second_ms) in cold {
        let cache = if dropped {
            "page cache dropped"
        } else {
            "page cache NOT dropped (no GNU dd)"
        };
        figures.row(
            &format!("cold: first GET {path} HTML"),
            &mut [first_ms],
            Some(50.0),
            &format!("{cache}; then {second_ms:.1} ms warm"),
        );
        figures.row(
            &format!("cold: open + load + first GET {path}"),
            &mut [open_ms + load_ms + first_ms],
            None,
            &format!("SqliteStore::open {open_ms:.1} ms, Desk::load {load_ms:.1} ms"),
        );
    }

    // --- queues, ticket page
    println!();
    println!(
        "== staff app over the router, signed in as the desk ({} tickets)",
        big.creates
    );
    Figures::header();
    let queues: Vec<(String, String)> = [
        "new",
        "mine",
        "department",
        "overdue",
        "waiting",
        "follow_up",
        "all",
    ]
    .iter()
    .map(|v| (format!("queue {v}"), format!("/desk/?view={v}")))
    .chain([
        (
            "queue all, kind=repair&category=plumbing".to_owned(),
            "/desk/?view=all&kind=repair&category=plumbing".to_owned(),
        ),
        (
            "queue all, unit=3-2 (prefix)".to_owned(),
            "/desk/?view=all&unit=3-2".to_owned(),
        ),
        (
            "queue overdue, kind=repair&unit=3-2".to_owned(),
            "/desk/?view=overdue&kind=repair&unit=3-2".to_owned(),
        ),
    ])
    .collect();
    let ticket_path = format!("/desk/tickets/{}", big.long_reference);
    for json in [false, true] {
        let format = if json { "JSON" } else { "HTML" };
        for (what, path) in &queues {
            measure(
                &mut figures,
                &router,
                &format!("{what} {format}"),
                path,
                &desk_cookie,
                json,
                o.requests,
                50.0,
            )
            .await;
        }
        measure(
            &mut figures,
            &router,
            &format!("ticket page (long timeline) {format}"),
            &ticket_path,
            &desk_cookie,
            json,
            o.requests,
            20.0,
        )
        .await;
    }

    println!();
    println!("== where the time of the all view goes (no targets)");
    Figures::header();
    pieces(&mut figures, store.as_ref(), &big_path, o.requests.min(20)).await;

    // --- reports
    println!();
    println!("== reports (signed in as the manager for the HTTP page)");
    Figures::header();
    reports(
        &mut figures,
        &desk,
        &format!("{} store", big.creates),
        o.requests.min(20),
        &router,
        &manager_cookie,
    )
    .await;
    drop(router);
    drop(desk);
    drop(store);
    let year_store: Arc<dyn TicketStore> =
        Arc::new(SqliteStore::open(&year_path).expect("the store opens"));
    let year_desk = Arc::new(load_desk(Arc::clone(&year_store)));
    let year_router = desk::http::router(Arc::clone(&year_desk));
    let year_manager = year.cookies[1].clone();
    println!(
        "year store mix: {}",
        mix(year_store.as_ref(), Utc::now()).await
    );
    reports(
        &mut figures,
        &year_desk,
        &format!("{} store", year.creates),
        o.requests.min(20),
        &year_router,
        &year_manager,
    )
    .await;
    let year_desk_cookie = year.cookies[0].clone();
    measure(
        &mut figures,
        &year_router,
        &format!("{} store: queue all HTML", year.creates),
        "/desk/?view=all",
        &year_desk_cookie,
        false,
        o.requests,
        50.0,
    )
    .await;

    // --- summary
    println!();
    println!(
        "== {} targets met, {} missed (load average at the end: {})",
        figures.met,
        figures.misses.len(),
        load_average()
    );
    for miss in &figures.misses {
        println!("MISSED  {miss}");
    }
}
