//! Infrastructure as code beyond Terraform: the CloudFormation and
//! Kubernetes scanners, and the detection of `proviso check` that sends
//! each file to its scanner.
//!
//! - `fixtures/cloudformation/platform/{east,west}/*.yaml` is the AWS part
//!   of the bundled platform as two stacks; each resource that must produce
//!   a finding carries `# expect: <clause> <outcome> as-of <date>` on the
//!   lines above its logical ID, like the Terraform platform, and the
//!   findings equal the Terraform platform's on its AWS records.
//! - `fixtures/cloudformation/aws-samples/` follows the CloudFormation User
//!   Guide's samples; `fixtures/cloudformation/cdk/cdk.out/` is the shape
//!   `cdk synth` writes; `fixtures/kubernetes/` holds the Kubernetes docs'
//!   Deployment and Service and a `helm template` output.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{bundled_rules, outcome_name, proviso};
use proviso::date::Date;
use proviso::findings::judge;
use proviso::scan::iac::{IacKind, Options as IacOptions};
use proviso::scan::terraform::Options;
use proviso::scan::{ScanOutput, ScannedRecord, scan_inputs};
use proviso::value::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn scan(paths: &[&str], var_files: &[&str], region: Option<&str>) -> ScanOutput {
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let options = Options {
        var_files: var_files.iter().map(PathBuf::from).collect(),
        ..Default::default()
    };
    let iac = IacOptions {
        force: None,
        region: region.map(str::to_string),
    };
    scan_inputs(&paths, &options, &iac)
}

fn record<'a>(out: &'a ScanOutput, address: &str) -> &'a ScannedRecord {
    out.records
        .iter()
        .find(|r| r.address == address)
        .unwrap_or_else(|| {
            let all: Vec<&str> = out.records.iter().map(|r| r.address.as_str()).collect();
            panic!("no record {address} in {all:?}")
        })
}

fn field<'a>(r: &'a ScannedRecord, path: &[&str]) -> Option<&'a Value> {
    let mut v = r.fields.get(path[0])?;
    for p in &path[1..] {
        v = match v {
            Value::Map(m) => m.get(*p)?,
            _ => return None,
        };
    }
    Some(v)
}

fn text(r: &ScannedRecord, path: &[&str]) -> Option<String> {
    match field(r, path)? {
        Value::Unknown(_) => Some("(unknown)".into()),
        v => Some(v.to_string()),
    }
}

/// `(clause, outcome, file, line of the logical ID)` from the inline comments.
fn cfn_expectations(date: &str) -> BTreeSet<(String, String, String, usize)> {
    let mut out = BTreeSet::new();
    for entry in walkdir::WalkDir::new("fixtures/cloudformation/platform") {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(rest) = line.trim().strip_prefix("# expect:") else {
                continue;
            };
            let words: Vec<&str> = rest.split_whitespace().collect();
            let [clause, outcome, "as-of", on] = words.as_slice() else {
                panic!("bad expect line {line}")
            };
            if *on != date {
                continue;
            }
            let block = (i..lines.len())
                .find(|j| !lines[*j].trim_start().starts_with('#'))
                .unwrap()
                + 1;
            out.insert((
                clause.to_string(),
                outcome.to_string(),
                entry.path().display().to_string(),
                block,
            ));
        }
    }
    out
}

/// Each stack scanned as it is deployed: its region, its template
/// configuration.
fn platform_stacks(with_region: bool) -> Vec<ScanOutput> {
    [("east", "us-east-1"), ("west", "us-west-2")]
        .iter()
        .map(|(stack, region)| {
            let dir = format!("fixtures/cloudformation/platform/{stack}");
            let config = format!("{dir}/stack-config.json");
            let out = scan(&[&dir], &[&config], with_region.then_some(*region));
            assert!(out.malformed.is_empty(), "{:?}", out.malformed);
            out
        })
        .collect()
}

#[test]
fn the_cloudformation_platform_gives_the_findings_marked_in_it_on_both_sides_of_2026_04_27() {
    let rules = bundled_rules();
    let stacks = platform_stacks(true);
    for date in ["2026-03-01", "2026-05-01"] {
        let mut actual = BTreeSet::new();
        for out in &stacks {
            for f in judge(&rules, &out.records, Date::parse(date).unwrap()).findings {
                actual.insert((
                    f.clause.clone(),
                    outcome_name(&f).to_string(),
                    f.record_origin.file.name.clone(),
                    f.record_origin.line_col().0,
                ));
            }
        }
        assert_eq!(actual, cfn_expectations(date), "findings on {date}");
    }
}

#[test]
fn the_cloudformation_platform_judges_as_the_terraform_platform_does_on_aws() {
    let rules = bundled_rules();
    let tf = proviso::scan::terraform::scan(
        &[PathBuf::from("fixtures/terraform/platform")],
        &Options::default(),
    );
    let stacks = platform_stacks(true);
    for date in ["2026-03-01", "2026-05-01"] {
        let on = Date::parse(date).unwrap();
        let aws_records: Vec<ScannedRecord> = tf
            .records
            .iter()
            .filter(|r| r.fields.get("cloud").and_then(Value::as_str) == Some("aws"))
            .cloned()
            .collect();
        let terraform: Vec<(String, String, String)> = judge(&rules, &aws_records, on)
            .findings
            .iter()
            .map(|f| {
                (
                    f.clause.clone(),
                    outcome_name(f).to_string(),
                    f.address.clone(),
                )
            })
            .collect();
        let cloudformation: Vec<(String, String, String)> = stacks
            .iter()
            .flat_map(|s| judge(&rules, &s.records, on).findings)
            .map(|f| {
                (
                    f.clause.clone(),
                    outcome_name(&f).to_string(),
                    f.address.clone(),
                )
            })
            .collect();
        let names = |v: &[(String, String, String)]| -> Vec<(String, String)> {
            v.iter().map(|(c, o, _)| (c.clone(), o.clone())).collect()
        };
        assert_eq!(names(&cloudformation), names(&terraform), "on {date}");
        if date == "2026-03-01" {
            assert_eq!(
                terraform[0].2, "module.completions.aws_ecs_service.this",
                "the Terraform twin"
            );
            assert_eq!(cloudformation[0].2, "CompletionsService");
        }
    }
}

#[test]
fn without_a_region_the_federal_bucket_is_unresolved_not_guessed() {
    let rules = bundled_rules();
    let stacks = platform_stacks(false);
    let west = &stacks[1];
    let bucket = record(west, "FederalAuditBucket");
    assert_eq!(text(bucket, &["region"]).as_deref(), Some("(unknown)"));
    assert_eq!(
        text(bucket, &["attributes", "BucketName"]).as_deref(),
        Some("(unknown)")
    );
    let findings = judge(&rules, &west.records, Date::parse("2026-03-01").unwrap()).findings;
    let got: Vec<(String, &str, String)> = findings
        .iter()
        .map(|f| (f.clause.clone(), outcome_name(f), f.address.clone()))
        .collect();
    assert_eq!(
        got,
        [(
            "federal_in_us".to_string(),
            "unresolved",
            "FederalAuditBucket".to_string()
        )]
    );
}

#[test]
fn intrinsics_parameters_conditions_and_stack_tags_are_evaluated() {
    let stacks = platform_stacks(true);
    let east = &stacks[0];
    let svc = record(east, "CompletionsService");
    assert_eq!(text(svc, &["type"]).as_deref(), Some("AWS::ECS::Service"));
    assert_eq!(text(svc, &["kind"]).as_deref(), Some("resource"));
    assert_eq!(text(svc, &["cloud"]).as_deref(), Some("aws"));
    assert_eq!(text(svc, &["region"]).as_deref(), Some("us-east-1"));
    // `!Sub` with parameters from the template configuration over defaults.
    assert_eq!(
        text(svc, &["attributes", "ServiceName"]).as_deref(),
        Some("acme-prod-completions")
    );
    // `!If [IsHighlyAvailable, 4, 1]` with HighAvailability=true.
    assert_eq!(
        text(svc, &["attributes", "DesiredCount"]).as_deref(),
        Some("4")
    );
    // Stack tags under the resource's; the `!If` tag with IsProd true.
    assert_eq!(
        text(svc, &["tags", "model-vendor"]).as_deref(),
        Some("openai")
    );
    assert_eq!(
        text(svc, &["tags", "managed-by"]).as_deref(),
        Some("cloudformation")
    );
    assert_eq!(
        text(svc, &["tags", "cost-center"]).as_deref(),
        Some("AI-PLATFORM")
    );
    assert_eq!(
        text(svc, &["tags", "api-mode"]).as_deref(),
        Some("stateless")
    );
    // A list parameter and a `!Ref` to a resource.
    assert_eq!(
        text(
            svc,
            &[
                "attributes",
                "NetworkConfiguration",
                "AwsvpcConfiguration",
                "Subnets"
            ]
        )
        .as_deref(),
        Some("[subnet-0aa11bb22cc33dd44, subnet-0ee55ff66aa77bb88]")
    );
    assert_eq!(
        text(svc, &["attributes", "Cluster"]).as_deref(),
        Some("(unknown)")
    );
    // `!FindInMap` keyed by `AWS::Region`, `!Join`.
    let listener = record(east, "Listener");
    let Some(Value::List(certs)) = field(listener, &["attributes", "Certificates"]) else {
        panic!("certificates")
    };
    assert_eq!(
        certs[0].to_string(),
        "{CertificateArn: arn:aws:acm:us-east-1:123456789012:certificate/4f0c9a52-1d7e-4b8a-9a55-0c6f1e2d3b4a}"
    );
    assert_eq!(
        text(record(east, "LoadBalancer"), &["attributes", "Name"]).as_deref(),
        Some("acme-prod-completions-alb")
    );
    // A false condition removes the resource.
    assert!(east.records.iter().all(|r| r.address != "CanaryService"));
    // Spans: the type label points at the `Type` value.
    let o = proviso::value::Record::origin_of(
        svc,
        &proviso::value::FieldPath(vec!["type".to_string()]),
    )
    .unwrap();
    assert_eq!(&o.file.text[o.span.clone()], "AWS::ECS::Service");
    assert_eq!(
        &svc.origin.file.text[svc.origin.span.clone()],
        "CompletionsService"
    );
    // `!Select` over a `CommaDelimitedList`.
    assert_eq!(
        text(record(&stacks[1], "Trainium1"), &["attributes", "SubnetId"]).as_deref(),
        Some("subnet-0ee55ff66aa77bb99")
    );
}

#[test]
fn the_user_guide_samples_read_as_cloudformation_evaluates_them() {
    let dir = "fixtures/cloudformation/aws-samples";
    let out = scan(&[dir], &[], Some("us-east-1"));
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    let ec2 = record(&out, "EC2Instance");
    // Nested `!FindInMap` keyed by region and by another mapping.
    assert_eq!(
        text(ec2, &["attributes", "ImageId"]).as_deref(),
        Some("ami-0ff8a91507f77f867")
    );
    assert_eq!(text(ec2, &["tags", "segment"]).as_deref(), Some("federal"));
    // `${AWS::StackName}` is known only at deployment.
    assert_eq!(text(ec2, &["tags", "Name"]).as_deref(), Some("(unknown)"));
    // The JSON sample, long forms: EnvType defaults to `test`.
    let web = record(&out, "WebsiteBucket");
    assert_eq!(
        text(web, &["attributes", "BucketName"]).as_deref(),
        Some("website-us-east-1-test")
    );
    assert_eq!(
        field(web, &["attributes", "VersioningConfiguration"]),
        None,
        "`Fn::If` to `AWS::NoValue` removes the property"
    );
    assert_eq!(
        text(web, &["tags"]).as_deref(),
        Some("{environment: test, site: us-east-1.example.com}")
    );
    assert!(out.records.iter().all(|r| r.address != "ProdAlarmTopic"));
    // A condition on a parameter with no default: existence unknown.
    let logs = record(&out, "LogsBucket");
    let why = logs
        .existence
        .as_ref()
        .map(|u| u.reason.clone())
        .unwrap_or_default();
    assert!(
        why.starts_with("whether `LogsBucket` exists depends on condition `HasSuffix`: parameter `BucketSuffix` has no `Default`"),
        "{why}"
    );

    // Without a region, what depends on it is unknown.
    let out = scan(&[dir], &[], None);
    let ec2 = record(&out, "EC2Instance");
    assert_eq!(
        text(ec2, &["attributes", "ImageId"]).as_deref(),
        Some("(unknown)")
    );
    assert_eq!(
        text(ec2, &["attributes", "InstanceType"]).as_deref(),
        Some("t3.small")
    );
}

#[test]
fn cloudformation_parameter_files_are_read_in_both_forms() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("params.json");
    std::fs::write(
        &list,
        r#"[{"ParameterKey": "EnvType", "ParameterValue": "prod"},
            {"ParameterKey": "BucketSuffix", "ParameterValue": "audit"}]"#,
    )
    .unwrap();
    let out = scan(
        &["fixtures/cloudformation/aws-samples/s3-website-bucket.json"],
        &[list.to_str().unwrap()],
        Some("eu-west-1"),
    );
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    let web = record(&out, "WebsiteBucket");
    assert_eq!(
        text(web, &["attributes", "VersioningConfiguration", "Status"]).as_deref(),
        Some("Enabled")
    );
    assert_eq!(text(web, &["tags", "backup"]).as_deref(), Some("daily"));
    assert!(out.records.iter().any(|r| r.address == "ProdAlarmTopic"));
    let logs = record(&out, "LogsBucket");
    assert!(logs.existence.is_none());
    assert_eq!(
        text(logs, &["attributes", "BucketName"]).as_deref(),
        Some("logs-audit")
    );
    // A parameters file that is not CloudFormation's shape is reported.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"[{"ParameterKey": "EnvType"}]"#).unwrap();
    let out = scan(
        &["fixtures/cloudformation/aws-samples/s3-website-bucket.json"],
        &[bad.to_str().unwrap()],
        None,
    );
    let codes: Vec<&str> = out.malformed.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["proviso::input::malformed_parameters"]);
}

#[test]
fn cdk_synth_output_is_read_with_construct_paths_as_addresses() {
    let out = scan(&["fixtures/cloudformation/cdk"], &[], None);
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    assert_eq!(
        out.files, 1,
        "manifest.json and tree.json are not templates"
    );
    let addresses: Vec<&str> = out.records.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(
        addresses,
        [
            "PlatformStack/GatewayCluster",
            "PlatformStack/GatewayTaskDef",
            "PlatformStack/CompletionsService/Service",
            "PlatformStack/CDKMetadata/Default"
        ]
    );
    // CDKMetadata's condition reads AWS::Region: unknown without --region.
    assert!(out.records[3].existence.is_some());
    let findings = judge(
        &bundled_rules(),
        &out.records,
        Date::parse("2026-03-01").unwrap(),
    )
    .findings;
    let got: Vec<(String, &str)> = findings
        .iter()
        .map(|f| (f.clause.clone(), outcome_name(f)))
        .collect();
    assert_eq!(got, [("stateless_on_azure".to_string(), "violation")]);
    // With a region the condition is known.
    let out = scan(&["fixtures/cloudformation/cdk"], &[], Some("eu-central-1"));
    assert_eq!(out.records.len(), 3);
}

#[test]
fn a_cdk_stack_synthesized_for_a_region_runs_there() {
    // `cdk.out/manifest.json` gives the stack `aws://123456789012/eu-west-1`.
    let out = scan(&["fixtures/cloudformation/cdk-env"], &[], None);
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    let bucket = record(&out, "EuStack/CompletionsBucket");
    assert_eq!(text(bucket, &["region"]).as_deref(), Some("eu-west-1"));
    // The platform stack was synthesized without one: still unknown.
    let out = scan(&["fixtures/cloudformation/cdk"], &[], None);
    let svc = record(&out, "PlatformStack/CompletionsService/Service");
    assert_eq!(text(svc, &["region"]).as_deref(), Some("(unknown)"));
}

#[test]
fn sam_globals_are_merged_under_each_functions_properties() {
    let out = scan(&["fixtures/cloudformation/sam"], &[], Some("us-east-1"));
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    let completions = record(&out, "CompletionsFunction");
    assert_eq!(
        text(completions, &["type"]).as_deref(),
        Some("AWS::Serverless::Function")
    );
    assert_eq!(text(completions, &["cloud"]).as_deref(), Some("aws"));
    // Shared tags and properties reach a function that sets none.
    assert_eq!(
        text(completions, &["tags", "api-mode"]).as_deref(),
        Some("stateless")
    );
    assert_eq!(
        text(completions, &["attributes", "Runtime"]).as_deref(),
        Some("python3.12")
    );
    // A function's own values win; its tags merge over the shared ones.
    let batch = record(&out, "BatchFunction");
    assert_eq!(
        text(batch, &["tags", "api-mode"]).as_deref(),
        Some("stateful")
    );
    assert_eq!(text(batch, &["tags", "team"]).as_deref(), Some("gateway"));
    assert_eq!(
        text(batch, &["attributes", "Runtime"]).as_deref(),
        Some("python3.11")
    );
    assert_eq!(
        text(
            batch,
            &["attributes", "Environment", "Variables", "LOG_LEVEL"]
        )
        .as_deref(),
        Some("info")
    );
    assert_eq!(
        text(batch, &["attributes", "Environment", "Variables", "QUEUE"]).as_deref(),
        Some("batch")
    );
}

#[test]
fn kubernetes_manifests_and_helm_output_give_one_record_per_object() {
    let out = scan(&["fixtures/kubernetes"], &[], None);
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    let addresses: Vec<&str> = out.records.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(
        addresses,
        [
            "Deployment/nginx-deployment",
            "Service/my-service",
            "Deployment/openai/completions",
            "ServiceAccount/release-name-gateway",
            "Service/release-name-gateway",
            "Deployment/release-name-gateway",
            "Pod/release-name-gateway-test-connection",
            "ConfigMap/monitoring/grafana-dashboard-api",
            "ConfigMap/monitoring/grafana-dashboard-nodes"
        ]
    );
    // The chart's own templates are Go templates: each is noted (not
    // malformed, not judged); kind's cluster configuration is not read.
    let notes: Vec<(String, String)> = out
        .notes
        .iter()
        .map(|d| (d.code.as_str().to_string(), d.location().unwrap().0))
        .collect();
    assert_eq!(
        notes,
        [
            (
                "proviso::input::not_scanned".to_string(),
                "fixtures/kubernetes/chart/gateway/templates/deployment.yaml".to_string()
            ),
            (
                "proviso::input::not_scanned".to_string(),
                "fixtures/kubernetes/chart/gateway/templates/serviceaccount.yaml".to_string()
            ),
        ]
    );
    assert!(
        out.notes[0].message.contains("is a Helm chart's template"),
        "{}",
        out.notes[0].message
    );
    let c = record(&out, "Deployment/openai/completions");
    assert_eq!(text(c, &["type"]).as_deref(), Some("Deployment"));
    assert_eq!(text(c, &["name"]).as_deref(), Some("completions"));
    assert_eq!(text(c, &["kind"]).as_deref(), Some("resource"));
    assert_eq!(text(c, &["tags", "api-mode"]).as_deref(), Some("stateless"));
    assert_eq!(field(c, &["cloud"]), None, "no convention in the engine");
    assert_eq!(
        text(
            c,
            &[
                "attributes",
                "spec",
                "template",
                "spec",
                "nodeSelector",
                "topology.kubernetes.io/region"
            ]
        )
        .as_deref(),
        Some("us-east-1")
    );
    // Helm's quoted label values stay strings.
    let sa = record(&out, "ServiceAccount/release-name-gateway");
    assert_eq!(
        text(sa, &["tags", "app.kubernetes.io/version"]).as_deref(),
        Some("1.16.0")
    );
    // The waiver comment is bound to the completions object.
    assert_eq!(out.waivers.len(), 1);
    assert_eq!(
        out.waivers[0].target_name,
        "object `Deployment/openai/completions`"
    );
    assert!(out.waiver_errors.is_empty(), "{:?}", out.waiver_errors);
}

#[test]
fn a_rule_files_define_places_kubernetes_objects_and_waivers_apply() {
    let out = proviso(&[
        "check",
        "fixtures/kubernetes",
        "--rules",
        "fixtures/kubernetes/rules",
        "--as-of",
        "2026-03-01",
        "--format",
        "json",
        "--no-config",
    ])
    .run();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(0));
    let waived = doc["waived"].as_array().cloned().unwrap_or_default();
    assert_eq!(waived.len(), 1, "{}", out.stdout);
    assert_eq!(waived[0]["address"], "Deployment/openai/completions");
    // Without waivers the finding is back.
    let out = proviso(&[
        "check",
        "fixtures/kubernetes",
        "--rules",
        "fixtures/kubernetes/rules",
        "--as-of",
        "2026-03-01",
        "--no-waivers",
        "--format",
        "json",
        "--no-config",
    ])
    .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        doc["findings"][0]["address"],
        "Deployment/openai/completions"
    );
    assert_eq!(doc["findings"][0]["clause"], "stateless_off_eks");
}

#[test]
fn a_directory_mixing_languages_is_scanned_whole_and_iac_forces_one() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("main.tf"),
        "resource \"aws_s3_bucket\" \"b\" {\n  tags = { segment = \"federal\" }\n}\n",
    )
    .unwrap();
    std::fs::copy(
        "fixtures/cloudformation/aws-samples/ec2-instance-with-security-group.yaml",
        root.join("ec2.yaml"),
    )
    .unwrap();
    std::fs::copy(
        "fixtures/kubernetes/deployment-and-service.yaml",
        root.join("k8s.yml"),
    )
    .unwrap();
    std::fs::write(root.join("package.json"), "{\"name\": \"x\"}").unwrap();
    std::fs::write(root.join(".github.yml"), "on: push\n").unwrap();
    // A broken template: located, counted, the rest scanned.
    std::fs::write(
        root.join("broken.yaml"),
        "Resources:\n  A:\n    Type: AWS::S3::Bucket\n    Properties: [unclosed\n",
    )
    .unwrap();
    // A broken manifest is malformed Kubernetes, not CloudFormation.
    std::fs::write(
        root.join("broken-manifest.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n",
    )
    .unwrap();
    // Template text outside a chart (a krew plugin manifest): noted.
    std::fs::write(
        root.join("krew.yaml"),
        "apiVersion: krew.googlecontainertools.github.com/v1alpha2\nkind: Plugin\nspec:\n  platforms:\n  - uri: x\n    {{addURIAndSha \"https://example.com/a.tar.gz\" .TagName }}\n    bin: a\n",
    )
    .unwrap();
    let root_s = root.to_str().unwrap();
    let out = scan(&[root_s], &[], None);
    let types: BTreeSet<String> = out
        .records
        .iter()
        .map(|r| text(r, &["type"]).unwrap())
        .collect();
    assert_eq!(
        types,
        BTreeSet::from(
            [
                "aws_s3_bucket",
                "AWS::EC2::Instance",
                "AWS::EC2::SecurityGroup",
                "Deployment",
                "Service"
            ]
            .map(String::from)
        )
    );
    let malformed: Vec<(String, String, usize)> = out
        .malformed
        .iter()
        .map(|d| {
            let (file, line, _) = d.location().unwrap();
            (d.code.as_str().to_string(), file, line)
        })
        .collect();
    assert_eq!(malformed.len(), 2, "{malformed:?}");
    assert_eq!(malformed[0].0, "proviso::input::malformed_kubernetes");
    assert!(
        malformed[0].1.ends_with("broken-manifest.yaml"),
        "{malformed:?}"
    );
    assert_eq!(malformed[1].0, "proviso::input::malformed_cloudformation");
    assert!(malformed[1].1.ends_with("broken.yaml"), "{malformed:?}");
    assert_eq!(malformed[1].2, 5);
    let notes: Vec<String> = out.notes.iter().map(|d| d.location().unwrap().0).collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].ends_with("krew.yaml"), "{notes:?}");

    let forced = |kind: IacKind| {
        let iac = IacOptions {
            force: Some(kind),
            region: None,
        };
        let out = scan_inputs(&[root.to_path_buf()], &Options::default(), &iac);
        let mut t: Vec<String> = out
            .records
            .iter()
            .map(|r| text(r, &["type"]).unwrap())
            .collect();
        t.dedup();
        t
    };
    assert_eq!(forced(IacKind::Terraform), ["aws_s3_bucket"]);
    assert_eq!(
        forced(IacKind::Kubernetes),
        ["Deployment", "Service", "Deployment"]
    );
    assert_eq!(
        forced(IacKind::Cloudformation),
        ["AWS::EC2::Instance", "AWS::EC2::SecurityGroup"]
    );

    // The command line: the malformed file makes it exit 2 unless allowed.
    let run = |extra: &[&str]| {
        let mut args = vec![
            "check",
            root_s,
            "--rules",
            "rules",
            "--as-of",
            "2026-03-01",
            "--format",
            "json",
            "--no-config",
        ];
        args.extend_from_slice(extra);
        proviso(&args).current_dir(common::REPO).run()
    };
    let out = run(&[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = run(&["--allow-malformed", "--region", "eu-west-1"]);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let found: BTreeSet<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["clause"].as_str().unwrap().to_string(),
                f["address"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The federal EC2 instance in eu-west-1 (from --region); the Terraform
    // bucket's region comes from the environment: unresolved.
    assert_eq!(
        found,
        BTreeSet::from([
            ("federal_in_us".to_string(), "EC2Instance".to_string()),
            ("federal_in_us".to_string(), "aws_s3_bucket.b".to_string()),
        ])
    );
    // `--iac bicep` on a directory without Bicep: nothing to check.
    let out = run(&["--iac", "bicep"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no_terraform"), "{}", out.stderr);
}

#[test]
fn waivers_in_cloudformation_yaml_bind_to_resources_and_properties() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.yaml");
    std::fs::write(
        &t,
        "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  # proviso:waive federal_in_us reason=\"moving, PLAT-12\" until=2026-12-31\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: \"a # proviso:waive x\"\n      Tags:\n        - Key: segment\n          Value: federal\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: q # proviso:waive federal_in_us reason=dr\n",
    )
    .unwrap();
    let out = scan(&[t.to_str().unwrap()], &[], None);
    assert!(out.waiver_errors.is_empty(), "{:?}", out.waiver_errors);
    let targets: Vec<&str> = out.waivers.iter().map(|w| w.target_name.as_str()).collect();
    assert_eq!(targets, ["resource `Bucket`", "property `QueueName`"]);
}

#[test]
fn hostile_templates_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    // Conditions that refer to each other, intrinsics nested deep, a Ref
    // to nothing, a resource with no Type.
    let mut deep = String::from("x");
    for _ in 0..100 {
        deep = format!("{{\"Fn::Base64\": {deep}}}");
    }
    let json = format!(
        r#"{{"Conditions": {{"A": {{"Condition": "B"}}, "B": {{"Condition": "A"}}}},
            "Resources": {{
              "R": {{"Type": "AWS::S3::Bucket", "Condition": "A",
                     "Properties": {{"BucketName": {deep}, "X": {{"Ref": "Nope"}}}}}},
              "NoType": {{"Properties": {{}}}}
            }}}}"#
    );
    let t = dir.path().join("hostile.json");
    std::fs::write(&t, json).unwrap();
    let out = scan(&[t.to_str().unwrap()], &[], None);
    let r = record(&out, "R");
    assert!(r.existence.is_some());
    assert_eq!(text(r, &["attributes", "X"]).as_deref(), Some("(unknown)"));
    let codes: Vec<&str> = out.malformed.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["proviso::input::malformed_cloudformation"]);
}

#[test]
fn loops_and_modules_expanded_before_deployment_are_noted_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.yaml");
    std::fs::write(
        &t,
        "AWSTemplateFormatVersion: \"2010-09-09\"\nTransform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::Buckets:\n    - Name\n    - [a, b]\n    - Bucket${Name}:\n        Type: AWS::S3::Bucket\n  Network:\n    Type: !Rain::Module ../vpc.yml\n  Queue:\n    Type: AWS::SQS::Queue\n",
    )
    .unwrap();
    let out = scan(&[t.to_str().unwrap()], &[], None);
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    let addresses: Vec<&str> = out.records.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(addresses, ["Queue"]);
    let notes: Vec<(&str, usize)> = out
        .notes
        .iter()
        .map(|d| (d.code.as_str(), d.location().unwrap().1))
        .collect();
    assert_eq!(
        notes,
        [
            ("proviso::input::not_scanned", 4),
            ("proviso::input::not_scanned", 9)
        ]
    );
}
