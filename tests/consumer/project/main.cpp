// A program outside the source tree using only the installed headers and library.
#include <accelerator/accelerator.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <cstdio>

int main() {
  int loads = 0;
  auto cache = accelerator::LevelCacheBuilder<int, std::string>()
                   .area("consumer")
                   .mode(accelerator::CacheMode::Local)
                   .local(accelerator::local::DefaultLocalBackend<std::string>(1000))
                   .loader_fn([&loads](int id) -> asio::awaitable<accelerator::CacheResult<std::optional<std::string>>> {
                     ++loads;
                     co_return "user-" + std::to_string(id);
                   })
                   .build();
  if (!cache) return 1;
  asio::io_context io;
  auto first = asio::co_spawn(io, cache->get(7), asio::use_future);
  io.run();
  io.restart();
  auto second = asio::co_spawn(io, cache->get(7), asio::use_future);
  io.run();
  auto a = first.get();
  auto b = second.get();
  if (!a || !b || *a != *b) return 2;
  std::printf("consumer: %s loaded %s\n", (*a)->c_str(), loads == 1 ? "once" : "more than once");
  return loads == 1 ? 0 : 3;
}
