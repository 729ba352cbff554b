//! The lab's key/value service: `get`, `put` and `append` on string keys (Porcupine's `KvModel`,
//! which the Go kvraft/shardkv tests check against).
//!
//! Keys are independent objects, so [`KvModel`] partitions the history by key (linearizability is
//! local) and its state is one key's value: searches stay small and partitions run in parallel.
//! [`KvUnpartitionedModel`] checks the whole store at once; it exists to show (and test) what
//! partitioning buys, and is exponentially slower on concurrent histories.

use std::collections::BTreeMap;

use crate::model::{Model, Operation};

/// The kind of a kv operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KvOp {
    Get,
    Put,
    Append,
}

/// A kv request. `value` is ignored for a `Get` (use `String::new()`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KvInput {
    pub op: KvOp,
    pub key: String,
    pub value: String,
}

/// A kv reply: the value read for a `Get`, ignored otherwise (use `String::new()`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KvOutput {
    pub value: String,
}

impl KvInput {
    pub fn get(key: impl Into<String>) -> Self {
        Self::new(KvOp::Get, key.into(), String::new())
    }

    pub fn put(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(KvOp::Put, key.into(), value.into())
    }

    pub fn append(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(KvOp::Append, key.into(), value.into())
    }

    fn new(op: KvOp, key: String, value: String) -> Self {
        KvInput { op, key, value }
    }
}

/// One key's semantics, shared by both models: `Some(new value)` if `output` is possible.
fn step_value(value: &str, input: &KvInput, output: &KvOutput) -> Option<String> {
    match input.op {
        KvOp::Get => (output.value == value).then(|| value.to_string()),
        KvOp::Put => Some(input.value.clone()),
        KvOp::Append => Some(format!("{value}{}", input.value)),
    }
}

fn describe(input: &KvInput, output: &KvOutput) -> String {
    match input.op {
        KvOp::Get => format!("get({:?}) -> {:?}", input.key, output.value),
        KvOp::Put => format!("put({:?}, {:?})", input.key, input.value),
        KvOp::Append => format!("append({:?}, {:?})", input.key, input.value),
    }
}

/// The kv store, partitioned by key; a state is one key's value, initially `""`.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvModel;

impl Model for KvModel {
    type Input = KvInput;
    type Output = KvOutput;
    type State = String;

    fn init(&self) -> String {
        String::new()
    }

    fn step(&self, state: &String, input: &KvInput, output: &KvOutput) -> Option<String> {
        step_value(state, input, output)
    }

    fn is_read_only(&self, input: &KvInput, _: &KvOutput) -> bool {
        input.op == KvOp::Get
    }

    /// One partition per key, in key order; operations keep their history order.
    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Vec<usize>> {
        let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, op) in history.iter().enumerate() {
            by_key.entry(op.input.key.as_str()).or_default().push(i);
        }
        by_key.into_values().collect()
    }

    fn describe_partition(
        &self,
        history: &[Operation<KvInput, KvOutput>],
        ops: &[usize],
    ) -> Option<String> {
        let first = ops.first()?;
        Some(format!("key {:?}", history[*first].input.key))
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        describe(input, output)
    }

    fn describe_state(&self, state: &String) -> String {
        format!("{state:?}")
    }
}

/// The whole kv store as one object (no partitioning); state: key → value, absent = `""`.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvUnpartitionedModel;

impl Model for KvUnpartitionedModel {
    type Input = KvInput;
    type Output = KvOutput;
    type State = BTreeMap<String, String>;

    fn init(&self) -> Self::State {
        BTreeMap::new()
    }

    fn step(&self, state: &Self::State, input: &KvInput, output: &KvOutput) -> Option<Self::State> {
        let current = state.get(&input.key).map_or("", String::as_str);
        let value = step_value(current, input, output)?;
        if input.op == KvOp::Get {
            return Some(state.clone());
        }
        let mut next = state.clone();
        next.insert(input.key.clone(), value);
        Some(next)
    }

    fn is_read_only(&self, input: &KvInput, _: &KvOutput) -> bool {
        input.op == KvOp::Get
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        describe(input, output)
    }
}
