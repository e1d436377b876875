//! Why an HCL expression or a function call has no value.
//!
//! The evaluator ([`super::expr`]) and the functions ([`super::funcs`])
//! tell apart what Terraform would reject from what only proviso cannot
//! know, because `try` and `can` treat them differently: `try` skips an
//! argument that fails and returns unknown for one that is unknown. The
//! kind is carried by [`EvalError`] while evaluating, and by
//! [`Unknown::fails`] once an error has become a value (an element of a
//! list, an argument), so that no code decides by reading a message. The
//! messages themselves are what the user sees, unchanged: a failure's
//! unknown reads [`FAILS`] followed by Terraform's reason.

use crate::source::Origin;
use crate::value::{Unknown, Value};
use std::fmt;
use std::sync::Arc;

/// The start of the reason of an unknown that stands for a Terraform error.
pub const FAILS: &str = "Terraform would fail here: ";

/// Why evaluating gave no value.
#[derive(Debug, Clone, PartialEq)]
pub enum EvalError {
    /// Terraform itself would reject the expression or call (a missing
    /// key, a type error, a bad argument), for this reason. `try` goes on
    /// to its next argument and `can` is false; anywhere else it becomes
    /// an unknown that stands for the error ([`failure`]).
    Fails(String),
    /// Terraform would compute a value, but proviso cannot (the reason
    /// says why): the value is unknown.
    Unknown(String),
    /// A built-in function that proviso does not evaluate: its value is
    /// unknown.
    NotEvaluated {
        /// The function's name.
        function: String,
    },
}

impl EvalError {
    /// Terraform would reject this, for `reason`.
    pub fn fails(reason: impl Into<String>) -> EvalError {
        EvalError::Fails(reason.into())
    }

    /// The value this error becomes where the expression at `origin`
    /// cannot be evaluated: an unknown, marked as a failure for
    /// [`EvalError::Fails`].
    pub fn into_unknown(self, origin: Option<Origin>) -> Value {
        match self {
            EvalError::Fails(reason) => failure(&reason, origin),
            other => Value::unknown(other.to_string(), origin),
        }
    }
}

/// The reason alone, as the user reads it (without [`FAILS`]).
impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::Fails(reason) | EvalError::Unknown(reason) => f.write_str(reason),
            EvalError::NotEvaluated { function } => {
                write!(
                    f,
                    "function `{function}` is not evaluated statically by proviso"
                )
            }
        }
    }
}

/// A helper's `String` error is a reason Terraform would reject the call.
impl From<String> for EvalError {
    fn from(reason: String) -> Self {
        EvalError::Fails(reason)
    }
}

impl From<&str> for EvalError {
    fn from(reason: &str) -> Self {
        EvalError::Fails(reason.to_string())
    }
}

/// An unknown that stands for an error Terraform would raise, for
/// `reason`, at `origin`.
pub fn failure(reason: &str, origin: Option<Origin>) -> Value {
    Value::Unknown(Arc::new(Unknown {
        reason: format!("{FAILS}{reason}"),
        origin,
        fails: true,
    }))
}

/// The start of the reason of an unknown that stands for an error Azure
/// Resource Manager would raise deploying an ARM template or a Bicep file.
pub const DEPLOYMENT_FAILS: &str = "the deployment would fail here: ";

/// An unknown that stands for an error the Azure deployment (an ARM
/// template's or a Bicep file's) would raise, for `reason`, at `origin`:
/// a [`failure`] that does not blame Terraform.
pub fn deployment_failure(reason: &str, origin: Option<Origin>) -> Value {
    Value::Unknown(Arc::new(Unknown {
        reason: format!("{DEPLOYMENT_FAILS}{reason}"),
        origin,
        fails: true,
    }))
}

/// The first unknown anywhere in `v` that stands for a Terraform error.
pub fn find_failure(v: &Value) -> Option<&Arc<Unknown>> {
    match v {
        Value::Unknown(u) if u.fails => Some(u),
        Value::List(items) => items.iter().find_map(find_failure),
        Value::Map(map) => map.values().find_map(find_failure),
        _ => None,
    }
}
