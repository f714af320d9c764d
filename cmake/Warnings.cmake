function(accelerator_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  # g++ 12 reports false -Wmaybe-uninitialized on std::expected<..., CacheError> moved through
  # asio's co_spawn entry point (the value is always constructed there), and false -Wrestrict on
  # `"literal" + std::string` inlined at -O3 (GCC bug 105651). Keep the rest strict.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized -Wno-restrict)
  endif()
  if(ACCELERATOR_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(ACCELERATOR_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(ACCELERATOR_SANITIZE STREQUAL "thread")
  # -Wno-tsan: g++ 12 warns on every std::atomic_thread_fence in the standard headers and asio
  # (TSan does not model fences); our own code uses none.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  add_link_options(-fsanitize=thread)
elseif(NOT ACCELERATOR_SANITIZE STREQUAL "")
  message(FATAL_ERROR "ACCELERATOR_SANITIZE must be '', 'address' or 'thread', not '${ACCELERATOR_SANITIZE}'")
endif()
