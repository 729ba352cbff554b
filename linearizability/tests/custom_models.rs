//! Models written outside the crate: a set (Porcupine's `TestSetModel` idea: a read returns the
//! whole set) and a nondeterministic register through `PowerSet`.

use std::collections::BTreeSet;

use linearizability::{
    CheckResult, Model, NondeterministicModel, Operation, PowerSet, check_operations,
};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum SetInput {
    Add(u8),
    Read,
}

/// A grow-only set; a read returns its contents.
struct SetModel;

impl Model for SetModel {
    type Input = SetInput;
    type Output = BTreeSet<u8>;
    type State = BTreeSet<u8>;

    fn init(&self) -> BTreeSet<u8> {
        BTreeSet::new()
    }

    fn step(
        &self,
        state: &BTreeSet<u8>,
        input: &SetInput,
        output: &BTreeSet<u8>,
    ) -> Option<BTreeSet<u8>> {
        match input {
            SetInput::Add(x) => {
                let mut next = state.clone();
                next.insert(*x);
                Some(next)
            }
            SetInput::Read => (output == state).then(|| state.clone()),
        }
    }
}

fn op<I, O>(client_id: usize, input: I, call: i64, output: O, return_time: i64) -> Operation<I, O> {
    Operation {
        client_id,
        input,
        call,
        output,
        return_time,
    }
}

fn set(items: &[u8]) -> BTreeSet<u8> {
    items.iter().copied().collect()
}

#[test]
fn set_model() {
    let adds = |read: &[u8]| {
        vec![
            op(0, SetInput::Add(1), 0, set(&[]), 10),
            op(1, SetInput::Add(2), 0, set(&[]), 10),
            op(2, SetInput::Read, 5, set(read), 15),
            op(3, SetInput::Read, 20, set(&[1, 2]), 25),
        ]
    };
    // The concurrent read may see either add, both or neither.
    for seen in [&[][..], &[1], &[2], &[1, 2]] {
        assert_eq!(
            check_operations(&SetModel, &adds(seen), None),
            CheckResult::Ok
        );
    }
    assert_eq!(
        check_operations(&SetModel, &adds(&[3]), None),
        CheckResult::Illegal
    );
}

/// A register whose `PutAny(a, b)` stores one of two values, nobody knows which.
struct ChoiceRegister;

#[derive(Debug)]
enum ChoiceInput {
    PutAny(i32, i32),
    Get,
}

impl NondeterministicModel for ChoiceRegister {
    type Input = ChoiceInput;
    type Output = i32;
    type State = i32;

    fn init(&self) -> Vec<i32> {
        vec![0]
    }

    fn step(&self, state: &i32, input: &ChoiceInput, output: &i32) -> Vec<i32> {
        match *input {
            ChoiceInput::PutAny(a, b) => vec![a, b],
            ChoiceInput::Get if output == state => vec![*state],
            ChoiceInput::Get => vec![],
        }
    }
}

#[test]
fn nondeterministic_register() {
    let history = |first: i32, second: i32| {
        vec![
            op(0, ChoiceInput::PutAny(1, 2), 0, 0, 10),
            op(1, ChoiceInput::Get, 20, first, 30),
            op(2, ChoiceInput::Get, 40, second, 50),
        ]
    };
    let model = PowerSet(ChoiceRegister);
    // Either value may be stored, and whichever was, it stays.
    for (first, second, expected) in [
        (1, 1, CheckResult::Ok),
        (2, 2, CheckResult::Ok),
        (1, 2, CheckResult::Illegal),
        (0, 0, CheckResult::Illegal),
    ] {
        let result = check_operations(&model, &history(first, second), None);
        assert_eq!(result, expected, "reads {first} then {second}");
    }
}
