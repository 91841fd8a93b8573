//! `kafka-broker`: run an in-memory Kafka cluster until SIGINT or SIGTERM (see
//! [`kafka_broker::command`] for the flags).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    kafka_broker::command::run("kafka-broker", &args).await
}
