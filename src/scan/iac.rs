//! Which language each input of `proviso check` is written in, and the
//! dispatch to its scanner: Terraform (`.tf`, `.tf.json`, plan JSON),
//! CloudFormation (YAML/JSON templates, `cdk.out/*.template.json`), ARM
//! templates (JSON with an ARM `$schema`), Bicep (`.bicep`) and Kubernetes
//! manifests (YAML with `apiVersion` and `kind`).
//!
//! Detection is by extension, then content: a directory may mix them all.
//! `--iac KIND` scans only that language, and reads every file named on
//! the command line as it. Terraform keeps its own discovery (a directory
//! is a module); every other file is scanned on its own, in parallel, and
//! its records handed to the caller as one group. A file that cannot be
//! read is reported (located, counted) and the others are scanned.
//! `--var-file`s are sorted here too: CloudFormation parameters files,
//! ARM parameters files, and the rest (`.tfvars`) for Terraform.

use super::{Exclude, ScanOutput, ScannedRecord, cloudformation, kubernetes, terraform, yaml};
use crate::diag::{Code, Diag};
use crate::source::{SourceFile, display_path};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Largest IaC file read (CloudFormation's own limit is 1 MB).
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// An infrastructure-as-code language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IacKind {
    Terraform,
    #[value(alias = "cfn")]
    Cloudformation,
    Arm,
    Bicep,
    #[value(alias = "k8s")]
    Kubernetes,
}

impl IacKind {
    pub fn name(self) -> &'static str {
        match self {
            IacKind::Terraform => "Terraform",
            IacKind::Cloudformation => "CloudFormation",
            IacKind::Arm => "ARM",
            IacKind::Bicep => "Bicep",
            IacKind::Kubernetes => "Kubernetes",
        }
    }
}

/// Settings of the non-Terraform scanners.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--iac`: scan only this language.
    pub force: Option<IacKind>,
    /// `--region`: the region of a CloudFormation stack (`AWS::Region`), of
    /// an ARM deployment's resource group (`resourceGroup().location`).
    pub region: Option<String>,
}

/// Settings of the Azure scanners (ARM, Bicep), filled from the flags.
use crate::scan::arm::AzureOptions as AzureSettings;

/// A file name's extension that may hold IaC other than Terraform.
fn candidate(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.ends_with(".tf.json") || name.ends_with(".tfvars.json") {
        return false;
    }
    [".yaml", ".yml", ".json", ".template", ".bicep"]
        .iter()
        .any(|e| name.ends_with(e))
}

fn is_tf(path: &Path) -> bool {
    path.file_name()
        .map(|n| n.to_string_lossy())
        .is_some_and(|n| n.ends_with(".tf") || n.ends_with(".tf.json"))
}

/// Text a file must hold to be worth parsing as each language; a cheap
/// filter before the parse (`package.json`, CI configuration).
fn might_be_iac(text: &str) -> bool {
    text.contains("Resources")
        || text.contains("AWSTemplateFormatVersion")
        || (text.contains("apiVersion") && text.contains("kind"))
        || text.contains("deploymentTemplate")
}

use crate::scan::arm::looks_like_arm;

/// Whether a text is a Terraform plan (`terraform show -json`).
fn looks_like_plan(text: &str) -> bool {
    let head = text.get(..text.len().min(4096)).unwrap_or(text);
    head.contains("\"format_version\"")
        && (text.contains("\"planned_values\"") || text.contains("\"resource_changes\""))
}

/// Whether a directory holds a file that some scanner reads (for the
/// preflight of `proviso check`; hidden directories and excluded paths
/// are skipped, as the scanners skip them).
pub fn holds_iac(dir: &Path, exclude: &[Exclude], force: Option<IacKind>) -> bool {
    let Ok(abs) = std::fs::canonicalize(dir) else {
        return true; // the scanner reports it
    };
    walk(&abs, exclude).any(|p| {
        if is_tf(&p) {
            return matches!(force, None | Some(IacKind::Terraform));
        }
        if force == Some(IacKind::Terraform) {
            return false;
        }
        detect_path(&p).is_some_and(|k| force.is_none_or(|f| f == k))
    })
}

/// The language of a file, read from it (`None`: not IaC proviso reads).
pub fn detect_path(path: &Path) -> Option<IacKind> {
    if is_tf(path) {
        return Some(IacKind::Terraform);
    }
    if !candidate(path) {
        return None;
    }
    if path.extension().is_some_and(|e| e == "bicep") {
        return Some(IacKind::Bicep);
    }
    let len = std::fs::metadata(path).ok()?.len();
    if len > MAX_FILE_BYTES {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    detect_text(path, &text).ok().flatten().map(|(k, _)| k)
}

/// A file's language from its text, and its YAML documents when it was
/// parsed to tell. `Err` when it looks like IaC but does not parse.
fn detect_text(
    path: &Path,
    text: &str,
) -> Result<Option<(IacKind, Vec<yaml::Node>)>, yaml::YamlError> {
    if path.extension().is_some_and(|e| e == "bicep") {
        return Ok(Some((IacKind::Bicep, Vec::new())));
    }
    let json = path.extension().is_some_and(|e| e == "json");
    if json && looks_like_arm(text) {
        return Ok(Some((IacKind::Arm, Vec::new())));
    }
    if json && looks_like_plan(text) {
        return Ok(Some((IacKind::Terraform, Vec::new())));
    }
    if !might_be_iac(text) {
        return Ok(None);
    }
    let docs = yaml::parse_documents(text)?;
    let kind = match docs.as_slice() {
        [one] if cloudformation::looks_like(one) => Some(IacKind::Cloudformation),
        docs if docs.iter().any(kubernetes::looks_like) => Some(IacKind::Kubernetes),
        _ => None,
    };
    Ok(kind.map(|k| (k, docs)))
}

/// Files of a directory, hidden directories and excluded paths skipped.
fn walk<'a>(abs: &'a Path, exclude: &'a [Exclude]) -> impl Iterator<Item = PathBuf> + 'a {
    walkdir::WalkDir::new(abs)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(move |e| {
            e.depth() == 0
                || !((e.file_type().is_dir() && e.file_name().to_string_lossy().starts_with('.'))
                    || exclude.iter().any(|x| x.matches(e.path())))
        })
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() || e.path().is_file())
        .map(|e| e.into_path())
}

/// `--var-file`s sorted by what they are for.
#[derive(Debug, Default)]
struct VarFiles {
    terraform: Vec<PathBuf>,
    cloudformation: cloudformation::params::Parameters,
    arm: Vec<PathBuf>,
}

fn sort_var_files(files: &[PathBuf], out: &mut ScanOutput) -> VarFiles {
    let mut v = VarFiles::default();
    for f in files {
        // ARM parameters files and `.bicepparam`s: the Azure scanners'.
        if crate::scan::arm::discover::is_parameters_file(f) {
            v.arm.push(f.clone());
            continue;
        }
        let is_json = f.extension().is_some_and(|e| e == "json")
            && !f.to_string_lossy().ends_with(".tfvars.json");
        let json = is_json
            .then(|| std::fs::read_to_string(f).ok())
            .flatten()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
        match json {
            Some(j) if cloudformation::params::looks_like_parameters(&j) => {
                if let Err(d) = cloudformation::params::read(f, &j, &mut v.cloudformation) {
                    out.malformed.push(d);
                }
            }
            Some(j)
                if j.get("$schema")
                    .and_then(|s| s.as_str())
                    .is_some_and(|s| s.contains("deploymentParameters")) =>
            {
                v.arm.push(f.clone());
            }
            _ => v.terraform.push(f.clone()),
        }
    }
    v
}

/// Scans every input of `proviso check` (see the module docs), handing
/// each independent group of records to `each`.
pub fn scan_inputs_each<R: Send>(
    paths: &[PathBuf],
    tf: &terraform::Options,
    iac: &Options,
    each: &(dyn Fn(Vec<ScannedRecord>) -> R + Sync),
) -> (ScanOutput, Vec<R>) {
    let mut out = ScanOutput::default();
    let vars = sort_var_files(&tf.var_files, &mut out);
    let tf = terraform::Options {
        var_files: vars.terraform.clone(),
        ..tf.clone()
    };
    let force = iac.force;
    let terraform_on = matches!(force, None | Some(IacKind::Terraform));

    // Which files go to which scanner.
    let mut tree: Vec<PathBuf> = Vec::new(); // Terraform directories and .tf files
    let mut plans: Vec<PathBuf> = Vec::new();
    let mut files: Vec<(PathBuf, bool)> = Vec::new(); // other IaC: (path, named on its own)
    for p in paths {
        if p.is_dir() {
            tree.push(p.clone());
            // A directory that cannot be resolved: Terraform's discovery
            // reports it.
            if force != Some(IacKind::Terraform)
                && let Ok(abs) = std::fs::canonicalize(p)
            {
                files.extend(
                    walk(&abs, &tf.exclude)
                        .filter(|f| candidate(f))
                        .map(|f| (f, false)),
                );
            }
        } else if !p.exists() && !terraform_on {
            out.malformed.push(
                Diag::error(
                    Code::InputNotFound,
                    format!("`{}` does not exist", p.display()),
                )
                .with_help(
                    "pass directories or files of infrastructure as code to `proviso check`",
                ),
            );
        } else if is_tf(p) || !p.exists() {
            tree.push(p.clone());
        } else if force == Some(IacKind::Terraform) || (force.is_none() && is_plan_candidate(p)) {
            plans.push(p.clone());
        } else {
            files.push((p.clone(), true));
        }
    }
    let (mut results, tf_out) = if terraform_on && !tree.is_empty() {
        let (o, r) = terraform::scan_each(&tree, &tf, each);
        (r, o)
    } else {
        (Vec::new(), ScanOutput::default())
    };
    out.merge(tf_out);
    if terraform_on {
        for p in plans {
            let (part, records) = terraform::plan::scan(&p);
            results.push(each(records));
            out.merge(part);
        }
    }

    // ARM and Bicep files are scanned one by one too, but which of them
    // stand on their own is the Azure discovery's call: a `.bicep` file
    // another one uses as a local module is scanned through that call (as a
    // Terraform module directory is), and a template Bicep generated beside
    // its `.bicep` is that file's compiled copy.
    if matches!(force, None | Some(IacKind::Arm | IacKind::Bicep)) {
        let mut roots: Vec<PathBuf> = paths.iter().filter(|p| p.is_dir()).cloned().collect();
        roots.extend(
            files
                .iter()
                .filter(|(_, named)| *named)
                .map(|(p, _)| p.clone()),
        );
        let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let kept: std::collections::HashSet<PathBuf> =
            crate::scan::arm::discover::find(&roots, &tf.exclude)
                .into_iter()
                .map(|i| match i {
                    crate::scan::arm::discover::Input::Arm(p)
                    | crate::scan::arm::discover::Input::Bicep(p) => canonical(&p),
                })
                .collect();
        files.retain(|(p, _)| {
            !crate::scan::arm::discover::is_azure_file(p) || kept.contains(&canonical(p))
        });
    }
    let cfn = cloudformation::Options {
        region: iac.region.clone(),
        parameters: vars.cloudformation,
    };
    let azure = AzureSettings {
        region: iac.region.clone(),
        parameter_files: vars.arm,
    };
    let parts: Vec<(ScanOutput, Option<R>)> = files
        .par_iter()
        .map(|(path, named)| {
            let part = scan_file(path, *named, force, &cfn, &azure);
            match part {
                Some(mut part) => {
                    let records = std::mem::take(&mut part.records);
                    (part, Some(each(records)))
                }
                None => (ScanOutput::default(), None),
            }
        })
        .collect();
    for (part, r) in parts {
        out.merge(part);
        results.extend(r);
    }
    (out, results)
}

/// A `.json` file named on its own that is not CloudFormation, ARM or
/// Kubernetes: a plan, as `proviso check plan.json` always meant.
fn is_plan_candidate(p: &Path) -> bool {
    if !terraform::plan::is_plan_path(p) {
        return false;
    }
    match std::fs::read_to_string(p) {
        Ok(text) => !matches!(
            detect_text(p, &text),
            Ok(Some((
                IacKind::Cloudformation | IacKind::Arm | IacKind::Kubernetes,
                _
            )))
        ),
        Err(_) => true, // the plan reader reports it
    }
}

/// Scans one non-Terraform file; `None` when it is not IaC of the
/// language scanned (a `package.json` in a directory).
fn scan_file(
    path: &Path,
    named: bool,
    force: Option<IacKind>,
    cfn: &cloudformation::Options,
    azure: &AzureSettings,
) -> Option<ScanOutput> {
    let mut out = ScanOutput::default();
    let too_large = std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_FILE_BYTES);
    if too_large {
        out.malformed.push(
            Diag::error(
                Code::InputTooLarge,
                format!(
                    "`{}` is larger than {} MiB: not read",
                    display_path(path),
                    MAX_FILE_BYTES >> 20
                ),
            )
            .with_help("CloudFormation templates are at most 1 MB; exclude generated files with `--exclude`"),
        );
        return Some(out);
    }
    let text = match crate::diag::read_text(path) {
        Ok(t) => t,
        Err(d) => {
            if !named && !might_be_iac_name(path) {
                return None;
            }
            out.malformed.push(d);
            return Some(out);
        }
    };
    if force.is_none_or(|f| f == IacKind::Kubernetes) && helm_chart_template(path, &text) {
        out.notes
            .push(template_note(path, &text, "a Helm chart's template"));
        return Some(out);
    }
    let detected = detect_text(path, &text);
    let kind = match (&detected, force) {
        (Ok(Some((k, _))), None) => *k,
        (Ok(Some((k, _))), Some(f)) if *k == f => *k,
        // A file named on its own is read as the forced language.
        (_, Some(f)) if named => f,
        (Ok(_), _) => {
            if named {
                out.malformed.push(not_iac(path));
                return Some(out);
            }
            return None;
        }
        (Err(e), None) => {
            // Broken YAML that looks like IaC is reported; other files
            // in a directory are not ours.
            if !named && !might_be_iac(&text) {
                return None;
            }
            // `{{ … }}` that breaks the YAML: a Go (or Jinja) template
            // rendered before use (a krew manifest, a chart outside the
            // usual layout), not a broken manifest.
            if text.contains("{{") && text.contains("}}") {
                out.notes.push(template_note(path, &text, "a template"));
                return Some(out);
            }
            let file = SourceFile::new(display_path(path), text.as_str());
            out.files += 1;
            out.malformed
                .push(unparsable(&file, e, malformed_code(&text)));
            return Some(out);
        }
        (Err(_), Some(_)) => return None,
    };
    let docs = match detected {
        Ok(Some((_, docs))) => docs,
        _ => Vec::new(),
    };
    let file = SourceFile::new(display_path(path), text.as_str());
    Some(match kind {
        IacKind::Cloudformation | IacKind::Kubernetes => {
            let docs = if docs.is_empty() {
                match yaml::parse_documents(&text) {
                    Ok(d) => d,
                    Err(e) => {
                        let code = if kind == IacKind::Kubernetes {
                            Code::InputMalformedKubernetes
                        } else {
                            Code::InputMalformedCloudFormation
                        };
                        out.files += 1;
                        out.malformed.push(unparsable(&file, &e, code));
                        return Some(out);
                    }
                }
            } else {
                docs
            };
            if kind == IacKind::Kubernetes {
                kubernetes::scan_manifest(&file, &docs)
            } else {
                match docs.as_slice() {
                    [doc] => {
                        // A CDK stack synthesized for an explicit region.
                        let cdk;
                        let cfn = match (&cfn.region, cloudformation::cdk_region(path)) {
                            (None, Some(region)) => {
                                cdk = cloudformation::Options {
                                    region: Some(region),
                                    ..cfn.clone()
                                };
                                &cdk
                            }
                            _ => cfn,
                        };
                        cloudformation::scan_template(&file, doc, cfn)
                    }
                    _ => {
                        out.files += 1;
                        out.malformed.push(
                            Diag::error(
                                Code::InputMalformedCloudFormation,
                                format!("`{}` is not a CloudFormation template: a template is one YAML document", file.name),
                            )
                            .in_file(&file)
                            .label(0..0, "here")
                            .with_help("split it into one template per file"),
                        );
                        out
                    }
                }
            }
        }
        // A plan JSON in a directory is not read (as before); named, it
        // went to the plan reader already.
        IacKind::Terraform if !named => return None,
        IacKind::Terraform => {
            let (mut part, records) = terraform::plan::scan(path);
            part.records = records;
            part
        }
        IacKind::Arm => crate::scan::arm::scan_arm_file(path, &text, azure),
        IacKind::Bicep => crate::scan::bicep::scan_bicep_file(path, &text, azure),
    })
}

/// The error for a file that looks like IaC but is not YAML or JSON.
fn unparsable(file: &std::sync::Arc<SourceFile>, e: &yaml::YamlError, code: Code) -> Diag {
    Diag::error(
        code,
        format!(
            "`{}` cannot be parsed as YAML or JSON: {}",
            file.name, e.message
        ),
    )
    .in_file(file)
    .label(e.offset..e.offset, "here")
    .with_help("fix the syntax; the other files are scanned")
}

/// The malformed-input code for a file that looks like IaC but does not
/// parse, by what it looks like: a manifest (`apiVersion` and `kind`), else
/// a CloudFormation template.
fn malformed_code(text: &str) -> Code {
    if !text.contains("AWSTemplateFormatVersion")
        && text.contains("apiVersion")
        && text.contains("kind")
    {
        Code::InputMalformedKubernetes
    } else {
        Code::InputMalformedCloudFormation
    }
}

/// The note for a file of template text (`{{ … }}`), which becomes IaC only
/// once rendered: `what` it is, at its first directive.
fn template_note(path: &Path, text: &str, what: &str) -> Diag {
    let file = SourceFile::new(display_path(path), text);
    let at = text.find("{{").unwrap_or(0);
    Diag::advice(
        Code::InputNotScanned,
        format!(
            "`{}` is {what} (`{{{{ … }}}}` directives), not YAML until rendered: its objects are not judged",
            file.name
        ),
    )
    .in_file(&file)
    .label(at..at + 2.min(text.len() - at), "a template directive")
    .with_help("scan the rendered output: `helm template CHART > rendered.yaml` (or your templating tool's), then `proviso check rendered.yaml`")
}

/// Whether a YAML file is a Helm chart's template: Go template text
/// (`{{ … }}`) under a `templates/` directory of a chart (a directory with
/// a `Chart.yaml`), which `helm template` renders into manifests.
fn helm_chart_template(path: &Path, text: &str) -> bool {
    if !text.contains("{{") {
        return false;
    }
    let is_yaml = path
        .extension()
        .is_some_and(|e| e == "yaml" || e == "yml" || e == "tpl");
    is_yaml
        && path.ancestors().skip(1).any(|dir| {
            dir.file_name().is_some_and(|n| n == "templates")
                && dir.parent().is_some_and(|chart| {
                    chart.join("Chart.yaml").is_file() || chart.join("Chart.yml").is_file()
                })
        })
}

fn might_be_iac_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "yaml" || e == "yml" || e == "template" || e == "bicep")
}

fn not_iac(path: &Path) -> Diag {
    Diag::error(
        Code::CheckNotTerraform,
        format!(
            "`{}` is not infrastructure as code proviso reads: nothing to check in it",
            display_path(path)
        ),
    )
    .with_help(
        "name Terraform, CloudFormation, ARM, Bicep or Kubernetes files, or force one with `--iac`",
    )
}
