// The Redis Cluster router: slot map, per-node connection pools, redirections, batch splitting.
#include "cluster.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <unordered_map>

namespace accelerator::remote::detail {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kMinRefreshGap{100};
constexpr std::string_view kAsking = "*1\r\n$6\r\nASKING\r\n";

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

std::string_view worst(std::string_view a, std::string_view b) {
  auto rank = [](std::string_view s) { return s == "open" ? 2 : s == "half_open" ? 1 : 0; };
  return rank(b) > rank(a) ? b : a;
}

// Sends one request to each of several connections at once and waits for all replies.
struct Send {
  std::shared_ptr<Connection> connection;
  std::string bytes;
  std::size_t commands = 1;
};

struct GatherState {
  std::mutex mutex;
  std::vector<std::optional<CacheResult<RespValue>>> results;
  std::size_t remaining = 0;
  std::move_only_function<void()> resume;
};

asio::awaitable<std::vector<CacheResult<RespValue>>> gather(std::vector<Send> sends, std::string_view what) {
  auto state = std::make_shared<GatherState>();
  state->results.resize(sends.size());
  state->remaining = sends.size();
  // The last reply may resume this coroutine on another thread, and free its frame, while the
  // loop below still runs: the loop must touch nothing of the frame, so the sends are passed in
  // by value and the captures copied to locals first.
  auto initiate = [state, what](auto handler, std::vector<Send> batch) {
    const std::shared_ptr<GatherState> shared = state;
    const std::string_view name = what;
    {
      std::lock_guard lock(state->mutex);
      state->resume = [h = std::move(handler)]() mutable {
        auto ex = asio::get_associated_executor(h);
        asio::post(ex, std::move(h));
      };
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto done = [shared, i](CacheResult<RespValue> r) {
        std::move_only_function<void()> go;
        {
          std::lock_guard lock(shared->mutex);
          shared->results[i] = std::move(r);
          if (--shared->remaining == 0) go = std::move(shared->resume);
        }
        if (go) go();
      };
      batch[i].connection->async_exec(std::move(batch[i].bytes), batch[i].commands, name, std::move(done));
    }
  };
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(std::move(initiate), asio::use_awaitable,
                                                                        std::move(sends));
  std::vector<CacheResult<RespValue>> out;
  out.reserve(state->results.size());
  for (auto& r : state->results) out.push_back(std::move(*r));
  co_return out;
}

}  // namespace

struct ClusterClient::Topology {
  SlotMap map;
  std::vector<std::shared_ptr<Node>> nodes;  // aligned with map.nodes()
};

ClusterClient::ClusterClient(const asio::any_io_executor& executor, std::vector<RedisEndpoint> seeds,
                             RedisOptions options, std::shared_ptr<HealthState> health, std::string key_prefix)
    : executor_(executor),
      strand_(asio::make_strand(executor)),
      seeds_(std::move(seeds)),
      options_(std::move(options)),
      health_(std::move(health)),
      key_prefix_(std::move(key_prefix)),
      refresh_timer_(strand_) {}

ClusterClient::~ClusterClient() = default;

std::shared_ptr<ClusterClient> ClusterClient::start(const asio::any_io_executor& executor,
                                                    std::vector<RedisEndpoint> seeds, RedisOptions options,
                                                    std::shared_ptr<HealthState> health, std::string key_prefix) {
  std::shared_ptr<ClusterClient> client(
      new ClusterClient(executor, std::move(seeds), std::move(options), std::move(health), std::move(key_prefix)));
  // The first topology is empty: its `nodes` must stay aligned with `map.nodes()`, and the map
  // has none until the first refresh. (Seeds listed there made a MOVED that arrived before the
  // first map assign the slot to index 0, i.e. back to the first seed: retries bounced off the
  // seed until the redirect limit.) Until then node_for() and the refresh use seed_nodes_.
  for (const auto& seed : client->seeds_) {
    if (auto node = client->node_at(seed.host, seed.port)) client->seed_nodes_.push_back(std::move(node));
  }
  client->topology_ = std::make_shared<Topology>();
  asio::co_spawn(
      client->strand_, [client]() { return client->refresh_loop(); }, asio::detached);
  return client;
}

std::shared_ptr<const ClusterClient::Topology> ClusterClient::topology() const {
  std::lock_guard lock(mutex_);
  return topology_;
}

std::shared_ptr<ClusterClient::Node> ClusterClient::node_for(std::optional<std::uint16_t> slot) const {
  auto t = topology();
  if (slot) {
    const auto owner = t->map.owner(*slot);
    if (owner != SlotMap::kNoNode && owner < t->nodes.size()) return t->nodes[owner];
  }
  // Keyless, or the slot's owner is unknown: any live node (MOVED corrects a wrong guess).
  const std::vector<std::shared_ptr<Node>>& candidates = t->nodes.empty() ? seed_nodes_ : t->nodes;
  for (const auto& n : candidates) {
    if (n->ready() && !n->open()) return n;
  }
  return candidates.empty() ? nullptr : candidates.front();
}

ClusterClient::Node* ClusterClient::owner_of(std::uint16_t slot) const {
  {
    std::lock_guard lock(mutex_);
    const auto owner = topology_->map.owner(slot);
    if (owner != SlotMap::kNoNode && owner < topology_->nodes.size()) return topology_->nodes[owner].get();
  }
  // Every node of a map is in nodes_, which never drops one: the pointer outlives this call.
  return node_for(slot).get();
}

CacheError ClusterClient::refusal(const Node* node, std::string_view what) {
  if (node == nullptr) return CacheError::backend("redis " + std::string(what) + " failed: no cluster node");
  return CacheError::backend("redis " + std::string(what) + " skipped: circuit open (" + node->address + ")");
}

std::shared_ptr<ClusterClient::Node> ClusterClient::node_at(const std::string& host, std::uint16_t port) {
  const std::string address = node_address(host, port);
  {
    std::lock_guard lock(mutex_);
    if (auto it = nodes_.find(address); it != nodes_.end()) return it->second;
  }
  RedisEndpoint ep = seeds_.front();
  ep.host = host;
  ep.port = port;
  auto config = make_connection_config(std::move(ep), options_);
  if (!config) {
    health_->set_error("cluster node " + address + ": " + config.error().message());
    return nullptr;
  }
  auto node = std::make_shared<Node>(this, address, std::move(*config), options_);
  std::lock_guard lock(mutex_);
  if (auto it = nodes_.find(address); it != nodes_.end()) return it->second;  // lost a race
  if (stopped_) return nullptr;
  for (std::size_t i = 0; i < options_.pool_size; ++i) {
    node->pool.push_back(Connection::start(executor_, node->config, health_));
  }
  nodes_.emplace(address, node);
  return node;
}

void ClusterClient::on_moved(std::uint16_t slot, const std::shared_ptr<Node>& target) {
  {
    std::lock_guard lock(mutex_);
    const auto owner = topology_->map.owner(slot);
    if (owner == SlotMap::kNoNode || owner >= topology_->nodes.size() || topology_->nodes[owner] != target) {
      auto next = std::make_shared<Topology>(*topology_);
      const auto before = next->map.nodes().size();
      next->map.assign(slot, target->address);
      if (next->map.nodes().size() > before) next->nodes.push_back(target);
      topology_ = std::move(next);
    }
  }
  request_refresh();
}

asio::awaitable<void> ClusterClient::pause(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(d);
  asio::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

ClusterClient::Next ClusterClient::next_step(const Node& node, const RespValue& reply, std::uint32_t attempt,
                                             bool asked) {
  if (!reply.is_error() || attempt >= options_.cluster_max_redirects) return {};
  if (auto redirect = parse_redirect(reply.str)) {
    const std::string host = redirect->host.empty() ? node.config->endpoint.host : redirect->host;
    auto target = node_at(host, redirect->port);
    if (!target) return {};
    if (redirect->kind == Redirect::Kind::Moved) {
      on_moved(redirect->slot, target);
      return Next{Next::Kind::Retry, nullptr};
    }
    // ASK is followed once; a second ASK goes back to the map.
    return Next{Next::Kind::Retry, asked ? nullptr : std::move(target)};
  }
  if (is_transient_cluster_error(reply.str)) return Next{Next::Kind::Pause, nullptr};
  return {};
}

void ClusterClient::resume_get(const std::string& key, Next next, Completion done) {
  std::string bytes;
  append_command(bytes, key_prefix_, {"GET", key});
  const std::uint16_t slot = key_slot(key_prefix_, key);
  asio::co_spawn(
      executor_,
      [self = shared_from_this(), slot, bytes = std::move(bytes), next = std::move(next)]() mutable {
        return self->exec_from(slot, std::move(bytes), "GET", 1, std::move(next));
      },
      [done = std::move(done)](std::exception_ptr e, CacheResult<RespValue> r) mutable {
        if (e) r = fail(CacheError::backend("redis GET failed: internal error"));
        done(std::move(r));
      });
}

asio::awaitable<CacheResult<RespValue>> ClusterClient::exec(std::optional<std::uint16_t> slot, std::string bytes,
                                                            std::string_view what) {
  return exec_from(slot, std::move(bytes), what, 0, Next{});
}

asio::awaitable<CacheResult<RespValue>> ClusterClient::exec_from(std::optional<std::uint16_t> slot, std::string bytes,
                                                                 std::string_view what, std::uint32_t attempt,
                                                                 Next previous) {
  if (previous.kind == Next::Kind::Pause) co_await pause(std::chrono::milliseconds(10 * attempt));
  std::shared_ptr<Node> ask = std::move(previous.ask);
  for (;; ++attempt) {
    auto node = ask ? ask : node_for(slot);
    if (!node || !node->admit()) co_return fail(refusal(node.get(), what));
    std::string out;
    std::size_t commands = 1;
    if (ask) {
      out.reserve(kAsking.size() + bytes.size());
      out.append(kAsking).append(bytes);
      commands = 2;
    } else {
      out = bytes;
    }
    const bool asked = static_cast<bool>(ask);
    ask.reset();
    auto r = co_await node->pick()->async_exec(std::move(out), commands, what, asio::use_awaitable);
    node->record(r.has_value());
    if (!r) {
      request_refresh();
      co_return r;
    }
    RespValue reply;
    if (commands == 2) {
      if (r->type != RespValue::Type::Array || r->elements.size() != 2) {
        co_return fail(CacheError::backend("redis " + std::string(what) + " failed: bad reply to ASKING"));
      }
      reply = std::move(r->elements[1]);
    } else {
      reply = std::move(*r);
    }
    Next next = next_step(*node, reply, attempt, asked);
    if (next.kind == Next::Kind::Done) co_return reply;
    if (next.kind == Next::Kind::Pause) co_await pause(std::chrono::milliseconds(10 * (attempt + 1)));
    ask = std::move(next.ask);
  }
}

asio::awaitable<CacheResult<std::vector<RespValue>>> ClusterClient::exec_many(std::vector<ClusterCommand> commands,
                                                                              std::string_view what) {
  std::vector<RespValue> results(commands.size());
  struct Item {
    std::size_t index;
    std::shared_ptr<Node> ask;  // set when the next attempt must go there with ASKING
  };
  std::vector<Item> pending;
  pending.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) pending.push_back(Item{i, nullptr});

  for (std::uint32_t attempt = 0; !pending.empty(); ++attempt) {
    // Group by node, keeping request order inside each group.
    struct Group {
      std::shared_ptr<Node> node;
      Send send;
      std::vector<std::pair<std::size_t, bool>> items;  // (index into pending, preceded by ASKING)
    };
    std::vector<Group> groups;
    std::unordered_map<Node*, std::size_t> by_node;
    for (std::size_t p = 0; p < pending.size(); ++p) {
      auto node = pending[p].ask ? pending[p].ask : node_for(commands[pending[p].index].slot);
      if (!node) co_return fail(CacheError::backend("redis " + std::string(what) + " failed: no cluster node"));
      auto [it, fresh] = by_node.try_emplace(node.get(), groups.size());
      if (fresh) {
        if (node->open()) {
          co_return fail(
              CacheError::backend("redis " + std::string(what) + " skipped: circuit open (" + node->address + ")"));
        }
        groups.push_back(Group{node, Send{node->pick(), {}, 0}, {}});
      }
      Group& g = groups[it->second];
      const bool asking = static_cast<bool>(pending[p].ask);
      if (asking) {
        g.send.bytes.append(kAsking);
        ++g.send.commands;
      }
      g.send.bytes.append(commands[pending[p].index].bytes);
      ++g.send.commands;
      g.items.emplace_back(p, asking);
    }
    std::vector<Send> sends;
    sends.reserve(groups.size());
    for (auto& g : groups) sends.push_back(std::move(g.send));
    std::vector<CacheResult<RespValue>> replies;
    if (sends.size() == 1) {
      auto& s = sends.front();
      auto r = co_await s.connection->async_exec(std::move(s.bytes), s.commands, what, asio::use_awaitable);
      replies.push_back(std::move(r));
    } else {
      replies = co_await gather(std::move(sends), what);
    }

    std::vector<Item> retry;
    bool transient = false;
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
      auto& g = groups[gi];
      auto& r = replies[gi];
      g.node->record(r.has_value());
      if (!r) {
        request_refresh();
        co_return fail(r.error());
      }
      // One command gives its reply, several an Array of replies.
      std::vector<RespValue> flat;
      const std::size_t expected =
          g.items.size() + static_cast<std::size_t>(
                               std::count_if(g.items.begin(), g.items.end(), [](const auto& it) { return it.second; }));
      if (expected == 1) {
        flat.push_back(std::move(*r));
      } else if (r->type == RespValue::Type::Array && r->elements.size() == expected) {
        flat = std::move(r->elements);
      } else {
        co_return fail(CacheError::backend("redis " + std::string(what) + " failed: unexpected pipelined reply"));
      }
      std::size_t pos = 0;
      for (const auto& [p, asking] : g.items) {
        if (asking) ++pos;  // the ASKING reply
        RespValue& reply = flat[pos++];
        Item& item = pending[p];
        if (reply.is_error() && attempt < options_.cluster_max_redirects) {
          if (auto redirect = parse_redirect(reply.str)) {
            const std::string host = redirect->host.empty() ? g.node->config->endpoint.host : redirect->host;
            if (auto target = node_at(host, redirect->port)) {
              if (redirect->kind == Redirect::Kind::Moved) {
                on_moved(redirect->slot, target);
                retry.push_back(Item{item.index, nullptr});
              } else {
                retry.push_back(Item{item.index, asking ? nullptr : std::move(target)});
              }
              continue;
            }
          } else if (is_transient_cluster_error(reply.str)) {
            transient = true;
            retry.push_back(Item{item.index, nullptr});
            continue;
          }
        }
        results[item.index] = std::move(reply);
      }
    }
    pending = std::move(retry);
    if (transient && !pending.empty()) co_await pause(std::chrono::milliseconds(10 * (attempt + 1)));
  }
  co_return results;
}

std::shared_ptr<Connection> ClusterClient::route(std::string_view key) {
  auto node = key.empty() ? node_for(std::nullopt) : node_for(key_slot(key));
  return node ? node->pick() : nullptr;
}

bool ClusterClient::connected() const noexcept {
  std::lock_guard lock(mutex_);
  for (const auto& [address, node] : nodes_) {
    if (node->ready()) return true;
  }
  return false;
}

void ClusterClient::stop() {
  if (stopped_.exchange(true)) return;
  asio::dispatch(strand_, [self = shared_from_this()] { self->refresh_timer_.cancel(); });
  std::map<std::string, std::shared_ptr<Node>> nodes;
  {
    std::lock_guard lock(mutex_);
    nodes = nodes_;
  }
  for (auto& [address, node] : nodes) {
    for (auto& c : node->pool) c->stop();
  }
}

std::string ClusterClient::circuit() const {
  std::string_view state = "closed";
  auto t = topology();
  for (const auto& n : t->nodes.empty() ? seed_nodes_ : t->nodes) state = worst(state, n->circuit());
  return std::string(state);
}

std::vector<std::string> ClusterClient::node_addresses() const { return topology()->map.nodes(); }

std::size_t ClusterClient::covered_slots() const { return topology()->map.covered(); }

std::shared_ptr<const ConnectionConfig> ClusterClient::subscriber_config(std::size_t attempt) const {
  auto t = topology();
  const auto& nodes = t->nodes.empty() ? seed_nodes_ : t->nodes;
  if (nodes.empty()) return nullptr;
  return nodes[attempt % nodes.size()]->config;
}

void ClusterClient::request_refresh() {
  if (stopped_) return;
  const auto now = now_ns();
  if (now - last_refresh_ns_.load(std::memory_order_relaxed) < std::chrono::nanoseconds(kMinRefreshGap).count()) return;
  if (refreshing_.exchange(true)) return;
  auto self = shared_from_this();
  asio::co_spawn(
      strand_,
      [self]() -> asio::awaitable<void> {
        co_await self->refresh();
        self->refreshing_.store(false);
      },
      asio::detached);
}

asio::awaitable<bool> ClusterClient::refresh_now() {
  while (refreshing_.exchange(true)) co_await pause(std::chrono::milliseconds(5));
  const bool ok = co_await refresh();
  refreshing_.store(false);
  co_return ok;
}

// g++ 12 at -O2 (the sanitizer builds) inlines asio's frame operator new, which allocates with
// aligned_alloc (ASIO_HAS_STD_ALIGNED_ALLOC, see CMakeLists.txt), into this coroutine's ramp but
// not the class operator delete that frees it with std::free, and then reports the pair as
// mismatched (-Wmismatched-new-delete). The pair matches; silenced for this function only, so a
// build with -Werror and sanitizers stays clean.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
asio::awaitable<bool> ClusterClient::refresh() {
  last_refresh_ns_.store(now_ns(), std::memory_order_relaxed);
  // Live nodes of the current map first, then the others, then the seeds.
  std::vector<std::shared_ptr<Node>> candidates;
  {
    auto t = topology();
    for (const auto& n : t->nodes) {
      if (n->ready()) candidates.push_back(n);
    }
    for (const auto& n : t->nodes) {
      if (!n->ready()) candidates.push_back(n);
    }
    for (const auto& n : seed_nodes_) {
      if (std::find(candidates.begin(), candidates.end(), n) == candidates.end()) candidates.push_back(n);
    }
  }
  std::string request;
  append_command(request, {"CLUSTER", "SLOTS"});
  std::string last_error;
  for (const auto& node : candidates) {
    if (stopped_) co_return false;
    auto r = co_await node->pick()->async_exec(std::string(request), 1, "CLUSTER SLOTS", asio::use_awaitable);
    if (!r) {
      last_error = r.error().message();
      continue;
    }
    auto map = SlotMap::from_cluster_slots(*r, node->config->endpoint.host);
    if (!map) {
      last_error = map.error().message();
      continue;
    }
    if (map->covered() == 0) {
      last_error = "CLUSTER SLOTS: no slot is assigned";
      continue;
    }
    auto next = std::make_shared<Topology>();
    next->map = std::move(*map);
    bool complete = true;
    for (const auto& address : next->map.nodes()) {
      // Addresses come from node_address(); split them back for node_at().
      const auto colon = address.rfind(':');
      std::string host = address.substr(0, colon);
      if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
      const auto port = static_cast<std::uint16_t>(std::stoul(address.substr(colon + 1)));
      auto n = node_at(host, port);
      if (!n) {
        complete = false;
        break;
      }
      next->nodes.push_back(std::move(n));
    }
    if (!complete) continue;
    {
      std::lock_guard lock(mutex_);
      topology_ = std::move(next);
    }
    co_return true;
  }
  if (!last_error.empty()) health_->set_error("cluster map refresh: " + last_error);
  co_return false;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

asio::awaitable<void> ClusterClient::refresh_loop() {
  auto self = shared_from_this();
  if (!refreshing_.exchange(true)) {
    co_await refresh();
    refreshing_.store(false);
  }
  while (!stopped_) {
    // Retry soon while no map is known, then at the configured interval.
    const auto wait = covered_slots() == 0 ? std::chrono::milliseconds(200) : options_.cluster_refresh_interval;
    refresh_timer_.expires_after(wait);
    asio::error_code ec;
    co_await refresh_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_) break;
    if (!refreshing_.exchange(true)) {
      co_await refresh();
      refreshing_.store(false);
    }
  }
}

}  // namespace accelerator::remote::detail
