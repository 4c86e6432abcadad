#include "m2msec/store/kek.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "m2msec/crypto/aead.h"
#include "m2msec/crypto/random.h"

namespace m2msec::store {
namespace {

constexpr std::size_t kKeySize = 32;    // AES-256
constexpr std::size_t kNonceSize = 12;  // RFC 5116 N_MIN = N_MAX
constexpr std::size_t kTagSize = 16;

Error io_error(std::string_view what, const std::string& path, int err) {
  return Error(Category::kIo, std::string(what) + " " + path + ": " + std::strerror(err));
}

// Closes a descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : m_fd(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (m_fd >= 0) ::close(m_fd);
  }
  int get() const { return m_fd; }
  // Closes now and reports the outcome (close may report a deferred write error).
  int close() { return ::close(std::exchange(m_fd, -1)); }

 private:
  int m_fd;
};

Result<crypto::AeadKey> aead_key(ByteView key) {
  M2MSEC_ASSIGN_OR_RETURN(const crypto::Aead aead, crypto::Aead::named("aes-256-gcm"));
  return crypto::AeadKey::create(aead, key);
}

// Reads an existing key file: a regular file of exactly 32 octets that only its owner may access.
Result<SecretBytes> read_key_file(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error("cannot stat the KEK file", path, errno);
  if (!S_ISREG(st.st_mode)) return Error::usage("the KEK file " + path + " is not a regular file");
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Error(Category::kPolicy, "the KEK file " + path + " is accessible to group or others (chmod 600 it)");
  }
  if (st.st_size != static_cast<off_t>(kKeySize)) {
    return Error::usage("the KEK file " + path + " must hold exactly 32 octets");
  }
  SecretBytes key(kKeySize + 1);  // one spare octet: a file that grew since fstat is refused too
  std::size_t got = 0;
  while (got < key.size()) {
    const ssize_t n = ::read(fd, key.data() + got, key.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot read the KEK file", path, errno);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got != kKeySize) return Error::usage("the KEK file " + path + " must hold exactly 32 octets");
  key.truncate(kKeySize);
  return key;
}

Result<void> write_all(int fd, ByteView data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot write the KEK file", path, errno);
    done += static_cast<std::size_t>(n);
  }
  return {};
}

// The directory part of a path ("." for a bare name), to fsync the new directory entry.
std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Creates the key file: O_EXCL (never overwrites a key another process just made), mode 0600, the key and
// the directory entry synced before the key is used (a key that encrypted records must not be lost).
// nullopt: the file exists already (another process created it first).
Result<std::optional<SecretBytes>> create_key_file(const std::string& path) {
  M2MSEC_ASSIGN_OR_RETURN(SecretBytes key, crypto::random_secret(crypto::system_rng(), kKeySize));
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR));
  if (fd.get() < 0 && errno == EEXIST) return std::optional<SecretBytes>();
  if (fd.get() < 0) return io_error("cannot create the KEK file", path, errno);
  Result<void> written = write_all(fd.get(), key.view(), path);
  if (written && ::fsync(fd.get()) != 0) written = io_error("cannot sync the KEK file", path, errno);
  if (written && fd.close() != 0) written = io_error("cannot close the KEK file", path, errno);
  if (!written) {
    ::unlink(path.c_str());  // a partial key file would be refused at every later start
    return std::move(written).error();
  }
  Fd dir(::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0 || ::fsync(dir.get()) != 0) return io_error("cannot sync the directory of", path, errno);
  return std::optional<SecretBytes>(std::move(key));
}

}  // namespace

Result<Kek> Kek::from_bytes(SecretBytes key) {
  if (key.size() != kKeySize) return Error::usage("a KEK is exactly 32 octets (AES-256)");
  return Kek(std::move(key));
}

Result<Kek> Kek::load_or_create(const std::string& path) {
  // Two attempts: when another process creates the file between our open and our create, we read its key.
  for (int attempt = 0; attempt < 2; ++attempt) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() >= 0) {
      M2MSEC_ASSIGN_OR_RETURN(SecretBytes key, read_key_file(fd.get(), path));
      return Kek(std::move(key));
    }
    if (errno != ENOENT) return io_error("cannot open the KEK file", path, errno);
    M2MSEC_ASSIGN_OR_RETURN(std::optional<SecretBytes> created, create_key_file(path));
    if (created) return Kek(std::move(*created));
  }
  return Error(Category::kIo, "the KEK file " + path + " appeared and vanished while being opened");
}

Result<Bytes> Kek::seal(std::string_view binding, ByteView plaintext) const {
  // Our design (no TS-0003 clause covers keys at rest): AES-256-GCM with a fresh random 96-bit nonce per
  // seal, and the record's "<kind>:<id>" as the AAD, so a sealed key copied into another record, or under
  // another kind, fails authentication.
  M2MSEC_ASSIGN_OR_RETURN(crypto::AeadKey aead, aead_key(m_key.view()));
  M2MSEC_ASSIGN_OR_RETURN(Bytes nonce, crypto::random_bytes(crypto::system_rng(), kNonceSize));
  Bytes out(kNonceSize + plaintext.size() + kTagSize);
  std::copy(nonce.begin(), nonce.end(), out.begin());
  M2MSEC_ASSIGN_OR_RETURN(const std::size_t n,
                          aead.seal(nonce, as_bytes(binding), plaintext, std::span(out).subspan(kNonceSize)));
  out.resize(kNonceSize + n);
  return out;
}

Result<SecretBytes> Kek::open(std::string_view binding, ByteView sealed) const {
  if (sealed.size() < kNonceSize + kTagSize) return Error::crypto("sealed key too short");
  M2MSEC_ASSIGN_OR_RETURN(crypto::AeadKey aead, aead_key(m_key.view()));
  SecretBytes out(sealed.size() - kNonceSize - kTagSize);
  M2MSEC_ASSIGN_OR_RETURN(const std::size_t n, aead.open(sealed.first(kNonceSize), as_bytes(binding),
                                                         sealed.subspan(kNonceSize), out.writable()));
  out.truncate(n);
  return out;
}

}  // namespace m2msec::store
