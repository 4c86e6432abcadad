// m2msec: the command-line interface of libm2msec.
#include <csignal>
#include <iostream>
#include <string_view>
#include <vector>

#include "commands.h"

namespace {

constexpr std::string_view kUsage =
    "usage: m2msec <command> ...\n"
    "  derive km           --ke HEX --maf-id TEXT\n"
    "  derive kpsa         --ke HEX --peer-id TEXT\n"
    "  derive usage-key    --ke HEX --suid N --target-id TEXT\n"
    "  derive e2e          --kpsa HEX --salt HEX\n"
    "  derive export-split --exported HEX --label bootstrap|connection|escertke [--fqdn FQDN]\n"
    "  algorithms          list the algorithm registry, exercising each algorithm\n"
    "  saef serve   --listen ADDR:PORT [--dtls] [--tls1.3 [--psk-ke]] CREDENTIAL [--export LABEL --export-len N]\n"
    "               [--count N]\n"
    "  saef connect --connect ADDR:PORT --sni NAME [--dtls] [--tls1.3 [--psk-ke]] CREDENTIAL\n"
    "               [--export LABEL --export-len N]   (sends stdin, prints the echo)\n"
    "    CREDENTIAL: --psk-identity ID --psk HEX [--psk-kind kpsa|maf|kpm|km] [--peer-id ID]\n"
    "              | --cert CHAIN.pem --key KEY.pem --ca ANCHORS.pem [--crl CRL.pem]\n"
    "                [--peer-flavour cse-id|ae-id|node-id|device|fqdn] [--peer-id ID]\n"
    "                [--ocsp-staple RESPONSE.der (server)] [--peer-status if-stapled|require-staple (client)]\n"
    "              | --rpk --key KEY.pem [--peer-key-id ni:///sha-256;...]\n"
    "  cert request --id ID --key KEY_OUT [--csr CSR_OUT] [--flavour cse-id|ae-id|node-id|fqdn]\n"
    "               [--challenge-password TEXT]   (a new P-256 key and a TS-0003 10.1.4 CSR)\n"
    "  cert enroll  --est https://MEF[:PORT] | coaps://MEF[:PORT] --csr CSR.pem --out CERT_OUT [--reenroll]\n"
    "               [--cacerts-out FILE]   (coaps: EST-coaps, RFC 9148, over the DTLS profile of the credential)\n"
    "               [--sni NAME] CREDENTIAL   (PSK: --psk-kind defaults to kpm; certificates: --peer-flavour fqdn)\n"
    "  cert verify  --ca ANCHORS.pem [--crl CRL.pem] [--ocsp] [--untrusted CHAIN.pem] [--flavour F] [--id ID] CERT.pem...\n"
    "  cert ni      PEM [--suite sha-256|sha-256-128|sha-256-120] | PEM --match ni:///...   (RFC 6920 key ids)\n"
    "  jose sign    --key JWK [--alg ALG] [--serialization compact|flattened|general]   (payload on stdin)\n"
    "  jose verify  --key JWK   (any serialization on stdin; prints the payload)\n"
    "  jose encrypt --key JWK --enc A128GCM|A192GCM|A256GCM [--alg ALG] [--serialization ...]\n"
    "  jose decrypt --key JWK\n"
    "  jose genkey  --alg ALG [--enc ENC] [--public]   (a private JWK; --public adds the public one)\n"
    "    JWK: a file with a JWK or a JWK Set; every key in it signs or receives\n"
    "  esdata protect   --class encrypt|sign|nested [--key JWK [--key-alg ALG]] [--sign-key JWK [--sign-alg ALG]]\n"
    "                   [--enc ENC] [--content-security 1|2|3] [--media-type TYPE [--encoding 0|1|2]]\n"
    "                   (payload on stdin; prints the envelope, or with --media-type {\"con\":...,\"cnf\":...})\n"
    "  esdata unprotect [--key JWK] [--verify-key JWK] [--content-security 1|2|3 | --cnf CONTENTINFO]\n"
    "                   [--expect encrypt|sign|nested] [--all-signatures] [--report]   (prints the payload;\n"
    "                   --report: class and kids on stderr)\n"
    "  token issue  --key JWK [--alg ALG] [--encrypt-to JWK [--key-alg ALG] [--enc ENC]]\n"
    "               [--class signed|encrypted|nested|unsecured]   (short-name m2m:tokenClaimSet on stdin; prints the JWT)\n"
    "  token verify --key JWK --issuer ID [--audience CSE-ID] [--holder ID] [--skew SECONDS] [--decrypt-key JWK]\n"
    "               [--algs ALG,...] [--allow-unsecured] [--allow-unauthenticated-encryption]\n"
    "               (JWT on stdin; prints the short-name claim set)\n"
    "  enrol --mef URL (--kpm-id ID --kpm HEX | MEFCERT) [--sni NAME] [--admin-fqdn FQDN] [--lifetime SECONDS] [--show-secrets]\n"
    "        [--ibc-out FILE] [--ibc-current FILE]\n"
    "               (PPSK RSPF + MEF Client Registration + commands; prints keid=, registration=, client-id=, expires=;\n"
    "               an IBC credential an ibc-prov command provisions goes to --ibc-out, --ibc-current renews one)\n"
    "  maf register     --maf URL (--km-id KMID|KEID --km HEX | MEFCERT) [--admin-fqdn FQDN] [--lifetime SECONDS]\n"
    "  maf register-key --maf URL (--km-id KMID --km HEX | MEFCERT) --targets ID[,ID...] [--suid 32] [--key-value HEX]\n"
    "                   [--show-secrets]\n"
    "  maf retrieve-key --maf URL (--km-id KMID --km HEX | MEFCERT) --key-id RELATIVEKEYID@MAF-FQDN [--show-secrets]\n"
    "    URL: https://HOST:PORT/mef or /maf, or coaps://HOST[:PORT]/mef or /maf (CoAP over DTLS 1.2, TS-0008)\n"
    "         (SNI = HOST, or --sni NAME for an IP address)\n"
    "    MEFCERT: --cert CHAIN.pem --key KEY.pem --ca ANCHORS.pem [--crl CRL.pem] [--flavour cse-id|ae-id|node-id|device]\n"
    "  admin (--data-dir DIR | --database CONNINFO --kek-file FILE) mef add-enrolee --kpm-id ID --kpm HEX\n"
    "               [--enrolee-id ID] [--target ID] [--lifetime SECONDS]\n"
    "  admin ... mef list-enrolments                      (one line per enrolment: keid=K expires=T)\n"
    "  admin ... mef add-command --client-id ID --class cert-prov|dev-cfg|mo-node|ibc-prov [--args JSON]\n"
    "  admin ... maf add-client --km-id KMID --km HEX --client-id ID [--lifetime SECONDS]\n"
    "  ibc kms-init --out FILE                                (a KMS master file, 0600; prints kpak=, z=)\n"
    "  ibc issue    --kms FILE ID                             (prints kpak=, z=, ssk=, pvt=, rsk=)\n"
    "  ibc sign     --kpak HEX ID --ssk HEX --pvt HEX         (ECCSI, RFC 6507; message on stdin)\n"
    "  ibc verify   --kpak HEX ID --sig HEX                   (message on stdin; prints ok or exits 1)\n"
    "  ibc encap    --z HEX ID                                (SAKKE, RFC 6508; prints ssv=, data=)\n"
    "  ibc decap    --z HEX ID --rsk HEX --data HEX           (prints ssv=)\n"
    "  ibc saef     --credential FILE --url http://HOST:PORT/ibc-saef --responder ID [--fqdns FQDN,...] [--show-secrets]\n"
    "               (the IBC-based SAEF: prints peer=, peer-id2=, psk-identity=, psk= with --show-secrets)\n"
    "    ID: --id TEXT | --id-hex HEX\n";

}  // namespace

int main(int argc, char** argv) {
  // A peer that closes first makes a write fail with EPIPE, reported like any other I/O error.
  std::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string_view> rest(args.begin() + 1, args.end());
  m2msec::Result<void> result = m2msec::Error::usage("unknown command '" + std::string(args[0]) + "'");
  if (args[0] == "derive") result = m2msec::cli::run_derive(rest);
  else if (args[0] == "algorithms") result = m2msec::cli::run_algorithms(rest);
  else if (args[0] == "saef") result = m2msec::cli::run_saef(rest);
  else if (args[0] == "cert") result = m2msec::cli::run_cert(rest);
  else if (args[0] == "jose") result = m2msec::cli::run_jose(rest);
  else if (args[0] == "esdata") result = m2msec::cli::run_esdata(rest);
  else if (args[0] == "token") result = m2msec::cli::run_token(rest);
  else if (args[0] == "enrol") result = m2msec::cli::run_enrol(rest);
  else if (args[0] == "maf") result = m2msec::cli::run_maf(rest);
  else if (args[0] == "admin") result = m2msec::cli::run_admin(rest);
  else if (args[0] == "acp") result = m2msec::cli::run_acp(rest);
  else if (args[0] == "ibc") result = m2msec::cli::run_ibc(rest);
  if (!result) {
    std::cerr << "m2msec: " << result.error().detail() << '\n';
    return result.error().category() == m2msec::Category::kUsage ? 2 : 1;
  }
  return 0;
}
