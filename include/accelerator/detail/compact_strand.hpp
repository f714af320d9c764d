// accelerator/detail/compact_strand.hpp — a strand for a detached task that is cheap to copy.
//
// Internal. asio::make_strand(any_io_executor) gives a strand<any_io_executor>: a whole
// any_io_executor (56 bytes) plus the strand's shared state, more than the 24 bytes an
// any_io_executor stores inline. Held in an any_io_executor (as co_spawn and everything under
// it holds its executor), every copy, prefer() and require() of it then allocates on the heap,
// and a loaded miss makes dozens of them. A strand over the concrete io_context executor is 24
// bytes and is stored inline. Same serialisation either way: the strand runs its handlers on the
// same io_context, one at a time. Other executors (thread pools, user executors) get the general
// strand.
// Thread-safety: a pure function of its argument.
#pragma once

#include <asio/any_io_executor.hpp>

namespace accelerator::detail {

asio::any_io_executor make_compact_strand(const asio::any_io_executor& executor);

// Whether the caller runs inside `strand`, a strand from make_compact_strand() (false for any
// other executor): strand::running_in_this_thread() for the strand behind the type erasure.
bool running_in_strand(const asio::any_io_executor& strand) noexcept;

}  // namespace accelerator::detail
