// The openssl CLI as the independent oracle of the pki tests: commands run in the test process's own
// directory (the test PKI itself may be shared by the whole ctest run), with their output in its log.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "m2msec/core/bytes.h"
#include "test_pki.h"

namespace m2msec::pki::test {

// A file of this test process's own directory.
inline std::string own_file(const TestPki& pki, const std::string& name) { return pki.dir().file(name); }

inline std::string log_of(const TestPki& pki) { return m2msec::test::read_file(own_file(pki, "log")); }

// Runs `openssl <args>`; true when it exits with 0.
inline bool openssl(const TestPki& pki, const std::string& args) {
  return m2msec::test::run(pki.dir(), "openssl " + args) == 0;
}

// What `openssl <args>` prints, standard output then standard error (the test fails when it does not exit
// with 0).
inline std::string openssl_output(const TestPki& pki, const std::string& args) {
  const std::string out = own_file(pki, "output");
  EXPECT_EQ(m2msec::test::run(pki.dir(), "{ openssl " + args + " >'" + out + "' 2>&1; }"), 0) << log_of(pki);
  return m2msec::test::read_file(out);
}

// `openssl req -verify` of a PEM CSR file. OpenSSL 3.0 exits with 0 either way, so its message decides.
inline bool openssl_verifies_csr(const TestPki& pki, const std::string& path) {
  return openssl_output(pki, "req -verify -noout -in '" + path + "'").find("self-signature verify OK") !=
         std::string::npos;
}

inline void write_text(const std::string& path, std::string_view text) {
  m2msec::test::write_file(path, as_bytes(text));
}

inline Bytes read_bytes(const std::string& path) {
  const std::string text = m2msec::test::read_file(path);
  return Bytes(text.begin(), text.end());
}

// An `openssl req` configuration of its own (the machine's one must not matter): subject CN "oracle", the
// challengePassword "oracle-secret", no extension but those given with -addext.
inline std::string req_config(const TestPki& pki) {
  const std::string path = own_file(pki, "req.cnf");
  write_text(path,
             "[ req ]\ndistinguished_name = dn\nattributes = attrs\nprompt = no\n"
             "[ dn ]\nCN = oracle\n[ attrs ]\nchallengePassword = oracle-secret\n");
  return path;
}

// Key options for `openssl req -newkey`.
inline const std::string kP256 = "-newkey ec -pkeyopt ec_paramgen_curve:P-256";
inline const std::string kP384 = "-newkey ec -pkeyopt ec_paramgen_curve:P-384";
inline const std::string kRsa2048 = "-newkey rsa:2048";

// A PEM CSR written by `openssl req -new` into <name>.csr (key in <name>.key): key options (kP256, ...,
// or "-key <file>"), then further options such as -addext; signed with SHA-256 unless they say otherwise.
inline std::string openssl_csr(const TestPki& pki, const std::string& name, const std::string& key,
                               const std::string& options) {
  const std::string csr = own_file(pki, name + ".csr");
  EXPECT_TRUE(openssl(pki, "req -new " + key + " -noenc -keyout '" + own_file(pki, name + ".key") + "' -config '" +
                               req_config(pki) + "' -sha256 " + options + " -out '" + csr + "'"))
      << log_of(pki);
  return m2msec::test::read_file(csr);
}

}  // namespace m2msec::pki::test
