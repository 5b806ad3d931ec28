/*!
The one write-transaction type. [`Store::write`] opens it; every repository write takes one.

SQLite has one writer at a time. Writers queued inside SQLite wait in its busy handler, which
sleeps in growing steps (up to 100 ms) and wrecks tail latency under load; queueing them on a
fair async mutex instead hands the lock over at once. The gate belongs to the [`Store`] (its
clones share it), not to the process: two unrelated databases never wait on each other. A second
`Store` opened on the same SQLite file still works — its writers queue in SQLite's busy handler,
as they would from another process. PostgreSQL needs no gate.

On SQLite the transaction starts with `BEGIN IMMEDIATE`, taking the write lock up front, so a
read-then-write never fails with `SQLITE_BUSY` when a deferred read lock cannot be upgraded.

**Bounded wait.** A writer that cannot have the database within the store's write bound
([`super::ConnectOptions::write_timeout`], 2 s) gets [`StoreError::Busy`] — never a hang that
ends in a 500. The wait for the gate and for a pooled connection is cut by a timer (both are
cancellation-safe); SQLite's own wait for the write lock is its `busy_timeout`, set to the same
bound; PostgreSQL lock waits inside a transaction are bounded by `lock_timeout` (see [`super::batch`]).
Concurrent intakes do not come through here one by one: they share a transaction through the
group-commit queue ([`Store::write_batched`]), whose leader opens it here.
*/

use std::sync::Arc;
use std::time::Duration;

use sqlx::{Any, AnyConnection, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{Engine, Store, StoreError};

/// The SQLite writer gate of one store (see the module docs).
pub(super) type WriterGate = Arc<Mutex<()>>;

/// A write transaction: its engine, and the store's writer gate while it lives.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    engine: Engine,
    _gate: Option<OwnedMutexGuard<()>>,
    changes: super::changes::ChangeHub,
    /// The analytics facts of cases created in this transaction, written at COMMIT in one
    /// sorted pass (see [`WriteTx::defer_new_facts`]).
    deferred: Vec<super::rollups::NewFacts>,
}

impl WriteTx {
    /// The engine this transaction runs on (for the few statements that differ).
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Counts a case created in this transaction in the analytics at COMMIT instead of at once:
    /// a group-commit batch then writes the rollups of all its cases in one statement, taking
    /// their rows in key order (so concurrent batches on PostgreSQL never deadlock on them),
    /// and reads nothing back (the facts of a new case follow from what was just written).
    /// Nothing else in the transaction may append to that case's timeline (its facts would be
    /// counted twice; the second insert of its `case_facts` row fails the transaction).
    pub fn defer_new_facts(&mut self, facts: super::rollups::NewFacts) {
        self.deferred.push(facts);
    }

    /// How many deferred facts there are (a savepoint's mark).
    pub(super) fn deferred_len(&self) -> usize {
        self.deferred.len()
    }

    /// Forgets the facts deferred after `mark` (their savepoint was rolled back).
    pub(super) fn truncate_deferred(&mut self, mark: usize) {
        self.deferred.truncate(mark);
    }

    /// Commits; dropping a `WriteTx` without committing rolls it back.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        if !self.deferred.is_empty() {
            let deferred = std::mem::take(&mut self.deferred);
            super::rollups::write_new(&mut self.tx, &deferred).await?;
        }
        self.tx.commit().await?;
        // After the COMMIT: a woken live-update stream must read the committed rows.
        self.changes.bump();
        Ok(())
    }

    /// Rolls back now (dropping does it too, but later and without reporting a failure).
    pub async fn rollback(self) -> Result<(), StoreError> {
        self.tx.rollback().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

impl Store {
    /// Starts a write transaction (see the module docs).
    pub async fn write(&self) -> Result<WriteTx, StoreError> {
        self.write_within(self.write_timeout).await
    }

    /// [`Store::write`] with its own bound on the wait for the gate and a connection.
    pub(super) async fn write_within(&self, bound: Duration) -> Result<WriteTx, StoreError> {
        let busy = || {
            StoreError::Busy(format!(
                "the database writer was not free within {} ms",
                bound.as_millis()
            ))
        };
        let deadline = tokio::time::Instant::now() + bound;
        let gate = match self.engine {
            Engine::Sqlite => Some(
                tokio::time::timeout_at(deadline, self.writer.clone().lock_owned())
                    .await
                    .map_err(|_| busy())?,
            ),
            Engine::Postgres => None,
        };
        let conn = tokio::time::timeout_at(deadline, self.pool.acquire())
            .await
            .map_err(|_| busy())??;
        // BEGIN itself is not cut by the timer (a cancelled BEGIN could leave the connection
        // inside a transaction); SQLite bounds its wait with `busy_timeout`.
        let begin = match self.engine {
            Engine::Sqlite => Some("BEGIN IMMEDIATE".into()),
            Engine::Postgres => None,
        };
        let tx = Transaction::begin(conn, begin).await?;
        Ok(WriteTx {
            tx,
            engine: self.engine,
            _gate: gate,
            changes: self.changes.clone(),
            deferred: Vec::new(),
        })
    }
}

impl Store {
    /// SQLite: one passive WAL checkpoint (it copies what no reader still needs and never waits
    /// for the write lock); returns the WAL's frames and how many are now in the database file.
    /// `(0, 0)` on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<(i64, i64), StoreError> {
        if self.engine != Engine::Sqlite {
            return Ok((0, 0));
        }
        let (_busy, log, done): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&self.pool)
            .await?;
        Ok((log, done))
    }
}
