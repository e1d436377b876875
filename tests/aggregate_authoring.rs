//! The authoring tools on aggregate clauses (`per`, `let`, `param`, typed
//! `field`s, aggregate examples): `proviso fmt` gives them one layout,
//! `explain` one English sentence each and the inputs that can show them,
//! `lint` warns about what is dead or unchecked in them, and `check` never
//! counts them as passed on Terraform.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use proviso::rules::format::format;
use proviso::source::SourceFile;

#[test]
fn a_messy_aggregate_clause_gets_the_canonical_layout() {
    let messy = r#"agreement demo
source s "S" dated 2026-01-01
param cap "the cap"   money
field amt "an amount"   decimal
field k one   of {"a","b"}
terms t effective 2026-01-01 {
clause c {
cite s "x"
per   model ,month
over  amt exists
let a=sum  of amt where k=="a"   // trailing
let longer_name = 20%of a+(a*2) - 1
let r = running   total of a

// own line
let f = first day in   all records
let n = count of distinct model where k == "b"
let m = max   of amt
require a>=cap or longer_name > 2
example "e" { given [ {date: "2026-01-01", amt: "1"}, {date:"2026-01-02", amt: "2"} ] with cap=1 expect   no violation   for  "x / 2026-01" }
}
}
"#;
    let out = format(&SourceFile::new("messy.proviso", messy)).unwrap();
    // What a reader sees: `=` of a run of `let`s aligned, single spaces
    // around operators and in `per a, b`, one given record a line.
    assert!(out.contains("    let a           = sum of amt where k == \"a\"  // trailing\n"));
    assert!(out.contains("    let longer_name = 20% of a + (a * 2) - 1\n"));
    assert!(out.contains("\n\n    // own line\n    let f = first day in all records\n"));
    assert!(out.contains("      given [\n        { date: \"2026-01-01\", amt: \"1\" },\n"));
    insta::assert_snapshot!(out);
    let again = format(&SourceFile::new("messy.proviso", out.clone())).unwrap();
    assert_eq!(out, again, "formatting twice changes nothing");
}
