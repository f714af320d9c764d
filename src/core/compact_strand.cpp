#include "accelerator/detail/compact_strand.hpp"

#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <memory>
#include <typeinfo>
#include <utility>

namespace accelerator::detail {
namespace {

// The io_context behind `executor` when its target is io_context's executor type with property
// bits `Bits` (blocking.never, relationship.continuation and outstanding_work.tracked are bits
// of the type), else null.
template <unsigned Bits>
asio::io_context* io_context_with_bits(const asio::any_io_executor& executor) {
  using Io = asio::io_context::basic_executor_type<std::allocator<void>, Bits>;
  // target<T>() is an unchecked cast in this asio: the type must be compared first.
  if (executor.target_type() != typeid(Io)) return nullptr;
  return &executor.target<Io>()->context();
}

template <unsigned... Bits>
asio::io_context* io_context_of(const asio::any_io_executor& executor, std::integer_sequence<unsigned, Bits...>) {
  asio::io_context* found = nullptr;
  ((found = found ? found : io_context_with_bits<Bits>(executor)), ...);
  return found;
}

}  // namespace

asio::any_io_executor make_compact_strand(const asio::any_io_executor& executor) {
  if (!executor) return asio::make_strand(executor);
  if (asio::io_context* io = io_context_of(executor, std::make_integer_sequence<unsigned, 8>{})) {
    return asio::make_strand(io->get_executor());
  }
  return asio::make_strand(executor);
}

bool running_in_strand(const asio::any_io_executor& strand) noexcept {
  using IoStrand = asio::strand<asio::io_context::executor_type>;
  using AnyStrand = asio::strand<asio::any_io_executor>;
  if (!strand) return false;
  if (strand.target_type() == typeid(IoStrand)) return strand.target<IoStrand>()->running_in_this_thread();
  if (strand.target_type() == typeid(AnyStrand)) return strand.target<AnyStrand>()->running_in_this_thread();
  return false;
}

}  // namespace accelerator::detail
