// The asio side of the Redis client: transport (TCP or TLS), connect + handshake, the pipelined
// command connection and the Pub/Sub subscriber. The protocol logic lives in the sans-I/O parts
// (resp.hpp, pipeline.hpp, circuit_breaker.hpp); this file only moves bytes and runs timers.
#include "connection.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fstream>
#include <optional>

#include "accelerator/detail/compact_strand.hpp"
#include "accelerator/detail/jitter.hpp"
#include "accelerator/remote/detail/circuit_breaker.hpp"

namespace accelerator::remote::detail {

struct TlsContext {
  asio::ssl::context context{asio::ssl::context::tls_client};
  std::string server_name;
  bool verify = true;
};

namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

bool readable(const std::string& path) { return std::ifstream(path).good(); }

// A TCP socket, or a TLS stream over one. Closing it aborts pending operations promptly.
class Transport {
 public:
  Transport(const asio::any_io_executor& ex, TlsContext* tls) {
    if (tls) {
      tls_.emplace(ex, tls->context);
    } else {
      tcp_.emplace(ex);
    }
  }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *tcp_; }
  asio::ssl::stream<tcp::socket>* tls() { return tls_ ? &*tls_ : nullptr; }

  template <class Buffer, class Token>
  auto async_read_some(const Buffer& buffer, Token&& token) {
    if (tls_) return tls_->async_read_some(buffer, std::forward<Token>(token));
    return tcp_->async_read_some(buffer, std::forward<Token>(token));
  }
  template <class Token>
  auto async_write(asio::const_buffer buffer, Token&& token) {
    if (tls_) return asio::async_write(*tls_, buffer, std::forward<Token>(token));
    return asio::async_write(*tcp_, buffer, std::forward<Token>(token));
  }
  void close() {
    asio::error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
  }
  bool is_open() { return socket().is_open(); }

 private:
  std::optional<tcp::socket> tcp_;
  std::optional<asio::ssl::stream<tcp::socket>> tls_;
};

std::string io_error_text(const asio::error_code& ec) {
  if (ec == asio::error::eof) return "connection closed by server";
  return ec.message();
}

// Connects, negotiates TLS and runs AUTH / SELECT / CLIENT SETNAME, all within connect_timeout.
// Runs on `strand`. The parser is fresh and belongs to the new connection.
asio::awaitable<CacheResult<std::shared_ptr<Transport>>> open_transport(asio::any_io_executor strand,
                                                                        const ConnectionConfig& config,
                                                                        RespParser& parser) {
  const auto& ep = config.endpoint;
  auto transport = std::make_shared<Transport>(strand, config.tls.get());
  // The watchdog outlives this frame if it fired just before the open finished, so what it
  // touches is shared and `done` tells it the open is over.
  struct Watch {
    explicit Watch(const asio::any_io_executor& ex) : resolver(ex), timer(ex) {}
    tcp::resolver resolver;
    asio::steady_timer timer;
    bool timed_out = false;
    bool done = false;
  };
  auto watch = std::make_shared<Watch>(strand);
  tcp::resolver& resolver = watch->resolver;
  watch->timer.expires_after(config.options.connect_timeout);
  watch->timer.async_wait([watch, transport](const asio::error_code& ec) {
    if (ec || watch->done) return;
    watch->timed_out = true;
    watch->resolver.cancel();
    transport->close();
  });
  struct Disarm {
    Watch& w;
    ~Disarm() {
      w.done = true;
      w.timer.cancel();
    }
  } disarm{*watch};
  const bool& timed_out = watch->timed_out;
  auto failed = [&](std::string_view step, const std::string& why) {
    if (timed_out) return CacheError::timeout("redis connect");
    return CacheError::backend("redis " + std::string(step) + " failed: " + why);
  };

  asio::error_code ec;
  auto endpoints =
      co_await resolver.async_resolve(ep.host, std::to_string(ep.port), asio::redirect_error(asio::use_awaitable, ec));
  if (ec || timed_out) co_return fail(failed("connect", ec ? ec.message() : "timed out"));
  co_await asio::async_connect(transport->socket(), endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec || timed_out) co_return fail(failed("connect", ec ? ec.message() : "timed out"));
  transport->socket().set_option(tcp::no_delay(true), ec);

  if (auto* tls = transport->tls()) {
    const std::string& name = config.tls->server_name;
    asio::error_code parse_ec;
    const bool is_ip = !asio::ip::make_address(name, parse_ec).is_unspecified() && !parse_ec;
    SSL* ssl = tls->native_handle();
    if (!is_ip) SSL_set_tlsext_host_name(ssl, name.c_str());  // no SNI for IP literals (RFC 6066)
    if (config.tls->verify) {
      tls->set_verify_mode(asio::ssl::verify_peer);
      // OpenSSL checks the name during the handshake: DNS names against the certificate's DNS
      // names, IP literals against its IP addresses.
      if (is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
      } else {
        SSL_set1_host(ssl, name.c_str());
      }
    } else {
      tls->set_verify_mode(asio::ssl::verify_none);
    }
    co_await tls->async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || timed_out) co_return fail(failed("TLS handshake", ec ? ec.message() : "timed out"));
  }

  // The handshake commands leave in one write; their replies are checked in order.
  std::string out;
  std::vector<std::string_view> steps;
  if (!ep.password.empty()) {
    if (ep.user.empty()) {
      append_command(out, {"AUTH", ep.password});
    } else {
      append_command(out, {"AUTH", ep.user, ep.password});
    }
    steps.push_back("AUTH");
  }
  const std::string db = std::to_string(ep.db);
  if (ep.db != 0) {
    append_command(out, {"SELECT", db});
    steps.push_back("SELECT");
  }
  if (!config.options.client_name.empty()) {
    append_command(out, {"CLIENT", "SETNAME", config.options.client_name});
    steps.push_back("CLIENT SETNAME");
  }
  if (steps.empty()) co_return transport;
  co_await transport->async_write(asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
  if (ec || timed_out) co_return fail(failed("connect", ec ? io_error_text(ec) : "timed out"));
  std::size_t answered = 0;
  char buf[4096];
  while (answered < steps.size()) {
    std::size_t n =
        co_await transport->async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec || timed_out) co_return fail(failed(steps[answered], ec ? io_error_text(ec) : "timed out"));
    parser.feed(buf, n);
    while (answered < steps.size()) {
      auto reply = parser.next();
      if (!reply) break;
      if (!*reply) co_return fail(reply->error());
      if ((*reply)->is_error()) co_return fail(failed(steps[answered], (*reply)->str));
      ++answered;
    }
  }
  co_return transport;
}

class ConnectionImpl final : public Connection {
 public:
  ConnectionImpl(const asio::any_io_executor& executor, std::shared_ptr<const ConnectionConfig> config,
                 std::shared_ptr<HealthState> health)
      : strand_(accelerator::detail::make_compact_strand(executor)),
        config_(std::move(config)),
        health_(std::move(health)),
        timer_(strand_),
        backoff_timer_(strand_),
        backoff_(config_->options.reconnect_backoff_min, config_->options.reconnect_backoff_max),
        read_buffer_(64 * 1024) {}

  void run() {
    asio::co_spawn(
        strand_, [self = shared_this()]() { return self->loop(); }, asio::detached);
  }

  void stop() override {
    asio::dispatch(strand_, [self = shared_this()] {
      self->stopped_ = true;
      self->timer_.cancel();
      self->backoff_timer_.cancel();
      if (self->transport_) self->transport_->close();
      self->pipeline_.fail_all(CacheError::backend("redis client stopped"));
    });
  }

  bool ready() const noexcept override { return ready_.load(std::memory_order_relaxed); }
  const asio::any_io_executor& executor() const override { return strand_; }

 protected:
  void submit(std::string&& bytes, std::size_t commands, std::string_view what, Completion&& done) override {
    // Most commands are issued by a completion that runs on this strand: no hop, no handler.
    if (accelerator::detail::running_in_strand(strand_)) {
      enqueue([&](std::string& out) { out.append(bytes); }, commands, what, std::move(done));
      return;
    }
    asio::dispatch(strand_,
                   [self = shared_this(), bytes = std::move(bytes), commands, what, done = std::move(done)]() mutable {
                     self->enqueue([&](std::string& out) { out.append(bytes); }, commands, what, std::move(done));
                   });
  }

  void submit_command(std::string_view key_prefix, std::span<const std::string_view> args, std::string_view what,
                      Completion&& done) override {
    if (accelerator::detail::running_in_strand(strand_)) {
      enqueue([&](std::string& out) { append_command(out, key_prefix, args); }, 1, what, std::move(done));
      return;
    }
    std::string bytes;
    append_command(bytes, key_prefix, args);
    submit(std::move(bytes), 1, what, std::move(done));
  }

 private:
  enum class State { Connecting, Ready, Backoff };

  std::shared_ptr<ConnectionImpl> shared_this() { return std::static_pointer_cast<ConnectionImpl>(shared_from_this()); }

  // Queues a request of `commands` commands that `encode(out)` appends to the pending bytes, or
  // fails it at once when the connection is stopped or backing off (nothing is encoded then).
  template <class Encode>
  void enqueue(Encode&& encode, std::size_t commands, std::string_view what, Completion&& done) {
    if (stopped_) {
      done(fail(CacheError::backend("redis " + std::string(what) + " failed: client stopped")));
      return;
    }
    if (state_ == State::Backoff) {
      done(fail(CacheError::backend("redis " + std::string(what) + " failed: not connected (" + last_error_ + ")")));
      return;
    }
    pipeline_.push(encode, commands, what, Clock::now() + config_->options.command_timeout, std::move(done));
    arm_timer();
    schedule_write();
  }

  // Writes are deferred by one strand hop so every command submitted "together" (in the same
  // batch of strand handlers) leaves in the same write.
  void schedule_write() {
    if (writing_ || write_scheduled_ || state_ != State::Ready) return;
    write_scheduled_ = true;
    asio::post(strand_, [self = shared_this()] {
      self->write_scheduled_ = false;
      self->start_write();
    });
  }

  // While replies of one read are handed out, their completions queue new commands (a caller
  // loop issues its next GET). Waiting for the whole read to be handled before writing makes
  // client and server take turns, each idle while the other works; so once kEarlyFlush commands
  // are queued and no write is in flight they leave at once, and the server works on them while
  // the rest of the read is handled (what queues meanwhile leaves when that write completes).
  static constexpr std::size_t kEarlyFlush = 8;
  void flush_early() {
    if (!writing_ && pipeline_.size() - pipeline_.written() >= kEarlyFlush) start_write();
  }

  void start_write() {
    if (writing_ || state_ != State::Ready || broken_ || !pipeline_.has_unwritten()) return;
    write_buffer_.clear();
    pipeline_.take_writes(write_buffer_);
    writing_ = true;
    auto transport = transport_;
    transport->async_write(
        asio::buffer(write_buffer_),
        asio::bind_executor(strand_, [self = shared_this(), transport](asio::error_code ec, std::size_t) {
          self->writing_ = false;
          if (ec) {
            transport->close();  // the reader sees it and reconnects
            return;
          }
          self->start_write();
        }));
  }

  void arm_timer() {
    if (timer_armed_ || stopped_) return;
    auto deadline = pipeline_.next_deadline();
    if (!deadline) return;
    timer_armed_ = true;
    timer_.expires_at(*deadline);
    timer_.async_wait(asio::bind_executor(strand_, [self = shared_this()](asio::error_code) {
      self->timer_armed_ = false;
      if (self->stopped_) return;
      if (self->pipeline_.expire(Clock::now())) {
        // A written request timed out: its reply may still arrive, so nothing read on this
        // socket can be matched any more. Reset it.
        self->broken_ = true;
        self->health_->failures.fetch_add(1, std::memory_order_relaxed);
        self->note_error("command timed out; connection reset");
        if (self->transport_) self->transport_->close();
      }
      self->arm_timer();
    }));
  }

  void note_error(std::string text) {
    last_error_ = text;
    health_->set_error(std::move(text));
  }

  asio::awaitable<void> loop() {
    auto self = shared_this();
    while (!stopped_) {
      state_ = State::Connecting;
      parser_ = std::make_unique<RespParser>();
      auto opened = co_await open_transport(strand_, *config_, *parser_);
      if (stopped_) {
        if (opened) (*opened)->close();
        break;
      }
      if (!opened) {
        health_->failures.fetch_add(1, std::memory_order_relaxed);
        note_error(opened.error().message());
        if (retry_now_) {
          retry_now_ = false;
          // Keep the queued requests: they are still within their deadline.
          continue;
        }
        state_ = State::Backoff;
        pipeline_.fail_all(opened.error());
        backoff_timer_.expires_after(backoff_.next(accelerator::detail::thread_random()));
        asio::error_code ec;
        co_await backoff_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      transport_ = std::move(*opened);
      broken_ = false;
      state_ = State::Ready;
      ready_.store(true, std::memory_order_relaxed);
      health_->ready_connections.fetch_add(1, std::memory_order_relaxed);
      if (connected_before_) health_->reconnects.fetch_add(1, std::memory_order_relaxed);
      connected_before_ = true;
      backoff_.reset();
      start_write();

      CacheError lost = co_await read_loop();

      ready_.store(false, std::memory_order_relaxed);
      health_->ready_connections.fetch_sub(1, std::memory_order_relaxed);
      transport_->close();
      state_ = State::Connecting;
      if (!stopped_) {
        health_->failures.fetch_add(1, std::memory_order_relaxed);
        note_error(lost.message());
      }
      pipeline_.fail_written(lost);
      // A write may still be in flight on the closed socket; wait for its handler so the
      // buffer it reads is not reused under it.
      while (writing_) {
        asio::error_code ec;
        backoff_timer_.expires_after(std::chrono::milliseconds(1));
        co_await backoff_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      transport_.reset();
      retry_now_ = true;
    }
    pipeline_.fail_all(CacheError::backend("redis client stopped"));
  }

  asio::awaitable<CacheError> read_loop() {
    auto transport = transport_;
    for (;;) {
      asio::error_code ec;
      std::size_t n = co_await transport->async_read_some(asio::buffer(read_buffer_),
                                                          asio::redirect_error(asio::use_awaitable, ec));
      if (broken_) co_return CacheError::backend("command timed out; connection reset");
      if (stopped_) co_return CacheError::backend("client stopped");
      if (ec) co_return CacheError::backend(io_error_text(ec));
      parser_->feed(read_buffer_.data(), n);
      for (;;) {
        auto reply = parser_->next_in_place();
        if (!reply) co_return reply.error();
        if (*reply == nullptr) break;
        if (!pipeline_.on_reply(std::move(**reply))) co_return CacheError::backend("unexpected reply from server");
        if (broken_ || stopped_) break;  // a completion ran inline and reset or stopped us
        flush_early();
      }
    }
  }

  // A strand from make_compact_strand: over the io_context's own executor when it can be, so
  // that the copies asio makes of it (each async operation, post and bind_executor tracks work
  // through one) are stored inline instead of allocated; every command goes through several.
  asio::any_io_executor strand_;
  std::shared_ptr<const ConnectionConfig> config_;
  std::shared_ptr<HealthState> health_;
  asio::steady_timer timer_;
  asio::steady_timer backoff_timer_;
  Backoff backoff_;
  Pipeline pipeline_;
  std::unique_ptr<RespParser> parser_;
  std::shared_ptr<Transport> transport_;
  std::vector<char> read_buffer_;
  std::string write_buffer_;
  std::string last_error_;
  State state_ = State::Connecting;
  std::atomic<bool> ready_{false};
  bool stopped_ = false;
  bool broken_ = false;
  bool writing_ = false;
  bool write_scheduled_ = false;
  bool timer_armed_ = false;
  bool connected_before_ = false;  // a reconnect is counted from the second connect on
  bool retry_now_ = true;          // after losing a live connection, the first attempt is immediate
};

class SubscriberImpl final : public Subscription, public std::enable_shared_from_this<SubscriberImpl> {
 public:
  SubscriberImpl(const asio::any_io_executor& executor, std::shared_ptr<const ConnectionConfig> config,
                 SubscriberPicker pick, std::string channel, InvalidationHandlers handlers,
                 std::shared_ptr<HealthState> health)
      : strand_(asio::make_strand(executor)),
        config_(std::move(config)),
        pick_(std::move(pick)),
        channel_(std::move(channel)),
        handlers_(std::move(handlers)),
        health_(std::move(health)),
        ping_timer_(strand_),
        backoff_timer_(strand_),
        backoff_(config_->options.reconnect_backoff_min, config_->options.reconnect_backoff_max) {}

  void run() {
    asio::co_spawn(
        strand_, [self = shared_from_this()]() { return self->loop(); }, asio::detached);
  }

  void stop() override {
    stopped_.store(true);
    active_.store(false);
    asio::dispatch(strand_, [self = shared_from_this()] {
      self->ping_timer_.cancel();
      self->backoff_timer_.cancel();
      if (self->transport_) self->transport_->close();
    });
  }

  bool active() const override { return active_.load(); }

 private:
  asio::awaitable<void> loop() {
    auto self = shared_from_this();
    while (!stopped_) {
      RespParser parser;
      target_ = pick_ ? pick_(attempt_) : nullptr;
      if (!target_) target_ = config_;
      auto opened = co_await open_transport(strand_, *target_, parser);
      if (stopped_) {
        if (opened) (*opened)->close();
        break;
      }
      if (opened) {
        transport_ = std::move(*opened);
        CacheError lost = co_await session(parser);
        active_.store(false);
        transport_->close();
        while (ping_writing_) co_await pause(std::chrono::milliseconds(1));
        transport_.reset();
        if (stopped_) break;
        health_->failures.fetch_add(1, std::memory_order_relaxed);
        health_->set_error("pubsub: " + lost.message());
        if (was_subscribed_) health_->reconnects.fetch_add(1, std::memory_order_relaxed);
        ++attempt_;
        if (retry_now_) {
          retry_now_ = false;
          continue;  // the first attempt after losing a confirmed subscription is immediate
        }
      } else {
        health_->failures.fetch_add(1, std::memory_order_relaxed);
        health_->set_error("pubsub: " + opened.error().message());
        ++attempt_;
      }
      co_await pause(backoff_.next(accelerator::detail::thread_random()));
    }
    active_.store(false);
  }

  asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::error_code ec;
    backoff_timer_.expires_after(d);
    co_await backoff_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  asio::awaitable<CacheError> session(RespParser& parser) {
    auto transport = transport_;
    std::string out;
    append_command(out, {"SUBSCRIBE", channel_});
    asio::error_code ec;
    co_await transport->async_write(asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return CacheError::backend(io_error_text(ec));
    last_rx_ = Clock::now();
    arm_ping();
    std::vector<char> buf(16 * 1024);
    for (;;) {
      std::size_t n =
          co_await transport->async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
      if (stopped_) co_return CacheError::backend("stopped");
      if (ec) co_return CacheError::backend(dead_ ? "no reply to PING" : io_error_text(ec));
      last_rx_ = Clock::now();
      parser.feed(buf.data(), n);
      for (;;) {
        auto reply = parser.next();
        if (!reply) break;
        if (!*reply) co_return reply->error();
        const RespValue& v = **reply;
        if (v.type != RespValue::Type::Array || v.elements.empty()) {
          if (v.is_error()) co_return CacheError::backend("SUBSCRIBE failed: " + v.str);
          continue;
        }
        const std::string& kind = v.elements[0].str;
        if (kind == "message" && v.elements.size() == 3) {
          if (handlers_.on_message) handlers_.on_message(v.elements[2].str);
        } else if (kind == "subscribe") {
          was_subscribed_ = true;
          retry_now_ = true;
          backoff_.reset();
          active_.store(true);
          // Anything published before this point and after the last confirmed subscription
          // (or after subscribe() was called) may be lost.
          if (handlers_.on_gap) handlers_.on_gap();
        }
      }
    }
  }

  // Sends PING each interval; closes the socket when nothing was read for two intervals plus the
  // command timeout (a hung or blackholed server never reports an error by itself).
  void arm_ping() {
    dead_ = false;
    ping_timer_.expires_after(config_->options.pubsub_ping_interval);
    ping_timer_.async_wait(asio::bind_executor(strand_, [self = shared_from_this()](asio::error_code ec) {
      if (ec || self->stopped_ || !self->transport_) return;
      const auto silence = Clock::now() - self->last_rx_;
      if (silence > 2 * self->config_->options.pubsub_ping_interval + self->config_->options.command_timeout) {
        self->dead_ = true;
        self->transport_->close();
        return;
      }
      if (!self->ping_writing_) {
        self->ping_writing_ = true;
        self->ping_bytes_.clear();
        append_command(self->ping_bytes_, {"PING"});
        auto transport = self->transport_;
        transport->async_write(asio::buffer(self->ping_bytes_),
                               asio::bind_executor(self->strand_, [self, transport](asio::error_code, std::size_t) {
                                 self->ping_writing_ = false;
                               }));
      }
      self->arm_ping();
    }));
  }

  asio::strand<asio::any_io_executor> strand_;
  std::shared_ptr<const ConnectionConfig> config_;
  SubscriberPicker pick_;
  std::shared_ptr<const ConnectionConfig> target_;  // the server of the current attempt
  std::size_t attempt_ = 0;
  std::string channel_;
  InvalidationHandlers handlers_;
  std::shared_ptr<HealthState> health_;
  asio::steady_timer ping_timer_;
  asio::steady_timer backoff_timer_;
  Backoff backoff_;
  std::shared_ptr<Transport> transport_;
  std::string ping_bytes_;
  Clock::time_point last_rx_{};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> active_{false};
  bool was_subscribed_ = false;
  bool retry_now_ = false;  // (members, not coroutine locals: gcc 12 mishandled such locals here)
  bool ping_writing_ = false;
  bool dead_ = false;
};

}  // namespace

CacheResult<std::shared_ptr<const ConnectionConfig>> make_connection_config(RedisEndpoint endpoint,
                                                                            RedisOptions options) {
  auto config = std::make_shared<ConnectionConfig>();
  if (endpoint.tls) {
    auto tls = std::make_shared<TlsContext>();
    const auto& o = options.tls;
    asio::error_code ec;
    if (!o.ca_file.empty()) {
      if (!readable(o.ca_file))
        return fail(CacheError::invalid_config("redis tls.ca_file is not readable: " + o.ca_file));
      tls->context.load_verify_file(o.ca_file, ec);
      if (ec) return fail(CacheError::invalid_config("redis tls.ca_file: " + ec.message()));
    } else {
      tls->context.set_default_verify_paths(ec);
    }
    if (!o.cert_file.empty() || !o.key_file.empty()) {
      if (o.cert_file.empty() || o.key_file.empty()) {
        return fail(CacheError::invalid_config("redis tls: cert_file and key_file go together"));
      }
      tls->context.use_certificate_chain_file(o.cert_file, ec);
      if (ec) return fail(CacheError::invalid_config("redis tls.cert_file: " + ec.message()));
      tls->context.use_private_key_file(o.key_file, asio::ssl::context::pem, ec);
      if (ec) return fail(CacheError::invalid_config("redis tls.key_file: " + ec.message()));
    }
    tls->verify = o.verify_peer;
    tls->server_name = o.server_name.empty() ? endpoint.host : o.server_name;
    config->tls = std::move(tls);
  }
  config->endpoint = std::move(endpoint);
  config->options = std::move(options);
  return std::shared_ptr<const ConnectionConfig>(std::move(config));
}

std::shared_ptr<Connection> Connection::start(const asio::any_io_executor& executor,
                                              std::shared_ptr<const ConnectionConfig> config,
                                              std::shared_ptr<HealthState> health) {
  auto c = std::make_shared<ConnectionImpl>(executor, std::move(config), std::move(health));
  c->run();
  return c;
}

std::shared_ptr<Subscription> start_subscriber(const asio::any_io_executor& executor,
                                               std::shared_ptr<const ConnectionConfig> config, std::string channel,
                                               InvalidationHandlers handlers, std::shared_ptr<HealthState> health) {
  return start_subscriber(executor, std::move(config), SubscriberPicker{}, std::move(channel), std::move(handlers),
                          std::move(health));
}

std::shared_ptr<Subscription> start_subscriber(const asio::any_io_executor& executor,
                                               std::shared_ptr<const ConnectionConfig> config, SubscriberPicker pick,
                                               std::string channel, InvalidationHandlers handlers,
                                               std::shared_ptr<HealthState> health) {
  auto s = std::make_shared<SubscriberImpl>(executor, std::move(config), std::move(pick), std::move(channel),
                                            std::move(handlers), std::move(health));
  s->run();
  return s;
}

}  // namespace accelerator::remote::detail
