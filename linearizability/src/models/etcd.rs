//! The compare-and-set register of the Jepsen etcd histories (Porcupine's `etcdModel`).
//!
//! An operation that timed out (`:info`) or whose read failed with `:timed-out` has an unknown
//! outcome: its output is [`EtcdOutput::Unknown`], which every step accepts, and the parser gives it
//! a return at the end of the history, so it may take effect anywhere after its call.

use crate::model::Model;

/// An operation on the register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EtcdInput {
    Read,
    Write(i64),
    /// Sets the value to `to` if it is `from`.
    Cas {
        from: i64,
        to: i64,
    },
}

/// What the client was told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EtcdOutput {
    /// The value read, `None` if the key did not exist.
    Read(Option<i64>),
    Write,
    /// Whether the compare-and-set succeeded.
    Cas(bool),
    /// No answer (timeout, crash): the operation may or may not have happened.
    Unknown,
}

/// The register starts out absent (`None`, Porcupine's `-1000000`).
#[derive(Clone, Copy, Debug, Default)]
pub struct EtcdModel;

impl Model for EtcdModel {
    type Input = EtcdInput;
    type Output = EtcdOutput;
    type State = Option<i64>;

    fn init(&self) -> Option<i64> {
        None
    }

    fn step(
        &self,
        state: &Option<i64>,
        input: &EtcdInput,
        output: &EtcdOutput,
    ) -> Option<Option<i64>> {
        let unknown = *output == EtcdOutput::Unknown;
        match *input {
            EtcdInput::Read => (unknown || *output == EtcdOutput::Read(*state)).then_some(*state),
            EtcdInput::Write(value) => Some(Some(value)),
            EtcdInput::Cas { from, to } => {
                let matches = *state == Some(from);
                let legal = unknown || *output == EtcdOutput::Cas(matches);
                legal.then_some(if matches { Some(to) } else { *state })
            }
        }
    }

    /// Reads, and compare-and-sets known to have failed.
    fn is_read_only(&self, input: &EtcdInput, output: &EtcdOutput) -> bool {
        matches!(
            (input, output),
            (EtcdInput::Read, _) | (EtcdInput::Cas { .. }, EtcdOutput::Cas(false))
        )
    }

    fn describe_operation(&self, input: &EtcdInput, output: &EtcdOutput) -> String {
        let result = match output {
            EtcdOutput::Read(Some(v)) => v.to_string(),
            EtcdOutput::Read(None) => "nil".to_string(),
            EtcdOutput::Write => "ok".to_string(),
            EtcdOutput::Cas(ok) => if *ok { "ok" } else { "fail" }.to_string(),
            EtcdOutput::Unknown => "?".to_string(),
        };
        match input {
            EtcdInput::Read => format!("read() -> {result}"),
            EtcdInput::Write(v) => format!("write({v}) -> {result}"),
            EtcdInput::Cas { from, to } => format!("cas({from}, {to}) -> {result}"),
        }
    }

    fn describe_state(&self, state: &Option<i64>) -> String {
        state.map_or("nil".to_string(), |v| v.to_string())
    }
}
