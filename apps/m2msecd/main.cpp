// m2msecd: the m2msec server. Its roles (MEF, MAF, KMS, EST, DAS, secure hosting CSE) arrive with their
// issues. Until then it refuses to start: a security service this build cannot serve must stop
// start-up rather than run half-configured (fail closed).
#include <iostream>
#include <string_view>

int main(int argc, char** argv) {
  const std::string_view arg = argc > 1 ? argv[1] : "";
  if (arg == "--version") {
    std::cout << "m2msecd 0.1.0\n";
    return 0;
  }
  std::cerr << "m2msecd: no server role is available in this build yet; see README.md (Status)\n";
  return 2;
}
