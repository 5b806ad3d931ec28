/*!
Group commit: concurrent writes share one transaction, each answered only after it commits.

A request hands [`Store::write_batched`] its write as a closure over a [`WriteTx`]: everything
that can be computed outside the transaction (triage, routing, the rows to insert) is computed
before, so the closure only runs statements. The closure is queued on the store. A request
that finds fewer leaders running than the engine allows ([`max_leaders`]: one on SQLite, which
has one writer; a few on PostgreSQL, which runs transactions in parallel) spawns a leader task;
a leader takes whatever is queued (at most [`MAX_BATCH`]), runs the closures one after the other
in ONE transaction, commits once and wakes every request with its own result, then takes the
next batch until the queue is empty. Requests that queue while a batch commits form the next
batch: there is no artificial delay, batches are as large as the load makes them.

- **Isolation.** The first pass runs without savepoints (two statements per request saved). If
  a closure fails, the transaction is rolled back, that request gets its own error, and the rest
  run again in a fresh transaction with a `SAVEPOINT` around each, so a second failure is rolled
  back alone (`ROLLBACK TO`) and fails only its own request. A closure may therefore run twice:
  it must only touch the database and must compute everything from its captures (ids come from
  the database inside the closure, so a rerun gets fresh ones; a rolled-back id is a gap).
- **Durability** is exactly that of [`Store::write`]: a request is answered after the COMMIT of
  its batch returned; a batch that fails to commit fails all its requests (none of them was
  acknowledged).
- **Bounded wait.** A request that waited in the queue longer than the write bound is answered
  [`StoreError::Busy`] without running; the leader's own wait for the database is bounded as in
  [`Store::write`]; on PostgreSQL the batch sets `lock_timeout` to the bound, so a `LOCK TABLE`
  or a long row lock held by another session fails the batch with `Busy` instead of hanging.
- **Cancellation.** The leader is a spawned task, not a request: a client that disconnects drops
  only its own wait, never a batch another request is part of.
*/

use std::any::Any;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{Engine, Store, StoreError, WriteTx};

/// Most requests in one transaction: bounds the time a batch holds the writer (and how much one
/// failed commit takes down) while still amortising the commit over many requests.
pub const MAX_BATCH: usize = 64;

/// The error of a batched write: built from a [`StoreError`], and able to say that it is the
/// database being busy (then the rest of the batch is not retried one by one, each waiting out
/// the bound again: it fails at once with `Busy`).
pub trait BatchError: From<StoreError> + Send + 'static {
    fn is_busy(&self) -> bool;
}

impl BatchError for StoreError {
    fn is_busy(&self) -> bool {
        matches!(self, StoreError::Busy(_))
    }
}

/// How many batches may run at once. SQLite has one writer: one. PostgreSQL runs transactions
/// in parallel, and a few leaders keep it busy while one waits for its COMMIT's WAL flush;
/// their batches cannot deadlock on each other: every row an intake locks that another may
/// lock too is taken in one global order — callers by phone (jobs run in [`Job::key`] order),
/// analytics rollups by key (written once per batch at COMMIT, sorted:
/// [`WriteTx::defer_new_facts`]). Everything else an intake writes is a new row.
pub fn max_leaders(engine: Engine) -> usize {
    match engine {
        Engine::Sqlite => 1,
        Engine::Postgres => 4,
    }
}

/// The future a batched write returns, borrowing the transaction.
pub type BatchFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

type Value = Box<dyn Any + Send>;
/// A closure's result with its types erased: `Ok(T)` or `Err(E)` of [`Store::write_batched`].
type Outcome = Result<Value, Failure>;

/// A closure's error, erased, with whether it was the database being busy.
struct Failure {
    error: Value,
    busy: bool,
}
type Work = Box<dyn for<'a> FnMut(&'a mut WriteTx) -> BatchFuture<'a, Outcome> + Send>;

enum Reply {
    /// The closure ran and its batch committed (or it failed on its own).
    Done(Outcome),
    /// The batch could not run or commit: nothing of this request was written.
    Failed(StoreError),
}

struct Job {
    /// Where the job goes in its batch: jobs run in key order, so the rows they lock (a
    /// caller's, by phone) are taken in one order by every batch and concurrent batches on
    /// PostgreSQL cannot deadlock on them.
    key: String,
    work: Work,
    reply: oneshot::Sender<Reply>,
    queued: Instant,
}

/// The queue of one store (its clones share it).
#[derive(Default)]
pub(crate) struct Batcher {
    state: Mutex<State>,
    /// Committed batches and the requests they answered (for metrics and tests).
    committed: AtomicU64,
    answered: AtomicU64,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    /// Leader tasks running (at most [`max_leaders`]); beyond that new jobs only queue.
    leading: usize,
    /// Jobs in the batch being run.
    in_flight: usize,
}

impl Batcher {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the queue half-edited (every critical
        // section is a push or a drain), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store {
    /// Group-commit counts so far: `(batches committed, requests they carried)`.
    pub fn group_commit_counts(&self) -> (u64, u64) {
        (
            self.batcher.committed.load(Ordering::Relaxed),
            self.batcher.answered.load(Ordering::Relaxed),
        )
    }

    /// Batched writes not answered yet: queued, or in the batch being run.
    pub fn writes_pending(&self) -> usize {
        let state = self.batcher.lock();
        state.queue.len() + state.in_flight
    }

    /// Runs `work` in a transaction shared with other concurrent writes (see the module docs);
    /// returns its result once that transaction has committed. `work` may run more than once
    /// and must only write through the transaction it is given.
    pub async fn write_batched<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: BatchError,
        F: for<'a> FnMut(&'a mut WriteTx) -> BatchFuture<'a, Result<T, E>> + Send + 'static,
    {
        self.write_batched_keyed(String::new(), work).await
    }

    /// [`Store::write_batched`] for a write that locks an existing row named by `key` (an
    /// upserted caller's phone): a batch runs its writes in key order (see [`Job::key`]).
    pub async fn write_batched_keyed<T, E, F>(&self, key: String, mut work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: BatchError,
        F: for<'a> FnMut(&'a mut WriteTx) -> BatchFuture<'a, Result<T, E>> + Send + 'static,
    {
        if !self.group_commit {
            let mut tx = self.write().await?;
            if self.engine == Engine::Postgres {
                self.bound_locks(&mut tx).await?;
            }
            let value = work(&mut tx).await?;
            tx.commit().await?;
            return Ok(value);
        }
        let erased: Work = Box::new(move |tx| {
            let fut = work(tx);
            Box::pin(async move {
                match fut.await {
                    Ok(v) => Ok(Box::new(v) as Value),
                    Err(e) => Err(Failure {
                        busy: e.is_busy(),
                        error: Box::new(e) as Value,
                    }),
                }
            })
        });
        let (reply, answer) = oneshot::channel();
        let lead = {
            let mut state = self.batcher.lock();
            state.queue.push_back(Job {
                key,
                work: erased,
                reply,
                queued: Instant::now(),
            });
            let lead = state.leading < max_leaders(self.engine);
            if lead {
                state.leading += 1;
            }
            lead
        };
        if lead {
            let store = self.clone();
            tokio::spawn(async move { store.lead().await });
        }
        match answer.await {
            Ok(Reply::Done(Ok(v))) => Ok(*v.downcast::<T>().expect("batched result type")),
            Ok(Reply::Done(Err(e))) => Err(*e.error.downcast::<E>().expect("batched error type")),
            Ok(Reply::Failed(e)) => Err(E::from(e)),
            Err(_) => Err(E::from(StoreError::Other(
                "the group-commit writer stopped before answering".into(),
            ))),
        }
    }

    /// The leader: runs batches until the queue is empty.
    async fn lead(self) {
        // If a closure panics, the task unwinds: step down (the last leader also drops the
        // queue, whose requests see an error), so a later request leads instead of all waiting
        // forever.
        struct StepDown<'s>(&'s Batcher, usize);
        impl Drop for StepDown<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    let mut state = self.0.lock();
                    state.leading -= 1;
                    state.in_flight -= self.1;
                    if state.leading == 0 {
                        state.queue.clear();
                    }
                }
            }
        }
        let mut guard = StepDown(&self.batcher, 0);
        loop {
            let jobs: Vec<Job> = {
                let mut state = self.batcher.lock();
                state.in_flight -= guard.1;
                guard.1 = 0;
                if state.queue.is_empty() {
                    state.leading -= 1;
                    return;
                }
                let n = state.queue.len().min(MAX_BATCH);
                state.in_flight += n;
                guard.1 = n;
                state.queue.drain(..n).collect()
            };
            self.run_batch(jobs).await;
        }
    }

    async fn run_batch(&self, jobs: Vec<Job>) {
        let bound = self.write_timeout;
        // Waited out in the queue behind stalled batches: answered without running.
        let (mut jobs, expired): (Vec<Job>, Vec<Job>) =
            jobs.into_iter().partition(|j| j.queued.elapsed() < bound);
        for job in expired {
            let _ = job.reply.send(Reply::Failed(StoreError::Busy(format!(
                "the write waited more than {} ms for the database",
                bound.as_millis()
            ))));
        }
        jobs.sort_by(|a, b| a.key.cmp(&b.key));
        let mut safe = false;
        while !jobs.is_empty() {
            match self.try_batch(&mut jobs, safe).await {
                Ok(Pass::Committed(outcomes)) => {
                    self.batcher.committed.fetch_add(1, Ordering::Relaxed);
                    self.batcher
                        .answered
                        .fetch_add(outcomes.len() as u64, Ordering::Relaxed);
                    for (job, outcome) in jobs.drain(..).zip(outcomes) {
                        let _ = job.reply.send(Reply::Done(outcome));
                    }
                }
                Ok(Pass::Failed(i, err)) => {
                    // Rolled back; the failing request gets its error, the rest run again
                    // with a savepoint each — unless the database is busy, which would make
                    // every one of them wait out the bound in turn.
                    let busy = err.busy;
                    let job = jobs.remove(i);
                    let _ = job.reply.send(Reply::Done(Err(err)));
                    if busy {
                        for job in jobs.drain(..) {
                            let _ = job.reply.send(Reply::Failed(StoreError::Busy(
                                "another write of the same batch found the database busy".into(),
                            )));
                        }
                    }
                    safe = true;
                }
                Err(e) => {
                    for job in jobs.drain(..) {
                        let _ = job.reply.send(Reply::Failed(e.share()));
                    }
                }
            }
        }
    }

    /// One transaction over `jobs`. Without `safe`, the first failing closure aborts the pass.
    async fn try_batch(&self, jobs: &mut [Job], safe: bool) -> Result<Pass, StoreError> {
        let mut tx = self.write().await?;
        if tx.engine() == Engine::Postgres {
            self.bound_locks(&mut tx).await?;
        }
        let mut outcomes = Vec::with_capacity(jobs.len());
        for (i, job) in jobs.iter_mut().enumerate() {
            let mark = tx.deferred_len();
            if safe {
                sqlx::query("SAVEPOINT m110_batch")
                    .execute(&mut *tx)
                    .await?;
            }
            match (job.work)(&mut tx).await {
                Ok(v) => {
                    if safe {
                        sqlx::query("RELEASE SAVEPOINT m110_batch")
                            .execute(&mut *tx)
                            .await?;
                    }
                    outcomes.push(Ok(v));
                }
                Err(e) if safe && e.busy => {
                    tx.rollback().await?;
                    return Ok(Pass::Failed(i, e));
                }
                Err(e) if safe => {
                    sqlx::query("ROLLBACK TO SAVEPOINT m110_batch")
                        .execute(&mut *tx)
                        .await?;
                    // Its new cases are gone: so are their deferred facts.
                    tx.truncate_deferred(mark);
                    sqlx::query("RELEASE SAVEPOINT m110_batch")
                        .execute(&mut *tx)
                        .await?;
                    outcomes.push(Err(e));
                }
                Err(e) => {
                    tx.rollback().await?;
                    return Ok(Pass::Failed(i, e));
                }
            }
        }
        tx.commit().await?;
        Ok(Pass::Committed(outcomes))
    }
}

impl Store {
    /// PostgreSQL: lock waits in this transaction end at the write bound (`Busy`).
    async fn bound_locks(&self, tx: &mut WriteTx) -> Result<(), StoreError> {
        sqlx::query("SELECT set_config('lock_timeout', $1, true)")
            .bind(format!("{}ms", self.write_timeout.as_millis().max(1)))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

enum Pass {
    Committed(Vec<Outcome>),
    /// The closure at this index failed with this error; the transaction was rolled back.
    Failed(usize, Failure),
}
