//! Checking a submission against its form definition.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::definition::{DateRange, Field, FieldType, FormDefinition};
use crate::invisible;

/// What an owner sent, as name → value, before any checking.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Submission {
    values: BTreeMap<String, String>,
}

/// The token the page's script adds so a retried request is recognised.
pub const TOKEN_FIELD: &str = "submission_token";

impl Submission {
    /// Builds a submission from decoded pairs; when a name repeats, the
    /// first value counts (as a browser sends a form's fields in order).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Submission {
        let mut values = BTreeMap::new();
        for (k, v) in pairs {
            values.entry(k.into()).or_insert_with(|| v.into());
        }
        Submission { values }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A bot filled the field people never see.
    pub fn is_spam(&self, form: &FormDefinition) -> bool {
        self.get(&form.honeypot)
            .is_some_and(|v| !v.trim().is_empty())
    }

    /// The idempotency token, when it is a plausible one.
    pub fn token(&self) -> Option<&str> {
        self.get(TOKEN_FIELD).map(str::trim).filter(|t| {
            (8..=100).contains(&t.len())
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    }
}

/// A submission that passed every check: the values of the form's own
/// fields, in the form's order, cleaned up; and where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    pub values: Vec<(String, String)>,
    pub department: String,
    pub commitment: String,
    /// The value of the choice that routed the request (its category), if any.
    pub category: Option<String>,
    /// The routing choice sends the request to its department at once.
    pub auto_dispatch: bool,
    /// A chosen option marks the request as serious.
    pub serious: bool,
    /// A chosen option makes it an emergency for the duty alert channel.
    pub alert: bool,
}

impl Validated {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Field name → what is wrong with it, in words for the owner.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValidationErrors {
    pub errors: BTreeMap<String, String>,
}

impl ValidationErrors {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.errors.get(name).map(String::as_str)
    }
}

const CHECKED: [&str; 5] = ["on", "yes", "true", "1", "是"];

impl FormDefinition {
    /// Checks `submission` as if sent today (UTC); see [`Self::validate_on`].
    pub fn validate(&self, submission: &Submission) -> Result<Validated, ValidationErrors> {
        self.validate_on(submission, chrono::Utc::now().date_naive())
    }

    /// Checks `submission` as sent on `today` (the estate's day), which
    /// the date fields' ranges count from.
    pub fn validate_on(
        &self,
        submission: &Submission,
        today: NaiveDate,
    ) -> Result<Validated, ValidationErrors> {
        let mut values = Vec::new();
        let mut errors = BTreeMap::new();
        for field in &self.fields {
            let raw = submission.get(&field.name).unwrap_or("");
            match check_field(field, raw, today) {
                Ok(value) => values.push((field.name.clone(), value)),
                Err(message) => {
                    errors.insert(field.name.clone(), message);
                }
            }
        }
        if !errors.is_empty() {
            return Err(ValidationErrors { errors });
        }
        Ok(self.decide(values))
    }

    /// Where checked `values` send the request: the routing choice's
    /// category and department, the commitment, and its flags.
    pub fn decide(&self, values: Vec<(String, String)>) -> Validated {
        let chosen = || {
            self.fields.iter().filter_map(|f| {
                let value = values.iter().find(|(n, _)| *n == f.name)?;
                f.choice(&value.1)
            })
        };
        let routing = chosen().find(|c| c.department.is_some());
        let department = routing
            .and_then(|c| c.department.clone())
            .unwrap_or_else(|| self.department.clone());
        let commitment = chosen()
            .find_map(|c| c.commitment.clone())
            .unwrap_or_else(|| self.commitment.clone());
        Validated {
            category: routing.map(|c| c.value.clone()),
            auto_dispatch: routing.is_some_and(|c| c.auto_dispatch),
            serious: chosen().any(|c| c.serious),
            alert: chosen().any(|c| c.alert),
            values,
            department,
            commitment,
        }
    }
}

fn check_field(field: &Field, raw: &str, today: NaiveDate) -> Result<String, String> {
    let label = &field.label;
    if field.kind == FieldType::Checkbox {
        let checked = CHECKED.contains(&raw.trim().to_ascii_lowercase().as_str());
        if field.required && !checked {
            return Err(format!("请勾选“{label}”"));
        }
        return Ok(if checked { "yes".into() } else { String::new() });
    }
    let multiline = field.kind == FieldType::Textarea;
    if !multiline && raw.chars().any(invisible::is_bidi_control) {
        return Err(format!(
            "{label}含有改变文字显示方向的隐藏字符，请删除后重新输入"
        ));
    }
    // Invisible characters go before the emptiness and length checks, so
    // they can neither fill a required field nor count towards a length.
    let value = clean(&invisible::strip_format(raw), multiline);
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(format!("{label}含有无法识别的字符，请重新输入"));
    }
    if value.is_empty() {
        return if field.required {
            Err(match field.kind {
                FieldType::Select | FieldType::Radio => format!("请选择{label}"),
                _ => format!("请填写{label}"),
            })
        } else {
            Ok(value)
        };
    }
    let length = value.chars().count();
    if let Some(max) = field.max_length
        && length > max
    {
        return Err(format!("{label}最多 {max} 个字，现在是 {length} 个字"));
    }
    if let Some(min) = field.min_length
        && length < min
    {
        return Err(format!("{label}至少需要 {min} 个字"));
    }
    match field.kind {
        FieldType::Select | FieldType::Radio if field.choice(&value).is_none() => {
            return Err(format!("请从列表中选择{label}"));
        }
        FieldType::Email if !looks_like_email(&value) => {
            return Err("请填写有效的电子邮箱地址，例如 name@example.com".into());
        }
        FieldType::Email if deliverable_email(&value).is_none() => {
            // Mail servers along the way need SMTPUTF8 for such a mailbox
            // name, and neither SES nor most desks' servers promise it.
            return Err("邮箱地址 @ 前面的部分请只用英文字母、数字和符号（中文邮箱名可能收不到我们的邮件）；\
                        也可以不填邮箱，我们会打电话联系您"
                .into());
        }
        FieldType::Date => {
            let Ok(day) = NaiveDate::parse_from_str(&value, "%Y-%m-%d") else {
                return Err(format!("{label}应为“年-月-日”格式的日期，例如 2026-11-23"));
            };
            let (first, last) = field.dates.bounds(today);
            if day < first || day > last {
                let show = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
                return Err(match field.dates {
                    DateRange::Upcoming if day < first => {
                        format!("{label}不能早于今天（{}），请重新选择", show(first))
                    }
                    _ => format!(
                        "{label}应在 {} 至 {} 之间，请检查年份",
                        show(first),
                        show(last)
                    ),
                });
            }
        }
        _ => {}
    }
    if let Some(regex) = field.pattern_regex()
        && !regex.is_match(&value)
    {
        return Err(field
            .pattern_message
            .clone()
            .unwrap_or_else(|| format!("{label}的格式不正确")));
    }
    Ok(value)
}

/// Trims the value and folds line breaks: a single-line field never keeps
/// one, a text area keeps them as `\n`.
fn clean(raw: &str, multiline: bool) -> String {
    let unified = raw.replace("\r\n", "\n").replace('\r', "\n");
    if multiline {
        unified.trim().to_owned()
    } else {
        unified.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// An owner's address as mail can carry it without SMTPUTF8: an
/// internationalised domain (例子.中国) in its ASCII form; `None` when the
/// mailbox name itself is not ASCII or the domain is not a valid name.
pub fn deliverable_email(value: &str) -> Option<String> {
    let (local, domain) = value.trim().rsplit_once('@')?;
    if local.is_empty() || !local.is_ascii() {
        return None;
    }
    let domain = idna::domain_to_ascii(domain).ok()?;
    (!domain.is_empty()).then(|| format!("{local}@{domain}"))
}

/// The same rule a browser applies to `type="email"`, loosely: one `@`,
/// something on both sides, a dot in the domain, no spaces.
fn looks_like_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !value.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::{Department, FormDefinition};
    use std::path::Path;

    const FORM: &str = r#"
title: 在线报修
noun: 报修
submit_label: 提交
reference_prefix: BX
privacy_notice: 我们只用这些信息处理您的请求。
department: engineering
commitment: ordinary
commitments:
  - { id: emergency, label: 紧急, text: 30 分钟内响应, within: 30m }
  - { id: ordinary, label: 一般, text: 24 小时内响应, within: 24h }
fields:
  - { name: unit, label: 房号, type: text, required: true, max_length: 10 }
  - { name: phone, label: 电话, type: tel, required: true, pattern: "[0-9+\\- ]{5,20}", pattern_message: 请填写电话号码 }
  - { name: email, label: 邮箱, type: email }
  - name: urgency
    label: 紧急程度
    type: radio
    required: true
    options:
      - { value: emergency, label: 紧急, commitment: emergency }
      - { value: ordinary, label: 一般 }
  - name: category
    label: 类别
    type: select
    required: true
    options:
      - { value: lift, label: 电梯, department: security }
      - { value: water, label: 水管 }
  - { name: details, label: 描述, type: textarea, required: true, min_length: 5, max_length: 50 }
  - { name: consent, label: 同意隐私说明, type: checkbox, required: true }
  - { name: visit_date, label: 上门日期, type: date, dates: upcoming }
  - { name: since, label: 开始日期, type: date }
"#;

    fn form() -> FormDefinition {
        let departments = [("engineering", "工程部"), ("security", "安全管理部")]
            .into_iter()
            .map(|(id, name)| {
                (
                    id.to_owned(),
                    Department {
                        name: name.into(),
                        email: format!("{id}@example.org"),
                    },
                )
            })
            .collect();
        FormDefinition::parse(Path::new("repair.yaml"), "repair", FORM, &departments).unwrap()
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("unit", " 3-2-1502 "),
            ("phone", "138 0000 0000"),
            ("urgency", "emergency"),
            ("category", "lift"),
            ("details", "电梯停在 5 楼\r\n门打不开"),
            ("consent", "on"),
        ]
    }

    #[test]
    fn a_good_submission_is_cleaned_and_routed() {
        let ok = form().validate(&Submission::from_pairs(good())).unwrap();
        assert_eq!(ok.get("unit"), Some("3-2-1502"));
        assert_eq!(ok.get("details"), Some("电梯停在 5 楼\n门打不开"));
        assert_eq!(ok.get("consent"), Some("yes"));
        assert_eq!(ok.department, "security");
        assert_eq!(ok.commitment, "emergency");
    }

    #[test]
    fn defaults_route_when_no_option_does() {
        let mut pairs = good();
        pairs.retain(|(k, _)| *k != "urgency" && *k != "category");
        pairs.push(("urgency", "ordinary"));
        pairs.push(("category", "water"));
        let ok = form().validate(&Submission::from_pairs(pairs)).unwrap();
        assert_eq!(
            (ok.department.as_str(), ok.commitment.as_str()),
            ("engineering", "ordinary")
        );
    }

    #[test]
    fn an_international_domain_is_sent_in_ascii_and_a_chinese_mailbox_name_is_refused() {
        assert_eq!(
            deliverable_email("wang@例子.中国").as_deref(),
            Some("wang@xn--fsqu00a.xn--fiqs8s")
        );
        assert_eq!(
            deliverable_email(" a.b@Example.ORG ").as_deref(),
            Some("a.b@example.org")
        );
        assert_eq!(deliverable_email("王@example.org"), None);
        let with = |email| {
            let mut pairs = good();
            pairs.push(("email", email));
            form().validate(&Submission::from_pairs(pairs))
        };
        assert_eq!(
            with("wang@例子.中国").unwrap().get("email"),
            Some("wang@例子.中国")
        );
        let refused = with("王女士@例子.中国").unwrap_err();
        assert!(
            refused.get("email").unwrap().contains("英文字母"),
            "{refused:?}"
        );
    }

    #[test]
    fn every_broken_rule_is_reported_per_field() {
        let sub = Submission::from_pairs([
            ("unit", "12345678901"),
            ("phone", "call me"),
            ("email", "not-an-email"),
            ("urgency", "whenever"),
            ("details", "漏水"),
        ]);
        let errors = form().validate(&sub).unwrap_err();
        assert_eq!(errors.get("unit"), Some("房号最多 10 个字，现在是 11 个字"));
        assert_eq!(errors.get("phone"), Some("请填写电话号码"));
        assert!(errors.get("email").unwrap().contains("电子邮箱"));
        assert_eq!(errors.get("urgency"), Some("请从列表中选择紧急程度"));
        assert_eq!(errors.get("category"), Some("请选择类别"));
        assert_eq!(errors.get("details"), Some("描述至少需要 5 个字"));
        assert_eq!(errors.get("consent"), Some("请勾选“同意隐私说明”"));
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let mut pairs = good();
        pairs.retain(|(k, _)| *k != "details");
        pairs.push(("details", "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"));
        assert!(form().validate(&Submission::from_pairs(pairs)).is_ok());
    }

    fn errors_of(changes: &[(&'static str, &'static str)]) -> ValidationErrors {
        let mut pairs = good();
        pairs.retain(|(n, _)| !changes.iter().any(|(c, _)| c == n));
        pairs.extend_from_slice(changes);
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        match form().validate_on(&Submission::from_pairs(pairs), today) {
            Ok(_) => ValidationErrors::default(),
            Err(e) => e,
        }
    }

    #[test]
    fn invisible_characters_fill_nothing_and_cannot_turn_text_around() {
        let e = errors_of(&[
            ("unit", "\u{200B}\u{200B}"),
            (
                "details",
                "\u{FEFF}\u{FEFF}\u{FEFF}\u{FEFF}\u{FEFF}\u{FEFF}\u{FEFF}\u{FEFF}\u{FEFF}\u{FEFF}",
            ),
        ]);
        assert_eq!(e.get("unit"), Some("请填写房号"));
        assert_eq!(e.get("details"), Some("请填写描述"));
        let e = errors_of(&[("unit", "3-2-\u{202E}2051")]);
        assert!(e.get("unit").unwrap().contains("方向"), "{e:?}");
        // Zero-width characters do not count towards a length either.
        let e = errors_of(&[("details", "漏\u{200B}\u{200B}\u{200B}水")]);
        assert_eq!(e.get("details"), Some("描述至少需要 5 个字"));
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let mut pairs = good();
        pairs.retain(|(n, _)| *n != "details");
        pairs.push(("details", "厨房\u{200B}水管漏水 👨\u{200D}🔧"));
        let ok = form()
            .validate_on(&Submission::from_pairs(pairs), today)
            .unwrap();
        assert_eq!(ok.get("details"), Some("厨房水管漏水 👨\u{200D}🔧"));
    }

    #[test]
    fn dates_must_be_plausible() {
        let e = errors_of(&[("visit_date", "2026-11-22"), ("since", "1900-01-01")]);
        assert_eq!(
            e.get("visit_date"),
            Some("上门日期不能早于今天（2026-11-23），请重新选择")
        );
        assert!(e.get("since").unwrap().contains("请检查年份"), "{e:?}");
        let e = errors_of(&[("visit_date", "2027-12-01")]);
        assert!(e.get("visit_date").unwrap().contains("2027-11-23"), "{e:?}");
        let e = errors_of(&[("visit_date", "2026-11-23"), ("since", "2020-05-01")]);
        assert!(e.errors.is_empty(), "{e:?}");
    }

    #[test]
    fn control_characters_are_refused() {
        let mut pairs = good();
        pairs.retain(|(k, _)| *k != "details");
        pairs.push(("details", "水管\u{0}漏水了啊"));
        let errors = form().validate(&Submission::from_pairs(pairs)).unwrap_err();
        assert!(errors.get("details").is_some());
    }

    #[test]
    fn honeypot_and_token() {
        let f = form();
        assert!(Submission::from_pairs([("website", "http://spam")]).is_spam(&f));
        assert!(!Submission::from_pairs([("website", " ")]).is_spam(&f));
        assert_eq!(
            Submission::from_pairs([("submission_token", "abc")]).token(),
            None
        );
        assert_eq!(
            Submission::from_pairs([("submission_token", "0b9c6f5e-1d2a-4c7e-9a51-2f1f0c9e8d7a")])
                .token(),
            Some("0b9c6f5e-1d2a-4c7e-9a51-2f1f0c9e8d7a")
        );
    }

    #[test]
    fn definitions_that_point_nowhere_are_refused() {
        let departments = Default::default();
        let err = FormDefinition::parse(Path::new("repair.yaml"), "repair", FORM, &departments)
            .unwrap_err();
        assert!(err.to_string().contains("department: engineering"), "{err}");
    }
}
