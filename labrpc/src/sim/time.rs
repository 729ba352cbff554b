//! Virtual time: `Instant`, `sleep`, `timeout`, `yield_now`.
//!
//! In a simulation the clock only moves when every task is waiting, and then it
//! jumps straight to the next timer, so `sleep(Duration::from_secs(120))` costs
//! no wall time at all. In real-time mode the same calls map onto tokio's timers.

use std::fmt;
use std::future::Future;
use std::ops::{Add, Sub};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use super::context::{Context, Engine};

/// A point in the simulation's time, measured from the start of the run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant {
    nanos: u64,
}

impl Instant {
    /// The start of the run.
    pub const START: Instant = Instant { nanos: 0 };

    /// Time passed since this instant.
    pub fn elapsed(self) -> Duration {
        now().saturating_duration_since(self)
    }

    /// Time from `earlier` to `self`; panics if `earlier` is later.
    pub fn duration_since(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    /// Time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.nanos.saturating_sub(earlier.nanos))
    }

    /// Nanoseconds since the run started (histories and logs use this).
    pub fn as_nanos_since_start(self) -> u64 {
        self.nanos
    }

    /// Virtual time since the run began.
    pub fn since_start(self) -> Duration {
        Duration::from_nanos(self.nanos)
    }

    pub(crate) fn from_nanos(nanos: u64) -> Instant {
        Instant { nanos }
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant {
            nanos: self.nanos.saturating_add(d.as_nanos() as u64),
        }
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.nanos as f64 / 1e9)
    }
}

/// The current time of the simulation.
pub fn now() -> Instant {
    Instant::from_nanos(Context::current().now_nanos())
}

/// Waits for `duration` of (virtual) time.
pub fn sleep(duration: Duration) -> Sleep {
    let context = Context::current();
    let deadline = context
        .now_nanos()
        .saturating_add(duration.as_nanos() as u64);
    Sleep::new(context, deadline, duration)
}

/// Go's `time.Sleep(duration)`: waits for `duration`, but returns at once,
/// without yielding, when it is zero (where [`sleep`] yields first). The Go
/// tests' ports use it where Go sleeps a random time that may be zero, so that
/// they take exactly Go's steps; lab code should use [`sleep`].
pub async fn go_sleep(duration: Duration) {
    if !duration.is_zero() {
        sleep(duration).await;
    }
}

/// Waits until `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    let context = Context::current();
    let duration = Duration::from_nanos(deadline.nanos.saturating_sub(context.now_nanos()));
    Sleep::new(context, deadline.nanos, duration)
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// A sleep always yields at least once, even `sleep(Duration::ZERO)` or a
/// deadline already past: its first poll lets every other ready task run (as
/// [`yield_now`] does), so a loop around a zero sleep is a busy loop the
/// executor can see and interleave, not one that never gives way.
pub struct Sleep {
    context: Arc<Context>,
    deadline: u64,
    timer: Option<(u64, u64)>,
    real: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Set once this sleep has returned `Pending`.
    yielded: bool,
}

impl Sleep {
    fn new(context: Arc<Context>, deadline: u64, duration: Duration) -> Sleep {
        #[allow(clippy::disallowed_methods)] // allowed: the real-time engine's timer
        let real = match &context.engine {
            Engine::Real(_) => Some(Box::pin(tokio::time::sleep(duration))),
            Engine::Sim(_) => None,
        };
        Sleep {
            context,
            deadline,
            timer: None,
            real,
            yielded: false,
        }
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let this = &mut *self;
        let due = if let Some(real) = this.real.as_mut() {
            real.as_mut().poll(cx).is_ready()
        } else {
            let Engine::Sim(executor) = &this.context.engine else {
                unreachable!("a simulated sleep outside the simulated engine");
            };
            if executor.now_nanos() >= this.deadline {
                if let Some(key) = this.timer.take() {
                    executor.remove_timer(key);
                }
                true
            } else {
                this.timer = Some(executor.add_timer(this.deadline, this.timer, cx.waker()));
                false
            }
        };
        if due && this.yielded {
            return Poll::Ready(());
        }
        if due {
            // Due at the first poll: give way once, as `yield_now` does.
            cx.waker().wake_by_ref();
        }
        this.yielded = true;
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let (Some(key), Engine::Sim(executor)) = (self.timer.take(), &self.context.engine) {
            executor.remove_timer(key);
        }
    }
}

/// The error of [`timeout`] when the time ran out first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("deadline elapsed")]
pub struct Elapsed;

/// Runs `future` for at most `duration`.
pub async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
    let mut future = std::pin::pin!(future);
    let mut timer = std::pin::pin!(sleep(duration));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        timer.as_mut().poll(cx).map(|()| Err(Elapsed))
    })
    .await
}

/// Lets every other ready task run once before this one continues.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}
