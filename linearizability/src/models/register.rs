//! A read/write register: the smallest useful model, and the one of Porcupine's own examples.

use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;

use crate::model::Model;

/// An operation on a register holding a `T`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterInput<T> {
    /// Writes the value; its output is ignored.
    Put(T),
    /// Reads; the output is the value read.
    Get,
}

/// A register whose initial value is `T::default()`. Outputs are the value read (anything for a
/// put: use `T::default()`).
#[derive(Debug)]
pub struct RegisterModel<T>(PhantomData<fn() -> T>);

impl<T> RegisterModel<T> {
    pub fn new() -> Self {
        RegisterModel(PhantomData)
    }
}

impl<T> Default for RegisterModel<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Model for RegisterModel<T>
where
    T: Clone + Eq + Hash + Debug + Default + Send + Sync,
{
    type Input = RegisterInput<T>;
    type Output = T;
    type State = T;

    fn init(&self) -> T {
        T::default()
    }

    fn step(&self, state: &T, input: &RegisterInput<T>, output: &T) -> Option<T> {
        match input {
            RegisterInput::Put(value) => Some(value.clone()),
            RegisterInput::Get => (output == state).then(|| state.clone()),
        }
    }

    fn is_read_only(&self, input: &RegisterInput<T>, _: &T) -> bool {
        *input == RegisterInput::Get
    }

    fn describe_operation(&self, input: &RegisterInput<T>, output: &T) -> String {
        match input {
            RegisterInput::Put(value) => format!("put({value:?})"),
            RegisterInput::Get => format!("get() -> {output:?}"),
        }
    }
}
