//! Metadata (key 3): all, none, known, unknown and invalid topics; auto-creation on and off;
//! lookups by topic id; authorized operations; old versions.

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::MetadataRequest;
use kafka_protocol::ApiKey;
use kafka_protocol::Uuid;

use crate::harness::Session;

fn by_name(names: &[&str], auto_create: bool) -> MetadataRequest {
    MetadataRequest::default()
        .with_topics(Some(
            names
                .iter()
                .map(|n| MetadataRequestTopic::default().with_name(Some((*n).to_string().into())))
                .collect(),
        ))
        .with_allow_auto_topic_creation(auto_create)
}

pub fn all_topics(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 2, &[]);
    let v = s.v(ApiKey::Metadata);
    s.send(
        "metadata_all",
        &MetadataRequest::default().with_topics(None),
        v,
    );
}

pub fn no_topics(s: &mut Session<'_>) {
    let v = s.v(ApiKey::Metadata);
    s.send(
        "metadata_none",
        &MetadataRequest::default().with_topics(Some(Vec::new())),
        v,
    );
}

pub fn known_topic(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 3, &[]);
    let v = s.v(ApiKey::Metadata);
    s.send("metadata_known", &by_name(&[&t], false), v);
}

pub fn known_topic_v4(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    s.send("metadata_v4", &by_name(&[&t], false), 4);
}

pub fn known_topic_v0(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    s.send("metadata_v0", &by_name(&[&t], false), 0);
}

pub fn unknown_topic_without_auto_create(s: &mut Session<'_>) {
    let t = s.name("missing");
    let v = s.v(ApiKey::Metadata);
    s.send("metadata_unknown", &by_name(&[&t], false), v);
}

pub fn unknown_topic_auto_created(s: &mut Session<'_>) {
    let t = s.name("auto");
    let v = s.v(ApiKey::Metadata);
    s.send("metadata_auto_create", &by_name(&[&t], true), v);
    s.wait_for_leaders(&t, 1);
    s.send("metadata_after_auto_create", &by_name(&[&t], false), v);
}

pub fn invalid_topic_name(s: &mut Session<'_>) {
    let v = s.v(ApiKey::Metadata);
    s.send("metadata_invalid_name", &by_name(&["bad name!"], true), v);
}

pub fn known_and_unknown_together(s: &mut Session<'_>) {
    let t = s.name("t");
    let missing = s.name("missing");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::Metadata);
    s.send("metadata_mixed", &by_name(&[&t, &missing], false), v);
}

pub fn by_topic_id(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let id = s.topic_id(&t);
    let v = s.v(ApiKey::Metadata);
    let request = MetadataRequest::default()
        .with_topics(Some(vec![MetadataRequestTopic::default()
            .with_name(None)
            .with_topic_id(id)]))
        .with_allow_auto_topic_creation(false);
    s.send("metadata_by_id", &request, v);
}

pub fn unknown_topic_id(s: &mut Session<'_>) {
    let v = s.v(ApiKey::Metadata);
    let request = MetadataRequest::default()
        .with_topics(Some(vec![MetadataRequestTopic::default()
            .with_name(None)
            .with_topic_id(Uuid([7; 16]))]))
        .with_allow_auto_topic_creation(false);
    s.send("metadata_unknown_id", &request, v);
}

pub fn authorized_operations(s: &mut Session<'_>) {
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    let v = s.v(ApiKey::Metadata);
    let request = by_name(&[&t], false).with_include_topic_authorized_operations(true);
    s.send("metadata_authorized_ops", &request, v);
}
