// Integration-test harness: throwaway TLS certificates made with the `openssl` tool.
//
// make_test_certificates(dir) writes into `dir` (which must exist):
//   ca.crt / ca.key          a self-signed CA
//   server.crt / server.key  signed by that CA, for CN localhost with SANs IP:127.0.0.1 and
//                            DNS:localhost (what the loopback servers present)
//   other.crt / other.key    an unrelated self-signed certificate (a "wrong CA" for clients)
// Returns false when openssl is missing or fails. Thread-safety: none.
#pragma once

#include <filesystem>

namespace accelerator::testing {

bool make_test_certificates(const std::filesystem::path& dir);

}  // namespace accelerator::testing
