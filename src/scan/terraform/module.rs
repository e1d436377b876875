//! Modules, module instances and the records they produce.
//!
//! A [`ModuleDef`] is a directory's blocks, indexed by kind and name and
//! borrowed from the parsed files. An [`Instance`] is a module evaluated with
//! one set of inputs (a root module with its tfvars, or a called module with
//! its caller's arguments) under an address prefix such as `module.api`.
//! Instances are evaluated lazily: locals, other resources' attributes and
//! module outputs are computed on first reference and cached.

use super::cloud::PROVIDER_REGION_ATTRIBUTES;
use super::discover::RemoteDirs;
use super::expr::{Ctx, Frame};
use crate::source::{Origin, SourceFile};
use crate::value::{Unknown, Value};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Attribute, Block, Body};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

/// A parsed Terraform file.
pub struct ParsedFile {
    pub source: Arc<SourceFile>,
    pub body: Body,
    /// Locals of this file whose definitions could not be parsed, with
    /// where they are: references to them are unknown, not missing.
    pub lost_locals: Vec<(String, Origin)>,
    /// The bodies of its resource and data blocks were dropped after
    /// parsing ([`super::slim::detach_resource_bodies`]): each is parsed
    /// again from the text when it is evaluated.
    pub detached: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Resource,
    Data,
}

/// A block in the file it was written in.
pub struct Located<'a, T> {
    pub item: &'a T,
    pub file: &'a Arc<SourceFile>,
}

// Not derived: a derive would require `T: Copy`, and only references are copied.
impl<T> Clone for Located<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Located<'_, T> {}

pub struct ResourceDef<'a> {
    pub kind: BlockKind,
    pub ty: String,
    pub name: String,
    pub block: Located<'a, Block>,
    /// Blocks of override files (`override.tf`, `*_override.tf`) merged
    /// into this one, in the order Terraform applies them.
    pub overrides: Vec<Located<'a, Block>>,
    /// `block` is the header only: its body is read by [`ResourceDef::load`].
    pub detached: bool,
}

/// A resource block with its body, for as long as it is evaluated.
pub enum Loaded<'a> {
    /// The block as the module keeps it.
    Kept(Located<'a, Block>),
    /// The block parsed again from its text, with the file its spans are
    /// offsets into (a part of the block's file).
    Parsed {
        block: Box<Block>,
        file: Arc<SourceFile>,
    },
}

impl Loaded<'_> {
    pub fn get(&self) -> Located<'_, Block> {
        match self {
            Loaded::Kept(l) => *l,
            Loaded::Parsed { block, file } => Located { item: block, file },
        }
    }
}

impl<'a> ResourceDef<'a> {
    /// The block with its body: the kept block, or the block parsed again
    /// from the file's text when its body was detached after parsing.
    pub fn load(&self) -> Loaded<'a> {
        if !self.detached {
            return Loaded::Kept(self.block);
        }
        let file = self.block.file;
        let Some(span) = self.block.item.span() else {
            return Loaded::Kept(self.block);
        };
        let Some(text) = file.text.get(span.clone()) else {
            return Loaded::Kept(self.block);
        };
        // INVARIANT: the block's text parsed as part of the whole file, so
        // it parses on its own to the same block. Should that ever fail,
        // the header is all there is and the resource has no attributes.
        let block = hcl_edit::parser::parse_body(text)
            .ok()
            .and_then(|body| body.into_blocks().next());
        match block {
            Some(block) => Loaded::Parsed {
                block: Box::new(block),
                file: SourceFile::part(file, span.start, text.len()),
            },
            None => Loaded::Kept(self.block),
        }
    }
}

pub struct ModuleCall<'a> {
    pub name: String,
    pub source: Option<String>,
    /// The called directory, for local sources that exist.
    pub dir: Option<PathBuf>,
    pub block: Located<'a, Block>,
    /// Override-file blocks merged into this call.
    pub overrides: Vec<Located<'a, Block>>,
}

pub struct ProviderDef<'a> {
    pub name: String,
    pub alias: Option<String>,
    pub block: Located<'a, Block>,
}

/// One directory's Terraform configuration.
pub struct ModuleDef<'a> {
    pub dir: PathBuf,
    pub dir_display: String,
    pub variables: BTreeMap<String, Located<'a, Block>>,
    /// Override-file `variable` blocks, by name.
    pub variable_overrides: BTreeMap<String, Vec<Located<'a, Block>>>,
    pub locals: BTreeMap<String, Located<'a, Attribute>>,
    /// Locals whose definitions could not be parsed.
    pub lost_locals: BTreeMap<String, Origin>,
    pub outputs: BTreeMap<String, Located<'a, Block>>,
    pub providers: Vec<ProviderDef<'a>>,
    pub resources: Vec<ResourceDef<'a>>,
    pub calls: Vec<ModuleCall<'a>>,
}

impl<'a> ModuleDef<'a> {
    pub fn new(dir: PathBuf, files: &'a [ParsedFile], remote: &RemoteDirs) -> ModuleDef<'a> {
        let mut m = ModuleDef {
            dir_display: crate::source::display_path(&dir),
            dir,
            variables: BTreeMap::new(),
            variable_overrides: BTreeMap::new(),
            locals: BTreeMap::new(),
            lost_locals: BTreeMap::new(),
            outputs: BTreeMap::new(),
            providers: Vec::new(),
            resources: Vec::new(),
            calls: Vec::new(),
        };
        // Override files are read after all the others, as Terraform does.
        let (overrides, plain): (Vec<&ParsedFile>, Vec<&ParsedFile>) =
            files.iter().partition(|f| is_override_file(&f.source.name));
        for f in plain.into_iter().chain(overrides) {
            let overriding = is_override_file(&f.source.name);
            let detached = f.detached && !overriding;
            for (name, origin) in &f.lost_locals {
                m.lost_locals.insert(name.clone(), origin.clone());
            }
            for block in f.body.blocks() {
                let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
                let loc = Located {
                    item: block,
                    file: &f.source,
                };
                if overriding && m.merge_override(block.ident.as_str(), &labels, loc) {
                    continue;
                }
                match (block.ident.as_str(), labels.as_slice()) {
                    ("variable", [name]) => {
                        m.variables.insert(name.to_string(), loc);
                    }
                    ("locals", []) => {
                        for attr in block.body.attributes() {
                            m.locals.insert(
                                attr.key.as_str().to_string(),
                                Located {
                                    item: attr,
                                    file: &f.source,
                                },
                            );
                        }
                    }
                    ("output", [name]) => {
                        m.outputs.insert(name.to_string(), loc);
                    }
                    ("provider", [name]) => {
                        let alias = block
                            .body
                            .get_attribute("alias")
                            .and_then(|a| a.value.as_str())
                            .map(str::to_string);
                        m.providers.push(ProviderDef {
                            name: name.to_string(),
                            alias,
                            block: loc,
                        });
                    }
                    ("resource", [ty, name]) | ("data", [ty, name]) => {
                        m.resources.push(ResourceDef {
                            kind: if block.ident.as_str() == "data" {
                                BlockKind::Data
                            } else {
                                BlockKind::Resource
                            },
                            ty: ty.to_string(),
                            name: name.to_string(),
                            block: loc,
                            overrides: Vec::new(),
                            detached,
                        })
                    }
                    ("module", [name]) => {
                        let source = block
                            .body
                            .get_attribute("source")
                            .and_then(|a| a.value.as_str())
                            .map(str::to_string);
                        let dir = source
                            .as_deref()
                            .and_then(|s| local_module_dir(&m.dir, s))
                            .or_else(|| remote.get(&(m.dir.clone(), name.to_string())).cloned());
                        m.calls.push(ModuleCall {
                            name: name.to_string(),
                            source,
                            dir,
                            block: loc,
                            overrides: Vec::new(),
                        });
                    }
                    _ => {}
                }
            }
        }
        m
    }

    /// Merges a block of an override file into the block it overrides;
    /// false when it overrides nothing (it is then read as a block of its
    /// own; `locals`, `output` and `provider` blocks simply replace by name).
    fn merge_override(&mut self, ident: &str, labels: &[&str], loc: Located<'a, Block>) -> bool {
        match (ident, labels) {
            ("resource" | "data", [ty, name]) => {
                let kind = if ident == "data" {
                    BlockKind::Data
                } else {
                    BlockKind::Resource
                };
                match self
                    .resources
                    .iter_mut()
                    .find(|r| r.kind == kind && r.ty == *ty && r.name == *name)
                {
                    Some(r) => {
                        r.overrides.push(loc);
                        true
                    }
                    None => false,
                }
            }
            ("module", [name]) => match self.calls.iter_mut().find(|c| c.name == *name) {
                Some(c) => {
                    c.overrides.push(loc);
                    true
                }
                None => false,
            },
            ("variable", [name]) if self.variables.contains_key(*name) => {
                self.variable_overrides
                    .entry(name.to_string())
                    .or_default()
                    .push(loc);
                true
            }
            _ => false,
        }
    }

    /// A variable's attribute, from the last override that sets it, else
    /// from its declaration.
    pub fn variable_attr(&self, name: &str, key: &str) -> Option<Located<'a, Attribute>> {
        if let Some(over) = self.variable_overrides.get(name) {
            for o in over.iter().rev() {
                if let Some(a) = o.item.body.get_attribute(key) {
                    return Some(Located {
                        item: a,
                        file: o.file,
                    });
                }
            }
        }
        let decl = self.variables.get(name)?;
        decl.item.body.get_attribute(key).map(|a| Located {
            item: a,
            file: decl.file,
        })
    }

    pub fn resource(&self, kind: BlockKind, ty: &str, name: &str) -> Option<&ResourceDef<'a>> {
        self.resources
            .iter()
            .find(|r| r.kind == kind && r.ty == ty && r.name == name)
    }
}

/// `override.tf`, `*_override.tf` and their `.tf.json` forms.
pub fn is_override_file(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    let stem = base
        .strip_suffix(".tf.json")
        .or_else(|| base.strip_suffix(".tf"))
        .unwrap_or("");
    stem == "override" || stem.ends_with("_override")
}

/// An attribute of a block with its overrides: from the last override that
/// sets it, else from the block.
pub fn attr_with_overrides<'a>(
    block: Located<'a, Block>,
    overrides: &[Located<'a, Block>],
    key: &str,
) -> Option<Located<'a, Attribute>> {
    for o in overrides.iter().rev() {
        if let Some(a) = o.item.body.get_attribute(key) {
            return Some(Located {
                item: a,
                file: o.file,
            });
        }
    }
    block.item.body.get_attribute(key).map(|a| Located {
        item: a,
        file: block.file,
    })
}

/// The directory of a local module source (`./x`, `../x`), if it exists.
pub fn local_module_dir(caller: &std::path::Path, source: &str) -> Option<PathBuf> {
    if !(source.starts_with("./") || source.starts_with("../")) {
        return None;
    }
    let joined = caller.join(source);
    let dir = std::fs::canonicalize(&joined).ok()?;
    dir.is_dir().then_some(dir)
}

/// A provider configuration as a resource sees it.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// `aws` or `aws.west`.
    pub address: String,
    pub region: Option<(Value, Option<Origin>)>,
    /// AWS `default_tags { tags = {…} }`.
    pub default_tags: Option<DefaultTags>,
}

/// AWS provider `default_tags`: the map, where it is written, and where each
/// literal key is.
#[derive(Debug, Clone)]
pub struct DefaultTags {
    pub value: Value,
    pub origin: Option<Origin>,
    pub keys: Vec<(String, Origin)>,
}

/// The module definitions of a scan, by directory.
pub struct Modules<'a> {
    pub by_dir: HashMap<PathBuf, ModuleDef<'a>>,
    /// Definitions shared by every root module (modules that others call),
    /// looked up when `by_dir` does not have the directory.
    pub shared: Option<&'a Modules<'a>>,
    pub root_dir_display: String,
}

impl<'a> Modules<'a> {
    pub fn get(&self, dir: &std::path::Path) -> Option<&ModuleDef<'a>> {
        self.by_dir
            .get(dir)
            .or_else(|| self.shared.and_then(|s| s.get(dir)))
    }
}

/// A module evaluated with one set of inputs.
pub struct Instance<'a> {
    pub module: &'a ModuleDef<'a>,
    pub modules: &'a Modules<'a>,
    /// `""` for a root module, else `module.a` or `module.a.module.b["k"]`.
    pub prefix: String,
    pub root_dir_display: String,
    /// Input variable values (explicit inputs or tfvars).
    pub inputs: HashMap<String, Value>,
    pub providers: HashMap<String, Arc<ProviderConfig>>,
    pub depth: usize,
    locals: RefCell<HashMap<String, Value>>,
    /// Variable values once converted to their types.
    vars: RefCell<HashMap<String, Value>>,
    in_progress: RefCell<HashSet<String>>,
}

impl<'a> Instance<'a> {
    pub fn new(
        module: &'a ModuleDef<'a>,
        modules: &'a Modules<'a>,
        prefix: String,
        inputs: HashMap<String, Value>,
        inherited: HashMap<String, Arc<ProviderConfig>>,
        depth: usize,
    ) -> Instance<'a> {
        let mut inst = Instance {
            module,
            modules,
            prefix,
            root_dir_display: modules.root_dir_display.clone(),
            inputs,
            providers: inherited,
            depth,
            locals: RefCell::new(HashMap::new()),
            vars: RefCell::new(HashMap::new()),
            in_progress: RefCell::new(HashSet::new()),
        };
        // Provider blocks in this module configure it (and override inherited ones).
        let mut own = HashMap::new();
        for p in &module.providers {
            let cfg = inst.provider_config(p);
            own.insert(cfg.address.clone(), Arc::new(cfg));
        }
        inst.providers.extend(own);
        inst
    }

    fn ctx<'e>(&self, file: &'e Arc<SourceFile>, frame: &'e Frame) -> Ctx<'e> {
        Ctx {
            file,
            frame,
            depth: self.depth,
        }
    }

    fn provider_config(&self, p: &ProviderDef<'_>) -> ProviderConfig {
        let frame = Frame::default();
        let ctx = self.ctx(p.block.file, &frame);
        let body = &p.block.item.body;
        let address = match &p.alias {
            Some(a) => format!("{}.{a}", p.name),
            None => p.name.clone(),
        };
        let region = PROVIDER_REGION_ATTRIBUTES
            .iter()
            .find_map(|k| body.get_attribute(k))
            .map(|a| {
                (
                    self.eval(&a.value, &ctx),
                    a.value.span().map(|s| Origin::new(p.block.file, s)),
                )
            });
        let default_tags = body
            .get_blocks("default_tags")
            .next()
            .and_then(|dt| dt.body.get_attribute("tags"))
            .map(|a| {
                let keys = object_key_origins(&a.value, p.block.file);
                DefaultTags {
                    value: self.eval(&a.value, &ctx),
                    origin: a.value.span().map(|s| Origin::new(p.block.file, s)),
                    keys,
                }
            });
        ProviderConfig {
            address,
            region,
            default_tags,
        }
    }

    /// The value of an input variable: the caller's input, else its default,
    /// else unknown; converted to the variable's `type` (optional
    /// attributes filled in). A `nullable = false` variable given `null`
    /// takes its default, as Terraform does.
    pub fn var_value(&self, name: &str, at: Option<Origin>) -> Value {
        let Some(decl) = self.module.variables.get(name) else {
            if let Some(v) = self.inputs.get(name) {
                return v.clone();
            }
            return Value::unknown(
                format!(
                    "no variable `{name}` is declared in `{}`",
                    self.module.dir_display
                ),
                at,
            );
        };
        if let Some(v) = self.vars.borrow().get(name) {
            return v.clone();
        }
        let frame = Frame::default();
        let _ = decl;
        let attr = |key: &str| self.module.variable_attr(name, key);
        let not_nullable = attr("nullable").is_some_and(|a| {
            matches!(
                self.eval(&a.item.value, &self.ctx(a.file, &frame)),
                Value::Bool(false)
            )
        });
        let given = match self.inputs.get(name) {
            Some(Value::Null) if not_nullable => None,
            other => other.cloned(),
        };
        let value = match (given, attr("default")) {
            (Some(v), _) => v,
            (None, Some(default)) => {
                self.eval(&default.item.value, &self.ctx(default.file, &frame))
            }
            (None, None) => {
                return Value::unknown(
                    if self.prefix.is_empty() {
                        format!("variable `{name}` has no default and no value in a tfvars file")
                    } else {
                        format!(
                            "variable `{name}` has no default and `{}` does not set it",
                            self.prefix
                        )
                    },
                    at,
                );
            }
        };
        let value = match attr("type") {
            Some(t) => {
                let ctx = self.ctx(t.file, &frame);
                let ty = super::vartype::parse(&t.item.value, &|e| self.eval(e, &ctx));
                super::vartype::convert(value, &ty)
            }
            None => value,
        };
        self.vars
            .borrow_mut()
            .insert(name.to_string(), value.clone());
        value
    }

    pub fn local_value(&self, name: &str, ctx: &Ctx<'_>) -> Value {
        if let Some(v) = self.locals.borrow().get(name) {
            return v.clone();
        }
        let Some(def) = self.module.locals.get(name) else {
            if let Some(at) = self.module.lost_locals.get(name) {
                return Value::unknown(
                    format!(
                        "local `{name}` could not be parsed (see the error at {})",
                        at.display()
                    ),
                    Some(at.clone()),
                );
            }
            return Value::unknown(
                format!("no local `{name}` in `{}`", self.module.dir_display),
                None,
            );
        };
        if !self.in_progress.borrow_mut().insert(name.to_string()) {
            return Value::unknown(
                format!("local `{name}` refers to itself"),
                def.item.value.span().map(|s| Origin::new(def.file, s)),
            );
        }
        let frame = Frame::default();
        let inner = Ctx {
            file: def.file,
            frame: &frame,
            depth: ctx.depth + 1,
        };
        let v = self.eval(&def.item.value, &inner);
        self.in_progress.borrow_mut().remove(name);
        self.locals.borrow_mut().insert(name.to_string(), v.clone());
        v
    }

    /// `type.name[key].attr` within this module: the attribute's expression
    /// evaluated in that resource's instance, or unknown if the provider
    /// computes it.
    #[allow(
        clippy::too_many_arguments,
        reason = "the parts of `type.name[key].attr`, the expression and its context"
    )]
    pub fn resource_attribute(
        &self,
        kind: BlockKind,
        ty: &str,
        name: &str,
        key: Option<Value>,
        attr: &str,
        whole: &Expression,
        ctx: &Ctx<'_>,
    ) -> Value {
        let at = ctx.origin(whole);
        let Some(res) = self.module.resource(kind, ty, name) else {
            return Value::unknown(
                format!(
                    "`{ty}.{name}` is not declared in `{}`",
                    self.module.dir_display
                ),
                at,
            );
        };
        let loaded = res.load();
        let block = loaded.get();
        let body = &block.item.body;
        let Some(a) = attr_with_overrides(block, &res.overrides, attr) else {
            return Value::unknown(
                format!("`{ty}.{name}.{attr}` is computed by the provider"),
                at,
            );
        };
        let mut frame = Frame::default();
        if body.has_attribute("for_each") {
            match &key {
                Some(k @ Value::Str(_)) => {
                    let fe = self.instances_of(body, block.file, ctx.depth + 1);
                    let value = match fe {
                        Instances::Each(items) => {
                            items.into_iter().find(|(ik, _)| ik == k).map(|(_, v)| v)
                        }
                        _ => None,
                    };
                    frame.each = Some((
                        k.clone(),
                        value.unwrap_or_else(|| Value::unknown("for_each value", at.clone())),
                    ));
                }
                _ => {
                    return Value::unknown(
                        format!("`{ty}.{name}` has `for_each`: name an instance (`[\"key\"]`)"),
                        at,
                    );
                }
            }
        } else if body.has_attribute("count") {
            match &key {
                Some(k @ Value::Num(_)) => frame.count_index = Some(k.clone()),
                _ => {
                    return Value::unknown(
                        format!("`{ty}.{name}` has `count`: name an instance (`[0]`)"),
                        at,
                    );
                }
            }
        }
        let inner = Ctx {
            file: a.file,
            frame: &frame,
            depth: ctx.depth + 1,
        };
        self.eval(&a.item.value, &inner)
    }

    /// `module.call.output`.
    pub fn module_output(
        &self,
        call: &str,
        output: &str,
        whole: &Expression,
        ctx: &Ctx<'_>,
    ) -> Value {
        let at = ctx.origin(whole);
        let Some(c) = self.module.calls.iter().find(|c| c.name == call) else {
            return Value::unknown(format!("no module `{call}` is called here"), at);
        };
        let Some(child_def) = c.dir.as_ref().and_then(|d| self.modules.get(d)) else {
            return Value::unknown(
                format!("module `{call}` is not local, so its outputs are unknown"),
                at,
            );
        };
        if c.block.item.body.has_attribute("for_each") || c.block.item.body.has_attribute("count") {
            return Value::unknown(
                format!("outputs of the repeated module `{call}` are not followed"),
                at,
            );
        }
        if ctx.depth > 32 {
            return Value::unknown("module outputs nest too deeply", at);
        }
        let frame = Frame::default();
        let child = self.child_instance(c, child_def, &frame, "");
        let Some(out) = child_def.outputs.get(output) else {
            return Value::unknown(format!("module `{call}` has no output `{output}`"), at);
        };
        let Some(v) = out.item.body.get_attribute("value") else {
            return Value::unknown(format!("output `{output}` has no value"), at);
        };
        let cframe = Frame::default();
        child.eval(
            &v.value,
            &Ctx {
                file: out.file,
                frame: &cframe,
                depth: ctx.depth + 1,
            },
        )
    }

    /// Instantiates a called module with this instance's values.
    pub fn child_instance(
        &self,
        call: &ModuleCall<'_>,
        child: &'a ModuleDef<'a>,
        frame: &Frame,
        suffix: &str,
    ) -> Instance<'a> {
        let mut inputs = HashMap::new();
        for part in std::iter::once(&call.block).chain(&call.overrides) {
            let ctx = self.ctx(part.file, frame);
            for attr in part.item.body.attributes() {
                let k = attr.key.as_str();
                if matches!(
                    k,
                    "source" | "version" | "providers" | "count" | "for_each" | "depends_on"
                ) {
                    continue;
                }
                inputs.insert(k.to_string(), self.eval(&attr.value, &ctx));
            }
        }
        // Default (unaliased) providers are inherited; `providers = {…}` maps others.
        let mut providers: HashMap<String, Arc<ProviderConfig>> = self
            .providers
            .iter()
            .filter(|(k, _)| !k.contains('.'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(map) = call.block.item.body.get_attribute("providers")
            && let Expression::Object(obj) = &map.value
        {
            for (k, v) in obj.iter() {
                let child_name = match k {
                    hcl_edit::expr::ObjectKey::Ident(id) => id.as_str().to_string(),
                    hcl_edit::expr::ObjectKey::Expression(e) => {
                        reference_text(e).unwrap_or_default()
                    }
                };
                if let Some(parent_name) = reference_text(v.expr())
                    && let Some(cfg) = self.providers.get(&parent_name)
                {
                    providers.insert(child_name, cfg.clone());
                }
            }
        }
        let address = format!("module.{}{suffix}", call.name);
        let prefix = if self.prefix.is_empty() {
            address
        } else {
            format!("{}.{address}", self.prefix)
        };
        Instance::new(
            child,
            self.modules,
            prefix,
            inputs,
            providers,
            self.depth + 1,
        )
    }

    /// The instances of a block with `count` or `for_each`.
    pub fn instances_of(&self, body: &Body, file: &Arc<SourceFile>, depth: usize) -> Instances {
        let frame = Frame::default();
        let ctx = Ctx {
            file,
            frame: &frame,
            depth,
        };
        if let Some(fe) = body.get_attribute("for_each") {
            return match self.eval(&fe.value, &ctx) {
                Value::Map(m) => {
                    Instances::Each(m.into_iter().map(|(k, v)| (Value::str(&k), v)).collect())
                }
                Value::List(items) => {
                    let mut out = Vec::new();
                    for item in items {
                        match item {
                            Value::Str(_) => out.push((item.clone(), item)),
                            Value::Unknown(u) => return Instances::Unknown(u),
                            other => {
                                return Instances::Unknown(Arc::new(Unknown {
                                    reason: format!(
                                        "`for_each` over a list of {}: Terraform takes a set of strings or a map",
                                        other.type_name()
                                    ),
                                    origin: fe.value.span().map(|s| Origin::new(file, s)),
                                    fails: false,
                                }));
                            }
                        }
                    }
                    out.sort_by_key(|a| a.0.to_string());
                    out.dedup_by(|a, b| a.0 == b.0);
                    Instances::Each(out)
                }
                Value::Unknown(u) => Instances::Unknown(u),
                other => Instances::Unknown(Arc::new(Unknown {
                    reason: format!("`for_each` is a {}, not a map or set", other.type_name()),
                    origin: fe.value.span().map(|s| Origin::new(file, s)),
                    fails: false,
                })),
            };
        }
        if let Some(c) = body.get_attribute("count") {
            return match self.eval(&c.value, &ctx) {
                Value::Num(n) if n >= 0.0 && n.fract() == 0.0 && n <= i64::MAX as f64 => {
                    Instances::Count(n as u64)
                }
                // Terraform converts a numeric string (`count = "5"`).
                Value::Str(t)
                    if t.trim()
                        .parse::<f64>()
                        .is_ok_and(|n| n >= 0.0 && n.fract() == 0.0) =>
                {
                    Instances::Count(t.trim().parse::<f64>().map_or(0, |n| n as u64))
                }
                Value::Bool(b) => Instances::Count(u64::from(b)),
                Value::Unknown(u) => Instances::Unknown(u),
                other => Instances::Unknown(Arc::new(Unknown {
                    reason: format!("`count` is {other}, not a whole number"),
                    origin: c.value.span().map(|s| Origin::new(file, s)),
                    fails: false,
                })),
            };
        }
        Instances::Single
    }
}

/// How many instances a block has.
pub enum Instances {
    Single,
    Count(u64),
    Each(Vec<(Value, Value)>),
    /// `count`/`for_each` could not be evaluated: one record stands for all.
    Unknown(Arc<Unknown>),
}

/// `[0]` or `["key"]`.
pub fn instance_suffix(key: &Value) -> String {
    match key {
        Value::Num(n) => format!("[{}]", *n as i64),
        other => format!("[{:?}]", other.to_string()),
    }
}

/// `aws.west` from a bare reference expression.
pub fn reference_text(e: &Expression) -> Option<String> {
    match e {
        Expression::Variable(v) => Some(v.as_str().to_string()),
        Expression::Traversal(t) => {
            let mut s = reference_text(&t.expr)?;
            for op in &t.operators {
                match op.value() {
                    TraversalOperator::GetAttr(id) => {
                        s.push('.');
                        s.push_str(id.as_str());
                    }
                    _ => return None,
                }
            }
            Some(s)
        }
        Expression::String(s) => Some(s.value().to_string()),
        _ => None,
    }
}

/// The key spans of literal objects in a tags expression, for labels:
/// `{ a = "b" }` itself, or the literal arguments of `merge(…)`. Later keys
/// come later, so the one that wins a merge is found last.
pub fn object_key_origins(e: &Expression, file: &Arc<SourceFile>) -> Vec<(String, Origin)> {
    let mut out = Vec::new();
    collect_key_origins(e, file, &mut out);
    out
}

fn collect_key_origins(e: &Expression, file: &Arc<SourceFile>, out: &mut Vec<(String, Origin)>) {
    match e {
        Expression::Object(obj) => {
            for (k, v) in obj.iter() {
                let name = match k {
                    hcl_edit::expr::ObjectKey::Ident(id) => id.as_str().to_string(),
                    hcl_edit::expr::ObjectKey::Expression(Expression::String(s)) => {
                        s.value().to_string()
                    }
                    _ => continue,
                };
                let Some(start) = k.span().map(|s| s.start) else {
                    continue;
                };
                let end = v.expr().span().map(|s| s.end).unwrap_or(start);
                out.push((name, Origin::new(file, start..end)));
            }
        }
        Expression::FuncCall(call) if call.name.name.as_str() == "merge" => {
            for arg in call.args.iter() {
                collect_key_origins(arg, file, out);
            }
        }
        Expression::Parenthesis(p) => collect_key_origins(p.inner(), file, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `text` as one file the way the scanner does, and returns it
    /// whole and with its resource bodies detached.
    fn both(text: &str) -> (ParsedFile, ParsedFile) {
        let source = SourceFile::new("main.tf", text);
        let recovered = super::super::recover::parse(text);
        assert!(recovered.verbatim, "the text needs no repair");
        let whole = recovered.body.expect("parses");
        let mut detached = whole.clone();
        super::super::slim::detach_resource_bodies(&mut detached);
        let file = |body, detached| ParsedFile {
            source: source.clone(),
            body,
            lost_locals: Vec::new(),
            detached,
        };
        (file(whole, false), file(detached, true))
    }

    /// Every attribute of every resource, with the line and column that an
    /// origin built from its parse-tree span reports.
    /// Resource, attribute, (line, column) of its key and of its value.
    type Place = (String, String, (usize, usize), (usize, usize));

    fn located(def: &ModuleDef<'_>) -> Vec<Place> {
        let mut out = Vec::new();
        for res in &def.resources {
            let loaded = res.load();
            let block = loaded.get();
            for a in block.item.body.attributes() {
                let key = Origin::new(block.file, a.span().expect("span"));
                let value = Origin::new(block.file, a.value.span().expect("span"));
                out.push((
                    res.name.clone(),
                    a.key.as_str().to_string(),
                    key.line_col(),
                    value.line_col(),
                ));
            }
            for nested in block.item.body.blocks() {
                let at = Origin::new(block.file, nested.span().expect("span"));
                out.push((
                    res.name.clone(),
                    nested.ident.to_string(),
                    at.line_col(),
                    at.line_col(),
                ));
            }
        }
        out
    }

    #[test]
    fn a_detached_resource_loads_with_the_spans_of_the_whole_file() {
        let text = "variable \"x\" {}\n\n# a comment\nresource \"aws_s3_bucket\" \"a\" {\n  bucket = \"a-${var.x}\"\n  tags   = { Name = \"é\", owner = \"ops\" }\n}\n\ndata \"aws_region\" \"here\" {}\n  resource \"azurerm_x\" \"b\" {\n    location = <<EOT\nwesteurope\nEOT\n    dynamic \"rule\" {\n      for_each = [1]\n      content { name = \"r\" }\n    }\n  }\n";
        let (whole, detached) = both(text);
        let emptied = |f: &ParsedFile| {
            f.body
                .blocks()
                .filter(|b| b.ident.as_str() != "variable" && !b.body.is_empty())
                .count()
        };
        assert_eq!((emptied(&whole), emptied(&detached)), (2, 0));
        let remote = RemoteDirs::new();
        let a = ModuleDef::new(PathBuf::from("."), std::slice::from_ref(&whole), &remote);
        let b = ModuleDef::new(PathBuf::from("."), std::slice::from_ref(&detached), &remote);
        let (want, got) = (located(&a), located(&b));
        assert_eq!(want.len(), 4);
        assert_eq!(got, want);
        assert_eq!(got[0].2, (5, 3), "`bucket` is on line 5, column 3");
    }
}
