// The http sink verifies the backend's certificate (curl's defaults: the system
// trust store, peer and host name checked): a TLS backend with a self-signed
// certificate is refused before any byte of the batch is sent.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "helpers.hpp"

namespace journey::test {
namespace {

using namespace std::chrono_literals;

// One TLS connection accepted on 127.0.0.1:<free port> with a fresh self-signed
// certificate for 127.0.0.1; records whether the handshake completed.
class SelfSignedTlsServer {
 public:
  SelfSignedTlsServer() {
    key_.reset(EVP_EC_gen("P-256"));
    cert_.reset(X509_new());
    X509_set_version(cert_.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert_.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert_.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert_.get()), 3600);
    X509_set_pubkey(cert_.get(), key_.get());
    X509_NAME* name = X509_get_subject_name(cert_.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1,
                               -1, 0);
    X509_set_issuer_name(cert_.get(), name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert_.get(), cert_.get(), nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "IP:127.0.0.1");
    X509_add_ext(cert_.get(), san, -1);
    X509_EXTENSION_free(san);
    X509_sign(cert_.get(), key_.get(), EVP_sha256());

    ctx_.reset(SSL_CTX_new(TLS_server_method()));
    SSL_CTX_use_certificate(ctx_.get(), cert_.get());
    SSL_CTX_use_PrivateKey(ctx_.get(), key_.get());

    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 4) != 0)
      throw std::runtime_error("tls server: cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve_one(); });
  }
  ~SelfSignedTlsServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }

  uint16_t port() const { return port_; }
  bool handshake_completed() const { return completed_.load(); }
  bool accepted() const { return accepted_.load(); }

 private:
  void serve_one() {
    const int conn = ::accept(fd_, nullptr, nullptr);
    if (conn < 0) return;
    accepted_ = true;
    SSL* ssl = SSL_new(ctx_.get());
    SSL_set_fd(ssl, conn);
    completed_ = SSL_accept(ssl) == 1;
    SSL_free(ssl);
    ::close(conn);
  }

  struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  struct CertFree {
    void operator()(X509* c) const { X509_free(c); }
  };
  struct CtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
  };
  std::unique_ptr<EVP_PKEY, KeyFree> key_;
  std::unique_ptr<X509, CertFree> cert_;
  std::unique_ptr<SSL_CTX, CtxFree> ctx_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> accepted_{false}, completed_{false};
  std::thread thread_;
};

TEST(HttpSinkTls, ASelfSignedBackendIsRefusedAndTheBatchRetried) {
  SelfSignedTlsServer server;
  HttpSinkOptions o;
  o.endpoint = "https://127.0.0.1:" + std::to_string(server.port()) + "/v1/batch";
  o.request_timeout = 5s;
  std::string err;
  auto sink = make_http_sink(o, &err);
  ASSERT_TRUE(sink) << err;
  Batch b;
  b.batch_id = "batch-tls";
  b.events.push_back(StoredEvent{1, make_records(0, 1)[0]});
  SendResult r = sink->send(b, std::chrono::steady_clock::now() + 10s);
  EXPECT_EQ(r.outcome, SendResult::Outcome::retry);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.detail.find("certificate"), std::string::npos) << r.detail;
  EXPECT_TRUE(server.accepted());
  EXPECT_FALSE(server.handshake_completed()) << "the client must abort the handshake";
}

}  // namespace
}  // namespace journey::test
