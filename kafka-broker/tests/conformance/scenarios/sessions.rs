//! Incremental fetch sessions (KIP-227): creating, using, closing and losing a session, adding
//! and forgetting partitions, and every session error.

use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic, ForgottenTopic};
use kafka_protocol::messages::{FetchRequest, FetchResponse};
use kafka_protocol::ApiKey;
use kafka_protocol::Uuid;

use crate::harness::{batch, Session};

fn part(partition: i32, offset: i64) -> FetchPartition {
    FetchPartition::default()
        .with_partition(partition)
        .with_fetch_offset(offset)
        .with_partition_max_bytes(1 << 20)
}

fn fetch(session_id: i32, epoch: i32, topics: Vec<FetchTopic>) -> FetchRequest {
    FetchRequest::default()
        .with_max_wait_ms(0)
        .with_min_bytes(0)
        .with_max_bytes(1 << 20)
        .with_session_id(session_id)
        .with_session_epoch(epoch)
        .with_topics(topics)
}

fn by_id(id: Uuid, partitions: Vec<FetchPartition>) -> FetchTopic {
    FetchTopic::default()
        .with_topic_id(id)
        .with_partitions(partitions)
}

/// A topic with `partitions` partitions, three records in each; its id.
fn topic(s: &mut Session<'_>, partitions: i32) -> (String, Uuid) {
    let t = s.name("t");
    s.create_topic(&t, partitions, &[]);
    for p in 0..partitions {
        s.produce(&t, p, batch(&["a", "b", "c"]));
    }
    let id = s.topic_id(&t);
    (t, id)
}

/// Opens a session over partitions 0..n of `id` from offset 0; returns the response.
fn open(s: &mut Session<'_>, label: &str, id: Uuid, partitions: i32) -> Option<FetchResponse> {
    let v = s.v(ApiKey::Fetch);
    let parts = (0..partitions).map(|p| part(p, 0)).collect();
    s.send(label, &fetch(0, 0, vec![by_id(id, parts)]), v)
}

pub fn create_and_use(s: &mut Session<'_>) {
    let (t, id) = topic(s, 1);
    let v = s.v(ApiKey::Fetch);
    let session = open(s, "full_fetch_creates", id, 1).map_or(0, |r| r.session_id);
    // Nothing changed: the incremental answer is empty.
    s.send("incremental_nothing_new", &fetch(session, 1, Vec::new()), v);
    // The client moves its position past the records it read, then new records arrive.
    s.send(
        "incremental_moves_position",
        &fetch(session, 2, vec![by_id(id, vec![part(0, 3)])]),
        v,
    );
    s.produce(&t, 0, batch(&["d"]));
    s.send("incremental_new_records", &fetch(session, 3, Vec::new()), v);
    s.send(
        "incremental_after_reading",
        &fetch(session, 4, vec![by_id(id, vec![part(0, 4)])]),
        v,
    );
}

pub fn wrong_epoch(s: &mut Session<'_>) {
    let (_, id) = topic(s, 1);
    let v = s.v(ApiKey::Fetch);
    let session = open(s, "full_fetch_creates", id, 1).map_or(0, |r| r.session_id);
    s.send("epoch_5_instead_of_1", &fetch(session, 5, Vec::new()), v);
    s.send("epoch_1_still_valid", &fetch(session, 1, Vec::new()), v);
    s.send("epoch_1_again", &fetch(session, 1, Vec::new()), v);
}

pub fn unknown_session(s: &mut Session<'_>) {
    let v = s.v(ApiKey::Fetch);
    s.send("unknown_session_id", &fetch(123_456, 1, Vec::new()), v);
}

pub fn close_session(s: &mut Session<'_>) {
    let (_, id) = topic(s, 1);
    let v = s.v(ApiKey::Fetch);
    let session = open(s, "full_fetch_creates", id, 1).map_or(0, |r| r.session_id);
    s.send(
        "final_epoch_closes",
        &fetch(session, -1, vec![by_id(id, vec![part(0, 0)])]),
        v,
    );
    s.send("closed_session_is_gone", &fetch(session, 1, Vec::new()), v);
}

pub fn reopen_replaces_the_session(s: &mut Session<'_>) {
    let (_, id) = topic(s, 1);
    let v = s.v(ApiKey::Fetch);
    let first = open(s, "first_session", id, 1).map_or(0, |r| r.session_id);
    s.send(
        "initial_epoch_with_old_id",
        &fetch(first, 0, vec![by_id(id, vec![part(0, 0)])]),
        v,
    );
    s.send("old_session_is_gone", &fetch(first, 1, Vec::new()), v);
}

pub fn add_and_forget_partitions(s: &mut Session<'_>) {
    let (t, id) = topic(s, 3);
    let v = s.v(ApiKey::Fetch);
    let session = open(s, "session_over_0_and_1", id, 2).map_or(0, |r| r.session_id);
    let request =
        fetch(session, 1, vec![by_id(id, vec![part(2, 0)])]).with_forgotten_topics_data(vec![
            ForgottenTopic::default()
                .with_topic_id(id)
                .with_partitions(vec![1]),
        ]);
    s.send("add_2_forget_1", &request, v);
    for p in 0..3 {
        s.produce(&t, p, batch(&["x"]));
    }
    s.send("news_from_0_and_2_only", &fetch(session, 2, Vec::new()), v);
}

pub fn empty_full_fetch(s: &mut Session<'_>) {
    let v = s.v(ApiKey::Fetch);
    let session = s
        .send("empty_initial_fetch", &fetch(0, 0, Vec::new()), v)
        .map_or(0, |r| r.session_id);
    s.send(
        "empty_session_incremental",
        &fetch(session, 1, Vec::new()),
        v,
    );
}

pub fn sessionless_fetch_gets_no_session(s: &mut Session<'_>) {
    let (_, id) = topic(s, 1);
    let v = s.v(ApiKey::Fetch);
    s.send(
        "final_epoch_no_id",
        &fetch(0, -1, vec![by_id(id, vec![part(0, 0)])]),
        v,
    );
}

pub fn names_then_ids(s: &mut Session<'_>) {
    let (t, id) = topic(s, 1);
    let by_name = FetchTopic::default()
        .with_topic(t.clone())
        .with_partitions(vec![part(0, 0)]);
    let session = s
        .send("session_by_name_v12", &fetch(0, 0, vec![by_name]), 12)
        .map_or(0, |r| r.session_id);
    s.send(
        "incremental_by_name_v12",
        &fetch(session, 1, Vec::new()),
        12,
    );
    let v = s.v(ApiKey::Fetch);
    s.send(
        "incremental_by_id",
        &fetch(session, 2, vec![by_id(id, vec![part(0, 3)])]),
        v,
    );
}

pub fn unknown_partition_in_session(s: &mut Session<'_>) {
    let (_, id) = topic(s, 1);
    let v = s.v(ApiKey::Fetch);
    let session = open(s, "full_fetch_creates", id, 1).map_or(0, |r| r.session_id);
    s.send(
        "add_unknown_partition",
        &fetch(session, 1, vec![by_id(id, vec![part(7, 0)])]),
        v,
    );
    s.send("errors_repeat", &fetch(session, 2, Vec::new()), v);
}
