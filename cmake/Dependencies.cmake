# Every dependency comes from a Debian 12 package (scripts/setup.sh installs them).
include(GNUInstallDirs)
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)

# Dependencies used only inside the library's .cpp files. An INTERFACE target keeps the list in
# one place; Install.cmake re-finds the ones a static library's consumers must link.
add_library(accelerator_private_deps INTERFACE)
install(TARGETS accelerator_private_deps EXPORT acceleratorTargets)

# Observability: spdlog for logs (always); libcurl for the OTLP/HTTP exporter (optional). Without
# it the exporter API still exists and reports at run time that export is unavailable.
find_package(spdlog REQUIRED)
target_link_libraries(accelerator_private_deps INTERFACE spdlog::spdlog)
string(APPEND ACCELERATOR_CONFIG_EXTRA_DEPENDENCIES "find_dependency(spdlog)\n")
find_package(CURL QUIET)
option(ACCELERATOR_WITH_OTLP "Build the OTLP/HTTP JSON exporter (needs libcurl)" ${CURL_FOUND})
if(ACCELERATOR_WITH_OTLP)
  find_package(CURL REQUIRED)
  target_link_libraries(accelerator_private_deps INTERFACE CURL::libcurl)
  target_compile_definitions(accelerator_private_deps INTERFACE ACCELERATOR_WITH_OTLP=1)
  string(APPEND ACCELERATOR_CONFIG_EXTRA_DEPENDENCIES "find_dependency(CURL)\n")
endif()

# The Redis L2 (src/redis/): hiredis as the RESP2 parser only, OpenSSL for rediss:// (asio::ssl).
find_package(OpenSSL REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET GLOBAL hiredis)
target_link_libraries(accelerator_private_deps INTERFACE PkgConfig::HIREDIS OpenSSL::SSL OpenSSL::Crypto)
# Consumers of the installed static library must find the same targets (acceleratorConfig.cmake).
string(APPEND ACCELERATOR_CONFIG_EXTRA_DEPENDENCIES
       "find_dependency(OpenSSL)\n"
       "find_dependency(PkgConfig)\n"
       "pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET GLOBAL hiredis)\n")
