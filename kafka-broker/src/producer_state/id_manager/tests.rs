use super::*;

const LATEST: i16 = 5;

fn idempotent(producer_id: i64, producer_epoch: i16) -> InitProducerIdParams<'static> {
    InitProducerIdParams {
        transactional_id: None,
        transaction_timeout_ms: 60_000,
        producer_id,
        producer_epoch,
        api_version: LATEST,
    }
}

fn transactional(
    transactional_id: &str,
    producer_id: i64,
    producer_epoch: i16,
) -> InitProducerIdParams<'_> {
    InitProducerIdParams {
        transactional_id: Some(transactional_id),
        transaction_timeout_ms: 60_000,
        producer_id,
        producer_epoch,
        api_version: LATEST,
    }
}

fn pe(producer_id: i64, producer_epoch: i16) -> ProducerIdAndEpoch {
    ProducerIdAndEpoch {
        producer_id,
        producer_epoch,
    }
}

#[test]
fn idempotent_init_returns_fresh_ids_at_epoch_zero() {
    let mut manager = ProducerIdManager::new(ProducerIdManagerConfig {
        first_producer_id: 1000,
        ..ProducerIdManagerConfig::default()
    });
    let a = manager.init_producer_id(&idempotent(-1, -1));
    let b = manager.init_producer_id(&idempotent(-1, -1));
    assert_eq!(a, Ok(pe(1000, 0)));
    assert_eq!(b, Ok(pe(1001, 0)));
}

#[test]
fn idempotent_init_naming_an_id_gets_a_fresh_id() {
    // Kafka answers an idempotent producer's KIP-360 recovery, and any other init that names a
    // producer id and epoch without a transactional id, with a new producer id at epoch 0.
    let mut manager = ProducerIdManager::default();
    let first = manager.init_producer_id(&idempotent(-1, -1)).unwrap();
    let recovered = manager
        .init_producer_id(&idempotent(first.producer_id, 0))
        .unwrap();
    assert_eq!(recovered, pe(first.producer_id + 1, 0));
    let unknown = manager.init_producer_id(&idempotent(9_999, 3)).unwrap();
    assert_eq!(unknown, pe(first.producer_id + 2, 0));
}

#[test]
fn transactional_id_keeps_its_producer_id_and_bumps_the_epoch_on_each_init() {
    let mut manager = ProducerIdManager::default();
    let other = manager.init_producer_id(&transactional("other", -1, -1));
    let first = manager
        .init_producer_id(&transactional("orders", -1, -1))
        .unwrap();
    assert_eq!(first.producer_epoch, 0);
    assert_ne!(Ok(first), other);
    for epoch in 1..=3 {
        assert_eq!(
            manager.init_producer_id(&transactional("orders", -1, -1)),
            Ok(pe(first.producer_id, epoch))
        );
    }
    assert_eq!(
        manager.transactional_producer("orders"),
        Some(pe(first.producer_id, 3))
    );
    assert_eq!(manager.transactional_producer("unknown"), None);
}

#[test]
fn transactional_init_with_current_epoch_bumps_and_with_stale_epoch_is_fenced() {
    let mut manager = ProducerIdManager::default();
    let first = manager
        .init_producer_id(&transactional("t", -1, -1))
        .unwrap();
    let second = manager
        .init_producer_id(&transactional("t", first.producer_id, 0))
        .unwrap();
    assert_eq!(second, pe(first.producer_id, 1));
    // A retry of that init (response lost) gets the same answer, not a second bump.
    assert_eq!(
        manager.init_producer_id(&transactional("t", first.producer_id, 0)),
        Ok(second)
    );
    // Another instance bumps again; the first instance, now two epochs behind, is fenced.
    let third = manager
        .init_producer_id(&transactional("t", -1, -1))
        .unwrap();
    assert_eq!(third, pe(first.producer_id, 2));
    let zombie = transactional("t", first.producer_id, 0);
    assert_eq!(
        manager.init_producer_id(&zombie),
        Err(ErrorCode::ProducerFenced)
    );
    assert_eq!(
        manager.init_producer_id(&InitProducerIdParams {
            api_version: 3,
            ..zombie
        }),
        Err(ErrorCode::InvalidProducerEpoch),
        "before KIP-588 (v4) fencing is reported as INVALID_PRODUCER_EPOCH"
    );
    assert_eq!(
        manager.init_producer_id(&transactional("t", first.producer_id + 50, 2)),
        Err(ErrorCode::ProducerFenced),
        "wrong producer id"
    );
    assert_eq!(manager.transactional_producer("t"), Some(third));
}

#[test]
fn transactional_epoch_overflow_gives_a_new_producer_id() {
    let mut manager = ProducerIdManager::default();
    let first = manager
        .init_producer_id(&transactional("t", -1, -1))
        .unwrap();
    for _ in 1..=(i16::MAX - 1) {
        manager
            .init_producer_id(&transactional("t", -1, -1))
            .unwrap();
    }
    let last = manager.transactional_producer("t").unwrap();
    assert_eq!(last, pe(first.producer_id, i16::MAX - 1));
    let rotated = manager
        .init_producer_id(&transactional("t", last.producer_id, last.producer_epoch))
        .unwrap();
    assert_eq!(rotated.producer_epoch, 0);
    assert_ne!(rotated.producer_id, first.producer_id);
    // The rotation is recognised as such when retried.
    assert_eq!(
        manager.init_producer_id(&transactional("t", last.producer_id, last.producer_epoch)),
        Ok(rotated)
    );
}

#[test]
fn malformed_requests_are_rejected() {
    let mut manager = ProducerIdManager::default();
    for (producer_id, producer_epoch) in [(-1, 0), (5, -1), (-2, -1), (5, -3)] {
        assert_eq!(
            manager.init_producer_id(&idempotent(producer_id, producer_epoch)),
            Err(ErrorCode::InvalidRequest),
            "({producer_id}, {producer_epoch})"
        );
    }
    assert_eq!(
        manager.init_producer_id(&transactional("", -1, -1)),
        Err(ErrorCode::InvalidRequest)
    );
    for timeout in [0, -5, 900_001] {
        assert_eq!(
            manager.init_producer_id(&InitProducerIdParams {
                transaction_timeout_ms: timeout,
                ..transactional("t", -1, -1)
            }),
            Err(ErrorCode::InvalidTransactionTimeout),
            "timeout {timeout}"
        );
    }
    // An idempotent producer's timeout is not looked at.
    assert!(manager
        .init_producer_id(&InitProducerIdParams {
            transaction_timeout_ms: 0,
            ..idempotent(-1, -1)
        })
        .is_ok());
}

#[test]
fn tracked_producers_are_capped() {
    let mut manager = ProducerIdManager::new(ProducerIdManagerConfig {
        max_tracked_producers: 2,
        ..ProducerIdManagerConfig::default()
    });
    let a = manager
        .init_producer_id(&transactional("a", -1, -1))
        .unwrap();
    manager
        .init_producer_id(&transactional("b", -1, -1))
        .unwrap();
    manager
        .init_producer_id(&transactional("c", -1, -1))
        .unwrap();
    assert_eq!(manager.transactional_producer("a"), None);
    assert!(manager.transactional_producer("c").is_some());
    let a_again = manager
        .init_producer_id(&transactional("a", -1, -1))
        .unwrap();
    assert_ne!(a_again.producer_id, a.producer_id);
}

#[test]
fn params_come_from_the_request() {
    let request = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(100)
        .with_producer_id(12)
        .with_producer_epoch(3);
    assert_eq!(
        InitProducerIdParams::from_request(&request, 4),
        InitProducerIdParams {
            transactional_id: None,
            transaction_timeout_ms: 100,
            producer_id: 12,
            producer_epoch: 3,
            api_version: 4,
        }
    );
}
