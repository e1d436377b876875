//! A module instance to its records: every block expanded into its
//! instances (`count`, `for_each`), the modules it calls walked in turn,
//! the records handed on in batches, within bounds.
//!
//! The design choice is that no configuration, however it multiplies,
//! makes the scan take memory without bound:
//!
//! - records are handed on [`BATCH`] at a time between a root's own blocks
//!   (other blocks' values are evaluated from the parse trees, never from
//!   records), so a root of 10,000 resources never holds them all;
//! - a large `count` whose block never reads `count.index` is one record
//!   that stands for all its instances ([`GROUP_COUNT_ABOVE`]); past
//!   [`MAX_INSTANCES_EACH`] instances of one block, the rest are one record
//!   whose index is unknown;
//! - one root expands to at most [`MAX_RECORDS_PER_ROOT`] records, and
//!   module calls nest at most [`MAX_MODULE_DEPTH`] deep; past either, a
//!   located error says where expansion stopped.

use super::expr::Frame;
use super::module::{Instance, Instances, instance_suffix};
use super::records::{header_span, module_record, resource_record};
use crate::diag::{Code, Diag};
use crate::scan::{ScanOutput, ScannedRecord};
use crate::source::{Origin, SourceFile};
use crate::value::{Unknown, Value};
use hcl_edit::Span as _;
use hcl_edit::structure::{Block, Body};
use std::path::PathBuf;
use std::sync::Arc;

/// Deepest chain of module calls followed.
const MAX_MODULE_DEPTH: usize = 32;

/// Walks a root module instance and the modules it calls, handing its
/// records to `flush` in batches; what goes wrong goes to `out`.
pub fn walk_root(
    inst: &Instance<'_>,
    flush: &mut dyn FnMut(Vec<ScannedRecord>),
    out: &mut ScanOutput,
) {
    let mut stack = vec![inst.module.dir.clone()];
    let mut walk = Walk {
        records: Vec::new(),
        handed_on: 0,
        flush,
    };
    walk_instance(inst, &mut walk, out, &mut stack);
    walk.flush_all();
}

/// Records a root module's walk has built, handed on in batches.
///
/// Records are independent once built (other blocks' values are evaluated
/// from the parse trees, not from records), so a root module's records are
/// judged and dropped a batch at a time: a flat monorepo of 10,000
/// resources in one directory never holds them all.
struct Walk<'f> {
    records: Vec<ScannedRecord>,
    /// Records already handed on.
    handed_on: usize,
    flush: &'f mut dyn FnMut(Vec<ScannedRecord>),
}

/// Records handed on together.
const BATCH: usize = 1024;

impl Walk<'_> {
    fn total(&self) -> usize {
        self.handed_on + self.records.len()
    }

    /// Hands on a full batch; only called between the root's own blocks,
    /// where no caller still needs to adjust the records.
    fn flush_if_full(&mut self) {
        if self.records.len() >= BATCH {
            self.flush_all();
        }
    }

    fn flush_all(&mut self) {
        if self.records.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.records);
        self.handed_on += batch.len();
        (self.flush)(batch);
    }
}

/// Emits the records of an instance and recurses into the modules it calls.
fn walk_instance(
    inst: &Instance<'_>,
    walk: &mut Walk<'_>,
    out: &mut ScanOutput,
    stack: &mut Vec<PathBuf>,
) {
    out.modules += 1;
    let root = stack.len() == 1;
    for res in &inst.module.resources {
        if root {
            walk.flush_if_full();
        }
        let records = &mut walk.records;
        if over_budget(
            walk.handed_on + records.len(),
            res.block.file,
            res.block.item,
            out,
        ) {
            return;
        }
        let loaded = res.load();
        let block = loaded.get();
        for x in expand(inst, &block.item.body, block.file, out) {
            let mut r = resource_record(inst, res, block, &x.frame, &x.suffix, x.existence);
            r.instances = x.instances;
            records.push(r);
        }
    }
    for call in &inst.module.calls {
        if root {
            walk.flush_if_full();
        }
        if over_budget(walk.total(), call.block.file, call.block.item, out) {
            return;
        }
        let body = &call.block.item.body;
        for x in expand(inst, body, call.block.file, out) {
            let mut r = module_record(inst, call, &x.frame, &x.suffix, x.existence.clone());
            r.instances = x.instances;
            walk.records.push(r);
            let Some(dir) = &call.dir else {
                let origin = Origin::new(call.block.file, header_span(call.block.item));
                let first = !out.unscanned_modules.iter().any(|u| {
                    u.origin.file.name == origin.file.name && u.origin.span == origin.span
                });
                if first {
                    out.notes.push(
                        Diag::advice(Code::InputRemoteModule, format!("module `{}` has the source `{}`, which is not local and not downloaded; its resources are not scanned", call.name, call.source.clone().unwrap_or_default()))
                            .label_at(&origin, "not followed")
                            .with_help("run `terraform init` first: proviso then follows the modules it downloads (`.terraform/modules/modules.json`); until then the call is judged from its arguments"),
                    );
                }
                let local = format!("module.{}", call.name);
                out.add_unscanned(crate::scan::UnscannedModule {
                    address: if inst.prefix.is_empty() {
                        local
                    } else {
                        format!("{}.{local}", inst.prefix)
                    },
                    source: call.source.clone().unwrap_or_default(),
                    origin,
                    instances: x.instances,
                });
                continue;
            };
            if stack.contains(dir) || stack.len() > MAX_MODULE_DEPTH {
                out.malformed.push(
                    Diag::error(
                        Code::InputModuleCycle,
                        format!(
                            "module `{}` calls a module that is already being evaluated",
                            call.name
                        ),
                    )
                    .label_at(
                        &Origin::new(call.block.file, header_span(call.block.item)),
                        "calls itself through this module",
                    )
                    .with_help("Terraform rejects recursive modules: check the `source` paths"),
                );
                continue;
            }
            let Some(child_def) = inst.modules.get(dir) else {
                continue;
            };
            let child = inst.child_instance(call, child_def, &x.frame, &x.suffix);
            stack.push(dir.clone());
            let first = walk.records.len();
            walk_instance(&child, walk, out, stack);
            for r in walk.records.iter_mut().skip(first) {
                if let Some(u) = &x.existence {
                    r.existence.get_or_insert_with(|| u.clone());
                }
                r.instances = r.instances.saturating_mul(x.instances);
            }
            stack.pop();
        }
    }
}

/// Most records one root module (with the modules it calls) may expand to.
/// Past it, the rest of the root is not expanded and the run fails with a
/// located error: a configuration that large (modules calling modules
/// with `count`, say 2^20 instances) would otherwise take gigabytes.
pub const MAX_RECORDS_PER_ROOT: usize = 200_000;

/// Most instances of one block that are evaluated one by one. The rest of
/// a larger `count` or `for_each` is one record whose `count.index` (or
/// `each`) is unknown: what does not depend on the index is judged
/// exactly, what does is unresolved.
pub const MAX_INSTANCES_EACH: u64 = 10_000;

/// A `count` above this whose block never reads `count.index` is one
/// record that stands for all its instances (`x[0..N-1]`).
pub const GROUP_COUNT_ABOVE: u64 = 100;

/// Whether the root's record budget is spent (reported once, at `block`).
fn over_budget(
    records: usize,
    file: &Arc<SourceFile>,
    block: &Block,
    out: &mut ScanOutput,
) -> bool {
    if records < MAX_RECORDS_PER_ROOT {
        return false;
    }
    if !out
        .malformed
        .iter()
        .any(|d| d.code == Code::InputTooManyInstances)
    {
        out.malformed.push(
            Diag::error(
                Code::InputTooManyInstances,
                format!(
                    "this configuration expands to more than {MAX_RECORDS_PER_ROOT} block instances; proviso stopped expanding it here"
                ),
            )
            .label_at(&Origin::new(file, header_span(block)), "not expanded from here on")
            .with_help("the modules that lead here are instantiated many times over (`count`, `for_each`, or one module called several times at each level): check the calls; blocks from here on were not judged"),
        );
    }
    true
}

/// One instance of a block (or a group of instances judged as one).
struct Expanded {
    frame: Frame,
    /// `[0]`, `["key"]`, `[0..9]`, or empty.
    suffix: String,
    existence: Option<Arc<Unknown>>,
    instances: u64,
}

impl Expanded {
    fn single(frame: Frame, suffix: String) -> Expanded {
        Expanded {
            frame,
            suffix,
            existence: None,
            instances: 1,
        }
    }
}

/// The instances of a block: frames with `count.index` / `each` bound.
fn expand(
    inst: &Instance<'_>,
    body: &Body,
    file: &Arc<SourceFile>,
    out: &mut ScanOutput,
) -> Vec<Expanded> {
    let index_unknown = |why: String| {
        let u = Value::unknown(why, None);
        Frame {
            each: Some((u.clone(), u.clone())),
            count_index: Some(u),
            vars: Vec::new(),
        }
    };
    match inst.instances_of(body, file, inst.depth) {
        Instances::Single => vec![Expanded::single(Frame::default(), String::new())],
        Instances::Count(n) if n > GROUP_COUNT_ABOVE && !mentions(body, "count") => {
            vec![Expanded {
                frame: index_unknown("`count.index` is not used".into()),
                suffix: format!("[0..{}]", n - 1),
                existence: None,
                instances: n,
            }]
        }
        Instances::Count(n) => {
            let one_by_one = n.min(MAX_INSTANCES_EACH);
            let mut v: Vec<Expanded> = (0..one_by_one)
                .map(|i| {
                    let idx = Value::Num(i as f64);
                    Expanded::single(
                        Frame {
                            count_index: Some(idx.clone()),
                            ..Frame::default()
                        },
                        instance_suffix(&idx),
                    )
                })
                .collect();
            if n > one_by_one {
                note_capped(body, file, n, out);
                v.push(Expanded {
                    frame: index_unknown(format!(
                        "instances past the first {MAX_INSTANCES_EACH} of `count = {n}` are judged together"
                    )),
                    suffix: format!("[{one_by_one}..{}]", n - 1),
                    existence: None,
                    instances: n - one_by_one,
                });
            }
            v
        }
        Instances::Each(items) => {
            let n = items.len() as u64;
            let mut v: Vec<Expanded> = Vec::new();
            for (k, val) in items.into_iter().take(MAX_INSTANCES_EACH as usize) {
                let suffix = instance_suffix(&k);
                v.push(Expanded::single(
                    Frame {
                        each: Some((k, val)),
                        ..Frame::default()
                    },
                    suffix,
                ));
            }
            if n > MAX_INSTANCES_EACH {
                note_capped(body, file, n, out);
                v.push(Expanded {
                    frame: index_unknown(format!(
                        "instances past the first {MAX_INSTANCES_EACH} of a `for_each` of {n} are judged together"
                    )),
                    suffix: "[…]".into(),
                    existence: None,
                    instances: n - MAX_INSTANCES_EACH,
                });
            }
            v
        }
        Instances::Unknown(u) => {
            let unknown_value = Value::Unknown(u.clone());
            let frame = Frame {
                each: Some((unknown_value.clone(), unknown_value.clone())),
                count_index: Some(unknown_value),
                vars: Vec::new(),
            };
            vec![Expanded {
                frame,
                suffix: String::new(),
                existence: Some(u),
                instances: 1,
            }]
        }
    }
}

/// Says that a block's instances past [`MAX_INSTANCES_EACH`] are judged as one.
fn note_capped(body: &Body, file: &Arc<SourceFile>, n: u64, out: &mut ScanOutput) {
    let at = body
        .get_attribute("count")
        .or_else(|| body.get_attribute("for_each"))
        .and_then(|a| a.value.span())
        .map(|s| Origin::new(file, s));
    let mut d = Diag::advice(
        Code::InputInstancesGrouped,
        format!(
            "{n} instances: the first {MAX_INSTANCES_EACH} are judged one by one, the rest as one record whose index is unknown"
        ),
    );
    if let Some(o) = at {
        d = d.label_at(&o, "here");
    }
    out.notes.push(d);
}

/// Whether any expression of a body (nested blocks included) refers to
/// `root.…` (`count`, `each`).
fn mentions(body: &Body, root: &str) -> bool {
    use hcl_edit::visit::{Visit, visit_expr};
    struct Finder<'r> {
        root: &'r str,
        found: bool,
    }
    impl Visit for Finder<'_> {
        fn visit_expr(&mut self, e: &hcl_edit::expr::Expression) {
            if self.found {
                return;
            }
            if let hcl_edit::expr::Expression::Variable(v) = e
                && v.as_str() == self.root
            {
                self.found = true;
                return;
            }
            visit_expr(self, e);
        }
    }
    let mut f = Finder { root, found: false };
    f.visit_body(body);
    f.found
}
