#include "accelerator/detail/generations.hpp"

#include <functional>

namespace accelerator::detail {

std::size_t GenerationTable::hash(std::string_view key) noexcept { return std::hash<std::string_view>{}(key); }

}  // namespace accelerator::detail
