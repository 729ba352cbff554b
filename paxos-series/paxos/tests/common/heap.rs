//! The live heap, for the memory tests (paxos's TestForgetMem, kvpaxos's
//! TestDone).
//!
//! Go reads the live heap (`runtime.ReadMemStats().Alloc` after a GC). Rust
//! frees memory when the last owner drops it, so the live heap is the bytes
//! currently allocated, which a counting global allocator (`cap`) reports.
//! The allocator counts the whole process, so a test binary that includes
//! this module holds that one test only.

use std::alloc::System;

use cap::Cap;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// Bytes live on the heap now (Go's `m.Alloc` after `runtime.GC()`).
pub fn live_heap_bytes() -> usize {
    ALLOCATOR.allocated()
}
