// The throwaway test PKI of tests/support/testpki.py (generated with the openssl CLI, never by m2msec),
// generated once per ctest run (fixture testpki.generate) or once per test process.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "m2msec/pki/certificate.h"
#include "oracle.h"

#ifndef M2MSEC_PYTHON3
#define M2MSEC_PYTHON3 "python3"
#endif

namespace m2msec::pki::test {

class TestPki {
 public:
  // Uses the PKI that ctest's `testpki.generate` fixture made for the whole run (M2MSEC_TEST_PKI), or
  // generates a fresh one (fails the calling test when the generator fails).
  TestPki() {
    if (const char* shared = std::getenv("M2MSEC_TEST_PKI"); shared != nullptr && *shared != '\0') {
      m_base = shared;
      m_ok = true;
      return;
    }
    generate();
  }
  // Always a PKI of its own, unrelated to the shared one (other anchors, other keys).
  struct Fresh {};
  explicit TestPki(Fresh) { generate(); }

  // One PKI per test process, shared by its tests.
  static const TestPki& shared() {
    static const TestPki pki;
    return pki;
  }

  bool ok() const { return m_ok; }
  std::string file(const std::string& name) const { return m_base + "/" + name; }
  const m2msec::test::TempDir& dir() const { return m_dir; }

  // The first certificate of <name>.pem.
  Certificate cert(const std::string& name) const {
    auto certs = Certificate::load_pem_file(file(name + ".pem"));
    M2MSEC_CHECK(certs.has_value() && !certs->empty());
    return certs->front();
  }

 private:
  void generate() {
    const std::string script = std::string(M2MSEC_SOURCE_DIR) + "/tests/support/testpki.py";
    m_base = m_dir.file("pki");
    m_ok = m2msec::test::run(m_dir, std::string(M2MSEC_PYTHON3) + " '" + script + "' '" + m_base + "'") == 0;
    EXPECT_TRUE(m_ok) << m2msec::test::read_file(m_dir.file("log"));
  }

  m2msec::test::TempDir m_dir{"m2msec-pki"};
  std::string m_base;
  bool m_ok = false;
};

}  // namespace m2msec::pki::test
