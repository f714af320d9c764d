#include "accelerator/detail/deadline.hpp"

namespace accelerator::detail {

CacheError loader_exception_error(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return CacheError::loader(std::string("loader threw: ") + e.what());
  } catch (...) {
    return CacheError::loader("loader threw a non-standard exception");
  }
}

}  // namespace accelerator::detail
