# Every dependency comes from a Debian 12 package (scripts/setup.sh installs them).
include(GNUInstallDirs)
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)

# Dependencies used only inside the library's .cpp files. An INTERFACE target keeps the list in
# one place; Install.cmake re-finds the ones a static library's consumers must link.
add_library(accelerator_private_deps INTERFACE)
install(TARGETS accelerator_private_deps EXPORT acceleratorTargets)
