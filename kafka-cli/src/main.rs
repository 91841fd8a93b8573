//! `kfk`: Kafka topics, groups, records and the bundled broker from the command line, on the
//! SDK's own crates. One binary with one set of global flags; tables for people, `-o json` (one
//! document per command, stable field names) for scripts; exit status 0 on success, otherwise
//! one line on stderr.

mod acls;
mod groups;
mod output;
mod records;
mod settings;
mod topics;

use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use output::Output;
use settings::Settings;

const EXAMPLES: &str = "\
Examples:
  kfk broker --brokers 3 --port 9092          run the bundled broker
  kfk topics create orders --partitions 6 --config retention.ms=86400000
  kfk topics apply topics.toml --dry-run      show what would change
  echo 'k1:hello' | kfk produce orders -k :   produce one keyed record
  kfk consume orders --from-beginning -e --format '%p %o %k=%v'
  kfk groups lag billing -o json
  kfk acls create --principal User:alice --operation read --topic orders";

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "kfk", version, about = "Kafka from the command line: topics, groups, records, the cluster, and a bundled broker", after_help = EXAMPLES)]
struct Cli {
    /// Bootstrap servers, host:port[,host:port...].
    #[arg(
        short = 'b',
        long,
        global = true,
        env = "KAFKA_BOOTSTRAP",
        default_value = "127.0.0.1:9092"
    )]
    bootstrap: String,
    /// A client property with its Java name (repeatable): -X request.timeout.ms=5000.
    #[arg(short = 'X', value_name = "KEY=VALUE", global = true)]
    property: Vec<String>,
    /// A properties file (key=value lines, # comments), applied before -X. Given before the
    /// command (`kfk --config client.properties topics list`): after it, `--config` is a topic
    /// config of `topics create`.
    #[arg(long = "config", value_name = "FILE")]
    config_file: Option<std::path::PathBuf>,
    /// How to print results.
    #[arg(short = 'o', long, value_enum, global = true, default_value = "table")]
    output: Output,
    /// How long the command may take: 30s, 500ms, 2m; a bare number is seconds.
    #[arg(long, global = true, default_value = "30s", value_parser = settings::parse_duration)]
    timeout: Duration,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the bundled broker until interrupted (the kafka-broker binary's flags).
    #[command(after_help = "Example:\n  kfk broker --brokers 3 --port 9092 --topic orders:6")]
    Broker {
        /// Flags for the broker: `--brokers N`, `--port P`, `--topic NAME[:PARTITIONS]`, ... (see kfk broker --help).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Lists, describes, creates, deletes and configures topics.
    Topics {
        #[command(subcommand)]
        command: topics::TopicsCommand,
    },
    /// Produces one record per line of stdin.
    #[command(
        after_help = "Example:\n  printf 'k1:v1\\nk2:v2\\n' | kfk produce orders -k : -H source=cli --acks all"
    )]
    Produce(records::ProduceArgs),
    /// Consumes records and prints them.
    #[command(
        after_help = "Example:\n  kfk consume orders --group audit --from-beginning --count 10 --format '%t/%p@%o %k=%v %h'"
    )]
    Consume(records::ConsumeArgs),
    /// Lists, describes, deletes consumer groups; resets their offsets; shows lag.
    Groups {
        #[command(subcommand)]
        command: groups::GroupsCommand,
    },
    /// Lists, creates and deletes ACLs.
    Acls {
        #[command(subcommand)]
        command: acls::AclsCommand,
    },
    /// Describes the cluster.
    Cluster {
        #[command(subcommand)]
        command: groups::ClusterCommand,
    },
    /// Earliest and latest offset of each partition of a topic.
    #[command(after_help = "Example:\n  kfk offsets orders -o json")]
    Offsets {
        /// The topic.
        topic: String,
    },
    /// Prints a shell completion script.
    #[command(after_help = "Example:\n  kfk completions bash > /etc/bash_completion.d/kfk")]
    Completions {
        /// The shell.
        shell: Shell,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// What a command failed with: one line for stderr.
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

/// A command's result.
pub type Outcome = Result<(), Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kfk: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Command::Broker { args } = &cli.command {
        return runtime.block_on(kafka_broker::command::run("kfk broker", args));
    }
    if let Command::Completions { shell } = cli.command {
        let mut cmd = Cli::command();
        let shell = match shell {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
        };
        clap_complete::generate(shell, &mut cmd, "kfk", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    let timeout = cli.timeout;
    let outcome = runtime.block_on(async move {
        let settings = Settings::new(
            &cli.bootstrap,
            cli.config_file.as_deref(),
            &cli.property,
            cli.output,
            timeout,
        )?;
        // Consuming without a count runs until interrupted; everything else is bounded.
        let unbounded =
            matches!(&cli.command, Command::Consume(a) if a.count.is_none() && !a.exit_at_end);
        let run = dispatch(cli.command, &settings);
        if unbounded {
            run.await
        } else {
            match tokio::time::timeout(timeout, run).await {
                Ok(r) => r,
                Err(_) => Err(Failure(format!(
                    "timed out after {} (is a broker reachable at {}?)",
                    settings::show_duration(timeout),
                    settings.bootstrap
                ))),
            }
        }
    });
    // Drop the runtime without waiting for tasks still parked on sockets.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("kfk: {}", message.lines().next().unwrap_or("failed"));
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command, settings: &Settings) -> Outcome {
    match command {
        Command::Topics { command } => topics::run(command, settings).await,
        Command::Produce(args) => records::produce(args, settings).await,
        Command::Consume(args) => records::consume(args, settings).await,
        Command::Groups { command } => groups::run(command, settings).await,
        Command::Cluster { command } => groups::cluster(command, settings).await,
        Command::Acls { command } => acls::run(command, settings).await,
        Command::Offsets { topic } => groups::offsets(&topic, settings).await,
        Command::Broker { .. } | Command::Completions { .. } => Ok(()),
    }
}
