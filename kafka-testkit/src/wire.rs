//! A blocking Kafka wire client for tests and tools: typed requests over one `TcpStream`, every
//! read and write bounded by a timeout. It frames through [`kafka_protocol::frame`], so it shares
//! the framing rules of the broker and the clients.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::frame;
use kafka_protocol::messages::{ApiKey, RequestBody, ResponseBody};
use kafka_protocol::{DecodeError, EncodeError, Request};

/// Largest response frame accepted (a Fetch answer is bounded by the request's max bytes).
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

/// Why a request got no decoded response.
#[derive(Debug)]
pub enum WireError {
    /// The connection could not be made, or a read or write failed.
    Io(std::io::Error),
    /// The peer closed the connection instead of answering.
    Closed,
    /// No complete answer within the timeout.
    Timeout,
    /// The request could not be encoded at that version.
    Encode(EncodeError),
    /// The answer could not be decoded.
    Decode(DecodeError),
    /// The answer carried another correlation id than the request.
    CorrelationMismatch {
        /// The id sent.
        expected: i32,
        /// The id received.
        got: i32,
    },
    /// A size prefix that is negative or too large.
    BadFrame(frame::FrameError),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Io(e) => write!(f, "i/o error: {e}"),
            WireError::Closed => write!(f, "connection closed by the peer"),
            WireError::Timeout => write!(f, "timed out"),
            WireError::Encode(e) => write!(f, "cannot encode: {e}"),
            WireError::Decode(e) => write!(f, "cannot decode: {e}"),
            WireError::CorrelationMismatch { expected, got } => {
                write!(f, "correlation id {got} where {expected} was expected")
            }
            WireError::BadFrame(e) => write!(f, "bad frame: {e}"),
        }
    }
}

impl std::error::Error for WireError {}

/// One connection to one broker.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    next_correlation_id: i32,
    client_id: Option<String>,
    timeout: Duration,
}

impl Connection {
    /// Connects to `addr` (`host:port`), with `timeout` bounding the connect and every later read
    /// and write.
    pub fn connect(addr: &str, timeout: Duration) -> Result<Connection, WireError> {
        let resolved: Vec<SocketAddr> = addr.to_socket_addrs().map_err(WireError::Io)?.collect();
        let mut last = None;
        for a in resolved {
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(stream) => {
                    stream
                        .set_read_timeout(Some(timeout))
                        .map_err(WireError::Io)?;
                    stream
                        .set_write_timeout(Some(timeout))
                        .map_err(WireError::Io)?;
                    let _ = stream.set_nodelay(true);
                    return Ok(Connection {
                        stream,
                        next_correlation_id: 1,
                        client_id: Some("kafka-testkit".into()),
                        timeout,
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(WireError::Io(last.unwrap_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, format!("{addr}: no address"))
        })))
    }

    /// Sets the client id sent in request headers.
    pub fn set_client_id(&mut self, client_id: Option<&str>) {
        self.client_id = client_id.map(str::to_owned);
    }

    /// Changes the timeout of later reads and writes (e.g. for a long-polling Fetch).
    pub fn set_timeout(&mut self, timeout: Duration) -> Result<(), WireError> {
        self.timeout = timeout;
        self.stream
            .set_read_timeout(Some(timeout))
            .map_err(WireError::Io)?;
        self.stream
            .set_write_timeout(Some(timeout))
            .map_err(WireError::Io)
    }

    /// The correlation id the next request will carry.
    pub fn next_correlation_id(&self) -> i32 {
        self.next_correlation_id
    }

    fn take_correlation_id(&mut self) -> i32 {
        let id = self.next_correlation_id;
        self.next_correlation_id = self.next_correlation_id.wrapping_add(1);
        id
    }

    /// Sends `request` at `version` and waits for its response.
    pub fn send<R: Request>(
        &mut self,
        request: &R,
        version: i16,
    ) -> Result<R::Response, WireError> {
        let id = self.send_only(request, version)?;
        let frame = self.recv_frame()?;
        let (got, response) =
            frame::decode_response::<R>(frame, version).map_err(WireError::Decode)?;
        if got != id {
            return Err(WireError::CorrelationMismatch { expected: id, got });
        }
        Ok(response)
    }

    /// Sends `request` without waiting for an answer (Produce with acks=0); returns its
    /// correlation id.
    pub fn send_only<R: Request>(&mut self, request: &R, version: i16) -> Result<i32, WireError> {
        let id = self.take_correlation_id();
        let mut buf = BytesMut::new();
        frame::encode_request(&mut buf, id, self.client_id.as_deref(), request, version)
            .map_err(WireError::Encode)?;
        self.write_all(&buf)?;
        Ok(id)
    }

    /// Sends a request body of any API and decodes its response.
    pub fn send_body(
        &mut self,
        body: &RequestBody,
        version: i16,
    ) -> Result<ResponseBody, WireError> {
        let id = self.take_correlation_id();
        let api_key: ApiKey = body.api_key();
        let mut buf = BytesMut::new();
        frame::encode_request_body(&mut buf, id, self.client_id.as_deref(), body, version)
            .map_err(WireError::Encode)?;
        self.write_all(&buf)?;
        let frame = self.recv_frame()?;
        let (got, response) =
            frame::decode_response_body(api_key, version, frame).map_err(WireError::Decode)?;
        if got != id {
            return Err(WireError::CorrelationMismatch { expected: id, got });
        }
        Ok(response)
    }

    /// Writes raw bytes (a hand-made frame, possibly malformed).
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        self.stream.write_all(bytes).map_err(io_error)
    }

    /// Reads one response frame (without its size prefix).
    pub fn recv_frame(&mut self) -> Result<Bytes, WireError> {
        let mut prefix = [0u8; frame::SIZE_PREFIX];
        self.read_exact(&mut prefix)?;
        let size = frame::FrameSplitter::new(MAX_RESPONSE_BYTES)
            .frame_size(&prefix)
            .map_err(WireError::BadFrame)?
            .unwrap_or(0);
        let mut body = vec![0u8; size];
        self.read_exact(&mut body)?;
        Ok(Bytes::from(body))
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), WireError> {
        self.stream.read_exact(buf).map_err(io_error)
    }

    /// Whether the peer closes the connection (EOF) within the timeout, with nothing sent.
    pub fn is_closed_by_peer(&mut self) -> bool {
        let mut one = [0u8; 1];
        match self.stream.read(&mut one) {
            Ok(0) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
            Ok(_) => false,
        }
    }
}

fn io_error(e: std::io::Error) -> WireError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof
        | std::io::ErrorKind::ConnectionReset
        | std::io::ErrorKind::BrokenPipe
        | std::io::ErrorKind::ConnectionAborted => WireError::Closed,
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => WireError::Timeout,
        _ => WireError::Io(e),
    }
}
