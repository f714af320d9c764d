#include "support/fault_proxy.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <future>
#include <list>
#include <thread>

namespace accelerator::testing {

using asio::ip::tcp;

namespace {

struct Link {
  explicit Link(asio::io_context& io) : client(io), server(io) {}
  tcp::socket client;
  tcp::socket server;
  void abort() {
    asio::error_code ec;
    for (auto* s : {&client, &server}) {
      s->set_option(asio::socket_base::linger(true, 0), ec);  // close => RST
      s->close(ec);
    }
  }
};

}  // namespace

struct FaultProxy::Impl {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  tcp::acceptor acceptor{io};
  std::uint16_t upstream;
  std::atomic<Mode> mode{Mode::Pass};
  std::atomic<std::int64_t> latency_ms{0};
  std::atomic<std::uint64_t> accepted{0};
  std::list<std::weak_ptr<Link>> links;  // touched on the proxy thread only
  std::thread thread;

  asio::awaitable<void> pump(std::shared_ptr<Link> link, tcp::socket& from, tcp::socket& to) {
    (void)link;  // held so both sockets outlive this pump
    std::vector<char> buf(64 * 1024);
    asio::steady_timer delay(io);
    for (;;) {
      asio::error_code ec;
      std::size_t n = co_await from.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      if (mode.load() == Mode::Blackhole) continue;
      if (auto ms = latency_ms.load(); ms > 0) {
        delay.expires_after(std::chrono::milliseconds(ms));
        co_await delay.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      co_await asio::async_write(to, asio::buffer(buf.data(), n), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    asio::error_code ignored;
    from.close(ignored);
    to.close(ignored);
  }

  asio::awaitable<void> serve(std::shared_ptr<Link> link) {
    asio::error_code ec;
    co_await link->server.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), upstream),
                                        asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      link->abort();
      co_return;
    }
    asio::co_spawn(io, pump(link, link->client, link->server), asio::detached);
    asio::co_spawn(io, pump(link, link->server, link->client), asio::detached);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto link = std::make_shared<Link>(io);
      asio::error_code ec;
      co_await acceptor.async_accept(link->client, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      accepted.fetch_add(1);
      links.remove_if([](const std::weak_ptr<Link>& w) { return w.expired(); });
      links.push_back(link);
      asio::co_spawn(io, serve(link), asio::detached);
    }
  }
};

FaultProxy::FaultProxy(std::uint16_t upstream_port) : impl_(std::make_unique<Impl>()) {
  impl_->upstream = upstream_port;
  tcp::endpoint ep(asio::ip::address_v4::loopback(), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

FaultProxy::~FaultProxy() {
  asio::post(impl_->io, [this] {
    asio::error_code ec;
    impl_->acceptor.close(ec);
    for (auto& w : impl_->links) {
      if (auto l = w.lock()) l->abort();
    }
  });
  impl_->guard.reset();
  impl_->io.stop();
  impl_->thread.join();
}

std::uint16_t FaultProxy::port() const { return impl_->acceptor.local_endpoint().port(); }
void FaultProxy::set_mode(Mode mode) { impl_->mode.store(mode); }
void FaultProxy::set_latency(std::chrono::milliseconds latency) { impl_->latency_ms.store(latency.count()); }
std::uint64_t FaultProxy::accepted() const { return impl_->accepted.load(); }

void FaultProxy::reset_all() {
  std::promise<void> done;
  asio::post(impl_->io, [this, &done] {
    for (auto& w : impl_->links) {
      if (auto l = w.lock()) l->abort();
    }
    impl_->links.clear();
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace accelerator::testing
