//! The ARM and Bicep scanners against fixtures that state their
//! expectations inline (`fixtures/azure/README.md`):
//! - `fixtures/azure/cases/<case>/` has a main file (`azuredeploy.json` or
//!   `main.bicep`) starting with `// as-of: DATE`, `// expect: <clause>
//!   <outcome> <address>` lines (or `// expect: none`), `//
//!   expect-malformed: <file>` and `// var-file: <parameters file>`;
//! - `fixtures/azure/bicep/platform/main.bicep` marks each declaration that
//!   must produce a finding with `// expect: <clause> <outcome> as-of
//!   <date> [address]` right above it, as the Terraform platform does, and
//!   gives the same Azure findings on both dates.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{bundled_rules, header_values, outcome_name};

use proviso::date::Date;
use proviso::findings::judge;
use proviso::scan::arm::{AzureOptions, scan_arm_file};
use proviso::scan::bicep::scan_bicep_file;
use proviso::scan::terraform::Options;
use proviso::scan::{ScanOutput, scan_inputs};
use proviso::value::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn scan_case(case: &Path, main: &str) -> ScanOutput {
    let var_files = header_values(main, "var-file:")
        .into_iter()
        .map(|f| case.join(f))
        .collect();
    scan_inputs(
        &[case.to_path_buf()],
        &Options {
            var_files,
            ..Options::default()
        },
        &proviso::scan::iac::Options::default(),
    )
}

#[test]
fn every_azure_case_gives_exactly_the_findings_it_declares() {
    let rules = bundled_rules();
    let mut cases: Vec<PathBuf> = std::fs::read_dir("fixtures/azure/cases")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 12);
    for case in cases {
        let main = ["azuredeploy.json", "main.bicep"]
            .iter()
            .find_map(|f| std::fs::read_to_string(case.join(f)).ok())
            .expect("a main file");
        let as_of = Date::parse(&header_values(&main, "as-of:")[0]).unwrap();
        let expected: BTreeSet<String> = header_values(&main, "expect:")
            .into_iter()
            .filter(|e| e != "none")
            .collect();
        let expected_malformed: BTreeSet<String> = header_values(&main, "expect-malformed:")
            .into_iter()
            .collect();
        let scanned = scan_case(&case, &main);
        let judged = judge(&rules, &scanned.records, as_of);
        let actual: BTreeSet<String> = judged
            .findings
            .iter()
            .filter(|f| !scanned.waivers.iter().any(|w| w.contains(&f.record_origin)))
            .map(|f| format!("{} {} {}", f.clause, outcome_name(f), f.address))
            .collect();
        assert_eq!(actual, expected, "case {}", case.display());
        let malformed: BTreeSet<String> = scanned
            .malformed
            .iter()
            .map(|d| {
                let (file, line, _) = d.location().expect("a malformed input names its location");
                assert!(line > 0);
                Path::new(&file)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .to_string()
            })
            .collect();
        assert_eq!(
            malformed,
            expected_malformed,
            "malformed inputs of case {}",
            case.display()
        );
    }
}

/// `(clause, outcome, file, declaration line)` from the platform's comments.
fn platform_expectations(path: &str, date: &str) -> BTreeSet<(String, String, String, usize)> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = BTreeSet::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.trim().strip_prefix("// expect:") else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let [clause, outcome, "as-of", on, ..] = words.as_slice() else {
            panic!("bad expect line {line}")
        };
        if *on != date {
            continue;
        }
        let decl = (i..lines.len())
            .find(|j| !lines[*j].trim_start().starts_with("//"))
            .unwrap()
            + 1;
        out.insert((
            clause.to_string(),
            outcome.to_string(),
            path.to_string(),
            decl,
        ));
    }
    out
}

/// The Bicep and the ARM platform: main file and parameters file.
const PLATFORMS: [(&str, &str); 2] = [
    (
        "fixtures/azure/bicep/platform/main.bicep",
        "fixtures/azure/bicep/platform/main.parameters.json",
    ),
    (
        "fixtures/azure/arm/platform/azuredeploy.json",
        "fixtures/azure/arm/platform/azuredeploy.parameters.json",
    ),
];

fn platform_at(main: &str, params: &str) -> ScanOutput {
    scan_inputs(
        &[Path::new(main).parent().unwrap().to_path_buf()],
        &Options {
            var_files: vec![PathBuf::from(params)],
            ..Options::default()
        },
        &proviso::scan::iac::Options::default(),
    )
}

fn platform() -> ScanOutput {
    platform_at(PLATFORMS[0].0, PLATFORMS[0].1)
}

#[test]
fn the_bicep_and_arm_platforms_give_the_terraform_platforms_azure_findings_on_both_dates() {
    let rules = bundled_rules();
    for (main, params) in PLATFORMS {
        let scanned = platform_at(main, params);
        assert!(scanned.malformed.is_empty(), "{:?}", scanned.malformed);
        assert_eq!(scanned.records.len(), 12, "{main}");
        for date in ["2026-03-01", "2026-05-01"] {
            let judged = judge(&rules, &scanned.records, Date::parse(date).unwrap());
            let actual: BTreeSet<(String, String, String, usize)> = judged
                .findings
                .iter()
                .map(|f| {
                    (
                        f.clause.clone(),
                        outcome_name(f).to_string(),
                        f.record_origin.file.name.clone(),
                        f.record_origin.line_col().0,
                    )
                })
                .collect();
            assert_eq!(
                actual,
                platform_expectations(main, date),
                "{main}: findings on {date}"
            );
        }
    }
    // The same Azure findings as fixtures/terraform/platform (its README's
    // table), resource for resource.
    let scanned = platform();
    let judged = judge(&rules, &scanned.records, Date::parse("2026-03-01").unwrap());
    let mut addresses: Vec<String> = judged
        .findings
        .iter()
        .map(|f| format!("{} {} {}", f.clause, outcome_name(f), f.address))
        .collect();
    addresses.sort();
    assert_eq!(
        addresses,
        [
            "federal_in_us unresolved Microsoft.Storage/storageAccounts.federalDr",
            "federal_in_us violation Microsoft.Web/sites.federalGateway[1]",
            "frontier_third_party_on_aws violation Microsoft.Web/sites.frontierPartner",
        ]
    );
}

fn field<'r>(r: &'r proviso::scan::ScannedRecord, k: &str) -> &'r Value {
    r.fields
        .get(k)
        .unwrap_or_else(|| panic!("no field {k} in {}", r.address))
}

fn attr<'r>(r: &'r proviso::scan::ScannedRecord, k: &str) -> &'r Value {
    match field(r, "attributes") {
        Value::Map(m) => m.get(k).unwrap_or_else(|| panic!("no attribute {k}")),
        _ => panic!("attributes is not a map"),
    }
}

#[test]
fn the_bicep_platform_records_have_the_terraform_shape_and_values() {
    let scanned = platform();
    let r = scanned
        .records
        .iter()
        .find(|r| r.address == "Microsoft.CognitiveServices/accounts.federalOpenai")
        .unwrap();
    assert_eq!(field(r, "kind"), &Value::str("resource"));
    assert_eq!(
        field(r, "type"),
        &Value::str("Microsoft.CognitiveServices/accounts")
    );
    assert_eq!(field(r, "name"), &Value::str("federalOpenai"));
    assert_eq!(field(r, "cloud"), &Value::str("azure"));
    assert_eq!(field(r, "region"), &Value::str("eastus2"));
    assert_eq!(attr(r, "name"), &Value::str("acme-prod-federal-oai"));
    assert_eq!(attr(r, "apiVersion"), &Value::str("2023-05-01"));
    let Value::Map(tags) = field(r, "tags") else {
        panic!()
    };
    assert_eq!(tags.get("segment"), Some(&Value::str("federal")));
    assert_eq!(
        tags.get("cost-center"),
        Some(&Value::str("AI-PLATFORM-PROD"))
    );
    assert_eq!(tags.get("model-vendor"), Some(&Value::str("openai")));
    // Spans: the record at its declaration, `region` at its `location`.
    assert_eq!(r.origin.line_col().0, 98);
    let text = &r.origin.file.text;
    assert_eq!(
        &text[r.origin.span.clone()],
        "resource federalOpenai 'Microsoft.CognitiveServices/accounts@2023-05-01'"
    );
    let region =
        proviso::value::Record::origin_of(r, &proviso::value::FieldPath(vec!["region".into()]))
            .unwrap();
    assert_eq!(&text[region.span.clone()], "location");
    // Child resources of a loop, with `parent:`.
    let models: Vec<(&str, &Value)> = scanned
        .records
        .iter()
        .filter(|r| {
            r.address
                .starts_with("Microsoft.CognitiveServices/accounts/deployments.")
        })
        .map(|r| (r.address.as_str(), attr(r, "name")))
        .collect();
    assert_eq!(
        models,
        [
            (
                "Microsoft.CognitiveServices/accounts/deployments.modelDeployments[0]",
                &Value::str("gpt-4o")
            ),
            (
                "Microsoft.CognitiveServices/accounts/deployments.modelDeployments[1]",
                &Value::str("text-embedding-3-large")
            ),
        ]
    );
}

#[test]
fn an_arm_quickstart_reads_its_parameters_and_the_region_given() {
    let path = Path::new("fixtures/azure/cases/arm_location_from_resource_group/azuredeploy.json");
    let text = std::fs::read_to_string(path).unwrap();
    assert!(proviso::scan::arm::looks_like_arm(&text));
    let without = scan_arm_file(path, &text, &AzureOptions::default());
    let r = &without.records[0];
    assert_eq!(
        field(r, "type"),
        &Value::str("Microsoft.Storage/storageAccounts")
    );
    assert!(matches!(field(r, "region"), Value::Unknown(u) if u.reason.contains("--region")));
    assert!(field(r, "name").is_unknown(), "uniqueString is not guessed");
    assert_eq!(
        attr(r, "sku"),
        &Value::Map([("name".to_string(), Value::str("Standard_LRS"))].into())
    );
    // The record is where its type and name are written.
    assert_eq!(r.origin.line_col().0, 53);
    let with = scan_arm_file(
        path,
        &text,
        &AzureOptions {
            region: Some("eastus".into()),
            parameter_files: vec![PathBuf::from(
                "fixtures/azure/cases/arm_parameters_file/azuredeploy.parameters.json",
            )],
        },
    );
    let r = &with.records[0];
    // The parameters file's "West Europe" wins over the resource group's location.
    assert_eq!(field(r, "region"), &Value::str("westeurope"));
    assert_eq!(
        attr(r, "sku"),
        &Value::Map([("name".to_string(), Value::str("Standard_GRS"))].into())
    );
}

#[test]
fn arm_copy_condition_nested_and_escaped_brackets() {
    let path = Path::new("fixtures/azure/cases/arm_copy_condition_nested/azuredeploy.json");
    let text = std::fs::read_to_string(path).unwrap();
    let out = scan_arm_file(path, &text, &AzureOptions::default());
    let addresses: Vec<&str> = out.records.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(
        addresses,
        [
            "Microsoft.Storage/storageAccounts.contosofed[0]",
            "Microsoft.Storage/storageAccounts.fabrikamfed[1]",
            "Microsoft.Sql/servers.fedsql",
            "Microsoft.Sql/servers/databases.fedsql/records",
        ]
    );
    let sql = &out.records[2];
    let Value::Map(props) = attr(sql, "properties") else {
        panic!()
    };
    assert_eq!(
        props.get("description"),
        Some(&Value::str("[this is not an expression]"))
    );
    let db = &out.records[3];
    assert_eq!(field(db, "name"), &Value::str("fedsql/records"));
    assert_eq!(field(db, "region"), &Value::str("westeurope"));
}

#[test]
fn a_bicep_registry_module_is_noted_and_judged_from_its_parameters() {
    let path = Path::new("fixtures/azure/cases/bicep_modules/main.bicep");
    let text = std::fs::read_to_string(path).unwrap();
    let out = scan_bicep_file(path, &text, &AzureOptions::default());
    assert_eq!(out.unscanned_modules.len(), 1);
    assert_eq!(
        out.unscanned_modules[0].source,
        "br/public:avm/res/storage/storage-account:0.9.0"
    );
    assert_eq!(out.notes.len(), 1);
    assert_eq!(
        out.notes[0].code.as_str(),
        "proviso::input::bicep_module_not_scanned"
    );
    let mut addresses: Vec<&str> = out.records.iter().map(|r| r.address.as_str()).collect();
    addresses.sort();
    assert_eq!(
        addresses,
        [
            "module.euStorage",
            "module.euStorage.Microsoft.Storage/storageAccounts.stg",
            "module.registryStorage",
            "module.usStorage",
            "module.usStorage.Microsoft.Storage/storageAccounts.stg",
        ]
    );
}

#[test]
fn proviso_check_reads_bicep_end_to_end_with_a_parameters_file() {
    let out = common::proviso(&[
        "check",
        "--rules",
        "rules",
        "--as-of",
        "2026-05-01",
        "--format",
        "json",
        "--var-file",
        "fixtures/azure/bicep/platform/main.parameters.json",
        "fixtures/azure/bicep/platform",
    ])
    .run();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let findings: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["clause"].as_str().unwrap(),
                f["outcome"].as_str().unwrap(),
                f["address"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        findings,
        [
            "federal_in_us violation Microsoft.Web/sites.federalGateway[1]",
            "federal_in_us unresolved Microsoft.Storage/storageAccounts.federalDr",
        ]
    );
    // `federal_in_us` is a warning: below the default `--fail-on error`.
    assert_eq!(out.code, 0, "{}", out.stderr);
}

fn arm(text: &str) -> ScanOutput {
    scan_arm_file(Path::new("hostile.json"), text, &AzureOptions::default())
}

#[test]
fn hostile_arm_templates_are_reported_not_crashed_on() {
    // Variables that name each other: a failure, not a stack overflow.
    let out = arm(
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "variables": {"a": "[variables('b')]", "b": "[variables('a')]"},
        "resources": [{"type": "Microsoft.Storage/storageAccounts", "name": "[variables('a')]", "location": "eastus"}]}"#,
    );
    assert_eq!(out.records.len(), 1);
    assert!(
        matches!(field(&out.records[0], "name"), Value::Unknown(u) if u.reason.contains("refers to itself"))
    );
    // A copy count beyond Azure's 800: located, no records.
    let out = arm(
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "resources": [{"copy": {"name": "c", "count": 1000000000}, "type": "Microsoft.Storage/storageAccounts", "name": "x"}]}"#,
    );
    assert!(out.records.is_empty());
    assert_eq!(out.malformed.len(), 1);
    assert_eq!(out.malformed[0].location().unwrap().1, 2);
    // Child resources nested 40 deep: the first 17 levels, then a diagnostic.
    let mut text = String::from(
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "resources": "#,
    );
    for _ in 0..40 {
        text.push_str(r#"[{"type": "Microsoft.Web/sites", "name": "a", "resources": "#);
    }
    text.push_str("[]");
    for _ in 0..40 {
        text.push_str("}]");
    }
    text.push('}');
    let out = arm(&text);
    assert_eq!(out.records.len(), 17);
    assert_eq!(out.malformed.len(), 1);
    // An expression that does not parse: located at its string.
    let out = arm(
        "{\"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#\",\n\"resources\": [{\"type\": \"Microsoft.Web/sites\",\n\"name\": \"[concat('a']\"}]}",
    );
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.malformed[0].location().unwrap().1, 3);
    // Not JSON at all.
    let out = arm("{\"$schema\": \"x\",\n  \"resources\": [,]}");
    assert_eq!(out.malformed[0].location().unwrap().1, 2);
}

#[test]
fn hostile_bicep_files_are_reported_not_crashed_on() {
    let dir = tempfile::tempdir().unwrap();
    // A module that uses itself.
    let me = dir.path().join("loop.bicep");
    std::fs::write(
        &me,
        "#disable-next-line no-unused-params\nparam n int = 1\nmodule again 'loop.bicep' = {\n  name: 'again'\n}\nresource s 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: 'x'\n  location: 'eastus'\n}\n",
    )
    .unwrap();
    let text = std::fs::read_to_string(&me).unwrap();
    let out = scan_bicep_file(&me, &text, &AzureOptions::default());
    assert_eq!(out.malformed.len(), 1, "{:?}", out.malformed);
    assert!(out.malformed[0].message.contains("cycle"));
    assert_eq!(
        out.records
            .iter()
            .map(|r| r.address.as_str())
            .collect::<Vec<_>>(),
        ["module.again", "Microsoft.Storage/storageAccounts.s"]
    );
    // Deep nesting and a huge loop.
    let deep = format!("var d = {}", "(".repeat(100_000));
    let out = scan_bicep_file(Path::new("deep.bicep"), &deep, &AzureOptions::default());
    assert_eq!(out.malformed.len(), 1);
    let huge = "resource s 'Microsoft.Storage/storageAccounts@2023-01-01' = [for i in range(0, 1000000000): {\n  name: 'x${i}'\n}]\n";
    let out = scan_bicep_file(Path::new("huge.bicep"), huge, &AzureOptions::default());
    // `range` past its cap fails: one record whose existence is unknown.
    assert_eq!(out.records.len(), 1);
    assert_eq!(
        out.records[0].address,
        "Microsoft.Storage/storageAccounts.s[…]"
    );
    assert!(out.records[0].existence.is_some());
    // A known loop past Azure's 800: reported, not cut short silently.
    let over = huge.replace("1000000000", "1000");
    let out = scan_bicep_file(Path::new("over.bicep"), &over, &AzureOptions::default());
    assert!(out.records.is_empty());
    assert_eq!(out.malformed.len(), 1);
    assert_eq!(out.malformed[0].location().unwrap().1, 1);
}

#[test]
fn a_local_bicep_modules_outputs_are_evaluated_with_its_parameters() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("site.bicep"),
        "param site string\nvar locations = {\n  primary: 'eastus2'\n  secondary: 'westeurope'\n}\noutput location string = locations[site]\noutput id string = resourceGroup().id\n",
    )
    .unwrap();
    let main = dir.path().join("main.bicep");
    let text = "module site 'site.bicep' = {\n  name: 'site'\n  params: {\n    site: 'secondary'\n  }\n}\nresource records 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: 'fedrecords'\n  location: site.outputs.location\n  tags: {\n    segment: 'federal'\n    id: site.outputs.id\n  }\n}\n";
    std::fs::write(&main, text).unwrap();
    let out = scan_bicep_file(&main, text, &AzureOptions::default());
    let r = out
        .records
        .iter()
        .find(|r| r.address == "Microsoft.Storage/storageAccounts.records")
        .unwrap();
    assert_eq!(field(r, "region"), &Value::str("westeurope"));
    let Value::Map(tags) = field(r, "tags") else {
        panic!()
    };
    assert!(
        tags["id"].is_unknown(),
        "an output Azure computes stays unknown"
    );
}

/// Scans one Bicep fixture under `fixtures/azure/bicep/`.
fn bicep_fixture(rel: &str) -> ScanOutput {
    let path = Path::new("fixtures/azure/bicep").join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    scan_bicep_file(&path, &text, &AzureOptions::default())
}

fn record<'o>(out: &'o ScanOutput, address: &str) -> &'o proviso::scan::ScannedRecord {
    out.records
        .iter()
        .find(|r| r.address == address)
        .unwrap_or_else(|| {
            panic!(
                "no {address} in {:?}",
                out.records.iter().map(|r| &r.address).collect::<Vec<_>>()
            )
        })
}

fn tag<'r>(r: &'r proviso::scan::ScannedRecord, k: &str) -> &'r Value {
    let Value::Map(tags) = field(r, "tags") else {
        panic!("tags of {} are {:?}", r.address, field(r, "tags"))
    };
    &tags[k]
}

#[test]
fn bicep_safe_dereference_gives_null_for_what_an_object_lacks() {
    let out = bicep_fixture("safe_dereference/main.bicep");
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    let r = record(&out, "Microsoft.Storage/storageAccounts.archive");
    assert_eq!(attr(r, "name"), &Value::str("starchive"));
    assert_eq!(field(r, "region"), &Value::str("swedencentral"));
    let Value::Map(sku) = attr(r, "sku") else {
        panic!()
    };
    assert_eq!(sku["name"], Value::str("Standard_LRS"));
    assert_eq!(tag(r, "team"), &Value::str("records"));
    assert_eq!(tag(r, "secondary"), &Value::str("none"));
    assert_eq!(tag(r, "subnet"), &Value::str("default"));
    assert_eq!(tag(r, "firstOwner"), &Value::str("nobody"));
    // What a resource lacks Azure may set: unknown, never the fallback.
    let m = record(&out, "Microsoft.Storage/storageAccounts.mirror");
    assert!(field(m, "region").is_unknown(), "{:?}", field(m, "region"));
    let r = record(&out, "Microsoft.Storage/storageAccounts.replica[0]");
    assert_eq!(field(r, "region"), &Value::str("swedencentral"));
    let c = record(&out, "Microsoft.Storage/storageAccounts.copies[0]");
    assert!(field(c, "region").is_unknown(), "{:?}", field(c, "region"));
}

/// Bicep's lambdas evaluate as Microsoft's lambda page says, and a loop
/// over a filtered list gives one record per item kept.
#[test]
fn bicep_lambdas_filter_map_reduce_sort_and_group() {
    let out = bicep_fixture("lambdas/main.bicep");
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    let addresses: Vec<&str> = out.records.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(
        addresses,
        [
            "Microsoft.Storage/storageAccounts.kennels[0]",
            "Microsoft.Storage/storageAccounts.kennels[1]"
        ]
    );
    let kira = &out.records[1];
    assert_eq!(attr(kira, "name"), &Value::str("stkira"));
    assert_eq!(field(kira, "region"), &Value::str("swedencentral"));
    assert_eq!(tag(kira, "names"), &Value::str("Evie,Casper,Indy,Kira"));
    assert_eq!(tag(kira, "total"), &Value::str("18"));
    assert_eq!(
        tag(kira, "youngestFirst"),
        &Value::str("Indy,Casper,Evie,Kira")
    );
    assert_eq!(tag(kira, "kiraAge"), &Value::str("8"));
    assert_eq!(tag(kira, "westeurope"), &Value::str("2"));
    assert_eq!(tag(kira, "first"), &Value::str("0:Evie"));
}

#[test]
fn a_bicep_output_named_as_a_parameter_leaves_the_parameter_in_use() {
    let out = bicep_fixture("output_same_name/main.bicep");
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    for a in ["records", "backup"] {
        let r = record(&out, &format!("Microsoft.Storage/storageAccounts.{a}"));
        assert_eq!(field(r, "region"), &Value::str("northeurope"));
    }
    let b = record(&out, "Microsoft.Storage/storageAccounts.backup");
    assert_eq!(attr(b, "name"), &Value::str("strecordsbak"));
}

#[test]
fn a_bicep_module_no_caller_evaluates_is_scanned_on_its_own() {
    let out = scan_inputs(
        &[PathBuf::from("fixtures/azure/bicep/module_not_evaluated")],
        &Options::default(),
        &proviso::scan::iac::Options::default(),
    );
    let addresses: BTreeSet<&str> = out.records.iter().map(|r| r.address.as_str()).collect();
    // `disabled.bicep`'s call is `if (false)` (its record has no instance);
    // the test caller does not parse as far as its call.
    assert_eq!(
        addresses,
        BTreeSet::from(["Microsoft.Storage/storageAccounts.ledger"])
    );
    assert_eq!(out.files, 3);
    assert_eq!(out.malformed.len(), 1, "{:?}", out.malformed);
    // A caller that does evaluate its call: the module is scanned through it only.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("child.bicep"),
        "resource c 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: 'stc'\n  location: 'westeurope'\n}\n",
    )
    .unwrap();
    for caller in ["main.bicep", "other.bicep"] {
        std::fs::write(
            dir.path().join(caller),
            "module child 'child.bicep' = {\n  name: 'child'\n}\n",
        )
        .unwrap();
    }
    // Files that only call each other: the first stands on its own.
    std::fs::write(
        dir.path().join("a.bicep"),
        "module b 'b.bicep' = {\n  name: 'b'\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.bicep"),
        "param deep bool = false\nmodule a 'a.bicep' = if (deep) {\n  name: 'a'\n}\nmodule a2 'a.bicep' = if (!deep) {\n  name: 'a2'\n}\n",
    )
    .unwrap();
    let out = scan_inputs(
        &[dir.path().to_path_buf()],
        &Options::default(),
        &proviso::scan::iac::Options::default(),
    );
    let addresses: BTreeSet<&str> = out.records.iter().map(|r| r.address.as_str()).collect();
    assert!(addresses.contains("module.child.Microsoft.Storage/storageAccounts.c"));
    assert!(!addresses.contains("Microsoft.Storage/storageAccounts.c"));
    assert!(addresses.contains("module.b"), "{addresses:?}");
    // Files on disk, each once: the module two callers use too.
    assert_eq!(out.files, 5);
}

#[test]
fn nullable_parameters_without_a_value_are_null() {
    let out = bicep_fixture("nullable_params/main.bicep");
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    let site = record(&out, "Microsoft.Web/sites.site");
    assert_eq!(field(site, "region"), &Value::str("westeurope"));
    assert_eq!(tag(site, "owner"), &Value::str("records"));
    // `slots ?? []`: no slot, and no unknown one.
    assert!(!out.records.iter().any(|r| r.address.contains("slots_")));
    let a = record(
        &out,
        "module.accounts.Microsoft.Storage/storageAccounts.account",
    );
    assert_eq!(attr(a, "name"), &Value::str("stdefault"));
    let path = Path::new("fixtures/azure/bicep/nullable_params/azuredeploy.json");
    let out = scan_arm_file(
        path,
        &std::fs::read_to_string(path).unwrap(),
        &AzureOptions::default(),
    );
    let site = &out.records[0];
    assert_eq!(field(site, "region"), &Value::str("northeurope"));
    assert_eq!(tag(site, "owner"), &Value::str("records"));
    // A parameter that is not nullable and has no value stays unknown.
    assert!(field(site, "name").is_unknown());
}

#[test]
fn bicep_spreads_objects_and_arrays() {
    let out = bicep_fixture("spread/main.bicep");
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    let r = record(&out, "Microsoft.Network/virtualNetworks.net");
    assert_eq!(tag(r, "owner"), &Value::str("records"));
    assert_eq!(tag(r, "env"), &Value::str("prod"));
    let Value::Map(props) = attr(r, "properties") else {
        panic!()
    };
    let Value::Map(space) = &props["addressSpace"] else {
        panic!()
    };
    assert_eq!(
        space["addressPrefixes"],
        Value::List(vec![Value::str("10.0.0.0/16"), Value::str("10.1.0.0/16")])
    );
    // Spread into a resource's body: its properties are the resource's.
    let l = record(&out, "Microsoft.Storage/storageAccounts.ledger");
    assert_eq!(field(l, "region"), &Value::str("uksouth"));
    assert_eq!(attr(l, "kind"), &Value::str("StorageV2"));
}

#[test]
fn bicep_typed_variables_and_declarations_over_several_lines() {
    let out = bicep_fixture("typed_multiline/main.bicep");
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    let r = record(&out, "Microsoft.Storage/storageAccounts.typed");
    assert_eq!(attr(r, "name"), &Value::str("sttyped"));
    let Value::Map(props) = attr(r, "properties") else {
        panic!()
    };
    assert_eq!(props["accessTier"], Value::str("Cool"));
    assert_eq!(field(r, "region"), &Value::str("westeurope"));
}

#[test]
fn bicep_imports_follow_exported_variables_of_local_files() {
    let out = bicep_fixture("imports/main.bicep");
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    for a in ["imported", "wildcard"] {
        let r = record(&out, &format!("Microsoft.Storage/storageAccounts.{a}"));
        assert_eq!(field(r, "region"), &Value::str("swedencentral"));
        assert_eq!(tag(r, "owner"), &Value::str("platform"));
    }
}

#[test]
fn bicep_line_breaks_after_equals_spaced_calls_and_interpolated_multiline_strings() {
    let out = bicep_fixture("line_breaks/main.bicep");
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    let r = record(&out, "Microsoft.Storage/storageAccounts.conditional");
    assert_eq!(attr(r, "name"), &Value::str("recordsst"));
    assert_eq!(tag(r, "startup"), &Value::str("echo RecordsApp\n"));
    assert_eq!(tag(r, "lastZone"), &Value::str("3"));
    assert_eq!(tag(r, "quoted"), &Value::str("'records'"));
}

#[test]
fn bicep_nesting_is_counted_per_level_and_bounded() {
    // Forty nested objects: real templates nest this deep.
    let mut text = String::from(
        "resource p 'Microsoft.Authorization/policyDefinitions@2021-06-01' = {\n  name: 'deep'\n  properties: ",
    );
    for i in 0..40 {
        text.push_str(&format!("{{\n  a{i}: "));
    }
    text.push_str("'x'\n");
    for _ in 0..40 {
        text.push_str("}\n");
    }
    text.push_str("}\n");
    // In a thread with a normal (2 MiB) stack, as rayon's workers have.
    let hostile = format!("var d = {}", "{\n a: [(".repeat(50_000));
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let out = scan_bicep_file(Path::new("deep.bicep"), &text, &AzureOptions::default());
            assert!(out.malformed.is_empty(), "{:?}", out.malformed);
            assert_eq!(out.records.len(), 1);
            let out = scan_bicep_file(
                Path::new("hostile.bicep"),
                &hostile,
                &AzureOptions::default(),
            );
            assert_eq!(out.malformed.len(), 1);
            assert!(out.malformed[0].message.contains("deeper than"));
        })
        .unwrap()
        .join()
        .unwrap();
}
