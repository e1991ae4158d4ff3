//! The server lists its routes by rendering the app once and disposing of it at once (at start-up),
//! and disposes of every page's render when its response ends. A task the render spawned may be
//! polled by a worker thread at any moment, disposal included: it must never read a signal or
//! context that is being disposed. Here the spawned tasks are polled at the worst such moment.
//!
//! A binary of its own: it installs the process's one task executor.

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex,
    },
    task::{Context, Poll, Waker},
};

use any_spawner::{CustomExecutor, Executor, PinnedFuture, PinnedLocalFuture};
use leptos::prelude::*;

static SPAWNED: Mutex<Vec<PinnedFuture<()>>> = Mutex::new(Vec::new());
static PANICKED: AtomicUsize = AtomicUsize::new(0);

/// Keeps what the render spawns until the test polls it.
struct Held;

impl CustomExecutor for Held {
    fn spawn(&self, fut: PinnedFuture<()>) {
        SPAWNED.lock().unwrap().push(fut);
    }
    fn spawn_local(&self, _fut: PinnedLocalFuture<()>) {
        panic!("the server spawns no local tasks");
    }
    fn poll_local(&self) {}
}

/// Polls every task spawned so far once, as an idle worker thread would; counts those that panic.
fn poll_spawned() {
    let tasks = std::mem::take(&mut *SPAWNED.lock().unwrap());
    let mut cx = Context::from_waker(Waker::noop());
    for mut task in tasks {
        match catch_unwind(AssertUnwindSafe(|| task.as_mut().poll(&mut cx))) {
            Ok(Poll::Pending) => SPAWNED.lock().unwrap().push(task),
            Ok(Poll::Ready(())) => {}
            Err(_) => {
                PANICKED.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// Stored in the route listing's owner before the app renders, so that it is the first of the
/// owner's values dropped: the owner's signals are already gone from the arena and the rest not
/// yet dropped — the moment a worker thread on another core may poll a task.
struct PollWhenDisposed;

impl Drop for PollWhenDisposed {
    fn drop(&mut self) {
        poll_spawned();
    }
}

#[test]
fn no_task_spawned_by_the_route_listing_runs_against_its_disposed_owner() {
    Executor::init_custom_executor(Held).expect("the first executor of this test binary");
    let (routes, _) = leptos_axum::generate_route_list_with_exclusions_and_ssg_and_context(
        app::App,
        None,
        || {
            StoredValue::new(PollWhenDisposed);
        },
    );
    assert!(routes.iter().any(|r| r.path() == "/"), "routes were listed");
    poll_spawned();
    assert_eq!(
        PANICKED.load(Ordering::SeqCst),
        0,
        "a task spawned while listing routes panicked after its owner was disposed"
    );
}
