//! The transactional producer's calls (Java's `initTransactions`, `beginTransaction`,
//! `sendOffsetsToTransaction`, `commitTransaction`, `abortTransaction`), each bounded by
//! `max.block.ms`.

use kafka_client::ConsumerGroupMetadata;
use tokio::time::Instant;

use super::requests;
use super::TransactionManager;
use crate::error::{ProducerError, Result};
use crate::producer::{lock, Producer};

impl Producer {
    fn transaction(&self) -> Result<&std::sync::Mutex<TransactionManager>> {
        self.shared
            .txn
            .as_ref()
            .ok_or(ProducerError::TransactionState {
                operation: "a transactional call",
                state: "NOT_TRANSACTIONAL (no transactional.id)",
            })
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.shared.config.max_block
    }

    /// Registers the producer's `transactional.id` with its coordinator: gets the producer id
    /// and a new epoch, which fences every older producer with the same id, and waits until
    /// a transaction such a producer left open is aborted. Call once, before the first
    /// transaction; a call that timed out may be repeated.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), kafka_producer::ProducerError> {
    /// use kafka_producer::{Producer, ProducerConfig, ProducerRecord};
    ///
    /// let producer = Producer::new(
    ///     ProducerConfig::new("127.0.0.1:9092").with_transactional_id("enricher-0"),
    /// )
    /// .await?;
    /// producer.init_transactions().await?;
    /// producer.begin_transaction()?;
    /// producer.send(ProducerRecord::new("out").with_value("a")).await?;
    /// producer.commit_transaction().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn init_transactions(&self) -> Result<()> {
        let txn = self.transaction()?;
        lock(txn).start_init()?;
        match requests::init_producer_id(&self.shared, None, self.deadline()).await {
            Ok(pair) => {
                *lock(&self.shared.producer_id) = Some(pair);
                self.shared.accumulator().reset_sequences();
                lock(txn).initialized();
                tracing::debug!(
                    producer_id = pair.0,
                    epoch = pair.1,
                    "transactions initialized"
                );
                Ok(())
            }
            Err(e) => {
                if let ProducerError::Broker(code) = &e {
                    if super::is_fatal(*code) {
                        lock(txn).fail(e.clone());
                        return Err(lock(txn).fatal_error().unwrap_or(e));
                    }
                }
                Err(e)
            }
        }
    }

    /// Starts a transaction: records sent until commit or abort belong to it.
    pub fn begin_transaction(&self) -> Result<()> {
        lock(self.transaction()?).begin()
    }

    /// Adds consumed offsets to the open transaction: they are committed for the group with
    /// the transaction, or not at all (exactly-once consume-transform-produce). `offsets` are
    /// (topic, partition, next offset to consume); `group` is the consumer's
    /// [`group_metadata`](https://docs.rs/kafka-consumer), so that a consumer fenced by a
    /// rebalance cannot commit through the producer (KIP-447).
    pub async fn send_offsets_to_transaction(
        &self,
        offsets: &[(String, i32, i64)],
        group: &ConsumerGroupMetadata,
    ) -> Result<()> {
        let txn = self.transaction()?;
        lock(txn).check_send()?;
        let result = requests::send_offsets(&self.shared, offsets, group, self.deadline()).await;
        if let Err(e) = &result {
            if !matches!(e, ProducerError::TransactionTimeout(..)) {
                lock(txn).fail(e.clone());
            }
        }
        result
    }

    /// Commits the open transaction: sends every queued record, waits for them, then asks the
    /// coordinator to commit. Fails with the abortable error if any record of the transaction
    /// was not written (then call [`abort_transaction`](Self::abort_transaction)), or with
    /// [`ProducerError::Fenced`] if another producer took over.
    pub async fn commit_transaction(&self) -> Result<()> {
        self.end_transaction(true).await
    }

    /// Aborts the open transaction: its records and offsets are discarded for read_committed
    /// consumers. Records still queued are sent first (and aborted with the rest).
    pub async fn abort_transaction(&self) -> Result<()> {
        self.end_transaction(false).await
    }

    async fn end_transaction(&self, commit: bool) -> Result<()> {
        let txn = self.transaction()?;
        lock(txn).start_end(commit)?;
        let deadline = self.deadline();
        if tokio::time::timeout_at(deadline, self.flush())
            .await
            .is_err()
        {
            return Err(ProducerError::TransactionTimeout(
                self.shared.config.max_block.as_millis() as u64,
                "records of the transaction still unsent".into(),
            ));
        }
        // A record that failed while flushing spoiled the transaction: no commit.
        if commit {
            let spoiled = {
                let mut t = lock(txn);
                match t.fatal_error() {
                    Some(e) => Some(e),
                    None => t.start_end(true).err(),
                }
            };
            if let Some(e) = spoiled {
                return Err(e);
            }
        } else if let Some(e) = lock(txn).fatal_error() {
            return Err(e);
        }
        match requests::end(&self.shared, commit, deadline).await {
            Ok(()) => {
                if !commit && lock(txn).take_epoch_bump() {
                    self.bump_epoch(deadline).await?;
                }
                lock(txn).ended();
                Ok(())
            }
            Err(e @ ProducerError::TransactionTimeout(..)) => Err(e),
            Err(e) => {
                lock(txn).fail(e.clone());
                Err(lock(txn).fatal_error().unwrap_or(e))
            }
        }
    }

    /// After an aborted transaction in which a batch failed: the partition may have lost
    /// track of our sequence numbers (the failed batch's were used up, or it was written
    /// after all), so the next transaction starts on a new epoch with sequences from zero,
    /// as Java's producer does after an abortable sequence error (KIP-360). Without it the
    /// next batch to that partition would fail with OUT_OF_ORDER_SEQUENCE_NUMBER.
    async fn bump_epoch(&self, deadline: Instant) -> Result<()> {
        let txn = self.transaction()?;
        let current = *lock(&self.shared.producer_id);
        match requests::init_producer_id(&self.shared, current, deadline).await {
            Ok(pair) => {
                *lock(&self.shared.producer_id) = Some(pair);
                self.shared.accumulator().reset_sequences();
                tracing::debug!(
                    producer_id = pair.0,
                    epoch = pair.1,
                    "epoch bumped after an aborted transaction"
                );
                Ok(())
            }
            Err(e @ ProducerError::TransactionTimeout(..)) => {
                // Bump again at the next abort attempt.
                lock(txn).require_epoch_bump();
                Err(e)
            }
            Err(e) => {
                lock(txn).fail(e.clone());
                Err(lock(txn).fatal_error().unwrap_or(e))
            }
        }
    }

    /// Adds `topic`/`partition` to the open transaction before its first record goes there
    /// (transactions v1: the coordinator must know every partition before a marker can be
    /// written to it, and the leader refuses a batch for a partition it does not know of,
    /// KIP-890).
    pub(crate) async fn add_to_transaction(
        &self,
        topic: &str,
        partition: i32,
        deadline: Instant,
    ) -> Result<()> {
        let txn = self.transaction()?;
        if !lock(txn).needs_partition(topic, partition) {
            return Ok(());
        }
        let _serial = self.shared.txn_add.lock().await;
        if !lock(txn).needs_partition(topic, partition) {
            return Ok(());
        }
        match requests::add_partition(&self.shared, topic, partition, deadline).await {
            Ok(()) => {
                lock(txn).partition_added(topic, partition);
                Ok(())
            }
            Err(e) => {
                lock(txn).fail(e.clone());
                Err(lock(txn).fatal_error().unwrap_or(e))
            }
        }
    }
}
