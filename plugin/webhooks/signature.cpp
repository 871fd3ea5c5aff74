#include "signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace journey::webhooks {

std::string hmac_sha256_base64(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &mac_len);
  std::string out(4 * ((mac_len + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac,
                                static_cast<int>(mac_len));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool signature_valid(std::string_view secret, std::string_view body, std::string_view signature) {
  if (secret.empty()) return false;
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!signature.empty() && space(signature.front())) signature.remove_prefix(1);
  while (!signature.empty() && space(signature.back())) signature.remove_suffix(1);
  const std::string expected = hmac_sha256_base64(secret, body);
  // The length of a valid signature is public; only the bytes are compared in constant time.
  if (signature.size() != expected.size()) return false;
  return CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

}  // namespace journey::webhooks
