//! What one client can make the server hold. A connection must send a request's head and body
//! within set times, may not sit idle for long, and only so many are open at once; without
//! these, a client that connects and sends nothing keeps a file descriptor forever, and a few
//! hundred such clients stop every other one.
//!
//! The limits are enforced where each belongs: the HTTP/1 head by hyper's header timeout, the
//! body where it is read ([`crate::extract::body_bytes`]), the TLS handshake by the acceptor's,
//! and idleness and the cap on the connection itself ([`Held`], accepted by
//! [`CappedListener`]).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum_server::{AddrListener, Address};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep, sleep_until};

/// Descriptors kept for the server's own use when the cap is derived from the process's limit:
/// the journal, Flex statement files, PostgreSQL connections, the listener.
const RESERVED_DESCRIPTORS: u64 = 64;

/// The cap when the process's descriptor limit is unlimited or cannot be read.
const UNBOUNDED_CAP: usize = 65_536;

/// How long and how much a connection may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a client may take to send a request's head, counted from when the server
    /// starts waiting for one: on a new connection, after the TLS handshake (which has as long
    /// again); on a kept-alive HTTP/1 connection, from the previous answer, so that it also
    /// bounds how long such a connection is kept with no request.
    pub header_timeout: Duration,
    /// How long a request's body may take to arrive, whole.
    pub body_timeout: Duration,
    /// How long a connection may pass with nothing read or written; it bounds what no header
    /// timeout covers: HTTP/2 connections, and websockets whose both ends went quiet.
    pub idle_timeout: Duration,
    /// How many connections may be open at once; further clients wait in the listen queue
    /// until one closes.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    /// Limits no well-behaved client meets: half a minute for a head (hyper's own default), a
    /// minute for a body, five minutes of silence, and as many connections as the process's
    /// descriptor limit leaves room for.
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(300),
            max_connections: descriptor_cap(),
        }
    }
}

/// The connections the process's descriptor limit leaves room for, with
/// [`RESERVED_DESCRIPTORS`] kept back.
fn descriptor_cap() -> usize {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    limit.current.map_or(UNBOUNDED_CAP, |current| {
        let room = current.saturating_sub(RESERVED_DESCRIPTORS).max(1);
        usize::try_from(room).unwrap_or(UNBOUNDED_CAP).min(UNBOUNDED_CAP)
    })
}

/// A client's address, as the listener reports it; handlers read it as `ConnectInfo<SocketAddr>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

impl Address for Peer {
    type Stream = Held<TcpStream>;
    type Listener = CappedListener;
}

impl Connected<Peer> for SocketAddr {
    fn connect_info(peer: Peer) -> Self {
        peer.0
    }
}

/// A TCP listener that accepts a connection only while fewer than the cap are open, so that
/// further clients wait in the kernel's listen queue rather than take descriptors the server
/// needs for everyone.
#[derive(Debug)]
pub struct CappedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    idle_timeout: Duration,
}

impl CappedListener {
    /// Listens on `listener` within `limits`.
    ///
    /// # Errors
    /// When the listener cannot be handed to the runtime.
    pub fn new(listener: std::net::TcpListener, limits: &ConnectionLimits) -> io::Result<Self> {
        Ok(Self {
            inner: TcpListener::from_std(listener)?,
            permits: Arc::new(Semaphore::new(limits.max_connections.max(1))),
            idle_timeout: limits.idle_timeout,
        })
    }
}

impl AddrListener<Held<TcpStream>, Peer> for CappedListener {
    async fn bind_to(addr: Peer) -> io::Result<Self> {
        let listener = TcpListener::bind(addr.0).await?.into_std()?;
        Self::new(listener, &ConnectionLimits::default())
    }

    async fn accept_stream(&self) -> io::Result<(Held<TcpStream>, Peer)> {
        let permit = self.permits.clone().acquire_owned().await.map_err(io::Error::other)?;
        let (stream, addr) = self.inner.accept().await?;
        Ok((Held::new(stream, permit, self.idle_timeout), Peer(addr)))
    }

    fn get_local_addr(&self) -> io::Result<Peer> {
        self.inner.local_addr().map(Peer)
    }
}

/// An open connection: its stream, its place under the cap (given back when it closes), and
/// the time it may stay silent. Reading or writing fails with [`io::ErrorKind::TimedOut`] once
/// nothing moved for that long, which makes hyper close it.
#[derive(Debug)]
pub struct Held<S> {
    stream: S,
    _permit: OwnedSemaphorePermit,
    idle_timeout: Duration,
    last_active: Instant,
    /// Armed for `last_active + idle_timeout` or earlier; moved on only when it fires, so that
    /// busy connections do not reset a timer on every read.
    deadline: Pin<Box<Sleep>>,
}

impl<S> Held<S> {
    fn new(stream: S, permit: OwnedSemaphorePermit, idle_timeout: Duration) -> Self {
        let now = Instant::now();
        Self {
            stream,
            _permit: permit,
            idle_timeout,
            last_active: now,
            deadline: Box::pin(sleep_until(now + idle_timeout)),
        }
    }

    /// Ready with an error once the connection has been silent for its idle time.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            ready!(self.deadline.as_mut().poll(cx));
            let due = self.last_active + self.idle_timeout;
            if due <= Instant::now() {
                return Poll::Ready(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the connection was idle too long",
                ));
            }
            self.deadline.as_mut().reset(due);
        }
    }

    /// `polled` with the idle time as a bound: progress marks the connection active, and
    /// waiting past the idle time fails.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
        moved: impl Fn(&T) -> bool,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Ready(Ok(value)) => {
                if moved(&value) {
                    self.last_active = Instant::now();
                }
                Poll::Ready(Ok(value))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => self.poll_idle(cx).map(Err),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Held<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        let after = buf.filled().len();
        this.watch(cx, polled, |()| after > before)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Held<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.watch(cx, polled, |written| *written > 0)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.watch(cx, polled, |written| *written > 0)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_flush(cx);
        this.watch(cx, polled, |()| false)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn permit() -> OwnedSemaphorePermit {
        Arc::new(Semaphore::new(1)).try_acquire_owned().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_connection_times_out_and_an_active_one_does_not() {
        let (client, server) = tokio::io::duplex(64);
        let mut held = Held::new(server, permit(), Duration::from_secs(10));
        let (mut client_read, mut client_write) = tokio::io::split(client);
        let mut buffer = [0u8; 8];
        tokio::time::advance(Duration::from_secs(6)).await;
        client_write.write_all(b"hi").await.unwrap();
        assert_eq!(held.read(&mut buffer).await.unwrap(), 2);
        tokio::time::advance(Duration::from_secs(6)).await;
        held.write_all(b"ok").await.unwrap();
        client_read.read_exact(&mut buffer[..2]).await.unwrap();
        let started = Instant::now();
        let error = held.read(&mut buffer).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(10), "ten seconds after the write");
    }

    #[tokio::test]
    async fn the_cap_holds_further_clients_until_a_connection_closes() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let limits = ConnectionLimits { max_connections: 1, ..ConnectionLimits::default() };
        let capped = CappedListener::new(listener, &limits).unwrap();
        let addr = capped.get_local_addr().unwrap().0;
        let _first = TcpStream::connect(addr).await.unwrap();
        let (held, _) = capped.accept_stream().await.unwrap();
        let _second = TcpStream::connect(addr).await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(100), capped.accept_stream()).await;
        assert!(waiting.is_err(), "the second waits while the first is open");
        drop(held);
        let accepted = tokio::time::timeout(Duration::from_secs(10), capped.accept_stream()).await;
        assert!(accepted.is_ok_and(|accepted| accepted.is_ok()), "and is accepted once it closes");
    }
}
