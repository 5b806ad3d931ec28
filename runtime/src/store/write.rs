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
*/

use std::sync::Arc;

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
}

impl WriteTx {
    /// The engine this transaction runs on (for the few statements that differ).
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Commits; dropping a `WriteTx` without committing rolls it back.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
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
        let gate = match self.engine {
            Engine::Sqlite => Some(self.writer.clone().lock_owned().await),
            Engine::Postgres => None,
        };
        let tx = match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx {
            tx,
            engine: self.engine,
            _gate: gate,
        })
    }
}
