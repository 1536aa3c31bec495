//! The infrastructure template: least privilege for every role. (cfn-lint,
//! run by scripts/test, checks the rest of it against the AWS schemas.)

use serde_yaml::Value;
use tests::site::workspace_dir;

/// Every string an IAM statement's Action or Resource holds, through
/// `!Sub`, `!GetAtt` and lists.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Sequence(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Tagged(tagged) => strings(&tagged.value, out),
        Value::Mapping(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[test]
fn roles_name_their_actions_and_resources() {
    let text = std::fs::read_to_string(workspace_dir().join("template.yaml")).unwrap();
    let template: Value = serde_yaml::from_str(&text).unwrap();
    let resources = template["Resources"].as_mapping().unwrap();
    let mut roles = 0;
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::IAM::Role") {
            continue;
        }
        roles += 1;
        let policies = resource["Properties"]["Policies"]
            .as_sequence()
            .expect("inline policies");
        assert!(
            resource["Properties"]["ManagedPolicyArns"].is_null(),
            "{name:?} has managed policies"
        );
        for policy in policies {
            for statement in policy["PolicyDocument"]["Statement"].as_sequence().unwrap() {
                // A statement granted only when a parameter is set is
                // `!If [condition, statement, !Ref AWS::NoValue]`.
                let statement = match statement {
                    Value::Tagged(t) if t.tag.to_string().trim_start_matches('!') == "If" => {
                        &t.value[1]
                    }
                    plain => plain,
                };
                let (mut actions, mut targets) = (Vec::new(), Vec::new());
                strings(&statement["Action"], &mut actions);
                strings(&statement["Resource"], &mut targets);
                assert!(
                    !actions.is_empty() && !targets.is_empty(),
                    "{name:?}: {statement:?}"
                );
                for action in &actions {
                    assert!(
                        !action.contains('*'),
                        "{name:?} allows the wildcard action {action}"
                    );
                }
                for target in &targets {
                    // Only log streams, which Lambda names at run time, may be
                    // matched by pattern, and only inside the role's own group.
                    let own_log_streams =
                        target.contains(":log-group:") && target.ends_with(":log-stream:*");
                    assert!(
                        !target.contains('*') || own_log_streams,
                        "{name:?} allows the wildcard resource {target}"
                    );
                }
            }
        }
    }
    assert_eq!(roles, 2, "one role for each function");
}
