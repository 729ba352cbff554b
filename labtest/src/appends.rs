//! A per-key model check of a key/value history that does not rely on the
//! linearizability checker: what the tester itself can see in the values it
//! read.
//!
//! The kv tests with random keys check their history with the
//! linearizability checker alone, so if it wrongly said Ok nothing else would
//! notice a lost or doubled append. This check is independent of it and much
//! simpler (no search): it takes the same recorded history, in which every
//! written value is one self-delimiting token `x <client> <n> y` (Go's format,
//! [`value`]) and no token is written twice, and checks every Get's value
//! against the writes on its key and their call and return times:
//!
//! 1. the value is a sequence of tokens, each written to that key (nothing
//!    read that nobody wrote, no other key's value);
//! 2. no token appears twice (every append took effect at most once);
//! 3. only the first token may come from a Put (a Put replaces the value);
//! 4. no token was written by an operation called after the Get returned
//!    (no read from the future);
//! 5. two tokens are in an order real time allows (an append that returned
//!    before another was called comes first);
//! 6. every append that returned before the Get was called is in the value,
//!    unless a Put could have come between them (every acknowledged append is
//!    present: exactly once, with 2);
//! 7. the value does not start with a Put's token when another Put certainly
//!    came after that one and before the Get; and an empty base (the value
//!    starts with an append, or is empty) needs an empty Put after every
//!    non-empty Put that returned before the Get was called.
//!
//! Each rule only rejects what no linearizable history allows, so a correct
//! service always passes; the rules are necessary conditions, not a full
//! linearizability check (that stays the checker's job).

use std::collections::{BTreeMap, BTreeSet};

use linearizability::models::kv::KvOp;

use crate::history::KvOperation;

/// The value the kv tests write: Go's `x <client> <n> y`.
pub fn value(client: usize, n: usize) -> String {
    format!("x {client} {n} y")
}

/// Splits `v` into `x <client> <n> y` tokens; `None` if it is not such a sequence.
fn tokens(v: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut rest = v;
    while !rest.is_empty() {
        if !rest.starts_with("x ") {
            return None;
        }
        let end = rest.find(" y")? + 2;
        let token = &rest[..end];
        let mut fields = token[2..end - 2].split(' ');
        let well_formed = fields.next().is_some_and(is_number)
            && fields.next().is_some_and(is_number)
            && fields.next().is_none();
        if !well_formed {
            return None;
        }
        out.push(token);
        rest = &rest[end..];
    }
    Some(out)
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// One Put or Append, as the check sees it.
struct Write<'a> {
    put: bool,
    /// The token written; `None` for a Put of "".
    token: Option<&'a str>,
    call: i64,
    ret: i64,
}

/// Checks `history` with the rules in the module documentation; the first
/// violation found, described, is the error. Gets, Puts and Appends of every
/// key are checked; a history whose writes are not single `x <c> <n> y`
/// tokens, or that writes a token twice, cannot be checked and is an error too.
pub fn check(history: &[KvOperation]) -> Result<(), String> {
    let mut keys: BTreeSet<&str> = BTreeSet::new();
    for op in history {
        keys.insert(&op.input.key);
    }
    for key in keys {
        check_key(key, history.iter().filter(|op| op.input.key == key))?;
    }
    Ok(())
}

/// [`check`], failing the test (with the violation) if the history breaks a rule.
pub fn assert_appends_ok(history: &[KvOperation]) {
    if let Err(violation) = check(history) {
        panic!("append model check failed: {violation}");
    }
}

fn check_key<'a>(key: &str, ops: impl Iterator<Item = &'a KvOperation>) -> Result<(), String> {
    let mut writes: Vec<Write<'a>> = Vec::new();
    let mut by_token: BTreeMap<&'a str, usize> = BTreeMap::new();
    let mut gets: Vec<&'a KvOperation> = Vec::new();
    for op in ops {
        let put = match op.input.op {
            KvOp::Get => {
                gets.push(op);
                continue;
            }
            KvOp::Put => true,
            KvOp::Append => false,
        };
        let token = match tokens(&op.input.value).as_deref() {
            Some([]) if put => None,
            Some([token]) => Some(*token),
            _ => {
                return Err(format!(
                    "key {key:?}: written value {:?} is not one `x <client> <n> y` token, \
                     so this history cannot be checked",
                    op.input.value
                ));
            }
        };
        if let Some(token) = token
            && by_token.insert(token, writes.len()).is_some()
        {
            return Err(format!(
                "key {key:?}: {token:?} is written twice, so this history cannot be checked"
            ));
        }
        writes.push(Write {
            put,
            token,
            call: op.call,
            ret: op.return_time,
        });
    }
    for get in gets {
        check_get(key, get, &writes, &by_token)?;
    }
    Ok(())
}

fn check_get(
    key: &str,
    get: &KvOperation,
    writes: &[Write<'_>],
    by_token: &BTreeMap<&str, usize>,
) -> Result<(), String> {
    let v = &get.output.value;
    let at = format!(
        "key {key:?}: the Get called at {} ns, returned at {} ns, read {v:?}",
        get.call, get.return_time
    );
    let Some(read) = tokens(v) else {
        return Err(format!("{at}: not a sequence of written values"));
    };
    // 1, 2, 3, 4.
    let mut seen: BTreeSet<usize> = BTreeSet::new();
    let mut order: Vec<usize> = Vec::with_capacity(read.len());
    for (i, token) in read.iter().enumerate() {
        let Some(&w) = by_token.get(token) else {
            return Err(format!("{at}: {token:?} was never written to this key"));
        };
        if !seen.insert(w) {
            return Err(format!("{at}: {token:?} is in the value twice"));
        }
        if writes[w].put && i > 0 {
            return Err(format!("{at}: {token:?} was Put, yet follows other values"));
        }
        if writes[w].call > get.return_time {
            return Err(format!(
                "{at}: {token:?} was written by an operation called at {} ns, after the Get returned",
                writes[w].call
            ));
        }
        order.push(w);
    }
    // 5.
    for pair in order.windows(2) {
        let (a, b) = (&writes[pair[0]], &writes[pair[1]]);
        if b.ret < a.call {
            return Err(format!(
                "{at}: {:?} comes after {:?}, but was written before it (returned at {} ns, the other called at {} ns)",
                b.token.unwrap_or(""),
                a.token.unwrap_or(""),
                b.ret,
                a.call
            ));
        }
    }
    // A Put that may come after `w` (which is at `w_call` or later) and before the Get.
    let put_between = |w_call: i64, value_empty: Option<bool>| {
        writes.iter().any(|p| {
            p.put
                && p.ret > w_call
                && p.call < get.return_time
                && value_empty.is_none_or(|empty| p.token.is_none() == empty)
        })
    };
    // 6.
    for (w, write) in writes.iter().enumerate() {
        if write.put || write.ret >= get.call || seen.contains(&w) {
            continue;
        }
        if !put_between(write.call, None) {
            return Err(format!(
                "{at}: the append of {:?} (called at {} ns, returned at {} ns) is missing",
                write.token.unwrap_or(""),
                write.call,
                write.ret
            ));
        }
    }
    // 7.
    let base = order.first().filter(|&&w| writes[w].put).copied();
    match base {
        Some(b) => {
            for p in writes.iter() {
                if p.put && p.call > writes[b].ret && p.ret < get.call {
                    return Err(format!(
                        "{at}: stale: {:?} was Put, then overwritten by a Put of {:?} (called at {} ns, returned at {} ns)",
                        writes[b].token.unwrap_or(""),
                        p.token.unwrap_or(""),
                        p.call,
                        p.ret
                    ));
                }
            }
        }
        None => {
            for p in writes.iter() {
                if p.put
                    && p.token.is_some()
                    && p.ret < get.call
                    && !put_between(p.call, Some(true))
                {
                    return Err(format!(
                        "{at}: the Put of {:?} (returned at {} ns) is missing and no empty Put came after it",
                        p.token.unwrap_or(""),
                        p.ret
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use linearizability::Operation;
    use linearizability::models::kv::{KvInput, KvOutput};

    fn op(input: KvInput, output: &str, call: i64, return_time: i64) -> KvOperation {
        Operation {
            client_id: 0,
            input,
            call,
            output: KvOutput {
                value: output.to_string(),
            },
            return_time,
        }
    }

    fn append(n: usize, call: i64, ret: i64) -> KvOperation {
        op(KvInput::append("k", value(0, n)), "", call, ret)
    }

    fn put(n: usize, call: i64, ret: i64) -> KvOperation {
        op(KvInput::put("k", value(0, n)), "", call, ret)
    }

    fn get(read: &[usize], call: i64, ret: i64) -> KvOperation {
        let v: String = read.iter().map(|&n| value(0, n)).collect();
        op(KvInput::get("k"), &v, call, ret)
    }

    fn verdict(history: &[KvOperation]) -> Result<(), String> {
        check(history)
    }

    #[test]
    fn tokens_split_go_values() {
        assert_eq!(tokens("x 1 2 yx 10 0 y"), Some(vec!["x 1 2 y", "x 10 0 y"]));
        assert_eq!(tokens(""), Some(vec![]));
        assert_eq!(tokens("x 1 2 yz"), None);
        assert_eq!(tokens("x 1 y"), None);
    }

    /// The check refuses `history`, saying `says`.
    fn refused(history: &[KvOperation], says: &str) {
        let error = verdict(history).expect_err("the check must refuse the history");
        assert!(
            error.contains(says),
            "the refusal does not say {says:?}: {error}"
        );
    }

    #[test]
    fn a_correct_history_passes() {
        let history = vec![
            put(0, 0, 10),
            append(1, 20, 30),
            append(2, 25, 40), // concurrent with the Get: may or may not be seen
            get(&[0, 1], 35, 50),
            get(&[0, 1, 2], 60, 70),
            put(3, 80, 90),
            get(&[3], 100, 110),
        ];
        assert_eq!(verdict(&history), Ok(()));
    }

    #[test]
    fn a_doubled_append_fails() {
        refused(&[append(1, 0, 10), get(&[1, 1], 20, 30)], "twice");
    }

    #[test]
    fn a_lost_acknowledged_append_fails() {
        refused(
            &[append(1, 0, 10), append(2, 20, 30), get(&[1], 40, 50)],
            "missing",
        );
    }

    #[test]
    fn a_put_may_excuse_a_missing_append() {
        let history = vec![append(1, 0, 10), put(2, 5, 30), get(&[2], 40, 50)];
        assert_eq!(verdict(&history), Ok(()));
    }

    #[test]
    fn a_stale_put_fails() {
        refused(&[put(1, 0, 10), put(2, 20, 30), get(&[1], 40, 50)], "stale");
    }

    #[test]
    fn a_read_from_the_future_fails() {
        refused(
            &[get(&[1], 0, 10), append(1, 20, 30)],
            "after the Get returned",
        );
    }

    #[test]
    fn appends_out_of_real_time_order_fail() {
        refused(
            &[append(1, 0, 10), append(2, 20, 30), get(&[2, 1], 40, 50)],
            "comes after",
        );
    }

    #[test]
    fn an_unwritten_value_fails() {
        refused(&[append(1, 0, 10), get(&[1, 7], 20, 30)], "never written");
    }

    #[test]
    fn a_lost_put_fails() {
        refused(&[put(1, 0, 10), get(&[], 20, 30)], "Put");
    }

    #[test]
    fn other_values_are_not_checkable() {
        refused(
            &[op(KvInput::append("k", "abc"), "", 0, 10)],
            "cannot be checked",
        );
    }
}
