// OCSP responses made by the `openssl ocsp` responder (an independent implementation) for the test PKI of
// test_pki.h, and that tool's own verdict on a response. Made here with the openssl CLI, in a private
// temporary directory (fresh keys, nothing checked in):
//   index.txt        CA index of int.pem: server, client, other valid (V), revoked.pem revoked (R); every
//                    other leaf (ae.pem, say) is unknown to the responder
//   responder.pem    delegated responder issued by int.key, extendedKeyUsage OCSPSigning (RFC 6960 4.2.2.2)
//   noeku.pem        issued by int.key, without OCSPSigning: not a responder
//   selfsigned.pem   self-signed, with OCSPSigning: unknown to every trust anchor
//   aia.pem          leaf issued by int.key whose authorityInfoAccess names http://ocsp.m2m.example.com/status
// with their keys (<name>.key).
#pragma once

#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

#include "m2msec/core/bytes.h"
#include "oracle.h"
#include "test_pki.h"

namespace m2msec::pki::test {

inline constexpr std::string_view kAiaResponderUrl = "http://ocsp.m2m.example.com/status";

class OcspResponder {
 public:
  explicit OcspResponder(const TestPki& pki) : m_pki(pki) {
    m_ok = pki.ok() && write_index() && write_extensions() && issue("responder", 1) && issue("noeku", 2) &&
           issue("aia", 3) &&
           run("openssl req -x509 -new " + std::string(kNewKey) + " -keyout " + file("selfsigned.key") + " -out " +
               file("selfsigned.pem") + " -subj '/CN=m2msec test self-signed responder' -days 30 -sha256 -config " +
               file("ext.cnf") + " -extensions selfsigned");
    EXPECT_TRUE(m_ok) << m2msec::test::read_file(m_dir.file("log"));
  }
  ~OcspResponder() { stop(); }
  OcspResponder(const OcspResponder&) = delete;
  OcspResponder& operator=(const OcspResponder&) = delete;

  bool ok() const { return m_ok; }
  std::string file(const std::string& name) const { return m_dir.file(name); }
  const m2msec::test::TempDir& dir() const { return m_dir; }
  Certificate cert(const std::string& name) const {
    return Certificate::load_pem_file(file(name + ".pem")).value().front();
  }

  // A request made by the openssl CLI for the test PKI's leaf `name` (no nonce), CertID hashed with digest.
  Bytes cli_request(const std::string& name, const std::string& digest = "sha1") const {
    const std::string out = file(name + "." + digest + ".req");
    EXPECT_TRUE(run("openssl ocsp -" + digest + " -issuer " + m_pki.file("int.pem") + " -cert " +
                    m_pki.file(name + ".pem") + " -no_nonce -reqout " + out));
    return read(out);
  }

  // `openssl ocsp` as the responder for the DER request, signed by signer ("int" for the issuer itself, or
  // responder / noeku / selfsigned); validity as the CLI takes it ("-ndays 1"; empty: no nextUpdate).
  Bytes respond(ByteView request, const std::string& signer = "responder",
                const std::string& validity = "-ndays 1") const {
    m2msec::test::write_file(file("request.der"), request);
    std::remove(file("response.der").c_str());
    EXPECT_TRUE(run("openssl ocsp -index " + file("index.txt") + " -CA " + m_pki.file("int.pem") + signer_args(signer) +
                    " -reqin " + file("request.der") + " -respout " + file("response.der") + " " + validity));
    return read(file("response.der"));
  }

  // What `openssl ocsp` makes of a response for leaf `name` (CertID hashed with digest), checked against
  // root.pem: "good", "revoked", "unknown", or "" when it does not verify.
  std::string cli_status(ByteView response, const std::string& name, const std::string& digest = "sha1") const {
    m2msec::test::write_file(file("check.der"), response);
    const std::string out = file("check.txt");
    if (!run("(openssl ocsp -respin " + file("check.der") + " -" + digest + " -issuer " + m_pki.file("int.pem") + " -cert " +
             m_pki.file(name + ".pem") + " -CAfile " + m_pki.file("root.pem") + " -verify_other " +
             m_pki.file("int.pem") + " -no_nonce > " + out + " 2>&1)")) {
      return {};
    }
    const std::string text = m2msec::test::read_file(out);
    if (text.find("Response verify OK") == std::string::npos) return {};
    for (const char* status : {"good", "revoked", "unknown"}) {
      if (text.find(m_pki.file(name + ".pem") + ": " + status) != std::string::npos) return status;
    }
    return {};
  }

  // An OCSP responder listening on loopback for HTTP POSTs (RFC 6960 Appendix A) on a port it picks,
  // answering `requests` requests; the port it listens on.
  std::optional<std::uint16_t> serve_http(int requests, const std::string& signer = "responder") {
    const std::string log = file("http.log");
    // `openssl ocsp -port` would listen on every interface: tests/support/ocsp_responder.py listens on
    // loopback and has `openssl ocsp` answer each request.
    const std::string front = std::string(M2MSEC_SOURCE_DIR) + "/tests/support/ocsp_responder.py";
    if (!run("(timeout 60 " + std::string(M2MSEC_PYTHON3) + " " + front + " --nrequest " + std::to_string(requests) +
             " -- -index " + file("index.txt") + " -CA " + m_pki.file("int.pem") + signer_args(signer) +
             " -ndays 1 >" + log + " 2>&1 & echo $! > " + file("http.pid") + ")")) {
      return std::nullopt;
    }
    m_pid = std::stoi(m2msec::test::read_file(file("http.pid")));
    // It prints "ACCEPT 127.0.0.1:<port> PID=<pid>" once it listens.
    for (int attempt = 0; attempt < 100; ++attempt) {
      const std::string text = m2msec::test::read_file(log);
      const auto at = text.find("ACCEPT ");
      const auto end = text.find(" PID=", at);
      if (at != std::string::npos && end != std::string::npos) {
        const auto colon = text.rfind(':', end);
        return static_cast<std::uint16_t>(std::stoi(text.substr(colon + 1, end - colon - 1)));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return std::nullopt;
  }

  // The response to the DER request POSTed with curl to the responder of serve_http.
  Bytes post(std::uint16_t port, ByteView request) const {
    m2msec::test::write_file(file("post.der"), request);
    std::remove(file("posted.der").c_str());
    EXPECT_TRUE(run("curl -sS --max-time 20 --data-binary @" + file("post.der") +
                    " -H 'Content-Type: application/ocsp-request' -o " + file("posted.der") + " http://127.0.0.1:" +
                    std::to_string(port) + "/"));
    return read(file("posted.der"));
  }

  // Stops the responder of serve_http (by its pid) if it is still running.
  void stop() {
    if (m_pid > 0) ::kill(m_pid, SIGTERM);
    m_pid = 0;
  }

  std::string log() const { return m2msec::test::read_file(m_dir.file("log")); }

 private:
  static constexpr std::string_view kNewKey =
      "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -noenc";

  bool run(const std::string& cmd) const { return m2msec::test::run(m_dir, cmd) == 0; }
  static Bytes read(const std::string& path) {
    const std::string text = m2msec::test::read_file(path);
    return Bytes(text.begin(), text.end());
  }
  std::string signer_args(const std::string& signer) const {
    const std::string base = signer == "int" ? m_pki.file("int") : file(signer);
    return " -rsigner " + base + ".pem -rkey " + base + ".key";
  }

  // The serial of a test PKI leaf as `openssl x509 -serial` prints it (upper-case hex, as the index wants).
  std::string serial(const std::string& name) const {
    const std::string out = file(name + ".serial");
    if (!run("(openssl x509 -in " + m_pki.file(name + ".pem") + " -noout -serial > " + out + ")")) return {};
    std::string text = m2msec::test::read_file(out);
    const auto eq = text.find('=');
    if (eq == std::string::npos) return {};
    text = text.substr(eq + 1);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
  }

  // The CA database format of `openssl ca`: status, expiry, revocation, serial, file, subject (tab-separated).
  bool write_index() const {
    std::string index;
    for (const char* name : {"server", "client", "other", "revoked"}) {
      const std::string s = serial(name);
      if (s.empty()) return false;
      const bool revoked = std::string_view(name) == "revoked";
      index += std::string(revoked ? "R" : "V") + "\t301231235959Z\t" + (revoked ? "240101000000Z,keyCompromise" : "") +
               "\t" + s + "\tunknown\t/CN=m2msec test " + name + "\n";
    }
    m2msec::test::write_file(file("index.txt"), as_bytes(index));
    return true;
  }

  bool write_extensions() const {
    m2msec::test::write_file(file("ext.cnf"), as_bytes(R"([ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ responder ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ noeku ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ selfsigned ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
subjectKeyIdentifier = hash
[ aia ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:aia.m2m.example.com
authorityInfoAccess = OCSP;URI:)" + std::string(kAiaResponderUrl) + "\n"));
    return true;
  }

  // A certificate issued by int.key with the extensions of the section of that name.
  bool issue(const std::string& name, int serial) const {
    return run("openssl req -new " + std::string(kNewKey) + " -keyout " + file(name + ".key") + " -out " +
               file(name + ".csr") + " -subj '/CN=m2msec test " + name + "' -config " + file("ext.cnf")) &&
           run("openssl x509 -req -in " + file(name + ".csr") + " -CA " + m_pki.file("int.pem") + " -CAkey " +
               m_pki.file("int.key") + " -set_serial " + std::to_string(serial) + " -days 30 -sha256 -extfile " +
               file("ext.cnf") + " -extensions " + name + " -out " + file(name + ".pem"));
  }

  const TestPki& m_pki;
  m2msec::test::TempDir m_dir{"m2msec-ocsp"};
  bool m_ok = false;
  int m_pid = 0;
};

}  // namespace m2msec::pki::test
