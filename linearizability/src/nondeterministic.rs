//! Models whose operations may have several outcomes (Porcupine's `NondeterministicModel`).
//!
//! The search needs one state per configuration, so [`PowerSet`] turns a nondeterministic model
//! into a deterministic one whose state is the set of states the object could be in (the subset
//! construction): a step is legal if it is legal from at least one of them. A `BTreeSet` keeps the
//! set canonical, so equal sets compare and hash equal and the search cache works unchanged.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::hash::Hash;

use crate::model::{Model, Operation};

/// A sequential specification where `step` returns every state the operation could lead to (none:
/// the output is impossible).
pub trait NondeterministicModel: Sync {
    type Input: Debug + Sync;
    type Output: Debug + Sync;
    type State: Clone + Ord + Hash + Debug + Send;

    /// The possible initial states.
    fn init(&self) -> Vec<Self::State>;

    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Vec<Self::State>;

    /// As [`Model::partition`].
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        vec![(0..history.len()).collect()]
    }

    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String {
        format!("{input:?} -> {output:?}")
    }

    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

/// A [`NondeterministicModel`] as a [`Model`] over sets of states.
#[derive(Debug, Default)]
pub struct PowerSet<N>(pub N);

impl<N: NondeterministicModel> Model for PowerSet<N> {
    type Input = N::Input;
    type Output = N::Output;
    type State = BTreeSet<N::State>;

    fn init(&self) -> Self::State {
        self.0.init().into_iter().collect()
    }

    fn step(
        &self,
        states: &Self::State,
        input: &N::Input,
        output: &N::Output,
    ) -> Option<Self::State> {
        let next: BTreeSet<N::State> = states
            .iter()
            .flat_map(|state| self.0.step(state, input, output))
            .collect();
        (!next.is_empty()).then_some(next)
    }

    fn partition(&self, history: &[Operation<N::Input, N::Output>]) -> Vec<Vec<usize>> {
        self.0.partition(history)
    }

    fn describe_operation(&self, input: &N::Input, output: &N::Output) -> String {
        self.0.describe_operation(input, output)
    }

    fn describe_state(&self, states: &Self::State) -> String {
        let all: Vec<String> = states.iter().map(|s| self.0.describe_state(s)).collect();
        format!("{{{}}}", all.join(", "))
    }
}
