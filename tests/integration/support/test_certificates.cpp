#include "support/test_certificates.hpp"

#include <fstream>
#include <string>

#include "support/redis_server.hpp"

namespace accelerator::testing {

bool make_test_certificates(const std::filesystem::path& dir) {
  const std::string d = dir.string();
  auto sh = [&](const std::string& cmd) { return run_tool("cd '" + d + "' && " + cmd + " >/dev/null 2>&1") == 0; };
  {
    std::ofstream ext(dir / "ext.cnf");
    ext << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    if (!ext) return false;
  }
  return sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj /CN=it-ca") &&
         sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -days 1 -subj /CN=other") &&
         sh("openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost") &&
         sh("openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 "
            "-extfile ext.cnf");
}

}  // namespace accelerator::testing
