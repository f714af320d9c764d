#include "accelerator/detail/waiter_list.hpp"

namespace accelerator::detail {

void WaiterList::wait_or_run(std::move_only_function<void()> resume) {
  {
    std::lock_guard lock(mutex_);
    if (!notified_) {
      waiters_.push_back(std::move(resume));
      return;
    }
  }
  resume();
}

void WaiterList::notify_all() {
  std::vector<std::move_only_function<void()>> waiters;
  {
    std::lock_guard lock(mutex_);
    if (notified_) return;
    notified_ = true;
    waiters.swap(waiters_);
  }
  for (auto& resume : waiters) resume();
}

bool WaiterList::notified() const {
  std::lock_guard lock(mutex_);
  return notified_;
}

}  // namespace accelerator::detail
