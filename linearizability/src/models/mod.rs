//! Ready-made models: the lab's key/value store, a plain register, and the compare-and-set register
//! of the Jepsen etcd histories.

pub mod etcd;
pub mod kv;
pub mod register;
