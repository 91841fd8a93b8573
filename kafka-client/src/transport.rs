//! How bytes reach a broker. Plain TCP today; TLS and SASL wrap a stream the same way, so the
//! connection code above never knows which one it runs over.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// A connected, bidirectional byte stream to one broker.
pub trait BrokerStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> BrokerStream for T {}

/// A boxed future of a connected stream.
pub type ConnectFuture = Pin<Box<dyn Future<Output = io::Result<Box<dyn BrokerStream>>> + Send>>;

/// Opens streams to brokers.
pub trait Transport: Send + Sync + std::fmt::Debug + 'static {
    /// Connects to `host:port`, failing after `timeout`.
    fn connect(&self, addr: &str, timeout: Duration) -> ConnectFuture;
}

/// Plain TCP with `TCP_NODELAY` (Kafka requests are whole frames; Nagle would only add delay).
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpTransport;

impl Transport for TcpTransport {
    fn connect(&self, addr: &str, timeout: Duration) -> ConnectFuture {
        let addr = addr.to_string();
        Box::pin(async move {
            let stream = tokio::time::timeout(timeout, TcpStream::connect(&addr))
                .await
                .map_err(|_| {
                    io::Error::new(io::ErrorKind::TimedOut, "connection setup timed out")
                })??;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as Box<dyn BrokerStream>)
        })
    }
}
